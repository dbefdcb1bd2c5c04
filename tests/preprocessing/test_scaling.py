"""Per-spectrum min-max and robust scaling."""

import numpy as np
import pytest

from activespec.errors import ConfigError, RejectedSpectrum
from activespec.preprocessing import common_grid, scale_minmax, scale_robust

from .conftest import star_flux


@pytest.fixture()
def noisy_star():
    """An A star on the common grid with S/N ~ 100."""
    rng = np.random.default_rng(7)
    flux = 250.0 * star_flux(common_grid(), 1_800.0)
    return flux + rng.normal(0.0, 2.5, flux.size)


def test_minmax_hits_both_endpoints_and_keeps_the_shape(noisy_star):
    scaled = scale_minmax(noisy_star)
    assert scaled.min() == -1.0
    assert scaled.max() == 1.0
    assert np.argmin(scaled) == np.argmin(noisy_star)
    # Affine: correlation with the input is exactly 1.
    assert np.corrcoef(scaled, noisy_star)[0, 1] == pytest.approx(1.0, abs=1e-12)


def test_minmax_is_blind_to_flux_calibration(noisy_star):
    np.testing.assert_allclose(
        scale_minmax(3.7e-17 * noisy_star + 1e-18), scale_minmax(noisy_star), atol=1e-9
    )


def test_minmax_custom_range(noisy_star):
    scaled = scale_minmax(noisy_star, lo=0.0, hi=1.0)
    assert (scaled.min(), scaled.max()) == (0.0, 1.0)
    with pytest.raises(ConfigError):
        scale_minmax(noisy_star, lo=1.0, hi=0.0)


@pytest.mark.parametrize("value", [0.0, 5.0, -3e-17])
def test_constant_flux_is_rejected(value):
    with pytest.raises(RejectedSpectrum) as info:
        scale_minmax(np.full(140, value))
    assert info.value.code == "constant-flux"
    with pytest.raises(RejectedSpectrum) as info:
        scale_robust(np.full(140, value))
    assert info.value.code == "constant-flux"


def test_non_finite_values_are_rejected(noisy_star):
    noisy_star[3] = np.nan
    with pytest.raises(RejectedSpectrum) as info:
        scale_minmax(noisy_star)
    assert info.value.code == "non-finite"
    assert "1 of 140" in str(info.value)


def test_robust_scaling_ignores_a_single_cosmic_ray(noisy_star):
    spiked = noisy_star.copy()
    spiked[100] = 50.0 * noisy_star.max()
    others = np.arange(noisy_star.size) != 100

    robust_change = np.abs(scale_robust(spiked) - scale_robust(noisy_star))[others].max()
    minmax_change = np.abs(scale_minmax(spiked) - scale_minmax(noisy_star))[others].max()
    assert robust_change < 0.05
    assert minmax_change > 0.5  # min-max scaling is squashed by the spike
    assert scale_robust(spiked)[100] == 3.0  # the spike itself is clipped


def test_robust_scaling_range(noisy_star):
    scaled = scale_robust(noisy_star)
    assert np.all((scaled >= -3.0) & (scaled <= 3.0))
    lo, hi = np.percentile(scaled, [1.0, 99.0])
    assert lo == pytest.approx(-1.0)
    assert hi == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs", [{"percentiles": (99.0, 1.0)}, {"percentiles": (-1.0, 50.0)}, {"clip": 0.5}]
)
def test_robust_scaling_rejects_invalid_options(noisy_star, kwargs):
    with pytest.raises(ConfigError):
        scale_robust(noisy_star, **kwargs)
