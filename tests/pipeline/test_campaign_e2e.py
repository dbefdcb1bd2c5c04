"""Active-learning rounds end to end on the local runner, on a simulated survey.

Slow: simulation, two Beam ingestions, TFDV, training, TFMA evaluation, scoring and
sampling; the simulated oracle labels the query; a second round trains on those labels
and must reuse the ingested pool; then a human-oracle round stops for its labels.
"""

import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from activespec.labels import LabelStore
from activespec.simulator import simulate_survey
from activespec.workdir import WorkDir
from models import features
from pipeline.campaign import LabelsPending, run_campaign
from pipeline.configs import config_from_dict
from tests.isolation import discard, in_fresh_process

pytestmark = pytest.mark.slow

N_LABELLED = 900
N_POOL = 2500
BROKEN = {"truncated.fits": "truncated", "noise.fits": "not-fits"}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, real_dir):
    root = tmp_path_factory.mktemp("campaign")
    simulate_survey(root / "survey", n_labelled=N_LABELLED, n_pool=N_POOL, seed=7, progress=False)
    pool_dir = root / "survey" / "pool"
    # Files a real pool has too: a truncated download and something that is not FITS.
    good = sorted(pool_dir.glob("*.fits"))[0].read_bytes()
    (pool_dir / "truncated.fits").write_bytes(good[: len(good) // 3])
    (pool_dir / "noise.fits").write_bytes(np.random.default_rng(0).bytes(20_000))
    config = config_from_dict(
        {
            "model": {"max_epochs": 20, "patience": 4, "batch_size": 64},
            # ingestion and scoring in 2 worker processes, however small the survey
            "beam": {
                "direct_running_mode": "multi_processing",
                "direct_num_workers": 2,
                "in_process_below": 0,
                "score_in_process_below": 0,
            },
            "evaluation": {"min_macro_f1": 0.4},
        },
        base_dir=root,
    )
    history = in_fresh_process(
        run_campaign, root, config, rounds=2, oracle="simulated", log=discard
    )
    rounds = WorkDir(root)
    first, second = (json.loads((rounds.round_dir(i) / "summary.json").read_text()) for i in (0, 1))
    return root, config, first, second, history


def _read_examples(uri, split):
    files = tf.io.gfile.glob(os.path.join(uri, f"Split-{split}", "*"))
    ids = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy())
        ids.append(example.features.feature[features.SPECTRUM_ID].bytes_list.value[0].decode())
    return ids


def _json(path):
    with open(path) as fh:
        return json.load(fh)


def _truth(root):
    with open(root / "survey" / "truth" / "pool_truth.csv") as fh:
        return {row["spectrum_id"]: row for row in csv.DictReader(fh)}


def test_every_component_ran(campaign):
    _, _, first, _, _ = campaign
    assert set(first["nodes"].values()) <= {"COMPLETE", "CACHED"}, first["nodes"]
    for node in (
        "LabelledIngest",
        "PoolIngest",
        "Trainer",
        "Evaluator",
        "Pusher",
        "PoolScorer",
        "UncertaintySampler",
        "LabelledExampleValidator",
        "PoolExampleValidator",
    ):
        assert node in first["nodes"], node


def test_rejected_files_are_counted_with_reasons(campaign):
    root, _, first, _, _ = campaign
    pool = first["ingestion"]["PoolIngest"]
    assert pool["num_ingested"] + pool["num_rejected"] == N_POOL + len(BROKEN)
    rejected = {}
    with open(first["files"]["rejected-pool.csv"]) as fh:
        for row in csv.DictReader(fh):
            rejected[os.path.basename(row["path"])] = row["code"]
    for name, code in BROKEN.items():
        assert rejected.get(name) == code, (name, rejected.get(name))
    assert sum(pool["rejections_by_code"].values()) == pool["num_rejected"]


def test_model_is_clearly_better_than_chance_on_held_out_split(campaign):
    _, _, first, _, _ = campaign
    ev = first["evaluation"]
    assert ev["n"] > 50
    assert ev["macro_f1"] > 0.6, ev
    cm = np.array(ev["confusion_matrix"])
    assert cm.sum() == ev["n"]
    assert np.trace(cm) / cm.sum() > 0.7
    if ev["blessed"]:
        versions = os.listdir(first["serving_model_dir"])
        assert versions and all(v.isdigit() for v in versions)


def test_query_is_pool_spectra_not_labelled_ones(campaign):
    root, config, first, _, _ = campaign
    with open(first["files"]["query.json"]) as fh:
        query = json.load(fh)
    assert len(query) == config.sampling.query_size
    ids = [q["spectrum_id"] for q in query]
    assert len(set(ids)) == len(ids)
    truth = _truth(root)
    assert set(ids) <= set(truth)
    labelled_uri = first["ingestion"]["LabelledIngest"]["examples_uri"]
    labelled = {i for s in ("train", "eval", "test") for i in _read_examples(labelled_uri, s)}
    assert not set(ids) & labelled
    entropies = [q["entropy"] for q in query]
    assert entropies == sorted(entropies, reverse=True)
    with open(first["files"]["performance_sample.json"]) as fh:
        perf = json.load(fh)
    assert 0 < len(perf) <= config.sampling.performance_sample_size
    assert all(p["predicted_class"] in ("emission", "double-peak") for p in perf)


def test_candidates_find_the_emission_objects(campaign):
    root, _, first, _, _ = campaign
    truth = _truth(root)
    with open(first["files"]["candidates.csv"]) as fh:
        cands = {row["spectrum_id"] for row in csv.DictReader(fh)}
    assert len(cands) == first["sampling"]["num_candidates"]
    positives = {i for i, row in truth.items() if row["label"] != "other"}
    assert positives, "the simulated pool has emission objects"
    recall = len(cands & positives) / len(positives)
    assert recall > 0.5, recall


def test_second_round_reuses_the_ingested_pool(campaign):
    root, _, first, second, _ = campaign
    assert second["round"] == first["round"] + 1
    pool1, pool2 = first["ingestion"]["PoolIngest"], second["ingestion"]["PoolIngest"]
    assert pool2["reused_from_cache"]
    assert pool2["examples_uri"] == pool1["examples_uri"]
    assert (
        first["ingestion"]["LabelledIngest"]["examples_uri"]
        == (second["ingestion"]["LabelledIngest"]["examples_uri"])
    )


def _round_ids(summary):
    return {
        row["spectrum_id"]
        for name in ("query.json", "performance_sample.json", "recall_sample.json")
        for row in _json(summary["files"][name])
    }


def test_oracle_labels_join_the_next_training_set_once(campaign):
    root, config, first, second, history = campaign
    store = LabelStore(root / "labels.sqlite", list(config.data.classes))
    truth = _truth(root)
    labels = store.current_labels()
    shown = _round_ids(first)
    assert len(shown) >= config.sampling.query_size
    assert shown <= set(labels)
    assert all(labels[i].label == truth[i]["label"] for i in shown)
    assert first["pool_labels"]["num_joined"] == 0
    # Every label given in round 0 (query and samples) trains round 1, once.
    assert second["pool_labels"]["num_joined"] == len(shown)
    assert second["pool_labels"]["num_unmatched"] == 0
    # Labelled spectra have left the pool: round 1 shows none of them again.
    assert not _round_ids(second) & shown


def test_history_records_each_round(campaign):
    root, config, _, _, history = campaign
    assert [h["round"] for h in history] == [0, 1]
    assert history[0]["labels_so_far"] == 0
    assert history[1]["labels_so_far"] == len(_round_ids(campaign[2]))
    for h in history:
        perf = h["performance"]
        assert perf["n"] > 0
        assert 0 <= perf["lower_bound_95"] <= perf["precision"] <= 1
        assert 0 <= h["simulated"]["precision"] <= 1 and 0 <= h["simulated"]["recall"] <= 1
        recall = h["estimated_recall"]
        assert recall["n"] == config.sampling.recall_sample_size
        assert 0 <= recall["lower"] <= recall["value"] <= recall["upper"] <= 1
        by_subtype = h["simulated"]["recall_by_subtype"]
        assert by_subtype and all(0 <= v <= 1 for v in by_subtype.values())
        assert h["evaluation"]["macro_f1"] is not None
    assert (root / "history.json").exists()
    assert list((root / "tensorboard").glob("events.out.tfevents.*"))


def test_only_the_rounds_someone_looks_at_draw_the_pool_map(campaign):
    root = campaign[0]
    first_dir, second_dir = (WorkDir(root).round_dir(i) for i in (0, 1))
    # round 0 was labelled by the simulated oracle before the run went on: no map, the
    # novelty and its list all the same
    meta = _json(first_dir / "pool_map.json")
    assert meta["method"] == "none" and meta["num_points"] == 0
    assert not (first_dir / "pool_map.csv").exists()
    assert (first_dir / "novel.csv").exists()
    assert meta["space"] == "flux"  # the scorer wrote no embedding for a map
    # the run's last round has one, in the embedding the scorer then wrote
    meta = _json(second_dir / "pool_map.json")
    assert (meta["method"], meta["space"]) == ("tsne", "embedding")
    with open(second_dir / "pool_map.csv") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == meta["num_points"] > 0


def test_human_oracle_stops_until_the_query_is_labelled(campaign):
    root, config, _, _, _ = campaign
    history = in_fresh_process(run_campaign, root, config, rounds=3, oracle="human", log=discard)
    assert [h["round"] for h in history] == [0, 1, 2]
    # a round a human labels next always has its map
    assert _json(WorkDir(root).round_dir(2) / "pool_map.json")["method"] == "tsne"
    assert history[2]["performance"]["n"] == 0
    size = config.sampling.query_size
    with pytest.raises(LabelsPending, match=f"round 2: {size} of {size} query spectra still need"):
        in_fresh_process(run_campaign, root, config, rounds=4, oracle="human", log=discard)
