"""Every simulated layout reads with :func:`activespec.io.read_spectrum`, with matching ids."""

import numpy as np
import pytest

from activespec.constants import H_ALPHA_AIR, H_ALPHA_VACUUM

from .conftest import read_csv

io = pytest.importorskip("activespec.io")


def test_pool_files_read_with_the_ids_of_the_truth_table(small_survey):
    out, _ = small_survey
    layouts = set()
    for row in read_csv(out / "truth" / "pool_truth.csv"):
        spectrum = io.read_spectrum(out / "pool" / row["file"])
        layouts.add(spectrum.meta.layout)
        assert spectrum.meta.spectrum_id == row["spectrum_id"]
        assert spectrum.medium == "vacuum" and spectrum.n_pixels in (3899, 3909)
        assert spectrum.meta.ra == pytest.approx(float(row["ra"]), abs=1e-6)
        assert spectrum.meta.snr == pytest.approx(float(row["snr"]), abs=0.006)
        assert spectrum.wave[0] < H_ALPHA_VACUUM < spectrum.wave[-1]
        assert np.all(spectrum.mask[spectrum.ivar == 0])
    assert layouts == {"lamost-lrs-image", "lamost-lrs-table"}


def test_labelled_files_read_with_the_ids_of_labels_csv(small_survey):
    out, _ = small_survey
    layouts = set()
    truth = {r["spectrum_id"]: r for r in read_csv(out / "truth" / "labelled_truth.csv")}
    for row in read_csv(out / "labelled" / "labels.csv"):
        spectrum = io.read_spectrum(out / "labelled" / row["file"])
        layouts.add(spectrum.meta.layout)
        assert spectrum.meta.spectrum_id == row["spectrum_id"]
        assert spectrum.medium == "air" and spectrum.n_pixels == 1997
        assert spectrum.wave[0] < H_ALPHA_AIR < spectrum.wave[-1]
        expected = truth[row["spectrum_id"]]
        assert spectrum.meta.ra == pytest.approx(float(expected["ra"]), abs=1e-3)
        assert spectrum.meta.dec == pytest.approx(float(expected["dec"]), abs=1e-3)
    assert layouts == {"ondrejov-image", "ondrejov-ssap"}


def test_every_simulated_file_reads_as_astropy_reads_it(small_survey):
    from tests.io.test_fast_parser import assert_reads_like_astropy, fast_parser_covers

    out, _ = small_survey
    paths = sorted((out / "pool").iterdir()) + sorted((out / "labelled").glob("*.fits*"))
    for path in paths:
        assert_reads_like_astropy(path)
        assert fast_parser_covers(path)
