"""``[model] kind = "label_spreading"`` and ``"both"``: whole rounds on the local runner.

Slow: a simulated survey, the ingestions, TFDV, label spreading (and with ``both`` the
CNN's training, evaluation and scoring), sampling, and the simulated oracle's labels.
"""

import csv
import json

import pytest

from activespec.workdir import WorkDir
from activespec_cli.round_cmd import format_summary
from pipeline.campaign import run_campaign
from pipeline.configs import config_from_dict
from tests.isolation import discard, in_fresh_process

pytestmark = pytest.mark.slow

N_LABELLED = 600
N_POOL = 1500


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    from activespec.simulator import simulate_survey

    root = tmp_path_factory.mktemp("ls-survey")
    simulate_survey(root / "survey", n_labelled=N_LABELLED, n_pool=N_POOL, seed=11, progress=False)
    return root


def _campaign(survey, tmp_path, raw, rounds):
    # The survey is shared; each campaign gets its own work directory beside it.
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "survey").symlink_to(survey / "survey")
    config = config_from_dict(
        {"beam": {"direct_running_mode": "in_memory"}, **raw}, base_dir=workdir
    )
    history = in_fresh_process(
        run_campaign, workdir, config, rounds=rounds, oracle="simulated", log=discard
    )
    summaries = [
        json.loads((WorkDir(workdir).round_dir(i) / "summary.json").read_text())
        for i in range(rounds)
    ]
    return workdir, config, history, summaries


def test_label_spreading_runs_rounds_without_a_network(survey, tmp_path):
    _, config, history, (first, second) = _campaign(
        survey, tmp_path, {"model": {"kind": "label_spreading"}}, rounds=2
    )
    for summary in (first, second):
        assert "LabelSpreading" in summary["nodes"]
        assert not {"Trainer", "Evaluator", "Pusher", "PoolScorer"} & set(summary["nodes"])
        # Every ingested pool spectrum (the simulator writes some unreadable files too).
        ingested = summary["ingestion"]["PoolIngest"]["num_ingested"]
        assert 0.9 * N_POOL < ingested <= N_POOL
        assert summary["num_scored"] == ingested
        spreading = summary["label_spreading"]
        assert spreading["num_scored"] == ingested and spreading["graph_edges"] > ingested
    # The oracle's labels of round 0 seed round 1's graph.
    labelled = second["pool_labels"]["num_joined"]
    assert labelled > 0
    assert (
        second["label_spreading"]["num_labelled_nodes"]
        == first["label_spreading"]["num_labelled_nodes"] + labelled
    )
    # The 2016 method finds the emitters of the simulated pool (ground truth).
    for record in history:
        assert record["simulated"]["recall"] >= 0.6, record["simulated"]
        assert record["simulated"]["precision"] >= 0.2, record["simulated"]
    text = format_summary(second, list(config.data.classes))
    assert "label spreading (flux space, k=5" in text and "vs the CNN" not in text


def test_both_compares_the_two_scorers_in_the_summary(survey, tmp_path):
    raw = {
        "model": {"kind": "both", "max_epochs": 8, "patience": 3, "batch_size": 64},
        "evaluation": {"min_macro_f1": 0.0},
    }
    workdir, config, (record,), (summary,) = _campaign(survey, tmp_path, raw, rounds=1)
    assert {"Trainer", "PoolScorer", "LabelSpreading"} <= set(summary["nodes"])
    comparison = summary["scorer_comparison"]
    ingested = summary["ingestion"]["PoolIngest"]["num_ingested"]
    assert comparison["n"] == ingested
    assert 0.5 < comparison["agreement"] <= 1.0
    positives = comparison["positives"]
    assert positives["both"] <= min(positives["cnn"], positives["label_spreading"])
    with open(summary["files"]["scorer_comparison.csv"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == ingested
    assert sum(row["cnn_class"] == row["label_spreading_class"] for row in rows) == round(
        comparison["agreement"] * ingested
    )
    # Against the simulated truth, each scorer's predicted positives.
    by_scorer = record["simulated_by_scorer"]
    assert set(by_scorer) == {"cnn", "label_spreading"}
    assert by_scorer["cnn"]["num_predicted"] == positives["cnn"]
    for figures in by_scorer.values():
        assert figures["recall"] >= 0.5, by_scorer
    assert f"vs the CNN over {ingested} spectra" in format_summary(
        summary, list(config.data.classes)
    )
