"""Bad-pixel masks and interpolation over short gaps."""

import numpy as np
import pytest

from activespec.errors import ConfigError
from activespec.preprocessing import bad_pixel_mask, repair_bad_pixels
from activespec.preprocessing.badpixels import constant_runs

from .conftest import gaussian


def sloped(n=200):
    wave = 6500.0 + 1.5 * np.arange(n)
    return wave, 3.0 + 0.02 * (wave - 6500.0)


def gap_mask(n, *runs):
    mask = np.zeros(n, dtype=bool)
    for start, length in runs:
        mask[start : start + length] = True
    return mask


def test_short_gap_is_interpolated_exactly_on_a_straight_line():
    wave, flux = sloped()
    corrupted = flux.copy()
    corrupted[50:53] = -999.0
    repaired, remaining = repair_bad_pixels(
        wave, corrupted, gap_mask(wave.size, (50, 3)), max_gap_pixels=5
    )
    np.testing.assert_allclose(repaired, flux, rtol=1e-12)
    assert not remaining.any()


def test_long_gap_stays_masked_and_untouched():
    wave, flux = sloped()
    corrupted = flux.copy()
    corrupted[100:108] = -999.0
    mask = gap_mask(wave.size, (100, 8))
    repaired, remaining = repair_bad_pixels(wave, corrupted, mask, max_gap_pixels=5)
    np.testing.assert_array_equal(remaining, mask)
    np.testing.assert_array_equal(repaired[100:108], -999.0)


def test_gap_length_limit_is_inclusive():
    wave, flux = sloped()
    mask = gap_mask(wave.size, (20, 5), (60, 6))
    _, remaining = repair_bad_pixels(wave, flux, mask, max_gap_pixels=5)
    assert not remaining[20:25].any()
    assert remaining[60:66].all()


def test_runs_touching_the_ends_are_not_extrapolated():
    wave, flux = sloped()
    mask = gap_mask(wave.size, (0, 2), (wave.size - 3, 3))
    repaired, remaining = repair_bad_pixels(wave, flux, mask, max_gap_pixels=5)
    np.testing.assert_array_equal(remaining, mask)


def test_nan_and_inf_are_bad_even_when_not_masked():
    wave, flux = sloped()
    corrupted = flux.copy()
    corrupted[30] = np.nan
    corrupted[31] = np.inf
    corrupted[90:100] = np.nan  # too long
    repaired, remaining = repair_bad_pixels(
        wave, corrupted, np.zeros(wave.size, bool), max_gap_pixels=3
    )
    np.testing.assert_allclose(repaired[30:32], flux[30:32], rtol=1e-12)
    assert remaining[90:100].all()
    assert np.count_nonzero(remaining) == 10


def test_interpolation_across_an_absorption_line_uses_the_nearest_good_pixels():
    wave = 6540.0 + 1.5 * np.arange(40)
    flux = 1.0 - gaussian(wave, 6564.6, 4.0, 0.6)
    mask = np.zeros(wave.size, bool)
    core = np.argmin(flux)
    mask[core - 1 : core + 1] = True
    repaired, _ = repair_bad_pixels(wave, flux, mask, max_gap_pixels=5)
    left, right = flux[core - 2], flux[core + 1]
    assert np.all(repaired[core - 1 : core + 1] >= min(left, right) - 1e-12)
    assert np.all(repaired[core - 1 : core + 1] <= max(left, right) + 1e-12)


def test_zero_max_gap_repairs_nothing_and_inputs_are_not_modified():
    wave, flux = sloped()
    mask = gap_mask(wave.size, (10, 1))
    flux_before, mask_before = flux.copy(), mask.copy()
    repaired, remaining = repair_bad_pixels(wave, flux, mask, max_gap_pixels=0)
    np.testing.assert_array_equal(remaining, mask)
    np.testing.assert_array_equal(flux, flux_before)
    np.testing.assert_array_equal(mask, mask_before)
    repair_bad_pixels(wave, flux, mask, max_gap_pixels=5)
    np.testing.assert_array_equal(flux, flux_before)
    np.testing.assert_array_equal(mask, mask_before)


@pytest.mark.parametrize("max_gap", [-1, 2.5, True, "5"])
def test_invalid_max_gap_raises_config_error(max_gap):
    wave, flux = sloped()
    with pytest.raises(ConfigError):
        repair_bad_pixels(wave, flux, None, max_gap_pixels=max_gap)


def test_bad_pixel_mask_combines_every_reason():
    flux = np.array([1.0, np.nan, 3.0, np.inf, 5.0, 6.0, 7.0])
    ivar = np.array([1.0, 1.0, 0.0, 1.0, -2.0, np.nan, 1.0])
    mask = np.array([False, False, False, False, False, False, True])
    bad = bad_pixel_mask(flux, mask, ivar)
    np.testing.assert_array_equal(bad, [False, True, True, True, True, True, True])


def test_constant_runs_flag_zeroed_segments_but_not_noise():
    rng = np.random.default_rng(3)
    flux = 100.0 + rng.normal(0.0, 1.0, 60)
    flux[10:14] = 0.0  # 4 zeros: a zeroed segment
    flux[30:33] = 7.0  # only 3 equal values
    flagged = constant_runs(flux, 4)
    np.testing.assert_array_equal(np.flatnonzero(flagged), np.arange(10, 14))
    assert constant_runs(flux, 3)[30:33].all()
    np.testing.assert_array_equal(bad_pixel_mask(flux, min_constant_run=4), flagged)
    assert not bad_pixel_mask(flux).any()


def test_constant_run_length_must_be_at_least_two():
    with pytest.raises(ConfigError):
        constant_runs(np.ones(5), 1)
