"""Every real spectrum in tests/data/real reads with the layout and metadata INDEX.csv gives."""

from __future__ import annotations

import csv
import gzip
import io
import re

import numpy as np
import pytest
from astropy.io import fits

from activespec.constants import H_ALPHA_VACUUM, R_LAMOST_LRS, R_LAMOST_MRS, R_ONDREJOV
from activespec.io import LAYOUTS, read_spectrum
from activespec.io.coordinates import parse_angle
from tests.io.corpus import (
    DR1_FILE,
    DR2_FILE,
    DR6_GZ_FILE,
    MRS_FILE,
    ONDREJOV_FILE,
    REAL_DIR,
    ZERO_FLUX_FILE,
    write_float32_copy,
    write_gzip_copy,
)

with open(REAL_DIR / "INDEX.csv", newline="") as _handle:
    INDEX = list(csv.DictReader(_handle))


def expected_layout(row: dict) -> str:
    """The layout INDEX.csv's free-text format column describes."""
    text = row["format"]
    if "MRS" in text:
        return "lamost-mrs"
    if "Ondrejov" in text:
        return "ondrejov-image"
    if "Subcontinuum" in text:
        return "lamost-lrs-dr1"
    return "lamost-lrs-image"


def test_index_lists_all_fifty_files():
    assert len(INDEX) == 50
    assert all((REAL_DIR / row["file"]).is_file() for row in INDEX)


@pytest.mark.parametrize("row", INDEX, ids=[row["file"].split("/")[-1] for row in INDEX])
def test_real_file_matches_index(row):
    spectrum = read_spectrum(REAL_DIR / row["file"])
    meta = spectrum.meta

    assert meta.layout == expected_layout(row)
    assert meta.layout in LAYOUTS
    assert spectrum.n_pixels == int(row["npix"])
    assert spectrum.wave[0] == pytest.approx(float(row["wave_min"]), abs=0.05)
    assert spectrum.wave[-1] == pytest.approx(float(row["wave_max"]), abs=0.05)
    assert spectrum.medium == row["medium"]
    assert meta.lamost_class == (row["lamost_class"] or None)
    assert meta.lamost_subclass == (row["subclass"] or None)
    assert meta.source == str(REAL_DIR / row["file"])

    for array in (spectrum.wave, spectrum.flux):
        assert array.dtype == np.float64 and array.flags.c_contiguous and array.flags.owndata
    assert spectrum.mask.dtype == bool
    assert (np.diff(spectrum.wave) > 0).all()

    if meta.survey == "LAMOST":
        assert meta.ra == pytest.approx(float(row["ra"]), abs=1e-6)
        assert meta.dec == pytest.approx(float(row["dec"]), abs=1e-6)
        release = re.search(r"DR\d+", row["data_release"]).group(0)
        assert meta.data_release == release
        assert meta.designation == row["object"]
        assert spectrum.ivar is not None and (spectrum.ivar >= 0).all()
        # ivar = 0 pixels are always flagged; flagged pixels are a minority in these stars.
        assert spectrum.mask[spectrum.ivar == 0].all()
        assert spectrum.mask.mean() < 0.6
        assert meta.snr is not None and meta.snr >= 0
    else:
        assert meta.designation == row["object"]
        assert meta.data_release is None
        assert spectrum.ivar is None


@pytest.mark.parametrize(
    ("path", "instrument", "power"),
    [(DR1_FILE, "LAMOST-LRS", R_LAMOST_LRS), (MRS_FILE, "LAMOST-MRS", R_LAMOST_MRS),
     (ONDREJOV_FILE, "Ondrejov-CCD700", R_ONDREJOV)],
)  # fmt: skip
def test_instrument_and_resolving_power(path, instrument, power):
    meta = read_spectrum(path).meta
    assert meta.instrument == instrument
    assert meta.resolving_power == power


def test_lamost_spectrum_ids_follow_the_rule():
    # DR1/DR2 files have no OBSID: LMJD-PLANID-SPID-FIBERID, FIBERID zero-padded
    # (DR2 writes FIBERID = '1' as text).
    assert read_spectrum(DR1_FILE).meta.spectrum_id == "55862-B6212-06-003"
    assert read_spectrum(DR2_FILE).meta.spectrum_id == "56257-GAC089N38V2-01-001"
    dr6 = read_spectrum(DR6_GZ_FILE).meta
    assert (dr6.spectrum_id, dr6.obsid) == ("359910161", 359910161)
    assert read_spectrum(MRS_FILE).meta.spectrum_id == "681001015"
    assert read_spectrum(DR1_FILE).meta.obsid is None


