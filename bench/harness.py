"""What every benchmark shares: options, machine facts, timing, printing and recording.

A benchmark measures its subject and its baseline side by side in one run, prints both
with their ratio, and appends one JSON line to ``<results_dir>/<name>.jsonl`` with the
date, the load average, the sizes and the figures. Nothing here asserts a speed: the
records are for people (BENCHMARKS.md) and for comparing runs over time.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Environment variables the suite runner hands to every benchmark process (and that a
#: benchmark reads as defaults for ``--workdir`` / ``--results-dir``).
WORKDIR_ENV = "ACTIVESPEC_BENCH_WORKDIR"
RESULTS_ENV = "ACTIVESPEC_BENCH_RESULTS"

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "activespec-bench"

#: Settings TensorFlow and Beam must see before they are imported.
_QUIET_ENV = {
    "TF_USE_LEGACY_KERAS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "CUDA_VISIBLE_DEVICES": "",
    "PYTHONWARNINGS": "ignore::FutureWarning,ignore::DeprecationWarning",
}


def child_environment() -> dict:
    """This environment, with the repository importable (``bench`` is not installed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
    )
    return env


def prepare_environment() -> None:
    """Keras 2 for TFX, no GPU probing, quiet logs: call before importing TensorFlow."""
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # Beam and TFX log every stage at INFO; a benchmark prints its own summary.
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("absl", "apache_beam", "tensorflow"):
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclasses.dataclass(frozen=True)
class BenchOptions:
    """Options shared by all benchmarks.

    Attributes
    ----------
    quick : bool
        Tiny sizes: checks that the benchmark runs end to end, figures are not meaningful.
    workdir : pathlib.Path
        Scratch space; simulated surveys and exported models are cached there between runs.
    results_dir : pathlib.Path
        Where ``<name>.jsonl`` records and plots are written.
    """

    quick: bool = False
    workdir: Path = DEFAULT_WORKDIR
    results_dir: Path = DEFAULT_RESULTS_DIR

    def scratch(self, *parts: str) -> Path:
        """A sub-directory of the workdir (created)."""
        path = self.workdir.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--quick``, ``--workdir`` and ``--results-dir``."""
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke run, not a measurement"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(os.environ.get(WORKDIR_ENV) or DEFAULT_WORKDIR),
        help=f"scratch and cache directory (default ${WORKDIR_ENV} or {DEFAULT_WORKDIR})",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path(os.environ.get(RESULTS_ENV) or DEFAULT_RESULTS_DIR),
        help=f"where <name>.jsonl and plots go (default ${RESULTS_ENV} or bench/results)",
    )


def options_from_args(args: argparse.Namespace) -> BenchOptions:
    """Build :class:`BenchOptions` from parsed arguments, creating the directories."""
    workdir = args.workdir.resolve()
    results_dir = args.results_dir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    results_dir.mkdir(parents=True, exist_ok=True)
    return BenchOptions(quick=bool(args.quick), workdir=workdir, results_dir=results_dir)


def benchmark_main(
    name: str,
    description: str,
    run: Callable[[BenchOptions], dict],
    argv: Sequence[str] | None = None,
) -> int:
    """Command-line entry of one benchmark: ``python -m bench.<name> [--quick] ...``."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    prepare_environment()
    run(options_from_args(args))
    return 0


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (other jobs share the cores)."""
    return [round(value, 2) for value in os.getloadavg()]


def machine() -> dict[str, Any]:
    """Facts about the machine and software that the figures depend on."""
    facts: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    facts["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            total_kib = int(handle.readline().split()[1])
        facts["memory_gib"] = round(total_kib / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return facts


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


class Stopwatch:
    """Wall-clock seconds of a ``with`` block, in :attr:`seconds`."""

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start


def ratio(value: float, baseline: float) -> float | None:
    """``value / baseline`` rounded for reporting, None when the baseline is zero."""
    if not baseline:
        return None
    return round(value / baseline, 3)


def marginal_rate(
    n_large: int, seconds_large: float, n_small: int, seconds_small: float
) -> float | None:
    """Items per second between a small and a large run, i.e. without the fixed start-up.

    None when the large run is not clearly longer than the small one (the difference
    would be noise): less than a quarter of its time would be left.
    """
    extra_seconds = seconds_large - seconds_small
    if n_large <= n_small or extra_seconds < 0.25 * seconds_large:
        return None
    return (n_large - n_small) / extra_seconds


class Report:
    """Collects a benchmark's figures, prints them as they come and records the run.

    Parameters
    ----------
    name : str
        Benchmark name (file ``<name>.jsonl``).
    options : BenchOptions
    sizes : dict
        The sizes the run used (number of files, spectra, seeds ...).
    """

    def __init__(self, name: str, options: BenchOptions, sizes: dict[str, Any]):
        self.name = name
        self.options = options
        self.sizes = dict(sizes)
        self.figures: dict[str, Any] = {}
        self.ratios: dict[str, Any] = {}
        self.notes: list[str] = []
        self._load_start = load_average()
        self._started = time.perf_counter()
        mode = "quick" if options.quick else "full"
        sizes_text = ", ".join(f"{key}={value}" for key, value in self.sizes.items())
        print(f"\n== {name} ({mode}: {sizes_text}) load {self._load_start} ==", flush=True)

    def figure(self, key: str, value: Any, label: str, unit: str = "") -> None:
        """Record and print one measured figure."""
        self.figures[key] = value
        if value is None:
            shown = "n/a"
        elif isinstance(value, float):
            shown = f"{value:,.1f}"
        else:
            shown = f"{value:,}"
        print(f"  {label:<58} {shown:>12} {unit}", flush=True)

    def ratio(
        self, key: str, value: float | None, baseline: float | None, label: str
    ) -> float | None:
        """Record and print ``value / baseline`` (None when either is unknown)."""
        result = None if value is None or baseline is None else ratio(value, baseline)
        self.ratios[key] = result
        shown = "n/a" if result is None else f"{result:.2f}x"
        print(f"  ratio {label:<52} {shown:>12}", flush=True)
        return result

    def note(self, text: str) -> None:
        """A remark kept with the record (printed too)."""
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def plot(self, draw: Callable[[Path], None]) -> Path:
        """Draw the run's figure with ``draw(path)`` into ``<results_dir>/<name>.png``,
        record its file name and print where it is."""
        path = self.options.results_dir / f"{self.name}.png"
        draw(path)
        self.figures["plot"] = path.name
        print(f"  plot: {path}", flush=True)
        return path

    def save(self) -> dict[str, Any]:
        """Append the record to ``<results_dir>/<name>.jsonl`` and return it."""
        record = {
            "benchmark": self.name,
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "quick": self.options.quick,
            "load_average_start": self._load_start,
            "load_average_end": load_average(),
            "elapsed_s": round(time.perf_counter() - self._started, 1),
            "sizes": self.sizes,
            "figures": self.figures,
            "ratios": self.ratios,
            "notes": self.notes,
            "machine": machine(),
            "commit": _git_commit(),
            "command": " ".join(["python", "-m", f"bench.{self.name}", *sys.argv[1:]]),
        }
        path = self.options.results_dir / f"{self.name}.jsonl"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
        print(
            f"  recorded in {path} (load {record['load_average_end']}, {record['elapsed_s']} s)",
            flush=True,
        )
        return record


def latest_record(results_dir: Path, name: str, *, quick: bool | None = None) -> dict | None:
    """The last record of benchmark ``name``, optionally only full (or only quick) runs."""
    path = Path(results_dir) / f"{name}.jsonl"
    if not path.exists():
        return None
    latest = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if quick is None or bool(record.get("quick")) == quick:
            latest = record
    return latest
