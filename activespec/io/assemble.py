"""Validate raw arrays from any layout and assemble them into a :class:`Spectrum`."""

from __future__ import annotations

import numpy as np

from activespec.errors import AllNaNError, BadWavelengthError, NoFluxError, WrongShapeError
from activespec.spectrum import Medium, Spectrum, SpectrumMeta


def log_linear_wavelengths(log_start: float, log_step: float, n_pixels: int, start_pixel=0.0):
    """Wavelengths ``10 ** (log_start + log_step * (i - start_pixel))`` for i = 0..n-1 [Å]."""
    return 10.0 ** (log_start + log_step * (np.arange(n_pixels, dtype=np.float64) - start_pixel))


def linear_wavelengths(start: float, step: float, n_pixels: int, start_pixel=0.0):
    """Wavelengths ``start + step * (i - start_pixel)`` for i = 0..n-1 [Å]."""
    return start + step * (np.arange(n_pixels, dtype=np.float64) - start_pixel)


def assemble_spectrum(
    wave,
    flux,
    *,
    ivar=None,
    bad=None,
    medium: Medium,
    meta: SpectrumMeta,
) -> Spectrum:
    """Check and convert raw arrays into a :class:`Spectrum` with its bad-pixel mask.

    Parameters
    ----------
    wave, flux : array_like
        1-D wavelengths [Å] and fluxes of equal length, any float dtype or byte order.
    ivar : array_like, optional
        Inverse variance; non-finite or negative values are set to 0.
    bad : array_like of bool, optional
        Pixels the file itself flags as bad (e.g. a nonzero LAMOST ANDMASK).
    medium : {"air", "vacuum"}
    meta : SpectrumMeta

    Returns
    -------
    Spectrum
        ``wave`` strictly increasing (a strictly decreasing file is reversed),
        float64 arrays in native byte order, and ``mask`` True where the file flags a
        pixel, ``ivar`` is 0 or the flux is NaN or infinite.

    Raises
    ------
    WrongShapeError
        Arrays that are not 1-D or differ in length.
    NoFluxError
        Zero pixels.
    BadWavelengthError
        Wavelengths non-finite, not positive or not monotonic.
    AllNaNError
        No finite flux value at all.
    """
    # One conversion each: FITS data are big-endian, so this is the only copy made.
    wave = np.asarray(wave, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    if wave.ndim != 1 or flux.ndim != 1:
        raise WrongShapeError(
            f"expected 1-D wavelength and flux, got shapes {wave.shape} and {flux.shape}"
        )
    n_pixels = wave.shape[0]
    if flux.shape[0] != n_pixels:
        raise WrongShapeError(f"{n_pixels} wavelengths but {flux.shape[0]} flux values")
    if n_pixels == 0:
        raise NoFluxError("the spectrum has no pixels")

    if not np.isfinite(wave).all():
        raise BadWavelengthError("wavelengths contain NaN or infinite values")
    if wave[0] <= 0 or wave[-1] <= 0 or (n_pixels > 1 and wave.min() <= 0):
        raise BadWavelengthError(f"wavelengths are not all positive (min {wave.min():.6g} Å)")
    step = np.diff(wave)
    reverse = False
    if n_pixels > 1 and not (step > 0).all():
        if (step < 0).all():
            reverse = True
        else:
            first = int(np.argmax(step <= 0))
            raise BadWavelengthError(
                f"wavelengths are not strictly increasing (at pixel {first + 1}: "
                f"{wave[first]:.4f} then {wave[first + 1]:.4f} Å)"
            )

    finite_flux = np.isfinite(flux)
    if not finite_flux.any():
        raise AllNaNError(f"all {n_pixels} flux values are NaN or infinite")
    mask = ~finite_flux

    if bad is not None:
        bad = np.asarray(bad, dtype=bool)
        if bad.shape != (n_pixels,):
            raise WrongShapeError(f"mask has shape {bad.shape}, flux has {n_pixels} pixels")
        mask |= bad

    if ivar is not None:
        file_ivar = ivar
        ivar = np.asarray(ivar, dtype=np.float64)
        if ivar.shape != (n_pixels,):
            raise WrongShapeError(f"inverse variance has shape {ivar.shape}, flux {n_pixels}")
        with np.errstate(invalid="ignore"):
            unusable = ~(ivar > 0)  # also catches NaN
        if np.isinf(ivar).any():
            unusable |= np.isinf(ivar)
        if unusable.any():
            if np.may_share_memory(ivar, file_ivar):  # never edit the caller's array
                ivar = ivar.copy()
            ivar[unusable] = 0.0
        mask |= unusable

    if reverse:
        wave, flux, mask = wave[::-1].copy(), flux[::-1].copy(), mask[::-1].copy()
        ivar = None if ivar is None else ivar[::-1].copy()
    return Spectrum(wave=wave, flux=flux, ivar=ivar, mask=mask, medium=medium, meta=meta)
