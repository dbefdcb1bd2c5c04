"""A whole round at growing pool sizes: how each stage's cost and the memory grow.

Subject
    ``activespec round`` in a subprocess, on a fresh work directory with the default
    DirectRunner settings, on simulated surveys of 3,000 labelled Ondřejov spectra and
    pools of 25,000, 100,000 and 250,000 LAMOST spectra (``--sizes`` picks others;
    ``--quick``: 2,000 and 8,000). Training is held to a few epochs: it does not grow
    with the pool.
Measure
    Wall time of the round and the peak RSS of its whole process tree (Beam's workers
    included; :func:`bench.memory.measure_tree`); each stage's wall time and the cores it
    kept busy, from the round's ``summary.json`` (``stages``). After the round, as a user
    goes on: ``activespec candidates`` (catalogue and report) and ``activespec label
    serve`` until the labelling page's batch and its first spectrum are served, each a
    subprocess with its wall time and peak memory.
Baseline
    The smallest pool. For every stage present at every size, the growth exponent of its
    wall time against the pool size (least squares in log-log; 1 = cost per spectrum
    flat, the goal is <= 1.1 for the pool-sized stages) and the cost per spectrum at
    each size over the smallest one's. A straight line (fixed cost plus cost per
    spectrum) through the sizes projects each stage and the round to the 4,136,482-
    spectrum DR2 pool and a 20,000,000-spectrum DR10 pool on this machine.
Disk
    The simulator writes ~100 KB per pool spectrum: free space is checked before each
    survey is simulated, and each survey is deleted after its round unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from bench import datasets
from bench.harness import (
    REPO_ROOT,
    BenchOptions,
    Report,
    add_common_arguments,
    child_environment,
    options_from_args,
    prepare_environment,
)
from bench.memory import measure_tree
from pipeline import node_ids

NAME = "scale"
FULL_SIZES = (25_000, 100_000, 250_000)
QUICK_SIZES = (2_000, 8_000)
N_LABELLED = 3_000
QUICK_LABELLED = 600
SURVEY_SEED = 250
#: Epochs of each round's training: the model's cost does not depend on the pool.
MAX_EPOCHS = 3
#: Disk the simulator needs per pool spectrum (measured: 2.0 GB for 20,000), with margin.
BYTES_PER_POOL_SPECTRUM = 120_000
#: The stages whose work grows with the pool (pipeline.pipeline names the statistics
#: node f"{name}StatisticsGen"); the others are fixed costs and are only printed.
POOL_STAGES = (
    node_ids.POOL_INGEST,
    "PoolStatisticsGen",
    node_ids.POOL_SCORER,
    node_ids.UNCERTAINTY_SAMPLER,
)
#: Stages shorter than this at the smallest size are start-up noise to a fit.
MIN_FIT_SECONDS = 1.0
#: The pools the fit is projected to: LAMOST DR2 (the published run) and DR10 LRS.
PROJECTED_POOLS = {"dr2": 4_136_482, "dr10": 20_000_000}

ROUND_CONFIG = """\
# bench.scale: one round on a simulated survey, defaults but a short training.
[data]
labelled = ["{survey}/labelled/*.fits*"]
labels = "{survey}/labelled/labels.csv"
pool = ["{survey}/pool/*.fits*"]

