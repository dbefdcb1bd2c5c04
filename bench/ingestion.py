"""Ingestion throughput: the reader against bare astropy, the executor against plain loops.

Reader (first part)
    ``read_spectrum`` + ``preprocess`` per file with the fast FITS parser (the default)
    and with ``parser="astropy"`` (the reference), against a bare astropy loop
    (``fits.open`` from the path, every HDU's data accessed), plain and gzipped files
    apart; the loops take turns and each keeps its best of three passes.
Executor (second part)
    ``components.spectra_ingest.executor.Executor.Do`` on a simulated LAMOST pool (real
    FITS layouts, 30 % gzipped), DirectRunner ``multi_processing`` with 1 and 2 workers,
    and ``in_memory`` (what a single-process run uses).
Baselines, measured in the same run
    * a bare loop in one process: read the bytes, ``read_spectrum``, ``preprocess``,
      ``serialize_example``, write a gzipped TFRecord -- the executor's per-file work without
      Beam (warm: imports done before the clock starts);
    * the same loop in N processes (``multiprocessing`` pool of spawned workers over
      chunks of 50 files, each chunk written to its own TFRecord shard), the ideal
      parallel speed-up on this machine.

Beam's start-up (worker processes, pipeline stages) does not depend on the number of
files, so each executor mode is also run on a 24-file list: the difference gives the
marginal rate that matters for millions of files (used by ``bench.projection``).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from bench import datasets
from bench.harness import BenchOptions, Report, Stopwatch, benchmark_main, marginal_rate

NAME = "ingestion"
FULL_FILES = 4_000
QUICK_FILES = 300
#: Passes of each reader loop (best kept; the loops take turns).
READER_PASSES = 3
#: Files of the start-up run of each executor mode.
STARTUP_FILES = 24
LOOP_WORKERS = 2
SURVEY_SEED = 20160


def _loop_ingest(paths: list[str], out_path: str) -> tuple[int, dict]:
    """The bare loop: encode every file and write the examples to one gzipped TFRecord."""
    import tensorflow as tf

    encoder = datasets.FileEncoder()
    ingested, rejected = 0, {}
    with tf.io.TFRecordWriter(out_path, options="GZIP") as writer:
        for path in paths:
            result = encoder.encode(path)
            if isinstance(result, str):
                rejected[result] = rejected.get(result, 0) + 1
                continue
            writer.write(result[2])
            ingested += 1
    return ingested, rejected


def _loop_chunk(task: tuple[list[str], str]) -> tuple[int, dict]:
    paths, out_path = task
    return _loop_ingest(paths, out_path)


def _bare_astropy(paths: list[str]) -> None:
    from astropy.io import fits

    for path in paths:
        try:
            with fits.open(path, memmap=False) as hdul:
                for hdu in hdul:
                    hdu.data  # noqa: B018 -- the access is the work measured
        except Exception:  # the same files the reader rejects: count the attempt
            pass


def _read_and_preprocess(paths: list[str], parser: str) -> None:
    from activespec.errors import ActivespecError
    from activespec.io import read_spectrum
    from activespec.preprocessing import preprocess

    for path in paths:
        with contextlib.suppress(ActivespecError):  # a rejected file still costs its reading
            preprocess(read_spectrum(path, parser=parser))


def _measure_readers(report: Report, paths: list[str]) -> None:
    """Microseconds per file of the three reading loops, plain and gzipped apart."""
    for kind, subset in (
        ("plain", [p for p in paths if not p.endswith(".gz")]),
        ("gzip", [p for p in paths if p.endswith(".gz")]),
    ):
        loops = {
            "astropy_bare": _bare_astropy,
            "reader_astropy": lambda ps: _read_and_preprocess(ps, "astropy"),
            "reader_fast": lambda ps: _read_and_preprocess(ps, "fast"),
        }
        best = dict.fromkeys(loops, float("inf"))
        for _ in range(READER_PASSES):
            for key, loop in loops.items():
                with Stopwatch() as clock:
                    loop(subset)
                best[key] = min(best[key], clock.seconds)
        per_file = {key: 1e6 * seconds / len(subset) for key, seconds in best.items()}
        report.figure(f"{kind}_files", len(subset), f"{kind} files", "")
        report.figure(
            f"{kind}_astropy_bare_us", per_file["astropy_bare"], "  bare astropy open + data", "µs"
        )
        report.figure(
            f"{kind}_reader_astropy_us",
            per_file["reader_astropy"],
            "  read_spectrum(parser='astropy') + preprocess",
            "µs",
        )
        report.figure(
            f"{kind}_reader_fast_us",
            per_file["reader_fast"],
            "  read_spectrum (fast parser) + preprocess",
            "µs",
        )
        # Time ratios read as speed-ups: baseline time / reader time.
        report.ratio(
            f"{kind}_fast_reader_vs_astropy_bare",
            per_file["astropy_bare"],
            per_file["reader_fast"],
            f"  {kind}: fast reader + preprocess speed-up over bare astropy",
        )
        report.ratio(
            f"{kind}_fast_reader_vs_astropy_reader",
            per_file["reader_astropy"],
            per_file["reader_fast"],
            f"  {kind}: fast reader speed-up over the astropy reader",
        )


def _pool_ingest(paths: list[str], out_dir: Path, workers: int) -> tuple[int, dict, float]:
    """The loop over chunks in ``workers`` warm processes; returns the timed seconds too."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chunks = datasets.chunked(paths)
    tasks = [(chunk, str(out_dir / f"chunk-{i:05d}.gz")) for i, chunk in enumerate(chunks)]
    with datasets.spawn_pool(workers) as pool, Stopwatch() as clock:
        results = pool.map(_loop_chunk, tasks, chunksize=1)
    rejected: dict[str, int] = {}
    for _, part in results:
        for code, count in part.items():
            rejected[code] = rejected.get(code, 0) + count
    return sum(count for count, _ in results), rejected, clock.seconds