def test_snr_keywords_of_each_release():
    assert read_spectrum(DR1_FILE).meta.snr == 99.0  # SN_R
    assert read_spectrum(DR2_FILE).meta.snr == 44.16  # SN_R
    assert read_spectrum(DR6_GZ_FILE).meta.snr == 128.48  # SNRR
    assert read_spectrum(MRS_FILE).meta.snr == 280.75  # SNR of the COADD_R extension


def test_dr1_wavelengths_are_log_linear_from_coeff():
    spectrum = read_spectrum(DR1_FILE)
    expected = 10.0 ** (3.5682 + 1e-4 * np.arange(3904))
    np.testing.assert_allclose(spectrum.wave, expected, rtol=1e-12)
    # ~1.51 Å per pixel at H-alpha (REFERENCE.md)
    i = np.searchsorted(spectrum.wave, H_ALPHA_VACUUM)
    assert spectrum.wave[i + 1] - spectrum.wave[i] == pytest.approx(1.51, abs=0.01)


def test_dr1_andmask_flags_pixels():
    with fits.open(DR1_FILE) as hdul:
        andmask = hdul[0].data[3] != 0
        ivar = hdul[0].data[1]
    spectrum = read_spectrum(DR1_FILE)
    assert andmask.any()
    assert spectrum.mask[andmask].all()
    assert np.array_equal(spectrum.mask, andmask | (ivar == 0))


def test_ondrejov_reads_in_air_on_a_linear_grid():
    spectrum = read_spectrum(ONDREJOV_FILE)
    assert spectrum.medium == "air"
    steps = np.diff(spectrum.wave)
    assert steps == pytest.approx(0.2567, abs=1e-4)
    assert np.ptp(steps) < 1e-9
    assert spectrum.meta.spectrum_id == "oe270005"
    assert spectrum.meta.survey == "Ondrejov"
    assert spectrum.meta.layout == "ondrejov-image"
    with fits.open(ONDREJOV_FILE) as hdul:
        np.testing.assert_array_equal(spectrum.flux, hdul[0].data.astype(np.float64))
    assert not spectrum.mask.any()


def test_ondrejov_coordinates_are_precessed_to_j2000():
    from astropy.coordinates import FK5, SkyCoord
    from astropy.time import Time

    row = next(r for r in INDEX if r["file"] == "ondrejov/oe270005.fits")
    with fits.open(ONDREJOV_FILE) as hdul:
        equinox = hdul[0].header["EQUINOX"]
    of_date = SkyCoord(
        parse_angle(row["ra"], hours=True),
        parse_angle(row["dec"]),
        unit="deg",
        frame=FK5(equinox=Time(equinox, format="jyear")),
    )
    j2000 = of_date.transform_to(FK5(equinox="J2000"))
    meta = read_spectrum(ONDREJOV_FILE).meta
    assert meta.ra == pytest.approx(j2000.ra.deg, abs=1 / 3600)
    assert meta.dec == pytest.approx(j2000.dec.deg, abs=1 / 3600)
    # The raw header values are of date, several arcminutes away.
    assert abs(meta.ra - of_date.ra.deg) > 0.01


def test_zero_flux_file_flags_h_alpha():
    spectrum = read_spectrum(ZERO_FLUX_FILE)
    window = (spectrum.wave > 6540) & (spectrum.wave < 6590)
    assert window.sum() > 20
    assert (spectrum.flux[window] == 0).all()
    assert (spectrum.ivar[window] == 0).all()
    assert spectrum.mask[window].all()
    # ... while the blue part of the same spectrum is real signal.
    blue = (spectrum.wave > 4500) & (spectrum.wave < 5000)
    assert (spectrum.flux[blue] > 0).mean() > 0.9
    assert not spectrum.mask[blue].all()


