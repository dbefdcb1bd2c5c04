"""The fast FITS parser reads exactly what astropy reads, and leaves the rest to astropy."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits.verify import VerifyError

from activespec.io import read_spectrum
from activespec.io.fastfits import UnsupportedByFastPath, parse_fits_fast, parse_value
from activespec.io.opening import gunzip_if_needed, read_source_bytes
from activespec.preprocessing import preprocess
from tests.io.corpus import (
    DESI_SOURCES,
    DR7_FILE,
    MRS_FILE,
    ONDREJOV_FILE,
    REAL_DIR,
    write_desi_coadd,
    write_dr9_table,
    write_enormous_header,
    write_float32_copy,
    write_gzip_copy,
    write_sdss_spec,
    write_ssap_table,
)

REAL_FILES = sorted(p for p in REAL_DIR.glob("*/*") if ".fit" in p.name)


def _reading(path, parser: str, **kwargs):
    """(spectrum, preprocessed vector or the rejection) or the read error, by ``parser``."""
    try:
        spectrum = read_spectrum(path, parser=parser, **kwargs)
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    try:
        vector = preprocess(spectrum)
    except Exception as err:
        vector = f"{type(err).__name__}: {err}"
    return spectrum, vector


def _assert_same_array(fast, reference) -> None:
    if reference is None:
        assert fast is None
        return
    assert fast.dtype == reference.dtype and fast.shape == reference.shape
    np.testing.assert_array_equal(fast, reference)  # NaN == NaN here


def assert_reads_like_astropy(path, **kwargs) -> None:
    """The fast parser gives astropy's spectrum, bit for bit, and the same vector or error."""
    fast, reference = _reading(path, "fast", **kwargs), _reading(path, "astropy", **kwargs)
    if isinstance(reference, str) or isinstance(fast, str):
        assert fast == reference
        return
    (spectrum, vector), (expected, expected_vector) = fast, reference
    assert spectrum.meta == expected.meta
    assert spectrum.medium == expected.medium
    for name in ("wave", "flux", "ivar", "mask"):
        _assert_same_array(getattr(spectrum, name), getattr(expected, name))
    if isinstance(expected_vector, str):
        assert vector == expected_vector
    else:
        _assert_same_array(vector, expected_vector)


def fast_parser_covers(path) -> bool:
    """Whether the fast parser reads ``path`` itself (no fall-back to astropy)."""
    data = gunzip_if_needed(read_source_bytes(path)[0])
    try:
        parse_fits_fast(data)
    except UnsupportedByFastPath:
        return False
    return True


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_every_real_file_reads_as_astropy_reads_it(path):
    assert_reads_like_astropy(path)
    assert fast_parser_covers(path)


def test_both_mrs_arms_read_as_astropy_reads_them():
    for arm in ("COADD_R", "COADD_B"):
        assert_reads_like_astropy(MRS_FILE, mrs_arm=arm)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda out: write_dr9_table(out, keys_in="primary"), id="dr9-primary-keys"),
        pytest.param(lambda out: write_dr9_table(out, keys_in="table"), id="dr9-table-keys"),
        pytest.param(write_ssap_table, id="ssap"),
        pytest.param(lambda out: write_ssap_table(out, unit="nm"), id="ssap-nm"),
        pytest.param(lambda out: write_ssap_table(out, descending=True), id="ssap-descending"),
        pytest.param(write_float32_copy, id="float32-image"),
        pytest.param(lambda out: write_gzip_copy(out, ONDREJOV_FILE), id="gzip-ondrejov"),
        pytest.param(lambda out: write_enormous_header(out, n_cards=500), id="large-header"),
        pytest.param(write_sdss_spec, id="sdss-spec-lite"),
        pytest.param(lambda out: write_sdss_spec(out, lite=False), id="sdss-spec"),
        pytest.param(lambda out: write_sdss_spec(out, metadata="SPECOBJ"), id="sdss-specobj"),
        pytest.param(lambda out: write_sdss_spec(out, metadata=None), id="sdss-no-metadata"),
        pytest.param(
            lambda out: write_gzip_copy(out, write_sdss_spec(out.with_suffix(".src"))),
            id="sdss-gzip",
        ),
    ],
)
def test_synthesised_layouts_read_as_astropy_reads_them(tmp_path, write):
    path = write(tmp_path / "spectrum.fits")
    assert_reads_like_astropy(path)
    assert fast_parser_covers(path)


