"""The one rule deciding which spectra are degraded to the model's resolution (issue 12, bug 2)."""

import dataclasses

import numpy as np
import pytest

from activespec.constants import R_LAMOST_LRS, R_LAMOST_MRS, R_ONDREJOV
from activespec.preprocessing import (
    PreprocessConfig,
    preprocess,
    preprocess_with_details,
    should_degrade,
)

from .conftest import lamost_wave, make_spectrum, star_flux


def _with_resolving_power(spectrum, resolving_power):
    return dataclasses.replace(
        spectrum, meta=dataclasses.replace(spectrum.meta, resolving_power=resolving_power)
    )


@pytest.mark.parametrize(
    ("resolving_power", "target", "expected"),
    [
        (R_LAMOST_LRS, R_LAMOST_LRS, False),  # the pool at the model's resolution
        (R_LAMOST_MRS, R_LAMOST_LRS, True),
        (R_ONDREJOV, R_LAMOST_LRS, True),  # the labelled instrument
        (None, R_LAMOST_LRS, False),  # unknown: never guessed
        (R_LAMOST_MRS, 10_000.0, False),  # a sharper model
    ],
)
def test_degrade_only_a_known_resolving_power_above_the_models(
    simulated_lamost_a_star, resolving_power, target, expected
):
    spectrum = _with_resolving_power(simulated_lamost_a_star, resolving_power)
    config = PreprocessConfig(target_resolving_power=target, sigma_pixels=7.0)
    assert should_degrade(spectrum, config) is expected


def test_sigma_pixels_never_blurs_a_spectrum_at_the_models_resolution(simulated_lamost_a_star):
    """The published sigma_pixels = 7 is the Ondřejov kernel; a LAMOST LRS spectrum asked
    to be degraded stays as it is (before: blurred by 7 of its own pixels)."""
    config = PreprocessConfig(sigma_pixels=7.0)
    sharp = preprocess(simulated_lamost_a_star, config)
    asked = preprocess_with_details(simulated_lamost_a_star, config, degrade=True)
    assert asked.sigma_pixels == 0.0
    np.testing.assert_array_equal(asked.vector, sharp)


def test_sigma_pixels_still_degrades_the_sharper_instrument(simulated_ondrejov_a_star):
    config = PreprocessConfig(sigma_pixels=7.0)
    assert should_degrade(simulated_ondrejov_a_star, config)
    details = preprocess_with_details(simulated_ondrejov_a_star, config, degrade=True)
    assert details.sigma_pixels == 7.0


def test_unknown_resolving_power_is_not_degraded_by_the_rule():
    wave = lamost_wave()
    spectrum = make_spectrum(wave, 300.0 * star_flux(wave, R_LAMOST_LRS))
    config = PreprocessConfig(sigma_pixels=7.0)
    assert not should_degrade(spectrum, config)
    np.testing.assert_array_equal(
        preprocess(spectrum, config, degrade=should_degrade(spectrum, config)),
        preprocess(spectrum, config),
    )
