"""The work-directory layout: paths, round folders and the next round index."""

from __future__ import annotations

from activespec.workdir import (
    WorkDir,
    probability_column,
    round_dirname,
    round_index_of,
    survey_truth_path,
)
from tests.isolation import loaded_by_import


def _finish(wd: WorkDir, index: int) -> None:
    wd.round_dir(index).mkdir(parents=True)
    wd.summary_path(index).write_text("{}\n")


def test_paths_of_a_work_directory(tmp_path):
    wd = WorkDir(str(tmp_path))
    assert wd.root == tmp_path
    assert wd.round_dir(7) == tmp_path / "rounds" / "round-007"
    assert wd.summary_path(7) == tmp_path / "rounds" / "round-007" / "summary.json"
    assert wd.store_path == tmp_path / "labels.sqlite"
    assert wd.snapshot_path(2) == tmp_path / "labels" / "snapshot-round-002.csv"
    assert wd.history_path == tmp_path / "history.json"
    assert wd.tensorboard_dir == tmp_path / "tensorboard"
    assert wd.report_path == tmp_path / "catalogue" / "report.html"
    assert wd.pipeline_root == tmp_path / "tfx" / "pipeline_root"
    assert wd.metadata_path == tmp_path / "tfx" / "metadata.sqlite"
    assert survey_truth_path(tmp_path) == tmp_path / "truth" / "pool_truth.csv"


def test_round_folder_names():
    assert round_dirname(3) == "round-003"
    assert round_dirname(1234) == "round-1234"
    assert round_index_of("round-1234") == 1234
    assert round_index_of("round-x") is None
    assert round_index_of("notes") is None
    assert probability_column("double-peak") == "p_double-peak"


def test_next_round_index_of_an_empty_work_directory(tmp_path):
    assert WorkDir(tmp_path).next_round_index() == 0
    (tmp_path / "rounds").mkdir()
    assert WorkDir(tmp_path).next_round_index() == 0


def test_next_round_index_follows_the_highest_completed_round(tmp_path):
    wd = WorkDir(tmp_path)
    for index in (0, 1):
        _finish(wd, index)
    assert wd.next_round_index() == 2


def test_a_missing_round_folder_does_not_reuse_a_later_index(tmp_path):
    wd = WorkDir(tmp_path)
    for index in (0, 2):
        _finish(wd, index)
    # Counting summaries would give 2 and overwrite round-002.
    assert wd.completed_rounds() == [0, 2]
    assert wd.next_round_index() == 3


def test_an_unfinished_round_is_run_again(tmp_path):
    wd = WorkDir(tmp_path)
    _finish(wd, 0)
    wd.round_dir(1).mkdir()
    (tmp_path / "rounds" / "round-x").mkdir()
    (tmp_path / "rounds" / "round-009").write_text("a file, not a folder")
    assert [index for index, _ in wd.round_folders()] == [0, 1]
    assert wd.next_round_index() == 1


def test_the_layout_module_imports_no_tensorflow():
    light = [
        "activespec.workdir",
        "activespec.labels",
        "activespec.catalogue.rounds",
        "components.uncertainty_sampler.records",
    ]
    assert loaded_by_import(light, {"tensorflow", "tfx", "apache_beam"}) == set()
