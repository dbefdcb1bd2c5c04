"""The catalogue built from a fabricated three-round work directory."""

import json
import math
import shutil

import numpy as np
import pytest

from activespec.catalogue import (
    COLUMNS,
    CatalogueError,
    build_catalogue,
    count_summary,
    top_candidates,
)
from activespec.catalogue.crossmatch import NO_COORDINATES_NOTE
from activespec.errors import ConfigError

EXPECTED_UCDS = {
    "spectrum_id": "meta.id;meta.main",
    "ra": "pos.eq.ra;meta.main",
    "dec": "pos.eq.dec;meta.main",
    "snr": "stat.snr",
    "probability": "stat.probability",
    "separation_arcsec": "pos.angDistance",
}


def _rows_by_id(table):
    return {str(row["spectrum_id"]): row for row in table}


def test_rows_are_the_latest_round_candidates(campaign):
    table = build_catalogue(campaign.workdir)
    assert sorted(table["spectrum_id"]) == sorted(f"id-{k}" for k in campaign.latest)
    assert table.meta["round"] == campaign.n_rounds - 1
    assert table.colnames == [spec.name for spec in COLUMNS]


def test_first_round_is_the_earliest_listing(campaign):
    rows = _rows_by_id(build_catalogue(campaign.workdir))
    got = {key: int(rows[f"id-{key}"]["first_round"]) for key in campaign.latest}
    assert got == campaign.first_round


def test_probability_and_metadata_come_from_the_latest_row(campaign):
    rows = _rows_by_id(build_catalogue(campaign.workdir))
    for key, (cls, probabilities) in campaign.latest.items():
        row = rows[f"id-{key}"]
        spectrum = campaign.spectra[key]
        assert row["predicted_class"] == cls
        assert row["probability"] == pytest.approx(max(probabilities), abs=1e-6)
        p = np.asarray(probabilities)
        assert row["entropy"] == pytest.approx(-(p * np.log(p)).sum(), abs=1e-5)
        assert row["designation"] == spectrum.designation
        assert row["source"] == spectrum.source
        if math.isfinite(spectrum.ra):
            # tf.Example floats are float32: half a float32 step at 330 deg is 0.05 arcsec.
            assert row["ra"] == pytest.approx(spectrum.ra, abs=2e-5)
            assert row["dec"] == pytest.approx(spectrum.dec, abs=2e-5)


def test_sorted_by_class_then_probability(campaign):
    table = build_catalogue(campaign.workdir)
    classes = list(table["predicted_class"])
    assert classes == sorted(classes, key=["other", "emission", "double-peak"].index)
    for cls in ("emission", "double-peak"):
        p = np.asarray(table["probability"][table["predicted_class"] == cls])
        assert np.all(np.diff(p) <= 0)
    assert list(table["spectrum_id"][:4]) == ["id-A", "id-F", "id-C", "id-G"]


def test_columns_have_units_ucds_and_descriptions(campaign):
    table = build_catalogue(campaign.workdir)
    for name, ucd in EXPECTED_UCDS.items():
        assert table[name].meta["ucd"] == ucd
    assert str(table["ra"].unit) == "deg" and str(table["dec"].unit) == "deg"
    assert str(table["separation_arcsec"].unit) == "arcsec"
    assert all(table[name].description for name in table.colnames)
    assert "emission-line candidates" in table.meta["description"].lower()


def test_without_known_catalogue_everything_is_new(campaign):
    table = build_catalogue(campaign.workdir)
    assert not np.any(table["known"])
    assert np.all(np.isnan(table["separation_arcsec"]))
    assert set(table["known_name"]) == {""}
    counts = count_summary(table)
    assert counts["total"] == {"all": 6, "new": 6, "known": 0}
    assert counts["emission"]["all"] == 4 and counts["double-peak"]["all"] == 2


def test_spectrum_without_coordinates_is_new_with_a_note(campaign, known_files):
    rows = _rows_by_id(build_catalogue(campaign.workdir, known=known_files["csv"]))
    assert rows["id-G"]["note"] == NO_COORDINATES_NOTE
    assert not rows["id-G"]["known"]
    assert math.isnan(rows["id-G"]["separation_arcsec"])
    assert rows["id-A"]["note"] == ""


def test_candidate_counts_per_round_in_meta(campaign):
    counts = build_catalogue(campaign.workdir).meta["candidate_counts"]
    assert counts == {
        "0": {"double-peak": 1, "emission": 3},
        "1": {"double-peak": 2, "emission": 1},
        "2": {"double-peak": 2, "emission": 4},
    }


