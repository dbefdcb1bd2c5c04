"""Sigma-clipped polynomial continuum."""

import numpy as np
import pytest

from activespec.errors import RejectedSpectrum
from activespec.preprocessing import common_grid, fit_continuum, normalise_continuum

from .conftest import BE_STAR_LINES, star_flux

H_ALPHA = 6564.614


def noisy(flux, snr, seed=11):
    return flux + np.random.default_rng(seed).normal(0.0, flux.mean() / snr, flux.size)


@pytest.mark.parametrize("lines_name", ["absorption", "emission"])
def test_continuum_follows_the_slope_not_the_line(lines_name):
    grid = common_grid()
    lines = None if lines_name == "absorption" else BE_STAR_LINES
    clean = star_flux(grid, 1_800.0) if lines is None else star_flux(grid, 1_800.0, lines)
    curved = 400.0 * (1.0 + 0.3 * ((grid - 6625.0) / 106.0) ** 2)  # a flux-calibration bow
    observed = noisy(curved * clean, snr=150)
    normalised = normalise_continuum(grid, observed)
    line_free = np.abs(grid - H_ALPHA) > 25.0
    line_free &= np.abs(grid - 6680.0) > 6.0
    expected = clean / (1.0 + 0.25 * (grid - 6625.0) / 100.0)  # lines without any continuum
    assert np.median(np.abs(normalised[line_free] - 1.0)) < 0.01
    core = np.argmin(np.abs(grid - H_ALPHA))
    assert normalised[core] == pytest.approx(expected[core], abs=0.05)


def test_masked_pixels_do_not_pull_the_continuum():
    grid = common_grid()
    flux = 100.0 + 0.1 * (grid - 6519.0)
    corrupted = flux.copy()
    corrupted[10:20] = 1e5
    mask = np.zeros(grid.size, bool)
    mask[10:20] = True
    np.testing.assert_allclose(fit_continuum(grid, corrupted, mask), flux, rtol=1e-9)


@pytest.mark.parametrize("offset_ulps", [-8.0, 0.0, 8.0])
def test_rounding_level_residuals_are_not_clipped(monkeypatch, offset_ulps):
    """A noiseless spectrum leaves residuals at the level of floating-point rounding, and
    the least-squares fit may be off by a few ulps depending on the BLAS build: inject
    both deterministically. Before the fix the clipping removed every pixel."""
    grid = common_grid()
    flux = 100.0 + 0.1 * (grid - 6519.0)
    ulp = np.spacing(np.max(flux))
    jitter = ulp * np.random.default_rng(3).integers(-4, 5, grid.size)  # rounding noise
    observed = flux + jitter
    lstsq = np.linalg.lstsq

    def lstsq_off_by_rounding(a, b, rcond=None):
        coeffs, *rest = lstsq(a, b, rcond=rcond)
        coeffs = coeffs.copy()
        coeffs[0] += offset_ulps * ulp  # as a different BLAS may round
        return (coeffs, *rest)

    monkeypatch.setattr(np.linalg, "lstsq", lstsq_off_by_rounding)
    np.testing.assert_allclose(fit_continuum(grid, observed), flux, rtol=1e-9)


def test_continuum_through_zero_is_rejected():
    grid = common_grid()
    flux = noisy(np.full(grid.size, 1.0), snr=1.0) - 1.0  # pure noise around zero
    flux[0] = -5.0  # make sure the fitted curve dips below zero somewhere
    flux[1] = -5.0
    with pytest.raises(RejectedSpectrum) as info:
        normalise_continuum(grid, flux, degree=5)
    assert info.value.code == "bad-continuum"


def test_too_few_usable_pixels_is_rejected():
    grid = common_grid()
    mask = np.ones(grid.size, bool)
    mask[:3] = False
    with pytest.raises(RejectedSpectrum) as info:
        fit_continuum(grid, np.ones(grid.size), mask, degree=3)
    assert info.value.code == "bad-continuum"
