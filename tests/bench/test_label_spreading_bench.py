"""Smoke test of ``python -m bench label_spreading --quick``: it runs end to end through
the suite's runner, prints its growth ratios and records them. No speed is asserted."""

import json

from tests.bench.suite_runner import run_quick_benchmark


def test_quick_label_spreading_benchmark_records_its_growth_ratios(tmp_path):
    run, results_dir = run_quick_benchmark("label_spreading", tmp_path, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "ratio graph build time 20,000 / 5,000" in run.stdout
    (line,) = (results_dir / "label_spreading.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["quick"] is True
    assert set(record["ratios"]) == {
        "graph_s_20000_vs_5000",
        "spread_s_20000_vs_5000",
        "peak_rss_mib_20000_vs_5000",
        "spread_step_s_20000_vs_5000",
    }
    # The approximate graph finds the exact neighbours; the labels reach the clusters.
    assert record["figures"]["n20000_graph_recall_at_k_percent"] >= 99.0
    assert record["figures"]["n20000_iterations"] >= 2
