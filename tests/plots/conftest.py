"""Fixtures of the plot tests: a small simulated LAMOST pool and real LAMOST files."""

from __future__ import annotations

import pathlib

import pytest

from activespec.plots import measure_spectra, simulated_star_files
from activespec.simulator import simulate_survey

REAL_LAMOST = pathlib.Path(__file__).resolve().parents[1] / "data" / "real" / "lamost"
#: A1IV, S/N 57 (LAMOST DR2): a real A star with clear H-alpha absorption.
REAL_A_STAR = REAL_LAMOST / "spec-56257-GAC089N38V2_sp01-008.fits"
#: M2, S/N 54 (LAMOST DR1).
REAL_M_STAR = REAL_LAMOST / "spec-55862-B6212_sp06-025.fits"


@pytest.fixture(scope="session")
def small_pool(tmp_path_factory) -> pathlib.Path:
    """A 60-spectrum simulated LAMOST pool (no labelled set)."""
    out = tmp_path_factory.mktemp("plots") / "survey"
    simulate_survey(out, n_labelled=0, n_pool=60, seed=5, workers=1, progress=False)
    return out


@pytest.fixture(scope="session")
def simulated_stars(small_pool):
    """Statistics of the ordinary stars of the small pool."""
    measured, rejected = measure_spectra(simulated_star_files(small_pool))
    assert not rejected, rejected
    return measured


@pytest.fixture(scope="session")
def simulated_a_star(simulated_stars) -> pathlib.Path:
    """Path of a simulated A star of the small pool."""
    a_stars = [s for s in simulated_stars if s.spectral_type == "A"]
    assert a_stars, "the seed-5 pool of 60 must hold an A star"
    return pathlib.Path(a_stars[0].source)
