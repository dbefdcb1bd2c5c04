"""``activespec score``: real FITS files through the CLI with a pushed model."""

import json
import os
import shutil

import numpy as np
import pytest

from activespec.io import read_spectrum
from activespec.preprocessing import PreprocessConfig, preprocess
from activespec_cli import main
from models import serving
from tests.serving.conftest import REJECTED_FILE


def _score(capsys, model_dir, files, *options):
    status = main(["score", "--model", str(model_dir), *options, *map(str, files)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _json_records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _expected_probabilities(model, paths, config, *, degrade=None):
    vectors = []
    for path in paths:
        spectrum = read_spectrum(path)
        sharp = spectrum.meta.resolving_power > config.target_resolving_power
        vectors.append(preprocess(spectrum, config, degrade=sharp if degrade is None else degrade))
    return model.predict_flux(np.stack(vectors))


def test_json_lines_give_label_probabilities_and_entropy(capsys, serving_base, real_paths):
    status, out, _ = _score(capsys, serving_base, real_paths, "--json", "--batch-size", "3")
    assert status == 0
    records = _json_records(out)
    assert [r["path"] for r in records] == real_paths
    model = serving.load_model_dir(str(serving_base))
    expected = _expected_probabilities(model, real_paths, PreprocessConfig())
    for record, row in zip(records, expected, strict=True):
        assert record["ok"] is True
        probabilities = record["probabilities"]
        assert list(probabilities) == list(model.class_names)
        p = np.array(list(probabilities.values()))
        np.testing.assert_allclose(p, row, atol=1e-6)
        assert p.sum() == pytest.approx(1.0, abs=1e-5)
        assert record["label"] == max(probabilities, key=probabilities.get)
        assert record["entropy"] == pytest.approx(-np.sum(p * np.log(p)), rel=1e-5)
        assert record["object_id"]
        assert record["spectrum_id"] == record["object_id"]  # object_id: deprecated name
    degraded = {os.path.basename(r["path"]): r["degraded"] for r in records}
    # Ondřejov (R 13,000) and LAMOST MRS (R 7,500) are sharper than the model; LRS is not.
    assert degraded["oe270005.fits"] and degraded["med-58408-TD230151N343645T01_sp01-015.fits"]
    assert not degraded["spec-55862-B6212_sp06-018.fits"]


def test_broken_files_are_reported_and_set_the_exit_status(
    capsys, serving_base, real_paths, real_dir, tmp_path
):
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes((real_dir / "lamost/spec-55862-B6212_sp06-018.fits").read_bytes()[:3000])
    not_fits = tmp_path / "notes.fits"
    not_fits.write_text("observing log, not a spectrum\n")
    rejected = real_dir / REJECTED_FILE
    files = [real_paths[0], str(truncated), str(not_fits), str(rejected), real_paths[-1]]

    status, out, _ = _score(capsys, serving_base, files, "--json")
    assert status == 1
    records = _json_records(out)
    assert [r["path"] for r in records] == files
    assert [r["ok"] for r in records] == [True, False, False, False, True]
    for record in records[1:4]:
        assert record["error"] and "\n" not in record["error"]
        assert "probabilities" not in record
    assert records[2]["error_code"] == "not-fits"
    assert records[3]["error_code"] == "too-many-bad-pixels"
    # The good files are scored as if alone.
    status_alone, out_alone, _ = _score(capsys, serving_base, [files[0], files[-1]], "--json")
    assert status_alone == 0
    alone = _json_records(out_alone)
    assert records[0]["probabilities"] == pytest.approx(alone[0]["probabilities"], abs=1e-6)
    assert records[4]["probabilities"] == pytest.approx(alone[1]["probabilities"], abs=1e-6)


def test_table_lists_every_file(capsys, serving_base, real_paths, real_dir):
    files = [*real_paths, str(real_dir / REJECTED_FILE)]
    status, out, _ = _score(capsys, serving_base, files)
    assert status == 1
    header, *lines = out.rstrip("\n").splitlines()
    assert header.split() == ["file", "class", "other", "emission", "double-peak", "entropy"]
    assert len(lines) == len(files)
    _, json_out, _ = _score(capsys, serving_base, real_paths, "--json")
    for line, path, record in zip(lines, files, _json_records(json_out) + [None], strict=True):
        fields = line.split()
        assert fields[0] == os.path.basename(path)
        if record is None:
            assert fields[1] == "FAILED" and "masked" in line
            continue
        assert fields[1] == record["label"]
        probabilities = [float(x) for x in fields[2:5]]
        expected = [record["probabilities"][c] for c in ("other", "emission", "double-peak")]
        np.testing.assert_allclose(probabilities, expected, atol=5e-4)
        assert float(fields[5]) == pytest.approx(record["entropy"], abs=5e-4)


def test_scoring_uses_the_preprocessing_recorded_in_the_model(
    capsys, robust_base, serving_base, real_paths
):
    status, out, _ = _score(capsys, robust_base, real_paths, "--json")
    assert status == 0
    scored = np.array([list(r["probabilities"].values()) for r in _json_records(out)])
    model = serving.load_model_dir(str(robust_base))
    robust = _expected_probabilities(model, real_paths, PreprocessConfig(scaling="robust"))
    minmax = _expected_probabilities(model, real_paths, PreprocessConfig())
    np.testing.assert_allclose(scored, robust, atol=1e-6)
    # The same weights on min-max vectors answer differently: the scaling mattered.
    assert np.abs(scored - minmax).max() > 1e-3


def test_model_without_metadata_is_scored_with_the_defaults(
    capsys, serving_base, real_paths, tmp_path
):
    old = tmp_path / "old_model"
    shutil.copytree(serving_base, old)
    shutil.rmtree(old / "1" / "assets.extra")
    status, out, _ = _score(capsys, old, real_paths[:2], "--json")
    assert status == 0
    _, reference, _ = _score(capsys, serving_base, real_paths[:2], "--json")
    assert _json_records(out) == _json_records(reference)


def test_missing_model_is_a_one_line_error(capsys, tmp_path, real_paths):
    status, out, err = _score(capsys, tmp_path / "nothing", real_paths[:1])
    assert status == 2 and out == ""
    assert "does not exist" in err and len(err.strip().splitlines()) == 1


def test_batch_size_must_be_positive(capsys, serving_base, real_paths):
    with pytest.raises(SystemExit) as exit_info:
        main(["score", "--model", str(serving_base), "--batch-size", "0", real_paths[0]])
    assert exit_info.value.code == 2
    assert "at least 1" in capsys.readouterr().err


def test_sdss_and_desi_files_are_scored(capsys, serving_base, tmp_path):
    from activespec.io.desi import split_desi_file
    from tests.io.corpus import write_desi_coadd, write_gzip_copy, write_sdss_spec

    sdss = write_sdss_spec(tmp_path / "spec-7512-56777-0396.fits")
    packed = write_gzip_copy(tmp_path / "spec-7512-56777-0396.fits.gz", sdss)
    coadd = write_desi_coadd(tmp_path / "coadd-main-dark-38863.fits")
    single = split_desi_file(coadd, tmp_path / "split")[0]
    files = [str(p) for p in (sdss, packed, single, coadd)]

    status, out, _ = _score(capsys, serving_base, files, "--json")
    assert status == 1  # the coadd of three spectra
    records = _json_records(out)
    assert [r["ok"] for r in records] == [True, True, True, False]
    assert records[0]["spectrum_id"] == records[1]["spectrum_id"] == "sdss-7512-56777-0396"
    assert records[2]["spectrum_id"].startswith("desi-main-dark-")
    assert records[3]["error_code"] == "multi-spectrum"
    # SDSS (R 2,000) and DESI (R 3,600) are sharper than the model (R 1,800).
    assert records[0]["degraded"] and records[2]["degraded"]
    model = serving.load_model_dir(str(serving_base))
    expected = _expected_probabilities(model, files[:3], PreprocessConfig())
    for record, row in zip(records[:3], expected, strict=True):
        np.testing.assert_allclose(list(record["probabilities"].values()), row, atol=1e-6)
