"""The simulated files have the real layouts: astropy opens them with the documented shapes."""

import re
import warnings

import numpy as np
import pytest
from astropy.io import fits

from activespec.simulator import catalog
from activespec.simulator.fits_format import UNDEFINED, Raw, card, header_bytes
from activespec.simulator.instruments import LAMOST_LOG10_START, LAMOST_LOG10_STEP

from .conftest import read_csv

#: Subtypes whose Ondřejov products are normalised to a molecular pseudo-continuum.
COOL_SUBTYPES = ("M", "dme")
NAME = re.compile(r"^spec-(\d{5})-([A-Z0-9]+)_sp(\d\d)-(\d{3})\.fits(\.gz)?$")
DR9_COLUMNS = ["FLUX", "IVAR", "WAVELENGTH", "ANDMASK", "ORMASK", "NORMALIZATION"]


@pytest.mark.parametrize(
    ("value", "comment"),
    [
        (True, "a flag"),
        (3909, None),
        (-2.783e-05, "Redshift of object"),
        (0.0001, "Log10 dispersion per pixel"),
        (89.3449, ""),
        ("LAMOST J055722.77+355459.7", "Designation"),
        ("it's", None),
        ("", "Reservation"),
        (Raw("2000.00"), "fixed decimals"),
    ],
)
def test_cards_parse_back_with_astropy(value, comment):
    text = card("KEY", value, comment)
    assert len(text) == 80
    parsed = fits.Card.fromstring(text)
    parsed.verify("exception")
    expected = float(value) if isinstance(value, Raw) else value
    assert parsed.value == expected
    assert parsed.comment == (comment or "")


def test_undefined_values_and_padding():
    parsed = fits.Card.fromstring(card("GRATCWAV", UNDEFINED, "Central"))
    assert isinstance(parsed.value, fits.card.Undefined) and parsed.comment == "Central"
    block = header_bytes([card("SIMPLE", True)])
    assert len(block) == 2880 and block[80:83] == b"END"


def _open_all(directory):
    for path in sorted(directory.iterdir()):
        if path.suffix == ".csv":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with fits.open(path) as hdul:
                hdul.verify("exception")
                yield path, [(hdu.header.copy(), hdu.data) for hdu in hdul]


def test_every_file_opens_and_verifies_and_gzip_is_real(small_survey):
    out, summary = small_survey
    n_gz = 0
    for directory in (out / "pool", out / "labelled"):
        for path, _ in _open_all(directory):
            magic = path.read_bytes()[:9]
            if path.name.endswith(".gz"):
                n_gz += 1
                assert magic[:2] == b"\x1f\x8b"
            else:
                assert magic == b"SIMPLE  ="
    assert n_gz == summary["pool_gzipped"] > 0


