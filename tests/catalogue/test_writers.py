"""CSV and VOTable files of the catalogue, read back with astropy and the csv module."""

import csv
import math

import numpy as np
import pytest

from activespec.catalogue import CatalogueError, build_catalogue, write_catalogue, write_votable
from activespec.catalogue.writers import check_votable


@pytest.fixture()
def catalogue(campaign, known_files):
    return build_catalogue(campaign.workdir, known=known_files["votable"])


def test_files_are_written_where_expected(catalogue, campaign):
    paths = write_catalogue(catalogue, campaign.workdir / "catalogue")
    assert paths["csv"] == campaign.workdir / "catalogue" / "candidates.csv"
    assert paths["votable"] == campaign.workdir / "catalogue" / "candidates.vot"
    assert paths["csv"].is_file() and paths["votable"].is_file()


def test_csv_round_trip(catalogue, tmp_path):
    path = write_catalogue(catalogue, tmp_path)["csv"]
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["spectrum_id"] for r in rows] == list(catalogue["spectrum_id"])
    by_id = {r["spectrum_id"]: r for r in rows}
    assert by_id["id-A"]["known"] == "True" and by_id["id-A"]["known_name"] == "Known near A"
    assert float(by_id["id-A"]["ra"]) == pytest.approx(float(catalogue["ra"][0]), abs=1e-6)
    # A missing coordinate is an empty cell, not "nan".
    assert by_id["id-G"]["ra"] == "" and by_id["id-G"]["separation_arcsec"] == ""
    assert int(by_id["id-E"]["first_round"]) == 1


@pytest.mark.parametrize("fmt", ["tabledata", "binary2"])
def test_votable_reads_back_with_ucds_units_and_provenance(catalogue, tmp_path, fmt):
    from astropy.io.votable import parse

    path = write_catalogue(catalogue, tmp_path, votable_format=fmt)["votable"]
    votable = parse(str(path), verify="exception")
    table = votable.get_first_table()
    fields = {f.name: f for f in table.fields}
    assert fields["spectrum_id"].ucd == "meta.id;meta.main"
    assert fields["ra"].ucd == "pos.eq.ra;meta.main" and str(fields["ra"].unit) == "deg"
    assert fields["dec"].ucd == "pos.eq.dec;meta.main" and str(fields["dec"].unit) == "deg"
    assert fields["snr"].ucd == "stat.snr"
    assert fields["known"].datatype == "boolean"
    assert fields["spectrum_id"].datatype == "char" and fields["spectrum_id"].arraysize == "*"
    assert "H-alpha" in fields["predicted_class"].description
    infos = {info.name: info.value for info in votable.resources[0].infos}
    assert infos["round"] == "2" and infos["radius_arcsec"] == "3.0"
    assert infos["known_catalogue"].endswith("known.vot")

    data = table.to_table()
    assert list(data["spectrum_id"]) == list(catalogue["spectrum_id"])
    np.testing.assert_array_equal(np.asarray(data["known"]), np.asarray(catalogue["known"]))
    row_g = list(data["spectrum_id"]).index("id-G")
    assert math.isnan(float(np.ma.filled(data["ra"], np.nan)[row_g]))


def test_non_ascii_text_becomes_unicode_char(catalogue, tmp_path):
    from astropy.io.votable import parse_single_table

    catalogue["designation"] = catalogue["designation"].astype("U40")
    catalogue["designation"][0] = "Ondřejov star"
    path = write_votable(catalogue, tmp_path / "u.vot", tabledata_format="binary2")
    table = parse_single_table(str(path))
    assert {f.name: f.datatype for f in table.fields}["designation"] == "unicodeChar"
    assert table.to_table()["designation"][0] == "Ondřejov star"


def test_invalid_ucd_is_caught_by_the_read_back_check(catalogue, tmp_path):
    catalogue["entropy"].meta["ucd"] = "stat.entropy"  # not a UCD1+ word
    with pytest.raises(CatalogueError, match="does not read back"):
        write_votable(catalogue, tmp_path / "bad.vot")


def test_check_detects_lost_rows(catalogue, tmp_path):
    path = write_votable(catalogue, tmp_path / "ok.vot")
    with pytest.raises(CatalogueError, match="rows read back"):
        check_votable(path, catalogue[:2])


def test_unknown_votable_format_is_rejected(catalogue, tmp_path):
    with pytest.raises(CatalogueError, match="VOTable format"):
        write_votable(catalogue, tmp_path / "x.vot", tabledata_format="fits")


def test_unwritable_directory_is_a_typed_error(catalogue, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CatalogueError, match="cannot create"):
        write_catalogue(catalogue, blocker / "sub")
