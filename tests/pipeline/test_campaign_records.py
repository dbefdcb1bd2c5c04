"""What the campaign records per round: the recall estimate and per-subtype recall.

A hand-made round folder stands for a finished round (no pipeline runs): its samples are
censuses of tiny populations, so the estimate must equal the simulated truth exactly.
"""

from __future__ import annotations

import csv
import json

import pytest

from activespec.labels import LabelStore
from activespec.oracle import SimulatedOracle
from activespec.workdir import WorkDir
from pipeline.campaign import _record_round, snapshot_labels
from pipeline.configs import config_from_dict
from tests.labels.round_files import sampler_row

#: spectrum id -> (label, subtype) of the simulated pool.
TRUTH = {
    "q0": ("emission", "be-single"),  # labelled positive in round 0: a confirmed find
    "q1": ("other", "FGK"),
    "c1": ("emission", "be-single"),
    "c2": ("double-peak", "be-double"),
    "c3": ("emission", "dme"),
    "c4": ("other", "junk"),
    "n1": ("other", "FGK"),
    "n2": ("emission", "be-weak"),
    "n3": ("other", "FGK"),
    "n4": ("other", "galaxy"),
    "b1": ("double-peak", "be-double"),
    "b2": ("other", "FGK"),
}
CANDIDATES = ("c1", "c2", "c3", "c4")
#: Recall-sample strata of round 1: (stratum, spectra); both sampled in full.
STRATA = ((0, ("n1", "n2", "n3", "n4")), (4, ("b1", "b2")))


def _write_json(path, payload):
    path.write_text(json.dumps(payload, indent=1) + "\n")


@pytest.fixture
def finished_round(tmp_path):
    truth = tmp_path / "pool_truth.csv"
    with open(truth, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["spectrum_id", "file", "label", "subtype"])
        for sid, (label, subtype) in TRUTH.items():
            writer.writerow([sid, f"{sid}.fits", label, subtype])
    oracle = SimulatedOracle(truth, ("other", "emission", "double-peak"))
    config = config_from_dict({}, base_dir=tmp_path)
    wd = WorkDir(tmp_path)
    store = LabelStore(tmp_path / "labels.sqlite", config.data.classes)

    # Round 0: two queried spectra, labelled.
    store.register_round(
        0,
        [
            sampler_row(sid, role="query", rank=i + 1, probabilities=[0.4, 0.3, 0.3])
            for i, sid in enumerate(("q0", "q1"))
        ],
    )
    for sid in ("q0", "q1"):
        store.add_label(sid, oracle.answer(sid), round_index=0, labeller=oracle.labeller)

    # Round 1: its candidates, performance sample (all candidates), recall sample.
    folder = wd.round_dir(1)
    folder.mkdir(parents=True)
    _write_json(folder / "summary.json", {"round": 1, "sampling": {"num_candidates": 4}})
    with open(folder / "candidates.csv", "w", newline="") as fh:
        # As the sampler writes it: the predicted candidates and the confirmed find q0.
        writer = csv.writer(fh)
        writer.writerow(["spectrum_id", "predicted_class", "status", "confirmed_label"])
        writer.writerows([sid, "emission", "predicted", ""] for sid in CANDIDATES)
        writer.writerow(["q0", "other", "confirmed", "emission"])
    rows = [
        sampler_row(sid, role="performance", rank=i + 1, probabilities=[0.2, 0.7, 0.1])
        for i, sid in enumerate(CANDIDATES)
    ]
    strata_table = []
    for h in range(5):
        members = dict(STRATA).get(h, ())
        strata_table.append(
            {"stratum": h, "stratum_population": len(members), "stratum_sample_size": len(members)}
        )
        for sid in members:
            row = sampler_row(sid, role="recall", rank=len(rows), probabilities=[0.9, 0.05, 0.05])
            rows.append({**row, "stratum": h, "stratum_population": len(members)})
    _write_json(folder / "recall_strata.json", strata_table)
    store.register_round(1, rows)
    for row in rows:
        store.add_label(
            row["spectrum_id"],
            oracle.answer(row["spectrum_id"]),
            round_index=1,
            labeller=oracle.labeller,
            role=row["role"],
        )
    yield wd, store, config, oracle
    store.close()


def test_history_records_the_recall_estimate_and_recall_by_subtype(finished_round):
    wd, store, config, oracle = finished_round
    history = _record_round(wd, store, config, 1, [], oracle)
    saved = json.loads((wd.root / "history.json").read_text())
    assert saved == history and [h["round"] for h in saved] == [1]
    record = saved[0]

    # 3 true positives among the predicted candidates and q0, confirmed in round 0, in
    # the list; missed: n2 and b1 among the predicted negatives.
    truth_recall = 4 / 6
    assert record["simulated"]["recall"] == pytest.approx(truth_recall)
    estimate = record["estimated_recall"]
    assert {"value", "lower", "upper", "n"} <= set(estimate)
    assert estimate["n"] == 6
    # Every sample is a census: the interval collapses on the truth.
    assert estimate["value"] == pytest.approx(truth_recall)
    assert estimate["lower"] == pytest.approx(truth_recall)
    assert estimate["upper"] == pytest.approx(truth_recall)
    assert estimate["false_negatives"] == 2 and estimate["known_found"] == 1

    assert record["simulated"]["recall_by_subtype"] == {
        "be-double": 0.5,
        "be-single": 1.0,
        "be-weak": 0.0,
        "dme": 1.0,
    }
    summary = json.loads((wd.round_dir(1) / "summary.json").read_text())
    assert summary["estimated_recall"] == estimate
    assert list((wd.root / "tensorboard").glob("events.out.tfevents.*"))


def test_recall_sample_labels_train_the_next_round(finished_round, tmp_path):
    wd, store, _, _ = finished_round
    path, _, count = snapshot_labels(store, tmp_path / "snapshot.csv")
    with open(path, newline="") as fh:
        labelled = {row["spectrum_id"] for row in csv.DictReader(fh)}
    assert {"n1", "n2", "b1", "b2"} <= labelled
    assert count == len(TRUTH)


def test_the_oracle_groups_positives_by_subtype(finished_round):
    _, _, _, oracle = finished_round
    groups = oracle.positives_by_subtype(["emission", "double-peak"])
    assert list(groups) == ["be-double", "be-single", "be-weak", "dme"]
    assert groups["be-single"] == {"q0", "c1"}
    assert set().union(*groups.values()) == oracle.positives(["emission", "double-peak"])
    # Only the double-peaked class: its subtypes only.
    assert list(oracle.positives_by_subtype(["double-peak"])) == ["be-double"]
