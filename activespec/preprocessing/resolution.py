"""Resolution degradation: make a high-resolution spectrum look like a low-resolution one.

Škoda et al. (2020) adapted the labelled Ondřejov spectra (R ≈ 13,000) to LAMOST
(R ≈ 1,800) by a Gaussian convolution of σ = 7 Ondřejov pixels, chosen by eye.
Here σ can also be derived from the two resolving powers: Gaussian line-spread
functions add in quadrature, so the kernel that takes FWHM λ/R_s to λ/R_t has

    σ_kernel = λ / 2.3548 · sqrt(1/R_t² − 1/R_s²)   [Å],

expressed in pixels of the source grid at a reference wavelength λ_c.

Approximation: the kernel has one width in pixels over the whole spectrum.
On a log-linear grid (LAMOST) this is exact, because both the pixel width and
the kernel width in Å scale with λ (constant velocity width). On a linear grid
(Ondřejov) the true kernel width in pixels scales with λ/λ_c, so the relative
error of σ is |λ − λ_c| / λ_c: at most 1.6 % over the published 6519-6732 Å
window with λ_c = 6625 Å, far below the uncertainty of the nominal R.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from activespec.errors import ConfigError
from activespec.preprocessing._checks import (
    as_float_1d,
    as_mask,
    check_same_length,
    check_wavelengths,
)

#: FWHM / σ of a Gaussian, 2·sqrt(2·ln 2).
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
#: The kernel is cut at this many σ (scipy's default, kept explicit for the margin logic).
KERNEL_TRUNCATE = 4.0
#: Default reference wavelength: the centre of the published 6519-6732 Å window.
DEFAULT_CENTER = 6625.0
# Output pixels whose kernel saw less than this fraction of good weight have no estimate.
_MIN_WEIGHT = 1e-3


def kernel_sigma_angstrom(wavelength: float, source_R: float, target_R: float) -> float:
    """Width σ [Å] of the Gaussian that degrades resolving power ``source_R`` to ``target_R``.

    Parameters
    ----------
    wavelength : float
        Wavelength [Å] at which the resolving powers apply.
    source_R, target_R : float
        Resolving powers λ/Δλ (FWHM) of the data and of the wanted result, both > 0.

    Returns
    -------
    float
        σ in Å; 0.0 when ``source_R <= target_R`` (nothing to degrade).
    """
    _check_positive("source_R", source_R)
    _check_positive("target_R", target_R)
    _check_positive("wavelength", wavelength)
    if source_R <= target_R:
        return 0.0
    return float(wavelength / FWHM_PER_SIGMA * np.sqrt(1.0 / target_R**2 - 1.0 / source_R**2))


def gaussian_sigma_pixels(
    wave, source_R: float, target_R: float, center: float = DEFAULT_CENTER
) -> float:
    """Kernel width σ in pixels of ``wave`` that degrades ``source_R`` to ``target_R``.

    Parameters
    ----------
    wave : array_like
        Strictly increasing pixel centres [Å] of the source spectrum (linear,
        log-linear or any smooth sampling).
    source_R, target_R : float
        Resolving powers of the data and of the target instrument.
    center : float, optional
        Reference wavelength λ_c [Å] where σ is evaluated (default 6625 Å). The
        local pixel size there is used; outside ``wave`` the nearest pixel's size.

    Returns
    -------
    float
        σ in source pixels; 0.0 when ``source_R <= target_R``. For R_s = 13,000,
        R_t = 1,800 and 0.2567 Å pixels at 6625 Å this is about 5.9 px.

    Raises
    ------
    activespec.errors.ConfigError
        If a resolving power or ``center`` is not positive.
    activespec.errors.RejectedSpectrum
        If ``wave`` is not a strictly increasing 1-D array.
    """
    wave = as_float_1d("wave", wave)
    check_wavelengths(wave)
    return _sigma_pixels(wave, source_R, target_R, center)


def _sigma_pixels(wave: np.ndarray, source_R: float, target_R: float, center: float) -> float:
    """:func:`gaussian_sigma_pixels` on a checked wavelength array."""
    sigma_angstrom = kernel_sigma_angstrom(center, source_R, target_R)
    if sigma_angstrom == 0.0:
        return 0.0
    i = int(np.clip(np.searchsorted(wave, center), 1, wave.size - 1))
    return sigma_angstrom / (wave[i] - wave[i - 1])


def kernel_radius_pixels(sigma_pixels: float) -> int:
    """Half-width in pixels at which the Gaussian kernel is cut (as scipy does)."""
    return int(KERNEL_TRUNCATE * float(sigma_pixels) + 0.5)


def degrade_resolution(
    wave,
    flux,
    *,
    source_R: float | None = None,
    target_R: float = 1800.0,
    sigma_pixels: float | None = None,
    center: float = DEFAULT_CENTER,
    mask=None,
) -> np.ndarray:
    """Convolve a spectrum with a Gaussian to lower its resolving power.

    The convolution is normalised by the convolved weights,
    ``(G * (w·f)) / (G * w)`` with ``w = 1`` on good pixels and 0 on bad ones and
    outside the array. Hence the edges are not darkened (the kernel is
    renormalised over the pixels that exist) and masked or non-finite pixels
    never leak into their neighbours.

    Parameters
    ----------
    wave : array_like
        Strictly increasing pixel centres [Å].
    flux : array_like
        Flux, same length as ``wave``. NaN and inf count as bad pixels.
    source_R : float, optional
        Resolving power of the data; needed unless ``sigma_pixels`` is given.
    target_R : float, optional
        Wanted resolving power (default 1,800, LAMOST LRS).
    sigma_pixels : float, optional
        Explicit kernel σ in pixels; overrides the value derived from the
        resolving powers. ``sigma_pixels=7`` reproduces Škoda et al. (2020).
    center : float, optional
        Reference wavelength [Å] for deriving σ (see :func:`gaussian_sigma_pixels`).
    mask : array_like of bool, optional
        True on bad pixels, which get zero weight.

    Returns
    -------
    ndarray of float64
        The degraded flux. Bad pixels receive the kernel-weighted mean of their
        good neighbours (an estimate: keep your mask); pixels with no good
        neighbour within the kernel are NaN. When σ is 0 (``source_R <= target_R``)
        the input is returned unchanged (as a copy).

    Raises
    ------
    activespec.errors.ConfigError
        If neither ``source_R`` nor ``sigma_pixels`` is given, or a value is not
        positive.
    activespec.errors.RejectedSpectrum
        If the arrays are malformed.
    """
    wave = as_float_1d("wave", wave)
    flux = as_float_1d("flux", flux)
    check_same_length(wave, flux)
    check_wavelengths(wave)
    if sigma_pixels is None:
        if source_R is None:
            raise ConfigError(
                "cannot degrade the resolution: the source resolving power is unknown "
                "(give source_R or sigma_pixels)"
            )
        sigma = _sigma_pixels(wave, source_R, target_R, center)
    else:
        sigma = float(sigma_pixels)
        if not np.isfinite(sigma) or sigma < 0:
            raise ConfigError(f"sigma_pixels must be a finite number >= 0, got {sigma_pixels!r}")
    good = ~as_mask(mask, flux.size) & np.isfinite(flux)
    if sigma == 0.0:
        return flux.copy()
    return _normalised_gaussian_filter(flux, good, sigma)


def _normalised_gaussian_filter(flux: np.ndarray, good: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian filter of ``flux`` normalised by the filtered weights of the good pixels."""
    # Row 0: weighted flux, row 1: weights; one filter call smooths both along the pixels.
    stacked = np.empty((2, flux.size))
    np.copyto(stacked[0], np.where(good, flux, 0.0))
    np.copyto(stacked[1], good)
    # mode="constant" puts zero weight outside the array; dividing by the smoothed
    # weights then renormalises the kernel at the edges and around masked pixels.
    numerator, denominator = gaussian_filter1d(
        stacked, sigma, axis=1, mode="constant", cval=0.0, truncate=KERNEL_TRUNCATE
    )
    ok = denominator > _MIN_WEIGHT
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, numerator / denominator, np.nan)


def _check_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
