"""Line shapes of the simulator: normalisation and the analytic broadening identities."""

import numpy as np
import pytest
from scipy.special import voigt_profile

from activespec.simulator import profiles
from activespec.simulator.sources import DiskEmission


def test_gaussian_and_voigt_have_unit_area():
    x = np.linspace(-4000.0, 4000.0, 800_001)
    dx = x[1] - x[0]
    assert np.sum(profiles.gaussian(x, 1.3)) * dx == pytest.approx(1.0, abs=1e-9)
    # A Lorentzian of HWHM 2 loses 2 * gamma / (pi * 4000) of its area beyond +-4000.
    assert np.sum(profiles.pseudo_voigt(x, 0.8, 2.0)) * dx == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(("sigma", "gamma"), [(1.0, 0.2), (1.0, 1.0), (0.5, 3.0)])
def test_pseudo_voigt_matches_the_exact_voigt_profile(sigma, gamma):
    x = np.linspace(-30.0, 30.0, 6001)
    exact = voigt_profile(x, sigma, gamma)
    approx = profiles.pseudo_voigt(x, sigma, gamma)
    assert np.max(np.abs(approx - exact)) < 0.02 * exact.max()


def test_band_head_broadening_equals_numerical_convolution():
    x = np.linspace(-100.0, 400.0, 50_001)
    dx = x[1] - x[0]
    sharp = profiles.band_head(x, 40.0)
    assert sharp[x < 0].max() == 0.0 and sharp[np.searchsorted(x, 0.0)] == pytest.approx(1.0)
    kernel = profiles.gaussian_kernel(2.0 / dx)
    numeric = np.convolve(sharp, kernel, mode="same")
    analytic = profiles.band_head(x, 40.0, sigma=2.0)
    inner = slice(5000, -5000)
    assert np.max(np.abs(numeric[inner] - analytic[inner])) < 2e-3
    # Broadening conserves the integrated absorption (= scale).
    assert np.sum(analytic) * dx == pytest.approx(40.0, rel=1e-3)


def test_rotation_kernel_width_and_normalisation():
    step = 1e-5
    kernel = profiles.rotation_kernel(200.0, step)
    half = 200.0 / profiles.C_KMS / step
    assert kernel.sum() == pytest.approx(1.0)
    assert len(kernel) == 2 * int(np.ceil(half)) + 1
    assert profiles.rotation_kernel(1.0, step) is None  # below one grid step


def test_planck_shape_is_normalised_and_hot_stars_are_blue():
    assert profiles.planck_shape(np.array([6564.6]), 5800.0)[0] == pytest.approx(1.0)
    hot = profiles.planck_shape(np.array([4000.0]), 20000.0)[0]
    cool = profiles.planck_shape(np.array([4000.0]), 3500.0)[0]
    assert hot > 1.0 > cool


def test_keplerian_disk_profile_has_horns_near_the_outer_edge_velocity():
    u = np.linspace(-4.0, 4.0, 4001)
    p = profiles.keplerian_disk_profile(u, 10.0, 2.5, 0.05)
    assert np.sum(p) * (u[1] - u[0]) == pytest.approx(1.0, abs=1e-3)
    blue, red = u[np.argmax(np.where(u < 0, p, 0))], u[np.argmax(np.where(u > 0, p, 0))]
    assert blue == pytest.approx(-1.0, abs=0.1) and red == pytest.approx(1.0, abs=0.1)
    assert p[2000] < 0.8 * p.max()  # a central depression


@pytest.mark.parametrize("v_over_r", [0.7, 1.0, 1.4])
def test_disk_emission_peaks_sit_at_the_requested_separation_and_ratio(v_over_r):
    disk = DiskEmission(6564.61, -20.0, 9.0, v_over_r, 8.0, 2.5, 0.08)
    x = np.linspace(-40.0, 40.0, 16001)
    y = disk.emission(x)
    blue = x[np.argmax(np.where(x < 0, y, 0))]
    red = x[np.argmax(np.where(x > 0, y, 0))]
    assert red - blue == pytest.approx(9.0, abs=0.02)
    assert y.max() > 0 and np.sum(y) * (x[1] - x[0]) == pytest.approx(20.0, rel=1e-3)
    ratio = np.max(np.where(x < 0, y, 0)) / np.max(np.where(x > 0, y, 0))
    assert ratio == pytest.approx(v_over_r, rel=0.05)