[model]
max_epochs = {max_epochs}
"""


def growth_exponent(sizes, seconds) -> float | None:
    """Slope of log(seconds) against log(size); None with fewer than two usable points."""
    points = [(s, t) for s, t in zip(sizes, seconds, strict=True) if t and t > 0]
    if len(points) < 2:
        return None
    x = np.log([s for s, _ in points])
    y = np.log([t for _, t in points])
    return float(np.polyfit(x, y, 1)[0])


def project(sizes, seconds, target: int) -> float | None:
    """Seconds at ``target`` from a fixed cost plus a cost per spectrum (least squares).

    A power law through small pools would carry their start-up costs into millions of
    spectra; the straight line keeps them fixed (the marginal rate of the other
    benchmarks). None with fewer than two usable points.
    """
    points = [(s, t) for s, t in zip(sizes, seconds, strict=True) if t and t > 0]
    if len(points) < 2:
        return None
    per_spectrum, fixed = np.polyfit([s for s, _ in points], [t for _, t in points], 1)
    per_spectrum = max(float(per_spectrum), 0.0)
    return float(max(fixed, 0.0) + per_spectrum * target)


def stage_peaks(timeline, stages: dict) -> dict[str, float]:
    """The peak tree RSS sampled while each stage ran.

    Parameters
    ----------
    timeline : sequence of (float, float)
        ``(Unix time, tree RSS in MiB)`` samples (``measure_tree(..., timeline=True)``).
    stages : dict
        The round summary's ``stages``: node id -> ``{"started", "wall_s", ...}``.

    Returns
    -------
    dict
        Node id -> peak MiB, for the stages with a start time and at least one sample.
    """
    peaks = {}
    for node, use in stages.items():
        if use.get("started") is None:
            continue
        start, end = use["started"], use["started"] + use["wall_s"]
        inside = [rss for t, rss in timeline if start <= t <= end]
        if inside:
            peaks[node] = max(inside)
    return peaks


def _check_disk(where: Path, n_pool: int) -> None:
    need = n_pool * BYTES_PER_POOL_SPECTRUM
    free = shutil.disk_usage(where).free
    if free < need:
        raise RuntimeError(
            f"a {n_pool:,}-spectrum pool needs ~{need / 1e9:.0f} GB, {free / 1e9:.0f} GB free "
            f"under {where}"
        )


def _run_round(options: BenchOptions, n_labelled: int, n_pool: int, keep: bool) -> dict:
    """Simulate (or reuse) a survey, run one round in a subprocess; the round's figures."""
    _check_disk(options.scratch("surveys"), n_pool)
    survey = datasets.simulated_survey(
        options, n_labelled=n_labelled, n_pool=n_pool, seed=SURVEY_SEED
    )
    workdir = options.scratch("runs", NAME, f"pool-{n_pool}")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    config = workdir / "activespec.toml"
    config.write_text(ROUND_CONFIG.format(survey=survey, max_epochs=MAX_EPOCHS), encoding="utf-8")
    command = [sys.executable, "-m", "activespec", "round", "--workdir", str(workdir)]
    command += ["--config", str(config)]
    with open(workdir / "round-output.txt", "w", encoding="utf-8") as output:
        measured = measure_tree(command, env=child_environment(), stdout=output, timeline=True)
    if measured["returncode"] != 0:
        raise RuntimeError(
            f"the round on {n_pool:,} spectra failed (see {workdir}/round-output.txt and logs/)"
        )
    summary = json.loads(next(workdir.glob("rounds/round-*/summary.json")).read_text())
    command = [sys.executable, "-m", "activespec", "candidates", "--workdir", str(workdir)]
    with open(workdir / "candidates-output.txt", "w", encoding="utf-8") as output:
        candidates = measure_tree(command, env=child_environment(), stdout=output)
    if candidates["returncode"] != 0:
        raise RuntimeError(f"activespec candidates failed (see {workdir}/candidates-output.txt)")
    labelling = load_labelling_batch(workdir)
    if not keep:
        shutil.rmtree(survey, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "measured": measured,
        "stages": summary.get("stages") or {},
        "candidates": candidates,
        "labelling": labelling,
    }


def load_labelling_batch(workdir: Path, timeout_s: float = 300.0) -> dict:
    """Start ``activespec label serve`` on the latest round; the seconds until its batch
    (``/api/batch``) and the batch's first spectrum (``/api/spectrum/ID``) are served,
    the rows in the batch and the server's peak RSS by then (Linux's ``VmHWM``: unlike
    the ``ru_maxrss`` of a child, it does not count the forking parent's memory)."""
    command = [sys.executable, "-m", "activespec", "label", "serve"]
    command += ["--workdir", str(workdir), "--port", "0"]
    started = time.perf_counter()
    server = subprocess.Popen(
        command, env=child_environment(), stdout=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        url = None
        for line in server.stdout:
            if line.startswith("Open "):
                url = line.split(maxsplit=1)[1].strip()
                break
        if url is None:
            raise RuntimeError(f"activespec label serve exited ({server.wait()}) before serving")
        base = url.split("?")[0].rstrip("/")
        with urllib.request.urlopen(f"{base}/api/batch", timeout=timeout_s) as response:
            rows = json.load(response)["rows"]
        if rows:
            spectrum_id = urllib.parse.quote(rows[0]["spectrum_id"], safe="")
            with urllib.request.urlopen(
                f"{base}/api/spectrum/{spectrum_id}", timeout=timeout_s
            ) as response:
                json.load(response)
        seconds = time.perf_counter() - started
        peak_kib = _peak_rss_kib(server.pid)
    finally:
        stop_s = _stop(server, STOP_TIMEOUT_S)
    return {
        "seconds": round(seconds, 1),
        "rows": len(rows),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "stop_s": stop_s,
    }


#: Seconds a stopped labelling server gets to exit before it is killed.
STOP_TIMEOUT_S = 30.0


def _stop(server: subprocess.Popen, timeout_s: float) -> float | None:
    """Stop the server as a service manager does (SIGTERM: a benchmark started in the
    background of a script passes on an ignored SIGINT, and Ctrl-C would do nothing);
    seconds it took, or None when it had to be killed (the round's figures are kept)."""
    started = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=timeout_s)
        return round(time.perf_counter() - started, 2)
    except subprocess.TimeoutExpired:
        print(f"  labelling server still running {timeout_s:.0f} s after SIGTERM: killed")
        server.kill()
        server.wait()
        return None
    finally:
        server.stdout.close()


