"""Per-spectrum intensity scaling of the resampled flux.

Škoda et al. (2020) scaled each spectrum to [-1, 1] by its minimum and maximum
(:func:`scale_minmax`), which makes the classifier blind to flux calibration and
distance but lets one cosmic-ray spike squash the rest of the spectrum.
:func:`scale_robust` maps percentiles instead and clips the outliers.
"""

from __future__ import annotations

import numpy as np

from activespec.errors import ConfigError, RejectedSpectrum
from activespec.preprocessing._checks import as_float_1d

# A range below this fraction of the largest |value| is round-off, not signal.
_CONSTANT_RTOL = 1e-9


def scale_minmax(x, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """Scale linearly so that the minimum becomes ``lo`` and the maximum ``hi``.

    Parameters
    ----------
    x : array_like
        1-D flux values, all finite.
    lo, hi : float, optional
        Output range, ``lo < hi`` (default -1, 1 as published).

    Returns
    -------
    ndarray of float64
        Scaled values; the minimum maps exactly to ``lo`` and the maximum exactly to ``hi``.

    Raises
    ------
    activespec.errors.RejectedSpectrum
        ``code="constant-flux"`` if all values are equal (to 1e-9 relative), so no
        shape survives; ``code="non-finite"`` if a value is NaN or inf.
    activespec.errors.ConfigError
        If ``lo >= hi``.
    """
    _check_range(lo, hi)
    x = _finite_values(x)
    x_min = x.min()
    x_max = x.max()
    _check_not_constant(x_max - x_min, x, "minimum and maximum")
    # Dividing by the same difference maps the maximum to exactly 1.
    unit = (x - x_min) / (x_max - x_min)
    return unit * (hi - lo) + lo


def scale_robust(
    x, percentiles: tuple[float, float] = (1.0, 99.0), clip: float = 3.0
) -> np.ndarray:
    """Scale so that two percentiles map to -1 and 1, then clip outliers.

    With the default 1st and 99th percentiles (linear interpolation), the most
    extreme value at each end of a 140-pixel spectrum has no influence on the
    scale, so a single cosmic-ray spike or dead pixel changes the others only
    through the order statistics next to it.

    Parameters
    ----------
    x : array_like
        1-D flux values, all finite.
    percentiles : (float, float), optional
        Lower and upper percentile in [0, 100] mapped to -1 and 1.
    clip : float, optional
        Output is clipped to ``[-clip, clip]`` (default 3), >= 1.

    Returns
    -------
    ndarray of float64
        Scaled values in ``[-clip, clip]``.

    Raises
    ------
    activespec.errors.RejectedSpectrum
        ``code="constant-flux"`` if the two percentiles are equal;
        ``code="non-finite"`` if a value is NaN or inf.
    activespec.errors.ConfigError
        For invalid ``percentiles`` or ``clip``.
    """
    p_lo, p_hi = percentiles
    if not (0.0 <= p_lo < p_hi <= 100.0):
        raise ConfigError(f"percentiles must satisfy 0 <= low < high <= 100, got {percentiles!r}")
    if not (np.isfinite(clip) and clip >= 1.0):
        raise ConfigError(f"clip must be a finite number >= 1, got {clip!r}")
    x = _finite_values(x)
    q_lo, q_hi = np.percentile(x, [p_lo, p_hi])
    _check_not_constant(q_hi - q_lo, x, f"percentiles {p_lo:g} and {p_hi:g}")
    scaled = 2.0 * (x - q_lo) / (q_hi - q_lo) - 1.0
    return np.clip(scaled, -clip, clip)


def _finite_values(x) -> np.ndarray:
    x = as_float_1d("flux", x)
    if x.size == 0:
        raise RejectedSpectrum("cannot scale an empty flux vector", code="too-short")
    if not np.all(np.isfinite(x)):
        n_bad = int(np.count_nonzero(~np.isfinite(x)))
        raise RejectedSpectrum(
            f"cannot scale: {n_bad} of {x.size} values are NaN or inf", code="non-finite"
        )
    return x


def _check_not_constant(spread: float, x: np.ndarray, what: str) -> None:
    if not spread > _CONSTANT_RTOL * np.max(np.abs(x)):
        raise RejectedSpectrum(
            f"flux is constant ({what} are equal): no spectral shape to scale",
            code="constant-flux",
        )


def _check_range(lo: float, hi: float) -> None:
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ConfigError(f"scaling range needs finite lo < hi, got lo={lo!r}, hi={hi!r}")
