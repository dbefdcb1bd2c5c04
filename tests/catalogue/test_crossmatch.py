"""Cross-match with a known catalogue given as CSV, VOTable or FITS."""

import csv

import numpy as np
import pytest

from activespec.catalogue import build_catalogue, crossmatch, load_known_catalogue
from activespec.catalogue.crossmatch import KnownCatalogue
from activespec.errors import ConfigError


@pytest.mark.parametrize("kind", ["csv", "votable", "fits"])
def test_one_arcsec_is_known_ten_arcsec_is_new(campaign, known_files, kind):
    table = build_catalogue(campaign.workdir, known=known_files[kind], radius_arcsec=3.0)
    rows = {str(r["spectrum_id"]): r for r in table}
    assert rows["id-A"]["known"]
    assert rows["id-A"]["known_name"] == "Known near A"
    assert rows["id-A"]["separation_arcsec"] == pytest.approx(1.0, abs=0.1)
    assert not rows["id-B"]["known"]
    assert rows["id-B"]["known_name"] == ""
    assert rows["id-B"]["separation_arcsec"] == pytest.approx(10.0, abs=0.1)
    assert int(np.sum(table["known"])) == 1
    assert table.meta["known_catalogue"] == str(known_files[kind])
    assert table.meta["known_catalogue_size"] == 3


def test_radius_is_configurable(campaign, known_files):
    rows = {
        str(r["spectrum_id"]): r
        for r in build_catalogue(campaign.workdir, known=known_files["csv"], radius_arcsec=12)
    }
    assert rows["id-A"]["known"] and rows["id-B"]["known"]
    assert rows["id-B"]["known_name"] == "Known near B"
    tight = build_catalogue(campaign.workdir, known=known_files["csv"], radius_arcsec=0.5)
    assert not np.any(tight["known"])


def test_columns_are_found_by_name_and_ucd(known_files):
    csv_known = load_known_catalogue(known_files["csv"])
    assert (csv_known.ra_column, csv_known.dec_column, csv_known.name_column) == (
        "RA",
        "Dec",
        "Name",
    )
    vot_known = load_known_catalogue(known_files["votable"])
    assert (vot_known.ra_column, vot_known.dec_column) == ("RAJ2000", "DEJ2000")
    assert vot_known.name_column == "main_id"
    fits_known = load_known_catalogue(known_files["fits"])
    assert (fits_known.ra_column, fits_known.dec_column, fits_known.name_column) == (
        "RA_ICRS",
        "DE_ICRS",
        "OBJECT",
    )
    for known in (csv_known, vot_known, fits_known):
        assert list(known.names) == ["Known near A", "Known near B", "Far away"]


def test_format_is_detected_from_content_not_extension(known_files, tmp_path):
    disguised = tmp_path / "votable_named.csv"
    disguised.write_bytes(known_files["votable"].read_bytes())
    assert load_known_catalogue(disguised).ra_column == "RAJ2000"
    fits_as_dat = tmp_path / "table.dat"
    fits_as_dat.write_bytes(known_files["fits"].read_bytes())
    assert load_known_catalogue(fits_as_dat).ra_column == "RA_ICRS"


def test_sexagesimal_columns_and_vizier_underscore_names(campaign, known_entries, tmp_path):
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    path = tmp_path / "sexagesimal.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["_RA", "_DE", "designation"])
        for name, ra, dec in known_entries:
            c = SkyCoord(ra * u.deg, dec * u.deg)
            writer.writerow(
                [
                    c.ra.to_string(u.hour, sep=":", precision=4),
                    c.dec.to_string(sep=" ", precision=3, alwayssign=True),
                    name,
                ]
            )
    known = load_known_catalogue(path)
    expected_ra = np.array([e[1] for e in known_entries])
    expected_dec = np.array([e[2] for e in known_entries])
    np.testing.assert_allclose(known.ra, expected_ra, atol=1e-5)
    np.testing.assert_allclose(known.dec, expected_dec, atol=1e-5)
    rows = {str(r["spectrum_id"]): r for r in build_catalogue(campaign.workdir, known=path)}
    assert rows["id-A"]["known"] and not rows["id-B"]["known"]


def test_letter_sexagesimal_and_hourangle_units(tmp_path):
    from astropy import units as u
    from astropy.table import Table

    path = tmp_path / "letters.csv"
    path.write_text("ra,dec\n12h30m00s,-45d30m00s\n06:00:00,+10:00:00\n")
    known = load_known_catalogue(path)
    np.testing.assert_allclose(known.ra, [187.5, 90.0])
    np.testing.assert_allclose(known.dec, [-45.5, 10.0])

    hours = Table({"RA": [12.5] * u.hourangle, "DEC": [-45.5] * u.deg})
    hours.write(tmp_path / "hours.ecsv")  # ECSV keeps the unit
    assert load_known_catalogue(tmp_path / "hours.ecsv").ra[0] == pytest.approx(187.5)


def test_rows_without_coordinates_are_dropped(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("name,ra,dec\na,10.0,20.0\nb,,21.0\nc,400.0,0.0\nd,11.0,-95\n")
    known = load_known_catalogue(path)
    assert list(known.names) == ["a"]
    assert known.n_dropped == 3


def test_without_name_column_rows_are_named_by_file_and_row(tmp_path):
    path = tmp_path / "hou2016.csv"
    path.write_text("RAJ2000,DEJ2000\n10.0,20.0\n11.0,21.0\n")
    known = load_known_catalogue(path)
    assert known.name_column is None
    assert list(known.names) == ["hou2016[0]", "hou2016[1]"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,x,y\na,1,2\n", "no right ascension / declination columns"),
        ("name,ra,dec\na,foo,bar\n", "no row has valid coordinates"),
    ],
)
def test_unusable_catalogue_is_a_config_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_known_catalogue(path)


def test_missing_or_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_known_catalogue(tmp_path / "missing.csv")
    binary = tmp_path / "junk.fits"
    binary.write_bytes(b"SIMPLE  =" + bytes(range(256)) * 3)
    with pytest.raises(ConfigError, match="not a readable CSV, VOTable or FITS"):
        load_known_catalogue(binary)


def test_crossmatch_nearest_and_nan_positions():
    known = KnownCatalogue(
        path="k",
        names=np.array(["x", "y"]),
        ra=np.array([10.0, 10.0]),
        dec=np.array([0.0, 0.001]),
        ra_column="ra",
        dec_column="dec",
        name_column="name",
    )
    result = crossmatch(np.array([10.0, 10.0, np.nan]), np.array([0.0008, 0.0003, 5.0]), known, 2.0)
    assert list(result.known) == [True, True, False]
    assert list(result.known_name) == ["y", "x", ""]
    np.testing.assert_allclose(result.separation_arcsec[:2], [0.72, 1.08], atol=1e-3)
    assert np.isnan(result.separation_arcsec[2])
    assert result.note[2] and not result.note[0]