def test_mrs_red_coadd_by_default_blue_on_request():
    red = read_spectrum(MRS_FILE)
    blue = read_spectrum(MRS_FILE, mrs_arm="COADD_B")
    assert red.meta.layout == blue.meta.layout == "lamost-mrs"
    assert red.wave[0] < H_ALPHA_VACUUM < red.wave[-1]
    assert blue.wave[-1] < H_ALPHA_VACUUM
    assert (red.n_pixels, blue.n_pixels) == (3692, 4101)
    assert blue.wave[0] == pytest.approx(4893.95, abs=0.05)
    with fits.open(MRS_FILE) as hdul:
        np.testing.assert_array_equal(red.flux, hdul["COADD_R"].data["FLUX"])
        np.testing.assert_array_equal(blue.flux, hdul["COADD_B"].data["FLUX"])
        assert blue.meta.snr == hdul["COADD_B"].header["SNR"]
    assert red.mask[red.ivar == 0].all()


def test_mrs_single_exposure_on_request():
    exposure = read_spectrum(MRS_FILE, mrs_arm="R-84107311")
    assert exposure.n_pixels == 4136
    assert exposure.wave[0] < H_ALPHA_VACUUM < exposure.wave[-1]


def test_float32_and_float64_images_agree(tmp_path):
    as_float64 = read_spectrum(DR2_FILE)
    as_float32 = read_spectrum(write_float32_copy(tmp_path / "float32.fits"))
    assert as_float32.meta.layout == as_float64.meta.layout == "lamost-lrs-image"
    for name in ("wave", "flux", "ivar"):
        a, b = getattr(as_float32, name), getattr(as_float64, name)
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_array_equal(as_float32.mask, as_float64.mask)


@pytest.mark.parametrize("source", [DR1_FILE, MRS_FILE, ONDREJOV_FILE], ids=lambda p: p.name)
def test_gzipped_copy_reads_identically(tmp_path, source):
    plain = read_spectrum(source)
    # A misleading name: gzip is detected by magic bytes, not by the extension.
    packed = read_spectrum(write_gzip_copy(tmp_path / source.name, source))
    for name in ("wave", "flux", "ivar", "mask"):
        a, b = getattr(plain, name), getattr(packed, name)
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a, b)
    plain_meta, packed_meta = plain.meta.to_dict(), packed.meta.to_dict()
    plain_meta.pop("source"), packed_meta.pop("source")
    assert plain_meta == packed_meta


def test_plain_copy_of_real_gzip_matches(tmp_path):
    plain_path = tmp_path / "spec-57287-plain.fits"
    plain_path.write_bytes(gzip.decompress(DR6_GZ_FILE.read_bytes()))
    a, b = read_spectrum(plain_path), read_spectrum(DR6_GZ_FILE)
    np.testing.assert_array_equal(a.flux, b.flux)
    assert a.meta.spectrum_id == b.meta.spectrum_id == "359910161"


def test_bytes_and_file_objects_with_a_recorded_name():
    data = ONDREJOV_FILE.read_bytes()
    uri = "gs://bucket/ondrejov/oe270005.fits.gz"
    from_bytes = read_spectrum(data, name=uri)
    from_memoryview = read_spectrum(memoryview(data), name=uri)
    from_stream = read_spectrum(io.BytesIO(gzip.compress(data)), name=uri)
    for spectrum in (from_bytes, from_memoryview, from_stream):
        assert spectrum.meta.source == uri
        assert spectrum.meta.spectrum_id == "oe270005"
        np.testing.assert_array_equal(spectrum.flux, from_bytes.flux)


def test_anonymous_bytes_fall_back_to_a_content_hash():
    import hashlib

    data = ONDREJOV_FILE.read_bytes()
    spectrum = read_spectrum(data)
    assert spectrum.meta.spectrum_id == "sha1:" + hashlib.sha1(data).hexdigest()
    assert spectrum.meta.source == "<bytes>"
    # LAMOST headers name the spectrum even without a file name.
    assert read_spectrum(DR1_FILE.read_bytes()).meta.spectrum_id == "55862-B6212-06-003"


def test_file_missing_only_its_final_padding_still_reads(tmp_path):
    # The last MRS HDU ends with 2576 bytes of padding; losing some of it loses no data.
    data = MRS_FILE.read_bytes()
    short = tmp_path / "short-padding.fits"
    short.write_bytes(data[:-2000])
    np.testing.assert_array_equal(read_spectrum(short).flux, read_spectrum(MRS_FILE).flux)
