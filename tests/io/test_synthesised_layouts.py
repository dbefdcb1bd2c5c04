"""Layouts without a real sample (LAMOST DR9+ table, Ondřejov SSAP), written from real spectra."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from activespec.errors import BadWavelengthError
from activespec.io import read_spectrum
from tests.io.corpus import (
    DR7_FILE,
    ONDREJOV_FILE,
    write_dr9_table,
    write_enormous_header,
    write_gzip_copy,
    write_ssap_table,
)


@pytest.mark.parametrize("keys_in", ["primary", "table", "both"])
def test_dr9_table_reads_like_the_image_it_came_from(tmp_path, keys_in):
    image = read_spectrum(DR7_FILE)
    table = read_spectrum(write_dr9_table(tmp_path / "dr9.fits", keys_in=keys_in))
    assert table.meta.layout == "lamost-lrs-table"
    assert table.meta.data_release == "DR9"
    assert table.medium == "vacuum"
    for name in ("wave", "flux", "ivar", "mask"):
        np.testing.assert_array_equal(getattr(table, name), getattr(image, name))
    for field in ("spectrum_id", "obsid", "ra", "dec", "designation", "lamost_class", "snr"):
        assert getattr(table.meta, field) == getattr(image.meta, field)
    assert table.meta.spectrum_id == "677503031"


def test_dr9_table_andmask_flags_pixels(tmp_path):
    path = write_dr9_table(tmp_path / "dr9.fits")
    with fits.open(path, mode="update") as hdul:
        hdul[1].data["ANDMASK"][0, 100:110] = 4
        hdul[1].data["IVAR"][0, 200] = np.nan
    spectrum = read_spectrum(path)
    assert spectrum.mask[100:110].all()
    assert spectrum.mask[200] and spectrum.ivar[200] == 0.0
    assert not spectrum.mask[110:200].all()


def test_dr9_table_gzipped(tmp_path):
    plain = write_dr9_table(tmp_path / "dr9.fits")
    packed = write_gzip_copy(tmp_path / "dr9.fits.gz", plain)
    np.testing.assert_array_equal(read_spectrum(packed).flux, read_spectrum(plain).flux)


def test_ssap_table_reads_in_air(tmp_path):
    raw = read_spectrum(ONDREJOV_FILE)
    ssap = read_spectrum(write_ssap_table(tmp_path / "ssap.fits"))
    meta = ssap.meta
    assert meta.layout == "ondrejov-ssap"
    assert ssap.medium == "air"
    assert meta.spectrum_id == "ivo://asu.cas.cz/stel/ccd700/oe270005"
    assert meta.designation == "HD 208905"
    assert (meta.ra, meta.dec) == (329.28466, 61.26851)
    assert (meta.survey, meta.instrument) == ("Ondrejov", "Ondrejov-CCD700")
    np.testing.assert_allclose(ssap.wave, raw.wave, rtol=0, atol=1e-9)
    assert np.median(ssap.flux) == pytest.approx(1.0, abs=1e-6)
    assert ssap.ivar is None


@pytest.mark.parametrize("unit", ["nm", "m"])
def test_ssap_wavelength_units_are_converted(tmp_path, unit):
    angstrom = read_spectrum(write_ssap_table(tmp_path / "a.fits"))
    other = read_spectrum(write_ssap_table(tmp_path / f"{unit}.fits", unit=unit))
    np.testing.assert_allclose(other.wave, angstrom.wave, rtol=1e-12)


def test_ssap_descending_wavelengths_are_reversed(tmp_path):
    ascending = read_spectrum(write_ssap_table(tmp_path / "up.fits"))
    descending = read_spectrum(write_ssap_table(tmp_path / "down.fits", descending=True))
    np.testing.assert_array_equal(descending.wave, ascending.wave)
    np.testing.assert_array_equal(descending.flux, ascending.flux)


def test_ssap_without_publisher_id_uses_the_file_stem(tmp_path):
    path = write_ssap_table(tmp_path / "oe270005.fits", ds_idpub=None)
    packed = write_gzip_copy(tmp_path / "oe270005.fit.gz", path)
    assert read_spectrum(path).meta.spectrum_id == "oe270005"
    assert read_spectrum(packed).meta.spectrum_id == "oe270005"


def test_ssap_unknown_wavelength_unit_is_rejected(tmp_path):
    path = write_ssap_table(tmp_path / "ssap.fits")
    with fits.open(path, mode="update") as hdul:
        hdul[1].header["TUNIT1"] = "Hz"
    with pytest.raises(BadWavelengthError, match="unsupported unit 'hz'"):
        read_spectrum(path)


def test_enormous_header_reads(tmp_path):
    path = write_enormous_header(tmp_path / "big-header.fits", n_cards=5000)
    with fits.open(path) as hdul:
        assert len(hdul[0].header) > 5000
    spectrum = read_spectrum(path)
    reference = read_spectrum(DR7_FILE)
    assert spectrum.meta.layout == "lamost-lrs-image"
    np.testing.assert_array_equal(spectrum.flux, reference.flux)
    assert spectrum.meta.spectrum_id == reference.meta.spectrum_id
