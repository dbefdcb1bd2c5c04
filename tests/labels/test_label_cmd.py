"""``activespec label export / import / status`` through the real command-line entry point."""

from __future__ import annotations

import csv
import json

from activespec.constants import DEFAULT_CLASSES
from activespec.labels import LabelStore, open_workdir_store
from activespec_cli import main
from tests.labels.round_files import synthetic_round


def _workdir(tmp_path):
    synthetic_round(tmp_path, 0, 4, 2)
    synthetic_round(tmp_path, 1, 3, 2)
    return tmp_path


def test_status_counts_labelled_per_round_and_role(tmp_path, capsys):
    workdir = _workdir(tmp_path)
    store, _ = open_workdir_store(workdir)
    with store:
        store.add_label("r0-q0", "emission", round_index=0, labeller="ana")
        store.add_label("r0-q0", "other", round_index=0, labeller="ana")
        store.add_label("r0-p1", "double-peak", round_index=0, labeller="ana")
        store.add_label("r1-q2", "other", round_index=1, labeller="ana")

    assert main(["label", "status", "--workdir", str(workdir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ROUND", "QUERY", "PERFORMANCE", "RECALL", "OTHER"]
    assert lines[1].split() == ["0", "1", "/", "4", "1", "/", "2", "-", "-"]
    assert lines[2].split() == ["1", "1", "/", "3", "0", "/", "2", "-", "-"]
    assert lines[3].startswith("3 spectra labelled")

    assert main(["label", "status", "--workdir", str(workdir), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["labelled_spectra"] == 3
    assert payload["rounds"][0] == {
        "round": 0,
        "query": {"labelled": 1, "total": 4},
        "performance": {"labelled": 1, "total": 2},
    }


def test_export_then_import_into_a_fresh_workdir(tmp_path, capsys):
    source = _workdir(tmp_path / "a")
    store, _ = open_workdir_store(source)
    with store:
        store.add_label(
            "r0-q1", "emission", round_index=0, labeller="ana", comment="weak, in trough"
        )
        store.add_label("r1-p0", "double-peak", round_index=1, labeller="ben")
    out = tmp_path / "labels.csv"
    assert main(["label", "export", "--workdir", str(source), "--out", str(out)]) == 0
    assert "Wrote 2 labels" in capsys.readouterr().out
    with open(out, newline="") as handle:
        assert [r["spectrum_id"] for r in csv.DictReader(handle)] == ["r0-q1", "r1-p0"]

    target = _workdir(tmp_path / "b")  # the same rounds, no labels yet
    assert main(["label", "import", "--workdir", str(target), str(out)]) == 0
    assert "Imported 2 label(s)" in capsys.readouterr().out
    assert main(["label", "import", "--workdir", str(target), str(out)]) == 0
    assert "Imported 0 label(s)" in capsys.readouterr().out
    with LabelStore(target / "labels.sqlite", DEFAULT_CLASSES) as store:
        current = store.current_labels()
        assert {k: v.label for k, v in current.items()} == {
            "r0-q1": "emission",
            "r1-p0": "double-peak",
        }
        assert current["r0-q1"].comment == "weak, in trough"
        assert len(store.all_labels()) == 2


def test_import_of_a_bad_file_fails_and_lists_every_bad_row(tmp_path, capsys):
    workdir = _workdir(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "spectrum_id,round,label\nr0-q0,0,emission\nghost,0,other\nr0-q1,0,Be\n", encoding="utf-8"
    )
    assert main(["label", "import", "--workdir", str(workdir), str(bad), "--labeller", "x"]) == 2
    err = capsys.readouterr().err
    assert "2 bad row(s), nothing imported" in err
    assert "line 3: unknown spectrum id 'ghost'" in err
    assert "line 4: unknown class 'Be'" in err
    with LabelStore(workdir / "labels.sqlite", DEFAULT_CLASSES) as store:
        assert store.all_labels() == []


def test_status_of_an_empty_workdir(tmp_path, capsys):
    assert main(["label", "status", "--workdir", str(tmp_path)]) == 0
    assert "no round to label yet" in capsys.readouterr().out
    assert main(["label", "status", "--workdir", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_serve_reads_the_preprocessing_table_of_a_round_config(tmp_path, capsys):
    from activespec_cli.label_cmd import preprocess_config_from_toml

    config = tmp_path / "activespec.toml"
    config.write_text(
        '[data]\nlabelled = ["x/*.fits"]\n\n[preprocessing]\nmax_bad_fraction = 0.35\n'
        'scaling = "robust"\n',
        encoding="utf-8",
    )
    loaded = preprocess_config_from_toml(config)
    assert (loaded.max_bad_fraction, loaded.scaling) == (0.35, "robust")
    config.write_text("[preprocessing]\nsmoothing = 3\n", encoding="utf-8")
    workdir = _workdir(tmp_path / "w")
    argv = ["label", "serve", "--workdir", str(workdir), "--port", "0", "--config", str(config)]
    assert main(argv) == 2  # refused before anything is served
    assert "unknown preprocessing option(s): smoothing" in capsys.readouterr().err
    config.write_text("[preprocessing\n", encoding="utf-8")
    assert main(argv) == 2
    assert "not valid TOML" in capsys.readouterr().err
