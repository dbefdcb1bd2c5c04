"""Ingestion on Apache Flink: 1 against 2 TaskManager slots, side by side with the DirectRunner.

Subject
    ``components.spectra_ingest.executor.Executor.Do`` on a simulated LAMOST pool (real
    FITS layouts, 30 % gzipped) on a local standalone Flink cluster
    (:class:`pipeline.flink.LocalFlinkCluster`: a JobManager and two TaskManagers with one
    slot each, Python SDK workers from one ``EXTERNAL`` worker pool), with job
    parallelism 1 (one slot) and 2 (both slots). Goal of issue 9: 2 slots >= 1.7x 1 slot.
Baselines, measured in the same run
    The same executor on the DirectRunner, ``in_memory`` (one process) and
    ``multi_processing`` with 2 workers (the machine's ceiling for 2 workers).

Each mode is also run on a 24-file list: the difference gives the marginal rate, without
the start-up Flink adds to every job (Beam's Java job server, job submission, SDK worker
start), which is what matters for millions of files. The cluster's own start-up is timed
apart. Without Beam's Flink job-server jar (``tools/fetch-flink-job-server``) the
benchmark stops before measuring, with the fetch's one-line reason.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench import datasets
from bench.harness import BenchOptions, Report, Stopwatch, benchmark_main, marginal_rate
from bench.ingestion import run_ingest_executor

NAME = "flink"
FULL_FILES = 1_200
QUICK_FILES = 60
STARTUP_FILES = 24
SURVEY_SEED = 20161
#: TaskManagers of the cluster, one slot each: the 2 CPU cores of the reference machine.
TASK_MANAGERS = 2


def _measure(
    report: Report,
    label: str,
    title: str,
    beam_args: list[str],
    paths: list[str],
    scratch: Path,
    expected: int | None,
) -> tuple[float, float | None, int]:
    """Rate, marginal rate and count of one mode (checked against the first mode's count)."""
    count, seconds = run_ingest_executor(paths, scratch / label, beam_args)
    if expected is not None and count != expected:
        raise RuntimeError(f"{label} ingested {count} spectra, the baseline {expected}")
    startup_count, startup_seconds = run_ingest_executor(
        paths[:STARTUP_FILES], scratch / f"{label}-startup", beam_args
    )
    rate = count / seconds
    marginal = marginal_rate(count, seconds, startup_count, startup_seconds)
    report.figure(f"{label}_spectra_per_s", rate, title, "sp/s")
    report.figure(f"{label}_seconds", seconds, "  wall time", "s")
    report.figure(
        f"{label}_startup_s", startup_seconds, f"  start-up run ({STARTUP_FILES} files)", "s"
    )
    report.figure(
        f"{label}_marginal_spectra_per_s",
        marginal,
        "  marginal rate (start-up run subtracted)",
        "sp/s",
    )
    return rate, marginal, count


def run(options: BenchOptions) -> dict:
    """Measure, print and record ingestion throughput on Flink; returns the record."""
    from pipeline import flink
    from pipeline.beam_runners import DirectRunnerArgs

    # Before anything is measured: without the jar there is nothing to compare.
    jar = flink.job_server_jar(fetch=True)
    n_files = QUICK_FILES if options.quick else FULL_FILES
    survey = datasets.simulated_survey(options, n_labelled=0, n_pool=n_files, seed=SURVEY_SEED)
    paths = datasets.pool_files(survey)
    scratch = options.scratch("runs", NAME)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    report = Report(
        NAME,
        options,
        {"files": len(paths), "startup_files": STARTUP_FILES, "task_managers": TASK_MANAGERS},
    )
    report.note(f"Flink {flink.FLINK_VERSION}, Beam {flink.BEAM_VERSION} job server {jar}")

    # One untimed run pays this process's one-time imports of Beam and TFX.
    in_memory = DirectRunnerArgs(num_workers=1, running_mode="in_memory").to_args()
    run_ingest_executor(paths[:STARTUP_FILES], scratch / "warm-up", in_memory)
    rates: dict[str, tuple[float, float | None]] = {}
    direct_modes = {
        "direct_in_memory": ("DirectRunner in_memory (baseline)", in_memory),
        "direct_mp2": (
            "DirectRunner multi_processing, 2 workers",
            DirectRunnerArgs(num_workers=2, running_mode="multi_processing").to_args(),
        ),
    }
    expected = None
    for label, (title, args) in direct_modes.items():
        rate, marginal, expected = _measure(report, label, title, args, paths, scratch, expected)
        rates[label] = (rate, marginal)

    cluster = flink.LocalFlinkCluster(scratch / "cluster", task_managers=TASK_MANAGERS, slots=1)
    with Stopwatch() as clock:
        cluster.start()
    try:
        report.figure(
            "cluster_startup_s", clock.seconds, f"Flink cluster start ({TASK_MANAGERS} TMs)", "s"
        )
        for slots in (1, 2):
            args = cluster.pipeline_args(jar, parallelism=slots)
            flink.preflight(args)
            label = f"flink_p{slots}"
            title = f"Flink, parallelism {slots} ({slots} TaskManager slot{'s' * (slots > 1)})"
            rate, marginal, _ = _measure(report, label, title, args, paths, scratch, expected)
            rates[label] = (rate, marginal)
    finally:
        cluster.stop()

    for index, kind in ((0, ""), (1, "_marginal")):
        words = ", marginal rates" if kind else ""
        report.ratio(
            f"flink_p2_vs_p1{kind}",
            rates["flink_p2"][index],
            rates["flink_p1"][index],
            f"Flink 2 slots / 1 slot{words} (goal >= 1.7)",
        )
        report.ratio(
            f"flink_p2_vs_direct_mp2{kind}",
            rates["flink_p2"][index],
            rates["direct_mp2"][index],
            f"Flink 2 slots / Direct mp2{words}",
        )
        report.ratio(
            f"flink_p1_vs_direct_in_memory{kind}",
            rates["flink_p1"][index],
            rates["direct_in_memory"][index],
            f"Flink 1 slot / Direct in_memory{words}",
        )
    record = report.save()
    shutil.rmtree(scratch, ignore_errors=True)
    return record


def main(argv: list[str] | None = None) -> int:
    from activespec.errors import ConfigError

    try:
        return benchmark_main(NAME, __doc__.splitlines()[0], run, argv)
    except ConfigError as err:
        print(f"flink: not measured: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
