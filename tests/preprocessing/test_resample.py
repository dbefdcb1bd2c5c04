"""Flux-conserving resampling, checked against a brute-force overlap computation."""

import numpy as np
import pytest

from activespec.errors import RejectedSpectrum
from activespec.preprocessing import common_grid, grid_edges, resample_flux_conserving

from .conftest import gaussian, lamost_wave


def brute_force_rebin(wave, flux, new_wave):
    """Reference: the full N x M matrix of overlaps between input and output bins."""
    edges, new_edges = grid_edges(wave), grid_edges(new_wave)
    lo = np.maximum(edges[:-1][None, :], new_edges[:-1][:, None])
    hi = np.minimum(edges[1:][None, :], new_edges[1:][:, None])
    overlap = np.clip(hi - lo, 0.0, None)
    return overlap @ flux / overlap.sum(axis=1)


def integral(wave, flux):
    return np.sum(flux * np.diff(grid_edges(wave)))


@pytest.fixture()
def rng():
    return np.random.default_rng(20200101)


@pytest.mark.parametrize(
    "new_wave",
    [
        np.linspace(6400.0, 6800.0, 60),  # downsampling (6.8 Å bins)
        np.linspace(6400.0, 6800.0, 2000),  # upsampling (0.2 Å bins)
        common_grid(),
    ],
    ids=["down", "up", "common-grid"],
)
def test_matches_brute_force_and_conserves_flux_of_random_spectra(rng, new_wave):
    wave = np.sort(rng.uniform(6300.0, 6900.0, 900))  # irregular input pixels
    flux = rng.lognormal(0.0, 1.0, wave.size)
    flux_new, bad_fraction = resample_flux_conserving(wave, flux, new_wave)
    np.testing.assert_allclose(flux_new, brute_force_rebin(wave, flux, new_wave), rtol=1e-9)
    assert np.all(bad_fraction == 0.0)
    # Total flux over the output range equals the input integrated over the same range.
    new_edges = grid_edges(new_wave)
    edges = grid_edges(wave)
    inside = (edges[:-1] >= new_edges[0]) & (edges[1:] <= new_edges[-1])
    partial = integral(wave, np.where(inside, flux, 0.0))
    first = np.searchsorted(edges, new_edges[0])  # the two input pixels cut by the ends
    last = np.searchsorted(edges, new_edges[-1]) - 1
    partial += flux[first - 1] * (edges[first] - new_edges[0])
    partial += flux[last] * (new_edges[-1] - edges[last])
    assert integral(new_wave, flux_new) == pytest.approx(partial, rel=1e-3)


@pytest.mark.parametrize("n_new", [50, 3000], ids=["down", "up"])
def test_emission_line_flux_is_conserved(n_new):
    wave = lamost_wave()
    window = (wave > 6400) & (wave < 6750)
    wave = wave[window]
    flux = 1.0 + gaussian(wave, 6564.6, 1.9, 4.0)
    new_wave = np.linspace(6450.0, 6700.0, n_new)
    flux_new, _ = resample_flux_conserving(wave, flux, new_wave)
    line_in = integral(wave, flux - 1.0)
    assert line_in == pytest.approx(4.0 * 1.9 * np.sqrt(2 * np.pi), rel=1e-3)
    assert integral(new_wave, flux_new - 1.0) == pytest.approx(line_in, rel=1e-3)


def test_flat_spectrum_stays_flat_from_log_to_linear_grid():
    wave = lamost_wave()
    flux_new, bad_fraction = resample_flux_conserving(wave, np.full(wave.size, 7.25), common_grid())
    np.testing.assert_allclose(flux_new, 7.25, rtol=1e-12)
    assert np.all(bad_fraction == 0.0)


def test_same_grid_returns_the_input():
    wave = common_grid()
    flux = np.sin(wave / 10.0) + 2.0
    flux_new, _ = resample_flux_conserving(wave, flux, wave)
    np.testing.assert_allclose(flux_new, flux, rtol=1e-12)


def test_masked_pixel_reduces_coverage_and_is_excluded():
    wave = np.arange(0.5, 40.0, 1.0) + 6500.0  # 1 Å pixels, edges on integers
    new_wave = np.arange(2.0, 40.0, 4.0) + 6500.0  # 4 Å bins aligned with the pixel edges
    flux = np.arange(wave.size, dtype=float)
    mask = np.zeros(wave.size, dtype=bool)
    mask[5] = True  # inside the second output bin (pixels 4-7)
    flux[5] = 1e9
    flux[21] = np.nan  # NaN counts as bad too (bin 5, pixels 20-23)
    flux_new, bad_fraction = resample_flux_conserving(wave, flux, new_wave, mask)
    assert bad_fraction[1] == pytest.approx(0.25)
    assert flux_new[1] == pytest.approx(np.mean([4.0, 6.0, 7.0]))
    assert bad_fraction[5] == pytest.approx(0.25)
    assert flux_new[5] == pytest.approx(np.mean([20.0, 22.0, 23.0]))
    others = np.delete(np.arange(new_wave.size), [1, 5])
    assert np.all(bad_fraction[others] == 0.0)
    np.testing.assert_allclose(flux_new[others], 4 * others + 1.5)


def test_bins_outside_the_input_are_missing():
    wave = np.arange(6500.5, 6600.0, 1.0)  # covers 6500-6600 Å
    new_wave = np.arange(6590.0, 6620.0, 10.0)  # bins 6585-6595, 6595-6605, 6605-6615
    flux_new, bad_fraction = resample_flux_conserving(wave, np.ones(wave.size), new_wave)
    np.testing.assert_allclose(bad_fraction, [0.0, 0.5, 1.0])
    assert flux_new[1] == pytest.approx(1.0)  # the mean of the covered half
    assert np.isnan(flux_new[2])


def test_fully_masked_bin_is_nan_with_bad_fraction_one():
    wave = np.arange(6500.5, 6600.0, 1.0)
    mask = (wave > 6540) & (wave < 6560)
    flux_new, bad_fraction = resample_flux_conserving(
        wave, np.ones(wave.size), np.array([6520.0, 6550.0, 6580.0]), mask
    )
    assert bad_fraction[1] > 0.6
    assert np.isfinite(flux_new[1])
    flux_new, bad_fraction = resample_flux_conserving(
        wave, np.ones(wave.size), np.array([6549.0, 6550.0, 6551.0]), mask
    )
    assert np.all(bad_fraction == 1.0)
    assert np.all(np.isnan(flux_new))


def test_decreasing_output_grid_is_rejected():
    wave = np.arange(6500.0, 6600.0)
    with pytest.raises(RejectedSpectrum) as info:
        resample_flux_conserving(wave, np.ones(wave.size), np.array([6550.0, 6540.0]))
    assert info.value.code == "bad-wavelength"