def test_top_candidates_per_class(campaign):
    table = build_catalogue(campaign.workdir)
    top = top_candidates(table, 2)
    assert list(top["spectrum_id"]) == ["id-A", "id-F", "id-B", "id-E"]
    assert len(top_candidates(table, 0)) == 0
    assert len(top_candidates(table, 100)) == len(table)


def test_latest_round_is_the_highest_number_with_candidates(campaign):
    # A newer round folder without candidates.csv (e.g. still running) is skipped.
    (campaign.workdir / "rounds" / "round-003").mkdir()
    assert build_catalogue(campaign.workdir).meta["round"] == 2


def test_class_names_fall_back_to_probability_columns(campaign):
    summary_path = campaign.workdir / "rounds" / "round-002" / "summary.json"
    summary_path.unlink()
    table = build_catalogue(campaign.workdir)
    assert table.meta["class_names"] == ["other", "emission", "double-peak"]


def test_empty_latest_round_gives_an_empty_catalogue(campaign):
    path = campaign.workdir / "rounds" / "round-003"
    path.mkdir()
    header = (
        (campaign.workdir / "rounds" / "round-002" / "candidates.csv").read_text().splitlines()[0]
    )
    (path / "candidates.csv").write_text(header + "\n")
    table = build_catalogue(campaign.workdir)
    assert len(table) == 0 and table.meta["round"] == 3


def test_no_rounds_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogueError, match="run a round first"):
        build_catalogue(tmp_path)


def test_missing_workdir_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogueError, match="does not exist"):
        build_catalogue(tmp_path / "nope")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda text: text.replace("spectrum_id", "sid", 1), "no 'spectrum_id' column"),
        (lambda text: text + "only,three,fields\n", "fields where the header has"),
        (lambda text: text.replace(",emission,", ",emission,oops,", 1), "fields where the header"),
        (lambda text: text.replace("p_emission", "emission_p", 1), "no p_emission column"),
    ],
)
def test_malformed_candidates_are_typed_errors(campaign, mutate, message):
    path = campaign.workdir / "rounds" / "round-002" / "candidates.csv"
    path.write_text(mutate(path.read_text()))
    with pytest.raises(CatalogueError, match=message):
        build_catalogue(campaign.workdir)


def test_non_numeric_probability_is_a_typed_error(campaign):
    path = campaign.workdir / "rounds" / "round-002" / "candidates.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("p_emission")] = "high"
    path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    with pytest.raises(CatalogueError, match="non-number 'high'"):
        build_catalogue(campaign.workdir)


def test_bad_summary_is_a_typed_error(campaign):
    (campaign.workdir / "rounds" / "round-002" / "summary.json").write_text("{not json")
    with pytest.raises(CatalogueError, match="unreadable summary"):
        build_catalogue(campaign.workdir)


@pytest.mark.parametrize("radius", [0, -1, float("nan"), "wide"])
def test_bad_radius_is_a_config_error(campaign, radius):
    with pytest.raises(ConfigError, match="radius"):
        build_catalogue(campaign.workdir, radius_arcsec=radius)


def test_earlier_round_without_candidates_is_skipped(campaign):
    shutil.rmtree(campaign.workdir / "rounds" / "round-000")
    rows = _rows_by_id(build_catalogue(campaign.workdir))
    assert int(rows["id-A"]["first_round"]) == 2  # A was only in round 0 before round 2
    assert int(rows["id-B"]["first_round"]) == 1
    summary = json.loads((campaign.workdir / "rounds" / "round-001" / "summary.json").read_text())
    assert summary["round"] == 1


def test_confirmed_finds_keep_their_status_and_expert_class(campaign, tmp_path):
    import csv

    workdir = tmp_path / "copy"
    shutil.copytree(campaign.workdir, workdir)
    # Rounds written before confirmed finds were listed have no status: all predicted.
    assert set(build_catalogue(workdir)["status"]) == {"predicted"}

    latest = sorted((workdir / "rounds").iterdir())[-1] / "candidates.csv"
    with latest.open(newline="") as handle:
        rows = list(csv.reader(handle))
    confirmed_id = rows[1][rows[0].index("spectrum_id")]
    rows[0] += ["status", "confirmed_label"]
    for row in rows[1:]:
        row += ["confirmed", "double-peak"] if row[0] == confirmed_id else ["predicted", ""]
    with latest.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)

    table = build_catalogue(workdir)
    by_id = _rows_by_id(table)
    assert by_id[confirmed_id]["status"] == "confirmed"
    assert by_id[confirmed_id]["confirmed_label"] == "double-peak"
    others = [row for key, row in by_id.items() if key != confirmed_id]
    assert {row["status"] for row in others} == {"predicted"}
    assert {row["confirmed_label"] for row in others} == {""}
    assert table["status"].meta["ucd"] == "meta.code.status"
