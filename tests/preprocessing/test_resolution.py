"""Gaussian resolution degradation: line widths, edges, masks, σ from resolving powers."""

import numpy as np
import pytest
from scipy.optimize import curve_fit

from activespec.errors import ConfigError, RejectedSpectrum
from activespec.preprocessing import degrade_resolution, gaussian_sigma_pixels
from activespec.preprocessing.resolution import FWHM_PER_SIGMA, kernel_sigma_angstrom

from .conftest import gaussian

PIXEL = 0.2567  # Ondřejov CCD700 Å per pixel
H_ALPHA = 6564.614


def linear_wave(start=6265.0, n=1997, step=PIXEL):
    return start + step * np.arange(n)


def instrumental_line(wave, center, resolving_power):
    """An unresolved emission line seen at resolving power R: a Gaussian of FWHM λ/R."""
    return gaussian(wave, center, center / resolving_power / FWHM_PER_SIGMA)


def measured_fwhm(wave, flux):
    """FWHM of a single emission line on a zero background, from a least-squares Gaussian fit."""
    peak = int(np.argmax(flux))
    first_guess = (wave[peak], 1.0, flux[peak])  # centre, σ, amplitude
    (_, sigma, _), _ = curve_fit(gaussian, wave, flux, p0=first_guess)
    return FWHM_PER_SIGMA * abs(sigma)


def test_fwhm_measurement_recovers_the_input_width():
    wave = linear_wave()
    assert measured_fwhm(wave, instrumental_line(wave, H_ALPHA, 13_000)) == pytest.approx(
        H_ALPHA / 13_000, rel=0.02
    )


@pytest.mark.parametrize("source_R", [13_000, 3_000])
def test_line_degraded_to_r1800_has_fwhm_lambda_over_1800(source_R):
    # At R_s = 3,000 forgetting to subtract the source width in quadrature would
    # give a 17 % too broad line, so the tolerance really tests the formula.
    wave = linear_wave()
    line = instrumental_line(wave, H_ALPHA, source_R)
    sigma = gaussian_sigma_pixels(wave, source_R, 1_800)
    degraded = degrade_resolution(wave, line, sigma_pixels=sigma)
    assert measured_fwhm(wave, degraded) == pytest.approx(H_ALPHA / 1_800, rel=0.05)
    # Same result when the kernel is derived inside degrade_resolution.
    np.testing.assert_allclose(
        degrade_resolution(wave, line, source_R=source_R, target_R=1_800), degraded
    )


def test_derived_sigma_matches_the_formula_in_source_pixels():
    wave = linear_wave()
    expected_angstrom = 6625.0 / 2.3548 * np.sqrt(1 / 1800**2 - 1 / 13000**2)
    assert kernel_sigma_angstrom(6625.0, 13_000, 1_800) == pytest.approx(expected_angstrom, 1e-4)
    assert gaussian_sigma_pixels(wave, 13_000, 1_800) == pytest.approx(
        expected_angstrom / PIXEL, rel=1e-3
    )


def test_published_seven_pixels_correspond_to_r_about_1550():
    wave = linear_wave()
    assert gaussian_sigma_pixels(wave, 13_000, 1_550) == pytest.approx(7.0, abs=0.1)
    line = instrumental_line(wave, H_ALPHA, 13_000)
    degraded = degrade_resolution(wave, line, sigma_pixels=7)
    expected = np.hypot(H_ALPHA / 13_000, FWHM_PER_SIGMA * 7 * PIXEL)  # ≈ 4.26 Å
    assert measured_fwhm(wave, degraded) == pytest.approx(expected, rel=0.03)


def test_log_linear_grid_gives_constant_resolving_power():
    # A fine log-linear grid (1e-5 dex per pixel): σ in pixels is the same at every λ.
    wave = 10.0 ** (np.log10(6200.0) + 1e-5 * np.arange(6000))
    lines = instrumental_line(wave, 6300.0, 20_000) + instrumental_line(wave, 6900.0, 20_000)
    degraded = degrade_resolution(wave, lines, source_R=20_000, target_R=1_800)
    for center in (6300.0, 6900.0):
        window = np.abs(wave - center) < 30
        fwhm = measured_fwhm(wave[window], degraded[window])
        assert fwhm == pytest.approx(center / 1_800, rel=0.02)


def test_degradation_conserves_equivalent_width():
    wave = linear_wave()
    line = instrumental_line(wave, H_ALPHA, 13_000)
    degraded = degrade_resolution(wave, line, source_R=13_000, target_R=1_800)
    assert np.trapz(degraded, wave) == pytest.approx(np.trapz(line, wave), rel=1e-3)
    assert degraded.max() < 0.2 * line.max()  # the peak really is smeared out


def test_flat_spectrum_is_not_darkened_at_the_edges():
    wave = linear_wave()
    degraded = degrade_resolution(wave, np.full(wave.size, 5.0), sigma_pixels=7)
    np.testing.assert_allclose(degraded, 5.0, rtol=1e-12)


def test_masked_and_non_finite_pixels_do_not_leak():
    wave = linear_wave()
    flux = np.full(wave.size, 2.0)
    mask = np.zeros(wave.size, dtype=bool)
    flux[500:505] = 1e6  # a masked cosmic ray
    mask[500:505] = True
    flux[900] = np.nan  # unmasked NaN is bad as well
    flux[1200] = np.inf
    degraded = degrade_resolution(wave, flux, sigma_pixels=6, mask=mask)
    # Every pixel, including the bad ones, now holds the mean of its good neighbours.
    np.testing.assert_allclose(degraded, 2.0, rtol=1e-12)


def test_pixels_without_good_neighbours_are_nan():
    wave = linear_wave()
    flux = np.ones(wave.size)
    mask = np.zeros(wave.size, dtype=bool)
    mask[800:1000] = True
    degraded = degrade_resolution(wave, flux, sigma_pixels=3, mask=mask)
    assert np.isnan(degraded[900])
    assert np.all(np.isfinite(degraded[:790]))


def test_no_degradation_when_source_is_not_sharper():
    wave = linear_wave()
    flux = instrumental_line(wave, H_ALPHA, 1_500)
    assert gaussian_sigma_pixels(wave, 1_500, 1_800) == 0.0
    out = degrade_resolution(wave, flux, source_R=1_500, target_R=1_800)
    np.testing.assert_array_equal(out, flux)
    assert out is not flux


def test_input_is_not_modified():
    wave = linear_wave()
    flux = instrumental_line(wave, H_ALPHA, 13_000)
    before = flux.copy()
    degrade_resolution(wave, flux, sigma_pixels=7)
    np.testing.assert_array_equal(flux, before)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # neither source_R nor sigma_pixels
        {"sigma_pixels": -1.0},
        {"sigma_pixels": np.nan},
        {"source_R": 0.0},
        {"source_R": 13_000, "target_R": -5.0},
    ],
)
def test_invalid_parameters_raise_config_error(kwargs):
    wave = linear_wave(n=100)
    with pytest.raises(ConfigError):
        degrade_resolution(wave, np.ones(100), **kwargs)


def test_unsorted_wavelengths_are_rejected():
    wave = linear_wave(n=100)[::-1]
    with pytest.raises(RejectedSpectrum) as info:
        degrade_resolution(wave, np.ones(100), sigma_pixels=2)
    assert info.value.code == "bad-wavelength"