def _peak_rss_kib(pid: int) -> int:
    """The peak resident memory of a running process since its ``exec`` (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def run(options: BenchOptions, sizes: tuple[int, ...] | None = None, keep: bool = False) -> dict:
    """Measure, print and record one round per pool size; returns the record."""
    sizes = tuple(sorted(sizes or (QUICK_SIZES if options.quick else FULL_SIZES)))
    n_labelled = QUICK_LABELLED if options.quick else N_LABELLED
    report = Report(NAME, options, {"labelled": n_labelled, "pools": list(sizes)})
    runs = {}
    for n_pool in sizes:
        result = _run_round(options, n_labelled, n_pool, keep)
        runs[n_pool] = result
        measured = result["measured"]
        report.figure(f"round_{n_pool}_s", measured["seconds"], f"round, pool {n_pool:,}", "s")
        report.figure(
            f"peak_rss_{n_pool}_mib",
            measured["peak_tree_rss_mib"],
            "  peak RSS, process tree",
            "MiB",
        )
        peaks = stage_peaks(measured.get("timeline", ()), result["stages"])
        for node, use in result["stages"].items():
            cores = use.get("cores")
            shown = "" if cores is None else f" ({cores:.2f} cores)"
            report.figure(f"stage_{n_pool}_{node}_s", use["wall_s"], f"  {node}{shown}", "s")
            if node in peaks:
                report.figure(
                    f"stage_{n_pool}_{node}_peak_rss_mib", peaks[node], "    peak RSS", "MiB"
                )
        candidates, labelling = result["candidates"], result["labelling"]
        report.figure(
            f"candidates_{n_pool}_s", candidates["seconds"], "  catalogue and report", "s"
        )
        report.figure(
            f"candidates_{n_pool}_peak_rss_mib",
            candidates["peak_tree_rss_mib"],
            "    peak RSS",
            "MiB",
        )
        report.figure(
            f"labelling_{n_pool}_s",
            labelling["seconds"],
            f"  labelling page: batch of {labelling['rows']} + a spectrum served",
            "s",
        )
        report.figure(
            f"labelling_{n_pool}_peak_rss_mib", labelling["peak_rss_mib"], "    peak RSS", "MiB"
        )

    base = sizes[0]
    for node in POOL_STAGES:
        if any(node not in runs[n]["stages"] for n in sizes):
            report.note(f"{node}: not run (cached?) at every size, no fit")
            continue
        seconds = [runs[n]["stages"][node]["wall_s"] for n in sizes]
        if seconds[0] < MIN_FIT_SECONDS:
            report.note(f"{node}: {seconds[0]} s at {base:,} spectra, too short to fit")
            continue
        exponent = growth_exponent(sizes, seconds)
        report.figure(
            f"growth_{node}",
            None if exponent is None else round(exponent, 2),
            f"growth exponent, {node} (1 = per-spectrum cost flat)",
        )
        for n_pool, value in zip(sizes[1:], seconds[1:], strict=True):
            report.ratio(
                f"per_spectrum_{node}_{n_pool}_vs_{base}",
                value / n_pool,
                seconds[0] / base if seconds[0] else None,
                f"  {node}: cost per spectrum at {n_pool:,} / at {base:,}",
            )
        for name, target in PROJECTED_POOLS.items():
            projected = project(sizes, seconds, target)
            report.figure(
                f"projected_{name}_{node}_h",
                None if projected is None else round(projected / 3600, 2),
                f"  {node} projected to {target:,} spectra",
                "h",
            )
    rounds = [runs[n]["measured"]["seconds"] for n in sizes]
    peaks = [runs[n]["measured"]["peak_tree_rss_mib"] for n in sizes]
    report.figure("growth_round", _rounded(growth_exponent(sizes, rounds)), "growth, whole round")
    for name, target in PROJECTED_POOLS.items():
        projected = project(sizes, rounds, target)
        report.figure(
            f"projected_{name}_round_h",
            None if projected is None else round(projected / 3600, 2),
            f"whole round projected to {target:,} spectra",
            "h",
        )
    report.ratio(
        f"peak_rss_{sizes[-1]}_vs_{base}", peaks[-1], peaks[0], "peak RSS, largest / smallest pool"
    )
    for step in ("candidates", "labelling"):
        seconds = [runs[n][step]["seconds"] for n in sizes]
        report.figure(
            f"growth_{step}", _rounded(growth_exponent(sizes, seconds)), f"growth, {step}"
        )
    return report.save()


def _rounded(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="pool sizes (default 25,000 100,000 250,000)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the surveys and work dirs")
    args = parser.parse_args(argv)
    prepare_environment()
    options = options_from_args(args)
    run(options, tuple(args.sizes) if args.sizes else None, keep=args.keep)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
