"""Run one benchmark through the suite's runner (``python -m bench NAME --quick``)."""

import pathlib
import subprocess
import sys

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def run_quick_benchmark(name: str, tmp_path: pathlib.Path, *, timeout: int):
    """Run ``name`` in quick mode with scratch and results under ``tmp_path``.

    Returns
    -------
    (subprocess.CompletedProcess, pathlib.Path)
        The finished run (stdout and stderr captured as text) and its results folder.
    """
    results_dir = tmp_path / "results"
    command = [sys.executable, "-m", "bench", name, "--quick"]
    command += ["--workdir", str(tmp_path / "work"), "--results-dir", str(results_dir)]
    run = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    return run, results_dir