def run_ingest_executor(paths: list[str], out_dir: Path, beam_args: list[str]) -> tuple[int, float]:
    """Run the SpectraIngest ``Executor.Do`` on a file list with ``beam_args``.

    Returns (spectra ingested, seconds). Also used by ``bench.flink``.
    """
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.types import standard_artifacts

    from activespec.constants import DEFAULT_CLASSES
    from components.artifact_types import RejectedFiles
    from components.spectra_ingest.executor import Executor
    from components.spectra_ingest.params import make_params
    from components.spectra_ingest.spec import NUM_INGESTED_PROPERTY

    out_dir.mkdir(parents=True, exist_ok=True)
    file_list = out_dir / "files.txt"
    file_list.write_text("\n".join(paths) + "\n", encoding="utf-8")
    params = make_params(
        file_patterns=None,
        file_list=str(file_list),
        labels=None,
        class_names=DEFAULT_CLASSES,
        preprocessing=None,
        degrade_resolution=False,
        splits=None,
        input_fingerprint="bench",
    )
    examples = standard_artifacts.Examples()
    examples.uri = str(out_dir / "examples")
    rejections = RejectedFiles()
    rejections.uri = str(out_dir / "rejections")
    context = BaseBeamExecutor.Context(beam_pipeline_args=beam_args, tmp_dir=str(out_dir / "tmp"))
    with Stopwatch() as clock:
        Executor(context).Do(
            {}, {"examples": [examples], "rejections": [rejections]}, params.to_exec_properties()
        )
    return examples.get_int_custom_property(NUM_INGESTED_PROPERTY), clock.seconds


def _run_executor(paths: list[str], out_dir: Path, mode: str, workers: int) -> tuple[int, float]:
    """The executor on the DirectRunner in ``mode`` with ``workers``; (ingested, seconds)."""
    from pipeline.beam_runners import direct_args

    beam_args = ["--runner=DirectRunner", *direct_args(mode, workers)]
    return run_ingest_executor(paths, out_dir, beam_args)


