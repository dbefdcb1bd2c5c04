"""Broken files raise the right typed error with a one-line reason, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from activespec import errors
from activespec.io import inspect_file, read_spectrum
from tests.io.corpus import DR2_FILE, DR7_FILE, MRS_FILE, build_broken_corpus


def _assert_one_line(reason: str) -> None:
    assert reason.strip()
    assert "\n" not in reason
    assert "Traceback" not in reason
    assert len(reason) <= 300


def test_corpus_covers_every_error_type(broken_corpus):
    kinds = {case.error for case in broken_corpus}
    assert kinds == {
        errors.NotFitsError,
        errors.TruncatedFileError,
        errors.UnknownLayoutError,
        errors.NoFluxError,
        errors.AllNaNError,
        errors.WrongShapeError,
        errors.BadWavelengthError,
        errors.MultiSpectrumError,
    }


def test_each_broken_file_raises_its_typed_error(broken_corpus):
    for case in broken_corpus:
        with pytest.raises(errors.SpectrumReadError) as caught:
            read_spectrum(case.path)
        assert type(caught.value) is case.error, f"{case.name}: {caught.value!r}"
        _assert_one_line(str(caught.value))


def test_each_broken_file_fails_the_same_way_from_bytes(broken_corpus):
    for case in broken_corpus:
        with pytest.raises(case.error):
            read_spectrum(case.path.read_bytes(), name=str(case.path))


def test_inspect_file_reports_broken_files_without_raising(broken_corpus):
    for case in broken_corpus:
        record = inspect_file(case.path)
        assert record["ok"] is False, case.name
        assert record["error_code"] == case.error.code, case.name
        _assert_one_line(record["error"])
        assert record["path"] == str(case.path)
        assert record["layout"] is None and record["n_pixels"] is None


def test_inspect_file_on_missing_path_and_directory(tmp_path):
    missing = inspect_file(tmp_path / "nope.fits")
    assert missing["ok"] is False and missing["error_code"] == "read-error"
    assert "No such file" in missing["error"]
    directory = inspect_file(tmp_path)
    assert directory["ok"] is False and directory["error_code"] == "read-error"


def test_every_truncation_offset_of_a_real_file_is_caught():
    # A sweep over the whole DR2 file: only cuts inside the final padding may read.
    data = DR2_FILE.read_bytes()
    with fits.open(DR2_FILE) as hdul:
        data_end = hdul[0].fileinfo()["datLoc"] + hdul[0].data.nbytes
    for cut in np.linspace(0, len(data) - 1, 97).astype(int):
        if cut >= data_end:
            assert read_spectrum(data[:cut]).n_pixels == 3899
            continue
        with pytest.raises((errors.TruncatedFileError, errors.NotFitsError)) as caught:
            read_spectrum(data[:cut])
        _assert_one_line(str(caught.value))
        if cut >= 80:
            assert isinstance(caught.value, errors.TruncatedFileError), cut


def test_truncated_data_is_never_padded_with_zeros():
    # astropy alone would return an array for a file cut just short of its data end.
    data = DR7_FILE.read_bytes()
    with pytest.raises(errors.TruncatedFileError, match="truncated"):
        read_spectrum(data[: len(data) - 2880 // 2 - 1500])


def test_mrs_cut_at_an_hdu_boundary_is_truncated():
    # Nothing inside the file is cut, but N_EXTEN announces 17 HDUs.
    data = MRS_FILE.read_bytes()
    with fits.open(MRS_FILE) as hdul:
        info = hdul[2].fileinfo()
    with pytest.raises(errors.TruncatedFileError, match="N_EXTEN"):
        read_spectrum(data[: info["datLoc"] + info["datSpan"]])


def test_missing_mrs_arm_is_a_no_flux_error():
    with pytest.raises(errors.NoFluxError, match="COADD_X"):
        read_spectrum(MRS_FILE, mrs_arm="COADD_X")


def _replace_card(tmp_path, keyword: bytes, card: bytes):
    raw = bytearray(DR7_FILE.read_bytes())
    position = raw.index(keyword.ljust(8) + b"=")
    raw[position : position + 80] = card.ljust(80)
    path = tmp_path / "edited.fits"
    path.write_bytes(bytes(raw))
    return path


def test_unparsable_structural_card_is_a_typed_error(tmp_path):
    # NAXIS1 = 'abc' makes astropy fail with a TypeError: it must come back typed.
    path = _replace_card(tmp_path, b"NAXIS1", b"NAXIS1  = 'abc'")
    with pytest.raises(errors.NotFitsError, match="corrupt FITS header") as caught:
        read_spectrum(path)
    _assert_one_line(str(caught.value))
    record = inspect_file(path)
    assert (record["ok"], record["error_code"]) == (False, "not-fits")


def test_unparsable_metadata_card_reads_as_missing(tmp_path):
    path = _replace_card(tmp_path, b"RA", b"RA      = 1.2.3")
    spectrum = read_spectrum(path)
    assert spectrum.meta.ra is None
    assert spectrum.meta.dec == pytest.approx(25.427147)


def test_corpus_is_deterministic(tmp_path):
    first = build_broken_corpus(tmp_path / "a")
    second = build_broken_corpus(tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.name == b.name and a.path.read_bytes() == b.path.read_bytes()
