"""Continuum estimation and normalisation (optional; off in the published pipeline).

Škoda et al. (2020) found continuum normalisation changed accuracy by < 1 % and
did not use it; it is offered for experiments and plots. The continuum is a
low-order Chebyshev polynomial fitted with iterative asymmetric sigma clipping,
never using the H-alpha core (±15 Å), where emission or absorption dominates.
"""

from __future__ import annotations

import numpy as np

from activespec.constants import H_ALPHA_VACUUM
from activespec.errors import ConfigError, RejectedSpectrum
from activespec.preprocessing._checks import (
    as_float_1d,
    as_mask,
    check_same_length,
    check_wavelengths,
)

#: Wavelength ranges [Å, vacuum] never used for the continuum fit: the H-alpha core.
H_ALPHA_CORE = ((H_ALPHA_VACUUM - 15.0, H_ALPHA_VACUUM + 15.0),)

#: Floor of the clipping scale, in units in the last place of the flux level: a scatter
#: at the level of floating-point rounding (a noiseless spectrum, whose residuals and
#: fit offset depend on the BLAS build) is no reason to clip a pixel.
ROUNDING_ULPS = 64.0


def fit_continuum(
    wave,
    flux,
    mask=None,
    *,
    degree: int = 3,
    exclude: tuple[tuple[float, float], ...] = H_ALPHA_CORE,
    sigma_lower: float = 2.0,
    sigma_upper: float = 3.0,
    max_iterations: int = 10,
) -> np.ndarray:
    """Fit a smooth continuum with an iteratively sigma-clipped Chebyshev polynomial.

    Each iteration fits the kept pixels by least squares, measures the scatter
    of the residuals robustly (1.4826 × median absolute deviation) and drops the
    pixels more than ``sigma_lower`` below or ``sigma_upper`` above the fit
    (absorption lines are clipped harder than noise). The scatter is floored at
    :data:`ROUNDING_ULPS` units in the last place of the flux level, so rounding
    noise never clips. It stops when the kept set no longer changes.

    Parameters
    ----------
    wave : array_like
        Strictly increasing wavelengths [Å]; vacuum for the default ``exclude``.
    flux : array_like
        Flux, same length.
    mask : array_like of bool, optional
        True on pixels that must not be used (they still get a continuum value).
    degree : int, optional
        Polynomial degree (default 3).
    exclude : sequence of (float, float), optional
        Wavelength ranges never used (default: H-alpha vacuum ±15 Å).
    sigma_lower, sigma_upper : float, optional
        Clipping thresholds in units of the residual scatter.
    max_iterations : int, optional
        Upper bound on the clipping iterations.

    Returns
    -------
    ndarray of float64
        The continuum evaluated at every pixel of ``wave``.

    Raises
    ------
    activespec.errors.RejectedSpectrum
        ``code="bad-continuum"`` if fewer than ``degree + 2`` usable pixels remain.
    activespec.errors.ConfigError
        For invalid parameters.
    """
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise ConfigError(f"degree must be an integer >= 0, got {degree!r}")
    if not (sigma_lower > 0 and sigma_upper > 0):
        raise ConfigError("sigma_lower and sigma_upper must be > 0")
    wave = as_float_1d("wave", wave)
    flux = as_float_1d("flux", flux)
    check_same_length(wave, flux)
    check_wavelengths(wave)
    usable = ~as_mask(mask, flux.size) & np.isfinite(flux)
    for lo, hi in exclude:
        usable &= (wave < lo) | (wave > hi)

    # Chebyshev basis on [-1, 1] keeps the least-squares problem well conditioned.
    x = 2.0 * (wave - wave[0]) / (wave[-1] - wave[0]) - 1.0
    basis = np.polynomial.chebyshev.chebvander(x, degree)
    kept = usable.copy()
    for _ in range(max_iterations):
        if np.count_nonzero(kept) < degree + 2:
            raise RejectedSpectrum(
                f"continuum fit has only {np.count_nonzero(kept)} usable pixels "
                f"for a degree-{degree} polynomial",
                code="bad-continuum",
            )
        coeffs, *_ = np.linalg.lstsq(basis[kept], flux[kept], rcond=None)
        model = basis @ coeffs
        residual = flux - model
        scatter = 1.4826 * np.median(np.abs(residual[kept] - np.median(residual[kept])))
        rounding = ROUNDING_ULPS * np.spacing(np.max(np.abs(flux[kept])))
        scatter = max(scatter, rounding)
        new_kept = usable & (residual > -sigma_lower * scatter) & (residual < sigma_upper * scatter)
        if np.array_equal(new_kept, kept):
            break
        kept = new_kept
    return model


def normalise_continuum(wave, flux, mask=None, **fit_options) -> np.ndarray:
    """Divide a spectrum by its fitted continuum (:func:`fit_continuum`).

    Parameters
    ----------
    wave, flux, mask : array_like
        As for :func:`fit_continuum`.
    **fit_options
        Passed to :func:`fit_continuum` (``degree``, ``exclude``, ...).

    Returns
    -------
    ndarray of float64
        ``flux / continuum``: about 1 in the continuum, < 1 in absorption lines,
        > 1 in emission lines.

    Raises
    ------
    activespec.errors.RejectedSpectrum
        ``code="bad-continuum"`` if the fit fails or the continuum is not
        positive everywhere (e.g. noise around zero flux).
    """
    continuum = fit_continuum(wave, flux, mask, **fit_options)
    check_positive_continuum(continuum)
    return as_float_1d("flux", flux) / continuum


def check_positive_continuum(continuum: np.ndarray) -> None:
    """Raise ``RejectedSpectrum(code="bad-continuum")`` unless the continuum is > 0 everywhere."""
    if not np.all(continuum > 0):
        raise RejectedSpectrum(
            f"fitted continuum is not positive everywhere (minimum {np.min(continuum):.4g})",
            code="bad-continuum",
        )
