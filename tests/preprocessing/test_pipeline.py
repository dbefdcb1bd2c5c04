"""The whole chain on simulated LAMOST and Ondřejov spectra of the same stars."""

import numpy as np
import pytest

from activespec.errors import ConfigError, RejectedSpectrum
from activespec.preprocessing import (
    PreprocessConfig,
    air_to_vacuum,
    common_grid,
    preprocess,
    preprocess_with_details,
)

from .conftest import (
    A_STAR_LINES,
    BE_STAR_LINES,
    lamost_wave,
    make_spectrum,
    ondrejov_wave_air,
    star_flux,
)

H_ALPHA = 6564.614
GRID = common_grid()


def lamost_star(lines=A_STAR_LINES, **kwargs):
    wave = lamost_wave()
    return make_spectrum(wave, 300.0 * star_flux(wave, 1_800.0, lines), **kwargs)


def ondrejov_star(lines=A_STAR_LINES, resolving_power=13_000.0):
    wave_air = ondrejov_wave_air()
    flux = 1.0e5 * star_flux(air_to_vacuum(wave_air), 13_000.0, lines)
    return make_spectrum(wave_air, flux, medium="air", resolving_power=resolving_power)


def rejection(spectrum, config=None, **kwargs):
    with pytest.raises(RejectedSpectrum) as info:
        preprocess(spectrum, config or PreprocessConfig(), **kwargs)
    return info.value


def test_output_is_a_float32_vector_on_the_grid_in_minus_one_to_one(simulated_lamost_a_star):
    vector = preprocess(simulated_lamost_a_star)
    assert vector.dtype == np.float32
    assert vector.shape == (140,)
    assert vector.min() == -1.0 and vector.max() == 1.0
    assert abs(GRID[np.argmin(vector)] - H_ALPHA) < 1.0


@pytest.mark.parametrize(
    ("lines", "tolerance", "undegraded_difference"),
    [(A_STAR_LINES, 0.01, 0.05), (BE_STAR_LINES, 0.1, 0.5)],
    ids=["A-star", "Be-star"],
)
def test_degraded_ondrejov_spectrum_matches_lamost_spectrum_of_the_same_star(
    lines, tolerance, undegraded_difference
):
    lamost = preprocess(lamost_star(lines))
    degraded = preprocess(ondrejov_star(lines), degrade=True)
    assert np.abs(degraded - lamost).max() < tolerance
    # Without the domain adaptation the two instruments disagree clearly ...
    assert np.abs(preprocess(ondrejov_star(lines)) - lamost).max() > undegraded_difference
    # ... and the σ derived from R matches LAMOST better than the published 7 px.
    published = preprocess(ondrejov_star(lines), PreprocessConfig(sigma_pixels=7.0), degrade=True)
    assert np.abs(degraded - lamost).max() < np.abs(published - lamost).max()


def test_degradation_details_and_overrides():
    result = preprocess_with_details(ondrejov_star(), degrade=True)
    assert result.sigma_pixels == pytest.approx(6.03, abs=0.02)  # R 13,000 -> 1,800
    config = PreprocessConfig(sigma_pixels=7.0)
    assert preprocess_with_details(ondrejov_star(), config, degrade=True).sigma_pixels == 7.0
    config = PreprocessConfig(source_resolving_power=20_000.0)
    assert preprocess_with_details(ondrejov_star(), config, degrade=True).sigma_pixels > 6.03


def test_degrade_needs_a_resolving_power():
    spectrum = ondrejov_star(resolving_power=None)
    with pytest.raises(ConfigError, match="resolving power is unknown"):
        preprocess(spectrum, degrade=True)
    preprocess(spectrum, PreprocessConfig(source_resolving_power=13_000.0), degrade=True)


def test_degrade_does_nothing_when_source_is_not_sharper_than_target():
    spectrum = lamost_star(resolving_power=1_800.0)
    np.testing.assert_array_equal(preprocess(spectrum, degrade=True), preprocess(spectrum))
    assert preprocess_with_details(spectrum, degrade=True).sigma_pixels == 0.0


def test_air_and_vacuum_inputs_of_the_same_light_agree():
    air = ondrejov_star()
    vacuum = make_spectrum(air_to_vacuum(air.wave), air.flux, medium="vacuum")
    np.testing.assert_allclose(preprocess(air), preprocess(vacuum), atol=1e-6)


def test_nan_inf_and_ivar_zero_pixels_are_treated_as_bad(simulated_lamost_a_star):
    clean = preprocess(simulated_lamost_a_star)
    spectrum = lamost_star(ivar=simulated_lamost_a_star.ivar.copy())
    in_window = np.flatnonzero((spectrum.wave > 6530) & (spectrum.wave < 6720))
    spectrum.flux[in_window[[10, 11]]] = np.nan
    spectrum.flux[in_window[40]] = np.inf
    spectrum.flux[in_window[[70, 71, 72]]] = 1e6  # garbage with ivar = 0
    spectrum.ivar[in_window[[70, 71, 72]]] = 0.0
    result = preprocess_with_details(spectrum)
    assert result.n_repaired == 6
    assert np.all(np.isfinite(result.vector))
    assert np.abs(result.vector - clean).max() < 0.02


