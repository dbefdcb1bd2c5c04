"""Peak memory of pool scoring at two pool sizes: does it stay bounded as the pool grows?

Subject
    The PoolScorer executor (same set-up as ``bench.scoring``) run alone in a fresh
    subprocess on pools of 10,000 and 100,000 spectra, DirectRunner ``in_memory`` and
    ``multi_processing`` with 2 workers.
Measure
    The whole process tree: the sum of the resident set sizes of the subprocess and all its
    descendants (Beam's worker processes included), sampled every 0.1 s with psutil, and
    its peak; plus the largest single process (``ru_maxrss`` from ``os.wait4`` of the
    subprocess, which covers its reaped descendants).
Baseline
    The 10,000-spectrum run; the ratio 100k/10k of the peak tree RSS is the figure that
    must stay near 1 while the data grows tenfold.

The pools are synthetic TFRecords made from simulated, preprocessed LAMOST spectra
repeated under new identifiers with extra noise (``bench.datasets.synthetic_pool``), not
100,000 simulated FITS files.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import datasets
from bench.harness import (
    BenchOptions,
    Report,
    add_common_arguments,
    child_environment,
    options_from_args,
    prepare_environment,
)

NAME = "memory"
FULL_SIZES = (10_000, 100_000)
QUICK_SIZES = (1_000, 5_000)
MODES = (("in_memory", 1), ("multi_processing", 2))
SAMPLE_INTERVAL_S = 0.1
MIB = 2**20


def _tree_rss(process) -> tuple[int, int]:
    """(sum of RSS over the process and its descendants, number of processes) in bytes."""
    import psutil

    total, count = 0, 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for member in members:
        try:
            total += member.memory_info().rss
            count += 1
        except psutil.Error:
            continue
    return total, count


def measure_tree(
    command: list[str], env: dict | None = None, stdout=None, *, timeline: bool = False
) -> dict:
    """Run ``command`` and report the peak memory of its whole process tree.

    ``stdout`` (a file object) takes the command's standard output; default: ours.
    ``timeline`` also returns every sample, ``(Unix time, tree RSS in MiB)``, as
    ``"timeline"``.

    Returns
    -------
    dict
        ``peak_tree_rss_mib`` (sampled sum over the tree), ``max_processes`` (seen at
        once), ``largest_process_rss_mib`` (``ru_maxrss`` of the child and its reaped
        descendants), ``seconds`` and ``returncode``.
    """
    import psutil

    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=stdout)
    watched = psutil.Process(child.pid)
    peak, max_processes = 0, 0
    samples = []
    while True:
        finished, status, usage = os.wait4(child.pid, os.WNOHANG)
        if finished:
            break
        total, count = _tree_rss(watched)
        peak, max_processes = max(peak, total), max(max_processes, count)
        if timeline:
            samples.append((round(time.time(), 2), round(total / MIB, 1)))
        time.sleep(SAMPLE_INTERVAL_S)
    child.returncode = os.waitstatus_to_exitcode(status)
    result = {
        "peak_tree_rss_mib": round(peak / MIB, 1),
        "max_processes": max_processes,
        # Linux reports ru_maxrss in KiB.
        "largest_process_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "returncode": child.returncode,
    }
    if timeline:
        result["timeline"] = samples
    return result


def _child_main(args: argparse.Namespace) -> int:
    """Score one pool in this process (the measured subprocess)."""
    from tfx.types import artifact_utils, standard_artifacts

    from bench.scoring import run_scorer

    examples = standard_artifacts.Examples()
    examples.uri = args.examples_uri
    examples.split_names = artifact_utils.encode_split_names(["pool"])
    model = standard_artifacts.Model()
    model.uri = args.model_uri
    scored = run_scorer(examples, model, Path(args.scores_uri), args.mode, args.workers)
    if scored != args.expected:
        print(f"scored {scored} spectra, expected {args.expected}", file=sys.stderr)
        return 1
    return 0


def run(options: BenchOptions) -> dict:
    """Measure, print and record the peak memory of pool scoring; returns the record."""
    import shutil

    from bench.scoring import pool_base

    sizes = QUICK_SIZES if options.quick else FULL_SIZES
    base = pool_base(options)
    artifacts = {n: datasets.pool_examples_artifact(options, base, n) for n in sizes}
    _, model_artifact = datasets.exported_published_model(options)
    scratch = options.scratch("runs", NAME)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)

    report = Report(
        NAME,
        options,
        {"pool_spectra": list(sizes), "distinct_simulated_spectra": len(base), "batch_size": 1024},
    )
    report.note(
        "pools are synthetic TFRecords of simulated preprocessed spectra repeated under new ids"
    )
    small, large = sizes
    for n in sizes:
        flux_mib = n * base.flux.shape[1] * 4 / MIB
        report.figure(
            f"flux_if_collected_{n}_mib", round(flux_mib, 1), f"flux of {n:,} (float32)", "MiB"
        )
    for mode, workers in MODES:
        label = f"{mode}{workers}" if mode == "multi_processing" else mode
        peaks = {}
        for n in sizes:
            command = [
                sys.executable,
                "-m",
                "bench.memory",
                "--child",
                "--examples-uri",
                artifacts[n].uri,
                "--model-uri",
                model_artifact.uri,
                "--scores-uri",
                str(scratch / f"{label}-{n}"),
                "--mode",
                mode,
                "--workers",
                str(workers),
                "--expected",
                str(n),
            ]
            result = measure_tree(command, env=child_environment())
            if result["returncode"] != 0:
                raise RuntimeError(f"scoring {n} spectra ({label}) failed: {result}")
            peaks[n] = result["peak_tree_rss_mib"]
            prefix = f"{label}_{n}"
            report.figure(
                f"{prefix}_peak_tree_rss_mib", peaks[n], f"{label}, {n:,}: peak tree RSS", "MiB"
            )
            report.figure(
                f"{prefix}_largest_process_rss_mib",
                result["largest_process_rss_mib"],
                "  largest single process (ru_maxrss)",
                "MiB",
            )
            report.figure(f"{prefix}_processes", result["max_processes"], "  processes at once")
            report.figure(f"{prefix}_seconds", result["seconds"], "  wall time", "s")
        report.ratio(
            f"{label}_peak_{large}_vs_{small}",
            peaks[large],
            peaks[small],
            f"{label} peak tree RSS {large:,} / {small:,}",
        )
    report.ratio("pool_size", large, small, f"pool size {large:,} / {small:,} (for reference)")
    record = report.save()
    shutil.rmtree(scratch, ignore_errors=True)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    add_common_arguments(parser)
    child = parser.add_argument_group("internal: the measured scoring subprocess")
    child.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    child.add_argument("--examples-uri", help=argparse.SUPPRESS)
    child.add_argument("--model-uri", help=argparse.SUPPRESS)
    child.add_argument("--scores-uri", help=argparse.SUPPRESS)
    child.add_argument("--mode", default="in_memory", help=argparse.SUPPRESS)
    child.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    child.add_argument("--expected", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    prepare_environment()
    if args.child:
        return _child_main(args)
    run(options_from_args(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