def test_desi_files_are_left_to_astropy_and_read_as_it_reads_them(tmp_path):
    # DESI masks are tile-compressed images (a heap): outside the fast subset.
    path = write_desi_coadd(tmp_path / "coadd.fits", sources=DESI_SOURCES[:1])
    assert not fast_parser_covers(path)
    assert_reads_like_astropy(path)
    assert not isinstance(_reading(path, "fast"), str)


def test_broken_files_give_astropys_error(broken_corpus):
    for case in broken_corpus:
        fast, reference = _reading(case.path, "fast"), _reading(case.path, "astropy")
        assert isinstance(reference, str) and reference.startswith(case.error.__name__)
        assert fast == reference, case.name


CARDS = [
    "OBJECT  = 'HD 123456'          / target",
    "OBJECT  = 'O''Brien  '",
    "OBJECT  = ''",
    "OBJECT  = '   '",
    "OBJECT  = '  leading'",
    "SNR     =                 42.5 / signal to noise",
    "SNR     =              1.5D-03",
    "SNR     =               -2.E+4",
    "SNR     =                  .25",
    "SNR     =                 1E10",
    "OBSID   =            677503031",
    "OBSID   =                  +12",
    "OBSID   =                  -07",
    "VACUUM  =                    T",
    "VACUUM  =                    F / air or vacuum",
    "EMPTY   =",
    "EMPTY   =                      / only a comment",
    "DATE    = '2011-10-24T13:44:05' / a date / with slashes",
    "URL     = 'http://x/y'",
]


@pytest.mark.parametrize("card", CARDS)
def test_card_values_parse_as_astropy_parses_them(card):
    image = card.ljust(80)
    expected = fits.Card.fromstring(image).value
    value = parse_value(image[10:])
    if isinstance(expected, fits.card.Undefined):
        assert value is None
    else:
        assert value == expected and type(value) is type(expected)


def test_unparsable_value_is_an_error_like_astropys():
    card = "SNR     = 12abc".ljust(80)
    with pytest.raises(ValueError):
        parse_value(card[10:])
    with pytest.raises(VerifyError):
        fits.Card.fromstring(card).value  # noqa: B018


def _scaled_ondrejov(out: pathlib.Path) -> pathlib.Path:
    """The real Ondřejov spectrum stored as scaled 16-bit integers (BZERO/BSCALE)."""
    with fits.open(ONDREJOV_FILE) as hdul:
        header, flux = hdul[0].header.copy(), hdul[0].data.astype(np.float64)
    hdu = fits.PrimaryHDU(flux, header=header)
    hdu.scale("int16", bzero=float(flux.mean()), bscale=float(np.ptp(flux)) / 60000)
    hdu.writeto(out)
    return out


def _long_object_name(out: pathlib.Path) -> pathlib.Path:
    """The real DR7 file with an OBJECT longer than a card (CONTINUE cards)."""
    with fits.open(DR7_FILE) as hdul:
        hdul[0].header["DESIG"] = "J" + "0123456789" * 9
        hdul.writeto(out)
    return out


@pytest.mark.parametrize("write", [_scaled_ondrejov, _long_object_name])
def test_features_outside_the_fast_subset_fall_back_to_astropy(tmp_path, write):
    path = write(tmp_path / "unusual.fits")
    assert not fast_parser_covers(path)
    assert_reads_like_astropy(path)
    assert not isinstance(_reading(path, "fast"), str)


def test_unknown_parser_is_refused():
    with pytest.raises(ValueError, match="parser must be one of"):
        read_spectrum(DR7_FILE, parser="cfitsio")