def test_too_many_bad_pixels_are_rejected_with_the_fraction(simulated_lamost_a_star):
    spectrum = simulated_lamost_a_star
    spectrum.ivar[(spectrum.wave > 6600) & (spectrum.wave < 6650)] = 0.0  # 50 of 213 Å
    error = rejection(spectrum)
    assert error.code == "too-many-bad-pixels"
    assert "23." in str(error) and "limit 20.0%" in str(error)
    # A looser limit accepts it and fills the hole along the grid.
    result = preprocess_with_details(spectrum, PreprocessConfig(max_bad_fraction=0.3))
    assert result.window_bad_fraction == pytest.approx(50.0 / 214.5, abs=0.01)
    hole = (GRID > 6602) & (GRID < 6648)
    assert np.all(result.bad_fraction[hole] == 1.0)
    np.testing.assert_allclose(np.diff(result.flux[hole], 2), 0.0, atol=1e-9)  # a straight line


def test_spectrum_outside_the_window_is_rejected_with_its_coverage():
    wave = np.linspace(3700.0, 6000.0, 2000)
    error = rejection(make_spectrum(wave, np.ones(wave.size)))
    assert error.code == "outside-window"
    assert "0.0% of the 6519-6732 Å window" in str(error)
    wave = np.linspace(6600.0, 9000.0, 2000)
    error = rejection(make_spectrum(wave, np.ones(wave.size)))
    assert error.code == "outside-window"
    assert "62." in str(error)


def test_constant_flux_is_rejected():
    wave = lamost_wave()
    flat = make_spectrum(wave, np.full(wave.size, 42.0))
    assert rejection(flat).code == "too-many-bad-pixels"  # a constant run is bad data
    assert rejection(flat, PreprocessConfig(min_constant_run=0)).code == "constant-flux"


def test_unsorted_wavelengths_are_rejected():
    spectrum = lamost_star()
    spectrum.wave[100], spectrum.wave[101] = spectrum.wave[101], spectrum.wave[100]
    assert rejection(spectrum).code == "bad-wavelength"


def test_same_spectrum_same_vector_and_inputs_untouched(simulated_lamost_a_star):
    spectrum = simulated_lamost_a_star
    before = (spectrum.wave.copy(), spectrum.flux.copy(), spectrum.mask.copy())
    first = preprocess(spectrum)
    second = preprocess(spectrum)
    assert first.tobytes() == second.tobytes()
    for array, copy in zip((spectrum.wave, spectrum.flux, spectrum.mask), before, strict=True):
        np.testing.assert_array_equal(array, copy)


def test_data_far_from_the_window_has_no_influence(simulated_lamost_a_star):
    clean = preprocess(simulated_lamost_a_star)
    spectrum = simulated_lamost_a_star
    spectrum.flux[spectrum.wave < 6400] = np.nan
    spectrum.flux[spectrum.wave > 6900] = 1e30
    np.testing.assert_array_equal(preprocess(spectrum), clean)


def test_details_agree_with_the_fast_path(simulated_ondrejov_a_star):
    result = preprocess_with_details(simulated_ondrejov_a_star, degrade=True)
    np.testing.assert_array_equal(
        result.vector, preprocess(simulated_ondrejov_a_star, degrade=True)
    )
    np.testing.assert_array_equal(result.grid, GRID)
    assert result.window_bad_fraction == 0.0
    assert result.continuum is None
    unscaled = preprocess(simulated_ondrejov_a_star, PreprocessConfig(scaling="none"), degrade=True)
    np.testing.assert_allclose(unscaled, result.flux, rtol=1e-6)
    assert 0.3e5 < unscaled.min() < unscaled.max() < 1.3e5  # still in ADU


def test_robust_scaling_and_continuum_options(simulated_lamost_a_star):
    robust = preprocess(simulated_lamost_a_star, PreprocessConfig(scaling="robust"))
    assert np.all(np.abs(robust) <= 3.0)
    config = PreprocessConfig(continuum=True, scaling="none")
    result = preprocess_with_details(simulated_lamost_a_star, config)
    assert result.continuum is not None
    far = (np.abs(GRID - H_ALPHA) > 40) & (np.abs(GRID - 6680.0) > 8)  # away from H-alpha, He I
    np.testing.assert_allclose(result.vector[far], 1.0, atol=0.02)
    assert result.vector.min() == pytest.approx(0.5, abs=0.06)  # R 1,800 line depth


def test_non_spectrum_config_is_a_config_error(simulated_lamost_a_star):
    with pytest.raises(ConfigError):
        preprocess(simulated_lamost_a_star, {"n_points": 140})