def test_lamost_files_have_real_layouts_and_consistent_headers(small_survey):
    out, _ = small_survey
    truth = {row["file"]: row for row in read_csv(out / "truth" / "pool_truth.csv")}
    obsids = set()
    for path, hdus in _open_all(out / "pool"):
        row = truth[path.name]
        header = hdus[0][0]
        if row["layout"] == "lamost-dr9-table":
            table_header, table = hdus[1]
            assert hdus[0][1] is None and table_header["EXTNAME"] == "COADD"
            assert list(table.columns.names) == DR9_COLUMNS and len(table) == 1
            assert all(table[c][0].shape == (3909,) for c in DR9_COLUMNS)
            flux, ivar, wave = table["FLUX"][0], table["IVAR"][0], table["WAVELENGTH"][0]
            andmask = table["ANDMASK"][0]
            snr_key = "SNRR"
        else:
            data = hdus[0][1]
            dr2 = row["layout"] == "lamost-dr2-image"
            assert data.dtype == np.dtype(">f8" if dr2 else ">f4")
            assert data.shape[0] == 5 and data.shape[1] in ((3899, 3909) if dr2 else (3909,))
            assert header["EXTNAME"] == "Flux" and "Wavelength" in header["EXTEN0"]
            flux, ivar, wave, andmask = data[0], data[1], data[2], data[3]
            snr_key = "SN_R" if dr2 else "SNRR"
        expected = 10.0 ** (LAMOST_LOG10_START + LAMOST_LOG10_STEP * np.arange(len(wave)))
        np.testing.assert_allclose(wave, expected, rtol=1e-6)
        assert header["CRVAL1"] == 3.5682 and header["CD1_1"] == 0.0001 and header["VACUUM"]
        assert np.all(ivar >= 0) and np.all(np.isfinite(flux))
        assert np.all(ivar[andmask > 0] == 0)
        # Identifiers, file name and designation agree with each other and with the truth.
        assert str(header["OBSID"]) == row["spectrum_id"] and header["OBSID"] > 0
        obsids.add(header["OBSID"])
        lmjd, planid, spid, fiberid, gz = NAME.match(path.name).groups()
        assert (int(lmjd), planid, int(spid), int(header["FIBERID"])) == (
            header["LMJD"],
            header["PLANID"],
            header["SPID"],
            int(fiberid),
        )
        assert header["FILENAME"] == path.name.removesuffix(".gz") and bool(gz) == (
            path.suffix == ".gz"
        )
        assert header["DESIG"] == catalog.designation(header["RA"], header["DEC"])
        assert -10.0 <= header["DEC"] <= 60.0 and 0.0 <= header["RA"] < 360.0
        assert header[snr_key] == pytest.approx(float(row["snr"]), abs=0.006)
        assert header["CLASS"] in ("STAR", "GALAXY", "QSO", "Unknown")
    assert len(obsids) == len(truth)


def test_designation_truncates_like_lamost():
    # A real header: RA 89.3449, DEC 35.916606 -> 'LAMOST J055722.77+355459.7'.
    assert catalog.designation(89.3449, 35.916606) == "LAMOST J055722.77+355459.7"
    assert catalog.designation(292.05872, 43.925228) == "LAMOST J192814.09+435530.8"
    assert catalog.designation(10.0, -5.5).startswith("LAMOST J004000.00-053000.0")


def test_ondrejov_files_have_real_layouts(small_survey):
    out, _ = small_survey
    labels = {row["file"]: row for row in read_csv(out / "labelled" / "labels.csv")}
    subtypes = {
        row["file"]: row["subtype"] for row in read_csv(out / "truth" / "labelled_truth.csv")
    }
    kinds = set()
    for path, hdus in _open_all(out / "labelled"):
        header, data = hdus[0]
        spectrum_id = labels[path.name]["spectrum_id"]
        if len(hdus) == 1:
            kinds.add("raw")
            assert data.dtype == np.dtype(">f4") and data.shape == (1997,)
            assert 6255.0 <= header["CRVAL1"] <= 6276.0
            assert header["CDELT1"] == pytest.approx(0.2567, abs=1e-4) == header["CD1_1"]
            assert header["BUNIT"] == "ADU" and np.median(data) > 1000.0
            assert spectrum_id == path.name.removesuffix(".fits")
            assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d", header["RA"])
        else:
            kinds.add("ssap")
            table_header, table = hdus[1]
            assert list(table.columns.names) == ["spectral", "flux"] and len(table) == 1997
            assert np.all(np.diff(table["spectral"]) > 0)
            assert 6250.0 < table["spectral"][0] < 6280.0
            if subtypes[path.name] in COOL_SUBTYPES:
                # Normalised to the pseudo-continuum above the TiO bands: mostly below 1.
                assert 0.75 < np.median(table["flux"]) < 1.03
            else:
                assert np.median(table["flux"]) == pytest.approx(1.0, abs=0.05)
            for h in (header, table_header):
                assert h["DS_IDPUB"] == spectrum_id
                assert spectrum_id.startswith("ivo://asu.cas.cz/stel/ccd700/")
                assert isinstance(h["RA"], float) and isinstance(h["DEC"], float)
                assert h["OBJECT"].startswith("HD ")
    assert kinds == {"raw", "ssap"}
