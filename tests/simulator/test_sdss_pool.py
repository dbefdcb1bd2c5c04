"""An SDSS-like pool: ``activespec simulate --pool-survey sdss`` writes spec-lite files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from astropy.io import fits

from activespec.io import read_spectrum
from activespec.preprocessing import preprocess
from activespec_cli import main
from tests.io.test_fast_parser import assert_reads_like_astropy, fast_parser_covers


@pytest.fixture(scope="module")
def sdss_survey(tmp_path_factory):
    out = tmp_path_factory.mktemp("sdss_survey")
    status = main(
        ["simulate", "--out", str(out), "--labelled", "0", "--pool", "12", "--seed", "3",
         "--workers", "1", "--pool-survey", "sdss", "--emission-fraction", "0.25",
         "--no-progress"]
    )  # fmt: skip
    assert status == 0
    return out


def _truth(out):
    with open(out / "truth" / "pool_truth.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_pool_file_reads_as_sdss_with_the_truth_id(sdss_survey):
    rows = _truth(sdss_survey)
    assert len(rows) == 12 and {r["layout"] for r in rows} == {"sdss-spec"}
    assert json.loads((sdss_survey / "survey.json").read_text())["pool_survey"] == "sdss"
    for row in rows:
        path = sdss_survey / "pool" / row["file"]
        spectrum = read_spectrum(path)
        meta = spectrum.meta
        assert meta.layout == "sdss-spec" and spectrum.medium == "vacuum"
        assert meta.spectrum_id == row["spectrum_id"]
        assert row["file"].startswith(row["spectrum_id"].replace("sdss-", "spec-", 1))
        assert meta.ra == pytest.approx(float(row["ra"]), abs=1e-6)
        assert meta.snr == pytest.approx(float(row["snr"]), abs=0.01)
        assert meta.lamost_class in ("STAR", "GALAXY", "QSO", None)
        assert np.isfinite(preprocess(spectrum, degrade=True)).all()


def test_sdss_pool_files_are_valid_fits_on_the_fast_path(sdss_survey):
    for path in sorted((sdss_survey / "pool").iterdir())[:4]:
        with fits.open(path) as hdul:
            hdul.verify("exception")
            assert [h.name for h in hdul] == ["PRIMARY", "COADD", "SPALL"]
            assert hdul[1].columns.names[:4] == ["flux", "loglam", "ivar", "and_mask"]
        assert fast_parser_covers(path)
        assert_reads_like_astropy(path)


def test_lamost_pool_is_unchanged_by_default(tmp_path):
    assert main(["simulate", "--out", str(tmp_path), "--labelled", "0", "--pool", "2",
                 "--workers", "1", "--no-progress"]) == 0  # fmt: skip
    assert "pool_survey" not in json.loads((tmp_path / "survey.json").read_text())
    assert all(not r["layout"].startswith("sdss") for r in _truth(tmp_path))
