"""What the labelling page plots for one spectrum, as JSON-ready values.

Two views: the model's window (the exact preprocessed vector on the common grid, in
vacuum) and the whole original spectrum in its own medium, decimated for the browser
with a min/max envelope so that narrow emission peaks and cosmic rays stay visible.
"""

from __future__ import annotations

import math
import os

import numpy as np

from activespec.constants import (
    H_ALPHA_AIR,
    H_ALPHA_VACUUM,
    HE_I_6678_AIR,
    HE_I_6678_VACUUM,
)
from activespec.errors import ActivespecError
from activespec.io import read_spectrum
from activespec.preprocessing import (
    PreprocessConfig,
    preprocess_with_details,
    should_degrade,
    vacuum_to_air,
)

#: Most points of the full spectrum sent to the browser.
MAX_FULL_POINTS = 4_000
#: Significant digits of the flux values sent (far below the noise of any spectrum).
FLUX_DIGITS = 6


def line_wavelengths(medium: str) -> dict[str, float]:
    """Wavelengths [Å] of H-alpha and He I 6678 in ``medium`` ("air" or "vacuum")."""
    if medium == "air":
        return {"H-alpha": H_ALPHA_AIR, "He I 6678": HE_I_6678_AIR}
    return {"H-alpha": H_ALPHA_VACUUM, "He I 6678": HE_I_6678_VACUUM}


def spectrum_view(
    source: str,
    *,
    config: PreprocessConfig,
    max_points: int = MAX_FULL_POINTS,
) -> dict:
    """Read a FITS file and build the two plotted views.

    Never raises for bad input: a file that cannot be read gives ``full = None`` and an
    ``error``; a spectrum the preprocessing rejects gives ``window = None`` and a
    ``window_error``, with the full spectrum still shown.

    Parameters
    ----------
    source : str
        Path of the FITS file.
    config : PreprocessConfig
        The preprocessing of the round's model. The spectra sharper than the model are
        degraded (:func:`activespec.preprocessing.should_degrade`), as in ingestion and
        scoring, so the window is the vector the model scored.
    max_points : int, optional
        Most points of the full spectrum.

    Returns
    -------
    dict
        ``window``: {wave, flux, bad_fraction, medium="vacuum", lines} or None;
        ``window_error``; ``full``: {wave, flux, bad, medium, lines, n_pixels,
        decimated} or None; ``error``; ``meta``: the reader's metadata.
    """
    view: dict = {"window": None, "window_error": None, "full": None, "error": None, "meta": None}
    if not source:
        view["error"] = "the sampler row has no source file"
        return view
    if not os.path.exists(source):
        view["error"] = f"source file not found: {source}"
        return view
    try:
        spectrum = read_spectrum(source)
    except ActivespecError as err:
        view["error"] = f"cannot read {os.path.basename(source)}: {err}"
        return view

    meta = spectrum.meta
    view["meta"] = {
        "spectrum_id": meta.spectrum_id,
        "designation": meta.designation,
        "survey": meta.survey,
        "instrument": meta.instrument,
        "layout": meta.layout,
        "data_release": meta.data_release,
        "lamost_class": meta.lamost_class,
        "lamost_subclass": meta.lamost_subclass,
        "resolving_power": meta.resolving_power,
    }
    wave, flux, bad = decimate(spectrum.wave, spectrum.flux, spectrum.mask, max_points)
    view["full"] = {
        "wave": _rounded(wave, 3),
        "flux": _significant(flux, FLUX_DIGITS),
        "bad": bad.astype(np.uint8).tolist(),
        "medium": spectrum.medium,
        "lines": line_wavelengths(spectrum.medium),
        "window_range": _window_in(spectrum.medium, config),
        "n_pixels": spectrum.n_pixels,
        "decimated": wave.size < spectrum.n_pixels,
    }
    try:
        details = preprocess_with_details(
            spectrum, config, degrade=should_degrade(spectrum, config)
        )
    except ActivespecError as err:
        view["window_error"] = f"not preprocessed: {err}"
        return view
    view["window"] = {
        "wave": _rounded(details.grid, 3),
        "flux": _significant(details.vector, FLUX_DIGITS),
        "bad_fraction": _rounded(details.bad_fraction, 3),
        "medium": "vacuum",
        "lines": line_wavelengths("vacuum"),
        "range": [config.grid_start, config.grid_stop],
        "sigma_pixels": round(details.sigma_pixels, 3),
    }
    return view


def decimate(
    wave: np.ndarray, flux: np.ndarray, bad: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduce a spectrum to at most ``max_points`` points, keeping its extremes.

    The pixels are cut into ``max_points // 2`` equal buckets; each contributes its lowest
    and its highest pixel, in wavelength order, so peaks and dips survive. A point is bad
    when any pixel of its bucket is bad.

    Parameters
    ----------
    wave, flux : ndarray
        Same length; NaN flux is allowed.
    bad : ndarray of bool
    max_points : int
        At least 2.

    Returns
    -------
    (wave, flux, bad) : tuple of ndarray
        Unchanged when the spectrum already has at most ``max_points`` pixels.
    """
    n = wave.size
    if n <= max_points:
        return wave, flux, np.asarray(bad, dtype=bool)
    buckets = max(max_points // 2, 1)
    size = math.ceil(n / buckets)
    buckets = math.ceil(n / size)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = flux
    grid = padded.reshape(buckets, size)
    valid = np.isfinite(grid)
    low = np.where(valid, grid, np.inf).argmin(axis=1)
    high = np.where(valid, grid, -np.inf).argmax(axis=1)
    offsets = np.arange(buckets) * size
    pairs = np.sort(np.stack([low, high], axis=1), axis=1) + offsets[:, None]
    index = np.minimum(pairs.ravel(), n - 1)
    padded_bad = np.zeros(buckets * size, dtype=bool)
    padded_bad[:n] = bad
    bucket_bad = padded_bad.reshape(buckets, size)
    return wave[index], np.asarray(flux)[index], np.repeat(bucket_bad.any(axis=1), 2)


def _window_in(medium: str, config: PreprocessConfig) -> list[float]:
    """The grid's first and last wavelength in ``medium`` (the grid is in vacuum)."""
    edges = np.array([config.grid_start, config.grid_stop])
    if medium == "air":
        edges = vacuum_to_air(edges)
    return _rounded(edges, 2)


def _rounded(values: np.ndarray, decimals: int) -> list:
    array = np.round(np.asarray(values, dtype=np.float64), decimals)
    return _with_nulls(array)


def _significant(values: np.ndarray, digits: int) -> list:
    """Round to ``digits`` significant digits; NaN and inf become None (JSON null)."""
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array) & (array != 0)
    exponent = np.zeros_like(array)
    exponent[finite] = np.floor(np.log10(np.abs(array[finite])))
    scale = 10.0 ** (digits - 1 - exponent)
    with np.errstate(invalid="ignore", over="ignore"):
        rounded = np.where(finite, np.round(array * scale) / scale, array)
    return _with_nulls(rounded)


def _with_nulls(array: np.ndarray) -> list:
    values = array.tolist()
    if np.all(np.isfinite(array)):
        return values
    return [v if math.isfinite(v) else None for v in values]
