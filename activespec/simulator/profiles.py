"""Line-profile and continuum shapes used by the survey simulator.

All profiles of spectral lines are normalised to unit area, so that a line of
equivalent width ``EW`` contributes ``EW * profile`` to a continuum-normalised
spectrum. Widths are in Ångström unless stated otherwise. Each Gaussian-cored
profile accepts an ``extra_sigma``: convolving a Gaussian of width ``sigma``
with a Gaussian of width ``extra_sigma`` gives a Gaussian of width
``hypot(sigma, extra_sigma)``, and a Lorentzian convolved with a Gaussian is a
Voigt profile, so the instrument's line-spread function can be applied
analytically where the simulator does not work on a fine grid.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve
from scipy.special import erfc, erfcx

#: Speed of light [km/s].
C_KMS = 299_792.458
#: Second radiation constant h c / k [Å K].
HC_OVER_K = 1.438_776_877e8
#: FWHM / sigma of a Gaussian.
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
_SQRT_2PI = np.sqrt(2.0 * np.pi)


def gaussian(x, sigma):
    """Unit-area Gaussian of standard deviation ``sigma`` evaluated at offsets ``x``."""
    return np.exp(-0.5 * (x / sigma) ** 2) / (sigma * _SQRT_2PI)


def lorentzian(x, gamma):
    """Unit-area Lorentzian of half width at half maximum ``gamma``."""
    return (gamma / np.pi) / (x * x + gamma * gamma)


def pseudo_voigt(x, sigma, gamma):
    """Unit-area Voigt profile in the pseudo-Voigt approximation.

    Parameters
    ----------
    x : ndarray
        Offsets from line centre [Å].
    sigma : float
        Standard deviation of the Gaussian part [Å], > 0.
    gamma : float
        Half width at half maximum of the Lorentzian part [Å], >= 0.

    Returns
    -------
    ndarray
        The profile; its integral over all ``x`` is 1.

    Notes
    -----
    Thompson, Cox & Hastings (1987, J. Appl. Cryst. 20, 79): a weighted sum of a
    Gaussian and a Lorentzian of a common FWHM, accurate to about 1 % of the peak.
    """
    if gamma <= 0.0:
        return gaussian(x, sigma)
    fg = FWHM_PER_SIGMA * sigma
    fl = 2.0 * gamma
    f = (
        fg**5
        + 2.69269 * fg**4 * fl
        + 2.42843 * fg**3 * fl**2
        + 4.47163 * fg**2 * fl**3
        + 0.07842 * fg * fl**4
        + fl**5
    ) ** 0.2
    r = fl / f
    eta = 1.36603 * r - 0.47719 * r * r + 0.11116 * r**3
    return eta * lorentzian(x, 0.5 * f) + (1.0 - eta) * gaussian(x, f / FWHM_PER_SIGMA)


def band_head(x, scale, sigma=0.0):
    """Molecular band shape: a sharp head at ``x = 0`` fading to the red.

    The unbroadened shape is ``H(x) exp(-x / scale)`` (zero blueward of the
    head, 1 at the head). With ``sigma > 0`` it is convolved analytically with
    a Gaussian (an exponentially modified Gaussian).

    Parameters
    ----------
    x : ndarray
        Offsets from the band head [Å].
    scale : float
        e-folding length of the absorption redward of the head [Å].
    sigma : float, optional
        Gaussian broadening [Å].

    Returns
    -------
    ndarray
        Fractional absorption depth profile with values in [0, 1].
    """
    x = np.asarray(x, dtype=np.float64)
    if sigma <= 0.0:
        return np.where(x >= 0.0, np.exp(-np.clip(x, 0.0, None) / scale), 0.0)
    z = (sigma / scale - x / sigma) / np.sqrt(2.0)
    out = np.empty_like(x)
    pos = z >= 0.0
    # erfcx keeps the product finite where exp() alone would overflow.
    out[pos] = 0.5 * erfcx(z[pos]) * np.exp(-0.5 * (x[pos] / sigma) ** 2)
    neg = ~pos
    out[neg] = 0.5 * np.exp(0.5 * (sigma / scale) ** 2 - x[neg] / scale) * erfc(z[neg])
    return out


def rotation_kernel(vsini, step_ln, limb_darkening=0.6):
    """Rotational broadening kernel on a grid uniform in ln(wavelength).

    Parameters
    ----------
    vsini : float
        Projected equatorial rotation velocity [km/s].
    step_ln : float
        Grid step in natural-log wavelength.
    limb_darkening : float, optional
        Linear limb-darkening coefficient (Gray 2005, eq. 18.14).

    Returns
    -------
    ndarray or None
        Odd-length kernel summing to 1, or None when the broadening is below
        about one grid step and can be ignored.
    """
    half = vsini / C_KMS / step_ln
    if half < 1.0:
        return None
    n = int(np.ceil(half))
    x = np.arange(-n, n + 1) / half
    inside = np.clip(1.0 - x * x, 0.0, None)
    eps = limb_darkening
    kernel = 2.0 * (1.0 - eps) * np.sqrt(inside) + 0.5 * np.pi * eps * inside
    return kernel / kernel.sum()


def gaussian_kernel(sigma_px, truncate=4.5):
    """Odd-length, unit-sum Gaussian kernel of width ``sigma_px`` grid steps."""
    n = max(1, int(np.ceil(truncate * sigma_px)))
    x = np.arange(-n, n + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma_px) ** 2)
    return k / k.sum()


def planck_shape(wave, teff, reference=6564.6):
    """Planck function B_lambda(T) normalised to 1 at ``reference`` Å."""
    wave = np.asarray(wave, dtype=np.float64)

    def b(w):
        return w**-5.0 / np.expm1(HC_OVER_K / (w * teff))

    return b(wave) / b(reference)


def extinction_factor(wave, a_v):
    """Interstellar extinction transmission for visual extinction ``a_v`` [mag].

    A power law A_lambda / A_V = (lambda / 5500 Å)^-1.3, close to the Cardelli,
    Clayton & Mathis (1989) curve in the optical; enough to redden hot stars
    realistically.
    """
    if a_v <= 0.0:
        return np.ones_like(np.asarray(wave, dtype=np.float64))
    return 10.0 ** (-0.4 * a_v * (np.asarray(wave) / 5500.0) ** -1.3)


def keplerian_disk_profile(u, outer_radius, emissivity_index, local_sigma):
    """Emission profile of a rotating Keplerian disk in units of the outer-edge velocity.

    Parameters
    ----------
    u : ndarray
        Uniformly spaced projected velocities divided by the projected velocity of
        the disk's outer edge (the horns sit near ``u = +-1``).
    outer_radius : float
        Outer disk radius in units of the inner radius (> 1).
    emissivity_index : float
        Surface emissivity falls as r**-emissivity_index.
    local_sigma : float
        Local (thermal + turbulent) Gaussian broadening in the same units as ``u``.

    Returns
    -------
    ndarray
        Profile with unit integral over ``u`` (up to grid truncation).

    Notes
    -----
    A thin ring of projected velocity s contributes 1 / (pi sqrt(s^2 - u^2)) for
    |u| < s (Huang 1972; Horne & Marsh 1986); the disk is a sum of rings with
    s = sqrt(outer_radius / r). Each ring is integrated exactly over the grid
    bins with arcsin, so the ring horns do not alias.
    """
    du = u[1] - u[0]
    edges = np.concatenate(([u[0] - 0.5 * du], u + 0.5 * du))
    radii = np.geomspace(1.0, outer_radius, 40)
    weights = radii ** (2.0 - emissivity_index)  # emissivity * r dr on a log grid
    weights /= weights.sum()
    speeds = np.sqrt(outer_radius / radii)
    clipped = np.clip(edges[None, :] / speeds[:, None], -1.0, 1.0)
    cumulative = np.arcsin(clipped) / np.pi  # ring CDF at the bin edges
    profile = (weights[:, None] * np.diff(cumulative, axis=1)).sum(axis=0) / du
    if local_sigma > 0.0:
        profile = fftconvolve(profile, gaussian_kernel(local_sigma / du), mode="same")
    return profile
