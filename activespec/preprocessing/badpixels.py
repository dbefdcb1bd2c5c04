"""Bad-pixel handling: find unusable pixels and bridge short gaps.

Škoda et al. (2020) ignored masks and inverse variances. Here every pixel that
is masked by the file, has ``ivar <= 0``, non-finite flux, or sits in a run of
identical values (a zeroed or clipped segment) is bad; runs of bad pixels up to
``max_gap_pixels`` long are bridged by linear interpolation, longer runs stay
masked and count against the spectrum later.
"""

from __future__ import annotations

import numbers

import numpy as np

from activespec.errors import ConfigError
from activespec.preprocessing._checks import (
    as_float_1d,
    as_mask,
    check_same_length,
    check_wavelengths,
)


def bad_pixel_mask(flux, mask=None, ivar=None, *, min_constant_run: int = 0) -> np.ndarray:
    """Combine every reason for a pixel to be unusable into one boolean mask.

    Parameters
    ----------
    flux : array_like
        Flux values.
    mask : array_like of bool, optional
        True where the file (or reader) marks a pixel bad.
    ivar : array_like, optional
        Inverse variance; pixels with ``ivar <= 0`` or non-finite ``ivar`` are bad.
    min_constant_run : int, optional
        Pixels in runs of at least this many exactly equal consecutive flux values
        are bad (real, noisy flux never repeats itself; zeroed or clipped segments
        do). 0 (default) disables the check; otherwise it must be >= 2.

    Returns
    -------
    ndarray of bool
        True on bad pixels; also True where ``flux`` is NaN or inf.
    """
    flux = as_float_1d("flux", flux)
    bad = as_mask(mask, flux.size) | ~np.isfinite(flux)
    if ivar is not None:
        ivar = as_float_1d("ivar", ivar)
        check_same_length(flux, ivar)
        with np.errstate(invalid="ignore"):
            bad |= ~(ivar > 0)
    if min_constant_run:
        bad |= constant_runs(flux, min_constant_run)
    return bad


def constant_runs(flux, min_run: int) -> np.ndarray:
    """Mark pixels in runs of at least ``min_run`` exactly equal consecutive values.

    Parameters
    ----------
    flux : array_like
        Flux values.
    min_run : int
        Shortest run that is flagged, >= 2.

    Returns
    -------
    ndarray of bool
        True on pixels belonging to such a run.
    """
    if isinstance(min_run, bool) or not isinstance(min_run, numbers.Integral) or min_run < 2:
        raise ConfigError(f"min_run must be an integer >= 2, got {min_run!r}")
    flux = as_float_1d("flux", flux)
    same_as_next = flux[1:] == flux[:-1]
    # A run of k equal values is a run of k - 1 True values in same_as_next.
    starts, lengths = _runs(same_as_next)
    keep = lengths >= min_run - 1
    out = np.zeros(flux.size, dtype=bool)
    _fill_runs(out, starts[keep], lengths[keep] + 1)
    return out


def repair_bad_pixels(wave, flux, mask, *, max_gap_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """Linearly interpolate over short runs of bad pixels.

    Parameters
    ----------
    wave : array_like
        Strictly increasing pixel centres [Å].
    flux : array_like
        Flux; NaN and inf count as bad even where ``mask`` is False.
    mask : array_like of bool or None
        True on bad pixels.
    max_gap_pixels : int
        Longest run of consecutive bad pixels that is interpolated (>= 0). Runs
        that touch either end of the array have only one neighbour and are never
        interpolated.

    Returns
    -------
    flux : ndarray of float64
        A copy of ``flux`` with the short runs replaced by the straight line
        between their good neighbours (in wavelength). Pixels still masked keep
        their input values, which may be NaN: use ``remaining_mask``.
    remaining_mask : ndarray of bool
        True on pixels that are still bad (long runs and runs at the ends).

    Raises
    ------
    activespec.errors.ConfigError
        If ``max_gap_pixels`` is not an integer >= 0.
    activespec.errors.RejectedSpectrum
        If the arrays are malformed.
    """
    if (
        isinstance(max_gap_pixels, bool)
        or not isinstance(max_gap_pixels, numbers.Integral)
        or max_gap_pixels < 0
    ):
        raise ConfigError(f"max_gap_pixels must be an integer >= 0, got {max_gap_pixels!r}")
    wave = as_float_1d("wave", wave)
    flux = as_float_1d("flux", flux)
    check_same_length(wave, flux)
    check_wavelengths(wave)
    bad = as_mask(mask, flux.size) | ~np.isfinite(flux)
    return _repair(wave, flux, bad, max_gap_pixels)


def _repair(
    wave: np.ndarray, flux: np.ndarray, bad: np.ndarray, max_gap_pixels: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`repair_bad_pixels` on checked arrays (``bad`` includes non-finite flux)."""
    repaired = flux.copy()
    if max_gap_pixels == 0 or not bad.any() or bad.all():
        return repaired, bad

    starts, lengths = _runs(bad)
    stops = starts + lengths
    fillable = (lengths <= max_gap_pixels) & (starts > 0) & (stops < flux.size)
    to_fill = np.zeros(flux.size, dtype=bool)
    _fill_runs(to_fill, starts[fillable], lengths[fillable])
    good = ~bad
    # Every fillable pixel has good pixels on both sides, so np.interp never extrapolates.
    repaired[to_fill] = np.interp(wave[to_fill], wave[good], flux[good])
    return repaired, bad & ~to_fill


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start indices and lengths of the runs of True in a boolean array."""
    padded = np.concatenate(([False], flags, [False]))
    change = np.flatnonzero(padded[1:] != padded[:-1])
    starts = change[0::2]
    return starts, change[1::2] - starts


def _fill_runs(out: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> None:
    """Set ``out[start:start + length] = True`` for every run, without a Python loop."""
    if starts.size == 0:
        return
    n = out.size + 1
    delta = np.bincount(starts, minlength=n) - np.bincount(starts + lengths, minlength=n)
    out |= np.cumsum(delta[:-1]) > 0
