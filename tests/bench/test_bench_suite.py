"""Smoke test of the benchmark suite: ``python -m bench scoring --quick`` runs end to end.

The scoring benchmark is the cheapest that measures something real (a small simulated
pool through the PoolScorer executor and Keras ``predict``). Nothing here asserts a
speed: only that the run completes, prints its ratios and records them.
"""

import json
import re

import pytest

from tests.bench.suite_runner import run_quick_benchmark


@pytest.mark.slow
def test_quick_suite_runs_the_scoring_benchmark_and_records_its_ratios(tmp_path):
    run, results_dir = run_quick_benchmark("scoring", tmp_path, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    # The ratio against the baseline measured in the same run is printed ...
    printed = re.search(r"ratio executor in_memory / Keras\s+(\d+\.\d+)x", run.stdout)
    assert printed, run.stdout[-3000:]
    assert re.search(r"scoring\s+ok", run.stdout)

    # ... and recorded with the sizes, the load and the figures it came from.
    lines = (results_dir / "scoring.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["benchmark"] == "scoring" and record["quick"] is True
    assert len(record["load_average_start"]) == 3
    assert record["sizes"]["spectra"] > 0
    figures = record["figures"]
    assert figures["keras_predict_spectra_per_s"] > 0
    assert figures["executor_in_memory_spectra_per_s"] > 0
    expected = figures["executor_in_memory_spectra_per_s"] / figures["keras_predict_spectra_per_s"]
    assert record["ratios"]["executor_in_memory_vs_keras"] == pytest.approx(expected, abs=1e-3)
    assert float(printed.group(1)) == pytest.approx(expected, abs=0.006)
