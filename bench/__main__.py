"""Run the benchmark suite: ``python -m bench [names...] [--quick]``.

Each benchmark runs in its own process (``python -m bench.<name>``), so TensorFlow
state, threads and memory of one cannot colour the next. The workdir and results
directory reach every benchmark as options and as the environment variables
``ACTIVESPEC_BENCH_WORKDIR`` and ``ACTIVESPEC_BENCH_RESULTS``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time

from bench import BENCHMARKS, OPTIONAL_BENCHMARKS
from bench.harness import (
    REPO_ROOT,
    RESULTS_ENV,
    WORKDIR_ENV,
    add_common_arguments,
    load_average,
    machine,
    options_from_args,
)


def available() -> list[str]:
    """The suite's benchmarks, optional ones only when their module exists."""
    optional = [name for name in OPTIONAL_BENCHMARKS if importlib.util.find_spec(f"bench.{name}")]
    return [*BENCHMARKS, *optional]


def _supported_flags(name: str, env: dict) -> set[str]:
    """Options a benchmark's command line takes, read from its ``--help``."""
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--help"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return {word.rstrip(",") for word in result.stdout.split() if word.startswith("--")}


def _command(name: str, args: argparse.Namespace, env: dict) -> list[str] | None:
    """The command running one benchmark, or None when it cannot run in this mode."""
    command = [sys.executable, "-m", f"bench.{name}"]
    if name in BENCHMARKS:
        if args.quick:
            command.append("--quick")
        return command + ["--workdir", str(args.workdir), "--results-dir", str(args.results_dir)]
    # Benchmarks written elsewhere: pass what their command line accepts.
    flags = _supported_flags(name, env)
    if args.quick:
        if "--quick" not in flags:
            return None
        command.append("--quick")
    if "--work" in flags:
        command += ["--work", str(args.workdir / name)]
    elif "--workdir" in flags:
        command += ["--workdir", str(args.workdir)]
    if "--results-dir" in flags:
        command += ["--results-dir", str(args.results_dir)]
    return command


def main(argv: list[str] | None = None) -> int:
    names_known = available()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run all or selected benchmarks; see BENCHMARKS.md.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="name", help=f"benchmarks to run (default all: {names_known})"
    )
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in names_known]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {names_known}")
    options = options_from_args(args)
    args.workdir, args.results_dir = options.workdir, options.results_dir
    selected = args.names or names_known

    env = dict(os.environ)
    env[WORKDIR_ENV] = str(options.workdir)
    env[RESULTS_ENV] = str(options.results_dir)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
    )
    facts = machine()
    print(
        f"activespec benchmarks {selected} ({'quick' if args.quick else 'full'}) on "
        f"{facts.get('cpus_usable')} CPUs ({facts.get('cpu_model', '?')}), "
        f"load {load_average()}; results in {options.results_dir}",
        flush=True,
    )
    outcomes = []
    for name in selected:
        command = _command(name, args, env)
        if command is None:
            print(f"\n== {name}: skipped (no --quick mode) ==", flush=True)
            outcomes.append((name, None, 0.0))
            continue
        started = time.perf_counter()
        code = subprocess.call(command, env=env, cwd=REPO_ROOT)
        outcomes.append((name, code, time.perf_counter() - started))
    print("\nsummary:", flush=True)
    for name, code, seconds in outcomes:
        status = {0: "ok", None: "skipped"}.get(code, f"FAILED (exit {code})")
        print(f"  {name:<20} {status:<18} {seconds:8.1f} s", flush=True)
    print(f"  load at the end {load_average()}", flush=True)
    return 0 if all(code in (0, None) for _, code, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
