"""Flux-density conserving resampling onto a new wavelength grid.

Each input pixel is a bin of constant flux density between edges halfway to its
neighbours (as in SpectRes, Carnall 2017). Its running integral is then
piecewise linear in λ, so linear interpolation of the cumulative sum at the new
bin edges gives the exact integral over any new bin: O(N + M log N), no
N × M overlap matrix. Each output pixel is the mean flux density over the good
part of its bin; the part covered by masked pixels or by no pixel at all is
returned as the bin's bad fraction.
"""

from __future__ import annotations

import numpy as np

from activespec.preprocessing._checks import (
    as_float_1d,
    as_mask,
    check_same_length,
    check_wavelengths,
)
from activespec.preprocessing.grid import grid_edges


def resample_flux_conserving(
    wave, flux, new_wave, mask=None, *, new_edges=None
) -> tuple[np.ndarray, np.ndarray]:
    """Rebin a spectrum onto ``new_wave`` conserving the integrated flux.

    Parameters
    ----------
    wave : array_like
        Strictly increasing input pixel centres [Å] (any sampling).
    flux : array_like
        Flux density per Å (or any per-unit-wavelength quantity); same length.
    new_wave : array_like
        Strictly increasing output pixel centres [Å], at least 2.
    mask : array_like of bool, optional
        True on bad input pixels; NaN and inf flux are bad as well. Bad pixels
        contribute neither flux nor coverage.
    new_edges : array_like, optional
        The ``len(new_wave) + 1`` output bin edges, when already known (the
        pipeline caches them); by default derived from ``new_wave``.

    Returns
    -------
    flux_new : ndarray of float64
        Mean flux density over the good part of each output bin; NaN where no
        good input covers the bin. Where everything is good, the integral
        ``sum(flux_new * bin_widths)`` equals the integral of the input over the
        same range.
    bad_fraction : ndarray of float64
        For each output bin, the fraction of its width covered by bad input
        pixels or lying outside the input range (0 = fully good, 1 = no data).

    Raises
    ------
    activespec.errors.RejectedSpectrum
        If the arrays are malformed.
    """
    wave = as_float_1d("wave", wave)
    flux = as_float_1d("flux", flux)
    check_same_length(wave, flux)
    check_wavelengths(wave)
    if new_edges is None:
        new_wave = as_float_1d("new_wave", new_wave)
        check_wavelengths(new_wave, "new_wave")
        new_edges = grid_edges(new_wave)
    else:
        new_edges = as_float_1d("new_edges", new_edges)
    good = ~as_mask(mask, flux.size) & np.isfinite(flux)
    return _resample(wave, flux, good, new_edges)


def _resample(
    wave: np.ndarray, flux: np.ndarray, good: np.ndarray, new_edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`resample_flux_conserving` on checked arrays (``good`` = usable pixels)."""
    edges = grid_edges(wave)
    good_width = np.where(good, np.diff(edges), 0.0)
    # Cumulative integrals at the input edges, starting at 0 on the first edge.
    cum_flux = np.zeros(edges.size)
    np.cumsum(np.where(good, flux, 0.0) * good_width, out=cum_flux[1:])
    cum_good = np.zeros(edges.size)
    np.cumsum(good_width, out=cum_good[1:])
    # np.interp holds the end values outside [edges[0], edges[-1]]: no data there adds nothing.
    flux_in_bin = np.diff(np.interp(new_edges, edges, cum_flux))
    good_in_bin = np.diff(np.interp(new_edges, edges, cum_good))
    bin_width = np.diff(new_edges)

    # Relative tolerance against round-off of the running sums for bins with no good data.
    has_data = good_in_bin > 1e-9 * bin_width
    with np.errstate(invalid="ignore", divide="ignore"):
        flux_new = np.where(has_data, flux_in_bin / good_in_bin, np.nan)
    bad_fraction = np.clip(1.0 - good_in_bin / bin_width, 0.0, 1.0)
    bad_fraction[bad_fraction < 1e-9] = 0.0  # round-off of fully good bins
    bad_fraction[~has_data] = 1.0
    return flux_new, bad_fraction