def run(options: BenchOptions) -> dict:
    """Measure, print and record ingestion throughput; returns the record."""
    import shutil

    n_files = QUICK_FILES if options.quick else FULL_FILES
    survey = datasets.simulated_survey(options, n_labelled=0, n_pool=n_files, seed=SURVEY_SEED)
    paths = datasets.pool_files(survey)
    startup_paths = paths[:STARTUP_FILES]
    scratch = options.scratch("runs", NAME)
    shutil.rmtree(scratch, ignore_errors=True)

    report = Report(
        NAME,
        options,
        {"files": len(paths), "startup_files": len(startup_paths), "loop_workers": LOOP_WORKERS},
    )
    scratch.mkdir(parents=True)
    _read_and_preprocess(paths[:2], "astropy")  # imports, before any clock
    _measure_readers(report, paths)
    # Warm this process (TensorFlow, astropy) so the loop's clock measures work only.
    _loop_ingest(paths[:2], str(scratch / "warm.gz"))

    with Stopwatch() as clock:
        loop_count, loop_rejected = _loop_ingest(paths, str(scratch / "loop.gz"))
    loop_rate = loop_count / clock.seconds
    report.figure("loop_1proc_spectra_per_s", loop_rate, "bare loop, 1 process (baseline)", "sp/s")
    report.figure("ingested", loop_count, "spectra ingested (loop)", "")
    report.figure("rejected", sum(loop_rejected.values()), f"files rejected {loop_rejected}", "")

    pool_count, _, pool_seconds = _pool_ingest(paths, scratch / "pool", LOOP_WORKERS)
    pool_rate = pool_count / pool_seconds
    report.figure(
        "loop_nproc_spectra_per_s", pool_rate, f"same loop, {LOOP_WORKERS} processes", "sp/s"
    )

    # One untimed run pays this process's one-time imports of Beam and TFX.
    _run_executor(startup_paths, scratch / "executor-warm-up", "in_memory", 1)
    executor_rates: dict[str, float | None] = {}
    for mode, workers in (("in_memory", 1), ("multi_processing", 1), ("multi_processing", 2)):
        label = f"{mode}{workers}" if mode == "multi_processing" else mode
        count, seconds = _run_executor(paths, scratch / f"executor-{label}", mode, workers)
        if count != loop_count:
            raise RuntimeError(
                f"executor ({label}) ingested {count} spectra, the loop {loop_count}"
            )
        startup_count, startup_seconds = _run_executor(
            startup_paths, scratch / f"startup-{label}", mode, workers
        )
        rate = count / seconds
        marginal = marginal_rate(count, seconds, startup_count, startup_seconds)
        executor_rates[label] = rate
        executor_rates[f"{label}_marginal"] = marginal
        report.figure(f"executor_{label}_spectra_per_s", rate, f"executor {label}", "sp/s")
        report.figure(f"executor_{label}_seconds", seconds, "  wall time", "s")
        report.figure(
            f"executor_{label}_startup_s",
            startup_seconds,
            f"  start-up run ({STARTUP_FILES} files)",
            "s",
        )
        report.figure(
            f"executor_{label}_marginal_spectra_per_s",
            marginal,
            "  marginal rate (start-up run subtracted)",
            "sp/s",
        )

    report.ratio("loop_nproc_vs_loop", pool_rate, loop_rate, f"loop {LOOP_WORKERS} proc / loop 1")
    report.ratio(
        "executor_mp2_vs_mp1",
        executor_rates["multi_processing2"],
        executor_rates["multi_processing1"],
        "executor mp2 / mp1 (scaling 1->2)",
    )
    report.ratio(
        "executor_mp2_marginal_vs_mp1_marginal",
        executor_rates["multi_processing2_marginal"],
        executor_rates["multi_processing1_marginal"],
        "executor mp2 / mp1, marginal rates",
    )
    report.ratio(
        "executor_in_memory_vs_loop",
        executor_rates["in_memory"],
        loop_rate,
        "executor in_memory / loop 1 proc",
    )
    report.ratio(
        "executor_mp1_vs_loop",
        executor_rates["multi_processing1"],
        loop_rate,
        "executor mp1 / loop 1 proc",
    )
    report.ratio(
        "executor_mp2_vs_loop_nproc",
        executor_rates["multi_processing2"],
        pool_rate,
        f"executor mp2 / loop {LOOP_WORKERS} proc",
    )
    report.ratio(
        "executor_mp2_marginal_vs_loop_nproc",
        executor_rates["multi_processing2_marginal"],
        pool_rate,
        f"executor mp2 marginal / loop {LOOP_WORKERS} proc",
    )
    record = report.save()
    shutil.rmtree(scratch, ignore_errors=True)
    return record


def main(argv: list[str] | None = None) -> int:
    return benchmark_main(NAME, __doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
