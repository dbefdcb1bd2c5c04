"""Input checks shared by the preprocessing modules.

Each check turns malformed data into a typed :class:`~activespec.errors.RejectedSpectrum`
with a one-line reason instead of letting NumPy fail somewhere deeper.
"""

from __future__ import annotations

import numpy as np

from activespec.errors import RejectedSpectrum


def as_float_1d(name: str, values) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array (a view when already one)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise RejectedSpectrum(f"{name} must be 1-D, got shape {array.shape}", code="wrong-shape")
    return array


def as_mask(mask, n: int) -> np.ndarray:
    """Return ``mask`` as a boolean array of length ``n`` (all False when None)."""
    if mask is None:
        return np.zeros(n, dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (n,):
        raise RejectedSpectrum(
            f"mask has shape {mask.shape}, expected ({n},) like the flux", code="wrong-shape"
        )
    return mask


def check_same_length(wave: np.ndarray, flux: np.ndarray) -> None:
    if wave.shape != flux.shape:
        raise RejectedSpectrum(
            f"wave has {wave.size} pixels but flux has {flux.size}", code="wrong-shape"
        )


def check_wavelengths(wave: np.ndarray, name: str = "wave") -> None:
    """Require at least two finite, strictly increasing wavelengths."""
    if wave.size < 2:
        raise RejectedSpectrum(f"{name} needs at least 2 pixels, got {wave.size}", code="too-short")
    if not np.all(np.isfinite(wave)):
        raise RejectedSpectrum(f"{name} contains NaN or inf wavelengths", code="bad-wavelength")
    if not np.all(np.diff(wave) > 0):
        raise RejectedSpectrum(f"{name} is not strictly increasing", code="bad-wavelength")
