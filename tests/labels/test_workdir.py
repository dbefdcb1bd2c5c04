"""Round folders of a work directory: discovery, rows, class names, registration."""

from __future__ import annotations

import json

import pytest

from activespec.constants import DEFAULT_CLASSES
from activespec.labels import (
    RoundFilesError,
    StoreMismatchError,
    latest_round,
    list_rounds,
    open_workdir_store,
    read_round_rows,
    round_class_names,
    round_dir,
)
from tests.labels.round_files import sampler_row, synthetic_round, write_round


def test_rounds_are_found_and_the_latest_is_chosen(tmp_path):
    assert list_rounds(tmp_path) == []
    with pytest.raises(RoundFilesError, match="no round to label"):
        latest_round(tmp_path)
    synthetic_round(tmp_path, 0, 3, 2)
    synthetic_round(tmp_path, 2, 3, 2)
    (tmp_path / "rounds" / "round-005").mkdir()  # a round still running: no outputs yet
    (tmp_path / "rounds" / "notes").mkdir()
    assert list_rounds(tmp_path) == [0, 2]
    assert latest_round(tmp_path) == 2
    assert round_dir(tmp_path, 2).name == "round-002"


def test_round_rows_carry_the_role_of_their_file(tmp_path):
    query, performance = synthetic_round(tmp_path, 1, 4, 3)
    rows = read_round_rows(tmp_path, 1)
    assert [r["spectrum_id"] for r in rows] == [r["spectrum_id"] for r in query + performance]
    assert [r["role"] for r in rows] == ["query"] * 4 + ["performance"] * 3
    assert rows[0]["probabilities"] == query[0]["probabilities"]
    with pytest.raises(RoundFilesError, match="no query.json or performance_sample.json"):
        read_round_rows(tmp_path, 4)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"rows": []}', "expected a JSON list"),
        ('[{"rank": 1}]', "row 1 has no spectrum_id"),
        ('[{"spectrum_id": "a", "role": "performance"}]', "has role 'performance'"),
    ],
)
def test_malformed_round_files_are_refused(tmp_path, content, message):
    folder = round_dir(tmp_path, 0)
    folder.mkdir(parents=True)
    (folder / "query.json").write_text(content)
    with pytest.raises(RoundFilesError, match=message):
        read_round_rows(tmp_path, 0)


def test_class_names_from_summary_rows_or_defaults(tmp_path):
    classes = ("absorption", "emission")
    rows = [sampler_row("a", role="query", rank=1, probabilities=[0.4, 0.6], class_names=classes)]
    write_round(tmp_path, 0, rows, [], class_names=classes)
    assert round_class_names(tmp_path, 0) == classes
    # Without class_names in summary.json, the probabilities' keys tell the classes.
    write_round(tmp_path, 1, rows, [])
    assert round_class_names(tmp_path, 1) == classes
    write_round(tmp_path, 2, [], [])
    assert round_class_names(tmp_path, 2) == DEFAULT_CLASSES
    write_round(tmp_path, 3, rows, [], class_names=DEFAULT_CLASSES)
    with pytest.raises(RoundFilesError, match="summary.json names the classes"):
        round_class_names(tmp_path, 3)


def test_open_workdir_store_registers_every_round(tmp_path):
    synthetic_round(tmp_path, 0, 3, 2)
    synthetic_round(tmp_path, 1, 4, 1)
    store, rounds = open_workdir_store(tmp_path)
    with store:
        assert rounds == [0, 1]
        assert store.progress(0) == {"query": (0, 3), "performance": (0, 2)}
        assert store.progress(1) == {"query": (0, 4), "performance": (0, 1)}
        assert store.path == str(tmp_path / "labels.sqlite")
    with pytest.raises(RoundFilesError, match="does not exist"):
        open_workdir_store(tmp_path / "missing")


def test_a_round_with_other_classes_is_refused(tmp_path):
    synthetic_round(tmp_path, 0, 2, 1)
    open_workdir_store(tmp_path)[0].close()
    classes = ("absorption", "emission")
    rows = [sampler_row("a", role="query", rank=1, probabilities=[0.4, 0.6], class_names=classes)]
    write_round(tmp_path, 1, rows, [], class_names=classes)
    # The latest round decides the classes; the store was made for the defaults.
    with pytest.raises(StoreMismatchError, match="was made for the classes"):
        open_workdir_store(tmp_path)
    summary = round_dir(tmp_path, 1) / "summary.json"
    summary.unlink()
    (tmp_path / "labels.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"labels.sqlite{suffix}").unlink(missing_ok=True)
    with pytest.raises(RoundFilesError, match="round 0 has the classes other, emission"):
        open_workdir_store(tmp_path)
    json.loads((round_dir(tmp_path, 1) / "query.json").read_text())  # files left untouched
