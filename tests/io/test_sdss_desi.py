"""SDSS spec/spec-lite and DESI coadd files, written from the published data models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from astropy.io import fits

from activespec import errors
from activespec.io import inspect_file, read_spectrum
from activespec.io.desi import split_desi_file
from activespec.preprocessing import preprocess
from activespec_cli import main
from tests.io.corpus import (
    DESI_MASKED_PIXELS,
    DESI_PROGRAM,
    DESI_SNR_R,
    DESI_SOURCES,
    DESI_SURVEY,
    DESI_TARGETIDS,
    DR7_FILE,
    SDSS_CLASS,
    SDSS_PLUG_DEC,
    SDSS_PLUG_RA,
    SDSS_SN_MEDIAN,
    SDSS_SUBCLASS,
    SDSS_Z,
    desi_grid,
    desi_short_ivar,
    edited_desi,
    edited_sdss,
    sdss_nan_flux,
    sdss_without_loglam,
    write_desi_coadd,
    write_gzip_copy,
    write_sdss_spec,
)
from tests.io.test_fast_parser import assert_reads_like_astropy, fast_parser_covers


@pytest.fixture(scope="module")
def desi_file(tmp_path_factory):
    return write_desi_coadd(tmp_path_factory.mktemp("desi") / "coadd-main-dark-38863.fits")


# --- SDSS ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lite", "metadata"), [(True, "SPALL"), (False, "SPALL"), (True, "SPECOBJ")]
)
def test_sdss_spec_reads_like_the_lamost_spectrum_it_came_from(tmp_path, lite, metadata):
    lamost = read_spectrum(DR7_FILE)
    sdss = read_spectrum(write_sdss_spec(tmp_path / "spec.fits", lite=lite, metadata=metadata))
    meta = sdss.meta
    assert meta.layout == "sdss-spec"
    assert sdss.medium == "vacuum"
    assert (meta.survey, meta.instrument) == ("SDSS", "SDSS")
    assert meta.spectrum_id == "sdss-7512-56777-0396"
    # PLUG_RA/PLUG_DEC (the fibre), not the boresight RA/DEC of the primary header.
    assert (meta.ra, meta.dec) == (SDSS_PLUG_RA, SDSS_PLUG_DEC)
    assert (meta.lamost_class, meta.lamost_subclass) == (SDSS_CLASS, SDSS_SUBCLASS)
    assert meta.redshift == SDSS_Z
    assert meta.snr == SDSS_SN_MEDIAN[2]  # r band
    assert meta.resolving_power == 2000.0
    np.testing.assert_array_equal(sdss.flux, lamost.flux.astype(np.float32))
    np.testing.assert_array_equal(sdss.mask, lamost.mask)  # and_mask and ivar = 0
    np.testing.assert_allclose(sdss.wave, lamost.wave, rtol=2e-6)
    assert np.all(np.diff(sdss.wave) > 0)


def test_sdss_without_metadata_table_uses_the_primary_header(tmp_path):
    spectrum = read_spectrum(write_sdss_spec(tmp_path / "spec.fits", metadata=None))
    meta = spectrum.meta
    assert meta.spectrum_id == "sdss-7512-56777-0396"
    assert (meta.ra, meta.dec) == (SDSS_PLUG_RA, SDSS_PLUG_DEC)
    assert meta.lamost_class is None and meta.redshift is None and meta.snr is None


def test_sdss_and_mask_and_ivar_flag_pixels(tmp_path):
    path = write_sdss_spec(tmp_path / "spec.fits")
    before = read_spectrum(path)
    with fits.open(path, mode="update") as hdul:
        hdul[1].data["and_mask"][100:110] = 2**23  # BRIGHTSKY
        hdul[1].data["or_mask"][300:400] = 4  # or_mask is not used
        hdul[1].data["ivar"][200] = 0.0
    spectrum = read_spectrum(path)
    assert spectrum.mask[100:110].all()
    assert spectrum.mask[200] and spectrum.ivar[200] == 0.0
    np.testing.assert_array_equal(spectrum.mask[300:400], before.mask[300:400])


def test_sdss_gzipped_reads_the_same(tmp_path):
    plain = write_sdss_spec(tmp_path / "spec-7512-56777-0396.fits")
    packed = write_gzip_copy(tmp_path / "spec-7512-56777-0396.fits.gz", plain)
    a, b = read_spectrum(plain), read_spectrum(packed)
    np.testing.assert_array_equal(a.flux, b.flux)
    assert a.meta.spectrum_id == b.meta.spectrum_id


def test_sdss_preprocesses(tmp_path):
    vector = preprocess(read_spectrum(write_sdss_spec(tmp_path / "spec.fits")))
    assert vector.shape == (140,) and np.isfinite(vector).all()


# --- DESI ----------------------------------------------------------------------------


def test_desi_coadd_with_many_spectra_needs_a_targetid(desi_file):
    with pytest.raises(errors.MultiSpectrumError, match="holds 3 spectra") as caught:
        read_spectrum(desi_file)
    assert caught.value.code == "multi-spectrum"


@pytest.mark.parametrize("row", [0, 1, 2])
def test_desi_coadd_row_by_targetid(desi_file, row):
    targetid = DESI_TARGETIDS[row]
    spectrum = read_spectrum(desi_file, desi_targetid=targetid)
    meta = spectrum.meta
    assert meta.layout == "desi-coadd"
    assert spectrum.medium == "vacuum"
    assert (meta.survey, meta.instrument) == ("DESI", "DESI-R")  # R covers H-alpha
    assert meta.spectrum_id == f"desi-{DESI_SURVEY}-{DESI_PROGRAM}-{targetid}"
    assert (meta.ra, meta.dec) == (150.0 + row, 2.5 + row)
    assert meta.snr == pytest.approx(DESI_SNR_R * math.sqrt(0.8))
    np.testing.assert_array_equal(spectrum.wave, desi_grid("R"))
    with fits.open(desi_file) as hdul:
        flux = hdul["R_FLUX"].data[row]
        mask = hdul["R_MASK"].data[row]
        ivar = hdul["R_IVAR"].data[row]
    np.testing.assert_array_equal(spectrum.flux, flux)
    np.testing.assert_array_equal(spectrum.mask, (mask != 0) | (ivar == 0))


def test_desi_mask_flags_pixels(desi_file):
    spectrum = read_spectrum(desi_file, desi_targetid=DESI_TARGETIDS[0])
    assert spectrum.mask[DESI_MASKED_PIXELS].all()
    assert (spectrum.ivar[DESI_MASKED_PIXELS] > 0).all()  # flagged by MASK alone


def test_desi_unknown_targetid_is_a_no_flux_error(desi_file):
    with pytest.raises(errors.NoFluxError, match="TARGETID 12345"):
        read_spectrum(desi_file, desi_targetid=12345)


def test_desi_split_files_read_like_the_rows(desi_file, tmp_path):
    written = split_desi_file(desi_file, tmp_path / "split")
    assert [p.name for p in written] == [
        f"coadd-main-dark-38863-{targetid}.fits" for targetid in DESI_TARGETIDS
    ]
    for path, targetid in zip(written, DESI_TARGETIDS, strict=True):
        single = read_spectrum(path)
        row = read_spectrum(desi_file, desi_targetid=targetid)
        for name in ("wave", "flux", "ivar", "mask"):
            np.testing.assert_array_equal(getattr(single, name), getattr(row, name))
        assert single.meta.spectrum_id == row.meta.spectrum_id
        assert single.meta.snr == row.meta.snr
        with fits.open(path) as hdul:
            assert len(hdul["EXP_FIBERMAP"].data) == 2
            assert hdul["R_RESOLUTION"].data.shape == (1, 11, 2326)


def test_desi_single_spectrum_gzipped_and_plain_mask(tmp_path):
    path = write_desi_coadd(tmp_path / "one.fits", sources=DESI_SOURCES[:1], header=False)
    packed = write_gzip_copy(tmp_path / "one.fits.gz", path)
    plain_mask = write_desi_coadd(
        tmp_path / "plain.fits", sources=DESI_SOURCES[:1], header=False, compress_mask=False
    )
    spectra = [read_spectrum(p) for p in (path, packed, plain_mask)]
    assert spectra[0].meta.spectrum_id == f"desi-{DESI_TARGETIDS[0]}"  # no SURVEY/PROGRAM
    for other in spectra[1:]:
        for name in ("wave", "flux", "ivar", "mask"):
            np.testing.assert_array_equal(getattr(other, name), getattr(spectra[0], name))
    vector = preprocess(spectra[0])
    assert vector.shape == (140,) and np.isfinite(vector).all()


def test_desi_reads_as_astropy_reads_it(desi_file, tmp_path):
    # Tile-compressed masks are outside the fast subset: astropy reads these files.
    assert not fast_parser_covers(desi_file)
    assert_reads_like_astropy(desi_file, desi_targetid=DESI_TARGETIDS[1])
    plain = write_desi_coadd(tmp_path / "plain.fits", compress_mask=False)
    assert_reads_like_astropy(plain, desi_targetid=DESI_TARGETIDS[0])


# --- broken variants -----------------------------------------------------------------


def _edit_sdss(tmp_path, edit):
    return edited_sdss(tmp_path / "edited.fits", edit)


def _sdss_shuffled_loglam(hdus):
    hdus[1].data["loglam"][1000:1010] = hdus[1].data["loglam"][1000:1010][::-1].copy()
    return hdus


def _sdss_no_rows(hdus):
    hdus[1] = fits.BinTableHDU(hdus[1].data[:0], name="COADD")
    return hdus


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (sdss_without_loglam, errors.BadWavelengthError),
        (sdss_nan_flux, errors.AllNaNError),
        (_sdss_shuffled_loglam, errors.BadWavelengthError),
        (_sdss_no_rows, errors.NoFluxError),
    ],
)
def test_broken_sdss_files_raise_typed_errors(tmp_path, edit, error):
    path = _edit_sdss(tmp_path, edit)
    with pytest.raises(error) as caught:
        read_spectrum(path)
    assert "\n" not in str(caught.value)
    record = inspect_file(path)
    assert (record["ok"], record["error_code"]) == (False, error.code)


def test_truncated_sdss_and_desi_files(tmp_path, desi_file):
    sdss = write_sdss_spec(tmp_path / "spec.fits").read_bytes()
    desi = desi_file.read_bytes()
    for data in (sdss[: len(sdss) // 2], sdss[:-3000], desi[: len(desi) // 2], desi[:-3000]):
        with pytest.raises(errors.TruncatedFileError):
            read_spectrum(data)


def _edit_desi(tmp_path, edit):
    return edited_desi(tmp_path / "edited.fits", edit, sources=DESI_SOURCES)


def _desi_short_fibermap(hdus):
    hdus[1] = fits.BinTableHDU(hdus[1].data[:2], name="FIBERMAP")
    return hdus


def _desi_empty_flux(hdus):
    index = next(i for i, h in enumerate(hdus) if h.name == "R_FLUX")
    hdus[index] = fits.ImageHDU(name="R_FLUX")
    return hdus


def _desi_nan_flux(hdus):
    index = next(i for i, h in enumerate(hdus) if h.name == "R_FLUX")
    hdus[index].data[0] = np.nan
    return hdus


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (desi_short_ivar, errors.WrongShapeError),
        (_desi_short_fibermap, errors.WrongShapeError),
        (_desi_empty_flux, errors.NoFluxError),
        (_desi_nan_flux, errors.AllNaNError),
    ],
)
def test_broken_desi_files_raise_typed_errors(tmp_path, edit, error):
    path = _edit_desi(tmp_path, edit)
    with pytest.raises(error) as caught:
        read_spectrum(path, desi_targetid=DESI_TARGETIDS[0])
    assert "\n" not in str(caught.value)


# --- activespec inspect --------------------------------------------------------------


def test_inspect_prints_sdss_and_desi(tmp_path, desi_file, capsys):
    sdss = write_sdss_spec(tmp_path / "spec-7512-56777-0396.fits")
    packed = write_gzip_copy(tmp_path / "spec-7512-56777-0396.fits.gz", sdss)
    single = split_desi_file(desi_file, tmp_path / "split")[0]
    paths = [str(p) for p in (sdss, packed, single, desi_file)]
    assert main(["inspect", "--json", *paths]) == 1  # the multi-spectrum coadd fails
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["layout"] for r in records[:3]] == ["sdss-spec", "sdss-spec", "desi-coadd"]
    assert all(r["ok"] for r in records[:3])
    assert records[0]["lamost_class"] == SDSS_CLASS and records[0]["redshift"] == SDSS_Z
    assert records[2]["spectrum_id"] == f"desi-main-dark-{DESI_TARGETIDS[0]}"
    assert (records[3]["ok"], records[3]["error_code"]) == (False, "multi-spectrum")

    assert main(["inspect", *paths[:3]]) == 0
    table = capsys.readouterr().out
    assert "sdss-spec" in table and "desi-coadd" in table and "STAR/A0" in table


def test_split_desi_command(tmp_path, desi_file, capsys):
    out = tmp_path / "split"
    assert main(["split-desi", str(desi_file), "--out", str(out)]) == 0
    assert "3 spectra written" in capsys.readouterr().out
    assert main(["inspect", str(out)]) == 0
    assert "3 file(s), 3 ok, 0 failed" in capsys.readouterr().out
    sdss = write_sdss_spec(tmp_path / "spec.fits")
    assert main(["split-desi", str(sdss), "--out", str(out)]) == 2
    assert "not a DESI coadd" in capsys.readouterr().err
