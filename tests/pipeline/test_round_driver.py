"""One round driver for ``activespec round`` and ``activespec run`` (issue 12, bug 1).

The TFX pipeline is replaced by a fake ``run_round`` that writes the round folder the
sampler would write: what is checked is what happens around it (the labels snapshot the
round trains on, the rows registered for labelling), fast.
"""

from __future__ import annotations

import csv
import json

import pytest

from activespec.constants import DEFAULT_CLASSES
from activespec.labels import LabelStore
from activespec.workdir import WorkDir
from activespec_cli import main
from tests.labels.round_files import synthetic_round


@pytest.fixture
def fake_pipeline(monkeypatch):
    """Record each round's labels snapshot; write the round's query as the sampler does."""
    import pipeline.campaign
    import pipeline.local_runner

    calls = []

    def run_round(workdir, config, *, round_index=None, labels_snapshot="", labels_digest=""):
        if round_index is None:
            round_index = WorkDir(workdir).next_round_index()
        labels = {}
        if labels_snapshot:
            with open(labels_snapshot, newline="") as fh:
                labels = {row["spectrum_id"]: row["label"] for row in csv.DictReader(fh)}
        calls.append({"round": round_index, "labels": labels, "digest": labels_digest})
        synthetic_round(workdir, round_index, 3, 2)
        return _with_candidates(workdir, round_index)

    # Both places, so that the test fails (rather than runs TFX) on a CLI that bypasses
    # the campaign's driver.
    monkeypatch.setattr(pipeline.campaign, "run_round", run_round)
    monkeypatch.setattr(pipeline.local_runner, "run_round", run_round)
    return calls


def _with_candidates(workdir, round_index, num_candidates=20):
    """Complete the round's summary.json as the pipeline writes it; return it."""
    path = workdir / "rounds" / f"round-{round_index:03d}" / "summary.json"
    summary = {
        **json.loads(path.read_text()),
        "elapsed_s": 0.0,
        "class_names": list(DEFAULT_CLASSES),
        "sampling": {
            "strategy": "entropy",
            "query_size": 3,
            "performance_sample_size": 2,
            "num_candidates": num_candidates,
        },
    }
    path.write_text(json.dumps(summary))
    return summary


def _labelled_round_zero(workdir, tmp_path):
    """Round 0 on disk, its whole query and one performance row labelled by CSV import."""
    synthetic_round(workdir, 0, 4, 2)
    _with_candidates(workdir, 0)
    given = {"r0-q0": "emission", "r0-q1": "other", "r0-q2": "other", "r0-q3": "double-peak"}
    given["r0-p1"] = "emission"
    labels_csv = tmp_path / "labels.csv"
    labels_csv.write_text(
        "spectrum_id,round,label\n" + "".join(f"{k},0,{v}\n" for k, v in given.items())
    )
    assert (
        main(["label", "import", "--workdir", str(workdir), str(labels_csv), "--labeller", "ana"])
        == 0
    )
    return given


@pytest.mark.parametrize(
    "command",
    [
        ["round"],
        ["run", "--rounds", "2", "--oracle", "human"],
    ],
    ids=["round", "run"],
)
def test_round_trains_on_imported_labels_and_registers_its_rows(
    tmp_path, fake_pipeline, capsys, command
):
    workdir = tmp_path / "campaign"
    given = _labelled_round_zero(workdir, tmp_path)

    assert main([command[0], "--workdir", str(workdir), *command[1:]]) == 0

    assert [call["round"] for call in fake_pipeline] == [1]
    assert fake_pipeline[0]["labels"] == given
    assert fake_pipeline[0]["digest"]
    with LabelStore(workdir / "labels.sqlite", DEFAULT_CLASSES) as store:
        registered = {(row.spectrum_id, row.role) for row in store.rows(1)}
    assert registered == {
        *((f"r1-q{i}", "query") for i in range(3)),
        *((f"r1-p{i}", "performance") for i in range(2)),
    }
    assert "training on the labelled set + 5 labelled pool spectra" in capsys.readouterr().out


def test_round_json_output_stays_json(tmp_path, fake_pipeline, capsys):
    workdir = tmp_path / "campaign"
    _labelled_round_zero(workdir, tmp_path)
    capsys.readouterr()
    assert main(["round", "--workdir", str(workdir), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["round"] == 1
    assert "training on the labelled set" in captured.err
