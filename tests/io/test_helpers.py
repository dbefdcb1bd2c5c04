"""Header access, coordinates, file stems, layout detection and array assembly."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from activespec import errors
from activespec.io import LAYOUTS, detect_layout
from activespec.io.assemble import assemble_spectrum
from activespec.io.coordinates import parse_angle, to_j2000
from activespec.io.headers import HeaderLookup
from activespec.io.identity import file_stem
from activespec.io.lamost import lamost_data_release
from activespec.spectrum import SpectrumMeta
from tests.io.corpus import DR1_FILE, DR2_FILE, MRS_FILE, ONDREJOV_FILE

META = SpectrumMeta(
    spectrum_id="x", survey="LAMOST", instrument="LAMOST-LRS", layout="t", source="s"
)


def test_layout_names_are_stable():
    assert set(LAYOUTS) == {
        "lamost-lrs-dr1", "lamost-lrs-image", "lamost-lrs-table", "lamost-mrs",
        "ondrejov-image", "ondrejov-ssap", "sdss-spec", "desi-coadd",
    }  # fmt: skip
    assert all(isinstance(text, str) and "\n" not in text for text in LAYOUTS.values())


@pytest.mark.parametrize(
    ("path", "layout"),
    [(DR1_FILE, "lamost-lrs-dr1"), (DR2_FILE, "lamost-lrs-image"),
     (MRS_FILE, "lamost-mrs"), (ONDREJOV_FILE, "ondrejov-image")],
)  # fmt: skip
def test_detect_layout(path, layout):
    with fits.open(path) as hdul:
        assert detect_layout(hdul) == layout


def test_lrs_image_without_exten0_is_detected_from_its_rows(tmp_path):
    for source, layout in ((DR1_FILE, "lamost-lrs-dr1"), (DR2_FILE, "lamost-lrs-image")):
        with fits.open(source) as hdul:
            hdul[0].header.remove("EXTEN0")
            assert detect_layout(hdul) == layout


def test_header_lookup_types_and_priority():
    first = fits.Header([("FIBERID", "7"), ("BLANK", "  "), ("FLAG", "T"), ("X", 1.5)])
    second = fits.Header([("FIBERID", 9), ("BLANK", 3), ("SPID", 2.0), ("NAN", "nan")])
    lookup = HeaderLookup(first, None, second)
    assert lookup.integer("FIBERID") == 7  # first header wins, text parsed
    assert lookup.integer("BLANK") == 3  # blank text is skipped
    assert lookup.integer("SPID") == 2
    assert lookup.integer("X") is None  # 1.5 is not whole
    assert lookup.number("NAN") is None
    assert lookup.flag("FLAG") is True
    assert lookup.string("MISSING") is None
    assert lookup.number("MISSING", "X") == 1.5


@pytest.mark.parametrize(
    ("value", "hours", "degrees"),
    [("21:57:18.2", True, 329.325833), ("61:17:39.7", False, 61.294361),
     ("-05 23 10", False, -5.386111), ("-00:30:00", False, -0.5), (12.5, False, 12.5),
     ("12.5", True, 12.5), ("junk", False, None), (None, False, None)],
)  # fmt: skip
def test_parse_angle(value, hours, degrees):
    result = parse_angle(value, hours=hours)
    if degrees is None:
        assert result is None
    else:
        assert result == pytest.approx(degrees, abs=1e-6)


def test_precession_agrees_with_astropy():
    from astropy.coordinates import FK5, SkyCoord
    from astropy.time import Time

    for ra, dec, equinox in [(329.3258, 61.2944, 2005.4), (10.0, -30.0, 2015.0), (200, 80, 1990)]:
        expected = SkyCoord(
            ra, dec, unit="deg", frame=FK5(equinox=Time(equinox, format="jyear"))
        ).transform_to(FK5(equinox="J2000"))
        got = to_j2000(ra, dec, equinox)
        assert got[0] == pytest.approx(expected.ra.deg, abs=0.2 / 3600)
        assert got[1] == pytest.approx(expected.dec.deg, abs=0.2 / 3600)
    assert to_j2000(1.0, 2.0, 2000.0) == (1.0, 2.0)
    assert to_j2000(1.0, 2.0, None) == (1.0, 2.0)


@pytest.mark.parametrize(
    ("name", "stem"),
    [("oe270005.fits", "oe270005"), ("/a/b/oe270005.fit.gz", "oe270005"),
     ("gs://bucket/x/spec-1.FITS.GZ", "spec-1"), ("c:\\data\\x.fts", "x"), ("", None),
     (None, None), (".fits", None)],
)  # fmt: skip
def test_file_stem(name, stem):
    assert file_stem(name) == stem


@pytest.mark.parametrize(
    ("keys", "release"),
    [({"DATA_V": "LAMOST DR7"}, "DR7"), ({"DATA_V": "LAMOST LRS DR9 v2.0"}, "DR9"),
     ({"VERSPIPE": "v2.6.4"}, "DR1"), ({"VERSPIPE": "2.7.5"}, "DR2"),
     ({"VERSPIPE": "2.7.5", "OBSID": 123}, None), ({"VERSPIPE": "v2.9.7"}, None), ({}, None)],
)  # fmt: skip
def test_lamost_data_release(keys, release):
    assert lamost_data_release(HeaderLookup(fits.Header(list(keys.items())))) == release


def test_assemble_builds_the_mask_and_cleans_ivar():
    wave = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], dtype=">f4")
    flux = np.array([1.0, np.nan, 3.0, np.inf, 5.0, 6.0, 7.0], dtype=">f8")
    ivar = np.array([1.0, 1.0, 0.0, 1.0, -2.0, np.nan, 2.0])
    bad = np.zeros(7, dtype=bool)
    bad[0] = True
    spectrum = assemble_spectrum(wave, flux, ivar=ivar, bad=bad, medium="vacuum", meta=META)
    assert spectrum.mask.tolist() == [True, True, True, True, True, True, False]
    assert spectrum.ivar.tolist() == [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 2.0]
    assert ivar[4] == -2.0  # the caller's array is untouched
    assert spectrum.wave.dtype == np.float64 and spectrum.wave.dtype.isnative


def test_assemble_errors():
    ok = np.arange(1.0, 6.0)
    with pytest.raises(errors.WrongShapeError):
        assemble_spectrum(ok, ok[:4], medium="air", meta=META)
    with pytest.raises(errors.NoFluxError):
        assemble_spectrum(ok[:0], ok[:0], medium="air", meta=META)
    with pytest.raises(errors.BadWavelengthError, match="NaN"):
        assemble_spectrum(np.array([1.0, np.nan, 3.0]), ok[:3], medium="air", meta=META)
    with pytest.raises(errors.BadWavelengthError, match="positive"):
        assemble_spectrum(np.array([0.0, 1.0, 2.0]), ok[:3], medium="air", meta=META)
    with pytest.raises(errors.BadWavelengthError, match="increasing"):
        assemble_spectrum(np.array([1.0, 3.0, 2.0]), ok[:3], medium="air", meta=META)
    with pytest.raises(errors.AllNaNError):
        assemble_spectrum(ok, np.full(5, np.nan), medium="air", meta=META)
