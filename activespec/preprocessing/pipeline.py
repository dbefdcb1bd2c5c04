"""From a :class:`~activespec.spectrum.Spectrum` to the model's input vector.

The one place where the steps are put together, shared by ingestion, scoring,
serving and plots so that the same spectrum always becomes the same vector:

1. wavelengths to vacuum;
2. reject a spectrum that does not cover the window;
3. cut the window with a margin wide enough that the result is the same as
   without cutting;
4. mark bad pixels (file mask, ivar <= 0, NaN/inf, constant runs);
5. degrade the resolution when asked for and :func:`should_degrade` says so
   (domain adaptation of the labelled, high-resolution instrument);
6. bridge short runs of bad pixels;
7. resample onto the common grid conserving flux, and reject the spectrum when
   too much of the window is masked or missing; fill the fully bad grid pixels
   by interpolating along the grid;
8. optionally divide by the continuum; scale.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from activespec.errors import ConfigError, RejectedSpectrum
from activespec.preprocessing._checks import check_wavelengths
from activespec.preprocessing.badpixels import _repair, bad_pixel_mask
from activespec.preprocessing.config import PreprocessConfig
from activespec.preprocessing.continuum import check_positive_continuum, fit_continuum
from activespec.preprocessing.grid import _cached_edges, _cached_grid
from activespec.preprocessing.resample import _resample
from activespec.preprocessing.resolution import (
    _normalised_gaussian_filter,
    _sigma_pixels,
    kernel_radius_pixels,
)
from activespec.preprocessing.scaling import scale_minmax, scale_robust
from activespec.preprocessing.wavelength import to_vacuum
from activespec.spectrum import Spectrum

_DEFAULT_CONFIG = PreprocessConfig()
# Grid pixels with less good coverage than this are excluded from the continuum fit.
_CONTINUUM_MAX_BAD = 0.5


@dataclasses.dataclass(frozen=True)
class PreprocessResult:
    """The model input with the intermediate products, for plots and diagnostics.

    Attributes
    ----------
    vector : ndarray of float32, shape (n_points,)
        Exactly what :func:`preprocess` returns.
    grid : ndarray of float64
        Vacuum wavelengths [Å] of the vector's pixels.
    flux : ndarray of float64
        Flux on the grid before scaling (after continuum division if enabled),
        with fully bad grid pixels filled.
    bad_fraction : ndarray of float64
        Per grid pixel, the fraction masked or missing after bad-pixel repair.
    window_bad_fraction : float
        Fraction of the whole window masked or missing (the rejection criterion).
    sigma_pixels : float
        σ [native pixels] of the degradation kernel applied; 0.0 if none.
    n_repaired : int
        Native pixels near the window bridged by interpolation.
    continuum : ndarray of float64 or None
        Fitted continuum on the grid when ``config.continuum`` is on.
    """

    vector: np.ndarray
    grid: np.ndarray
    flux: np.ndarray
    bad_fraction: np.ndarray
    window_bad_fraction: float
    sigma_pixels: float
    n_repaired: int
    continuum: np.ndarray | None


def should_degrade(spectrum: Spectrum, config: PreprocessConfig = _DEFAULT_CONFIG) -> bool:
    """Whether ``spectrum`` is degraded to the model's resolution: the one rule of
    ingestion (labelled set and pool), scoring, serving and the labelling page.

    Parameters
    ----------
    spectrum : activespec.spectrum.Spectrum
    config : PreprocessConfig, optional
        The model's preprocessing; its ``target_resolving_power`` is the model's.

    Returns
    -------
    bool
        True when the spectrum's resolving power (``spectrum.meta.resolving_power``, set by
        every reader) is known and above ``config.target_resolving_power``: Ondřejov
        (R≈13,000) and LAMOST MRS (R≈7,500) for the published R = 1,800; never LAMOST LRS,
        whatever ``config.sigma_pixels`` says, nor a spectrum of unknown resolution.
    """
    resolving_power = spectrum.meta.resolving_power
    return resolving_power is not None and resolving_power > config.target_resolving_power


def preprocess(
    spectrum: Spectrum, config: PreprocessConfig = _DEFAULT_CONFIG, *, degrade: bool = False
) -> np.ndarray:
    """Turn a spectrum into the classifier's input vector.

    Parameters
    ----------
    spectrum : activespec.spectrum.Spectrum
        Any survey's spectrum, in air or vacuum.
    config : PreprocessConfig, optional
        Settings; the defaults reproduce Škoda et al. (2020).
    degrade : bool, optional
        Degrade the resolution to ``config.target_resolving_power`` first; pass
        ``should_degrade(spectrum, config)``. Nothing happens when the spectrum's
        resolving power is known and not above the target (:func:`should_degrade`),
        even with ``config.sigma_pixels`` set.

    Returns
    -------
    ndarray of float32, shape (config.n_points,)
        The scaled flux on the common grid.

    Raises
    ------
    activespec.errors.RejectedSpectrum
        With ``code`` "outside-window", "too-many-bad-pixels", "constant-flux",
        "non-finite", "bad-wavelength" or "bad-continuum" and a one-line reason.
    activespec.errors.ConfigError
        If ``degrade`` is asked for but neither ``config.sigma_pixels``,
        ``config.source_resolving_power`` nor ``spectrum.meta.resolving_power``
        is known.
    """
    return preprocess_with_details(spectrum, config, degrade=degrade).vector


def preprocess_with_details(
    spectrum: Spectrum, config: PreprocessConfig = _DEFAULT_CONFIG, *, degrade: bool = False
) -> PreprocessResult:
    """Like :func:`preprocess`, but also return the intermediate products.

    The vector is computed by the same code path, so it is identical to the
    one :func:`preprocess` returns; see :class:`PreprocessResult`.
    """
    if not isinstance(config, PreprocessConfig):
        raise ConfigError(f"config must be a PreprocessConfig, got {type(config).__name__}")
    grid = _cached_grid(config.grid_start, config.grid_stop, config.n_points)
    grid_bin_edges = _cached_edges(config.grid_start, config.grid_stop, config.n_points)

    wave = to_vacuum(spectrum.wave, spectrum.medium)
    check_wavelengths(wave)
    _check_covers_window(wave, config)

    sigma = _degradation_sigma(wave, spectrum, config) if degrade else 0.0
    margin = kernel_radius_pixels(sigma) + config.max_gap_pixels + config.min_constant_run + 2
    lo = max(int(np.searchsorted(wave, grid_bin_edges[0])) - margin, 0)
    hi = min(int(np.searchsorted(wave, grid_bin_edges[-1])) + margin, wave.size)
    wave = wave[lo:hi]
    flux = np.asarray(spectrum.flux[lo:hi], dtype=np.float64)
    ivar = None if spectrum.ivar is None else spectrum.ivar[lo:hi]
    bad = bad_pixel_mask(flux, spectrum.mask[lo:hi], ivar, min_constant_run=config.min_constant_run)

    # The steps below use the unchecked cores of the public functions: the arrays
    # were validated once above.
    if sigma > 0.0:
        flux = _normalised_gaussian_filter(flux, ~bad, sigma)
    flux, bad_after_repair = _repair(wave, flux, bad, config.max_gap_pixels)
    n_repaired = int(np.count_nonzero(bad) - np.count_nonzero(bad_after_repair))
    on_grid, bad_fraction = _resample(wave, flux, ~bad_after_repair, grid_bin_edges)
    window_bad_fraction = float(bad_fraction.mean())  # bins are equally wide
    if window_bad_fraction > config.max_bad_fraction:
        raise RejectedSpectrum(
            f"{100 * window_bad_fraction:.1f}% of the {config.grid_start:g}-"
            f"{config.grid_stop:g} Å window is masked or missing "
            f"(limit {100 * config.max_bad_fraction:.1f}%)",
            code="too-many-bad-pixels",
        )
    on_grid = _fill_empty_grid_pixels(grid, on_grid)
    if not np.all(np.isfinite(on_grid)):
        raise RejectedSpectrum(
            "resampled flux contains NaN or inf (overflowing input values?)", code="non-finite"
        )

    continuum = None
    if config.continuum:
        continuum = fit_continuum(grid, on_grid, bad_fraction > _CONTINUUM_MAX_BAD)
        check_positive_continuum(continuum)
        on_grid = on_grid / continuum

    vector = _scale(on_grid, config.scaling).astype(np.float32)
    return PreprocessResult(
        vector=vector,
        grid=grid.copy(),
        flux=on_grid,
        bad_fraction=bad_fraction,
        window_bad_fraction=window_bad_fraction,
        sigma_pixels=sigma,
        n_repaired=n_repaired,
        continuum=continuum,
    )


def _check_covers_window(wave: np.ndarray, config: PreprocessConfig) -> None:
    # The native pixels reach half a pixel beyond the first and last centre.
    first_edge = wave[0] - 0.5 * (wave[1] - wave[0])
    last_edge = wave[-1] + 0.5 * (wave[-1] - wave[-2])
    if first_edge <= config.grid_start and last_edge >= config.grid_stop:
        return
    width = config.grid_stop - config.grid_start
    overlap = max(0.0, min(last_edge, config.grid_stop) - max(first_edge, config.grid_start))
    raise RejectedSpectrum(
        f"spectrum covers {first_edge:.1f}-{last_edge:.1f} Å (vacuum), "
        f"{100 * overlap / width:.1f}% of the {config.grid_start:g}-{config.grid_stop:g} Å window",
        code="outside-window",
    )


def _degradation_sigma(wave: np.ndarray, spectrum: Spectrum, config: PreprocessConfig) -> float:
    if spectrum.meta.resolving_power is not None and not should_degrade(spectrum, config):
        return 0.0
    if config.sigma_pixels is not None:
        return config.sigma_pixels
    source_R = config.source_resolving_power or spectrum.meta.resolving_power
    if source_R is None:
        raise ConfigError(
            f"cannot degrade {spectrum.meta.spectrum_id}: its resolving power is unknown; "
            "set source_resolving_power or sigma_pixels in the preprocessing config"
        )
    centre = 0.5 * (config.grid_start + config.grid_stop)
    return _sigma_pixels(wave, source_R, config.target_resolving_power, centre)


def _fill_empty_grid_pixels(grid: np.ndarray, flux: np.ndarray) -> np.ndarray:
    """Interpolate along the grid over pixels no good data reached (NaN)."""
    empty = np.isnan(flux)
    if not empty.any():
        return flux
    if empty.all():
        raise RejectedSpectrum("no good pixel in the window", code="too-many-bad-pixels")
    filled = flux.copy()
    filled[empty] = np.interp(grid[empty], grid[~empty], flux[~empty])
    return filled


def _scale(flux: np.ndarray, scaling: str) -> np.ndarray:
    if scaling == "minmax":
        return scale_minmax(flux)
    if scaling == "robust":
        return scale_robust(flux)
    if not np.all(np.isfinite(flux)):
        raise RejectedSpectrum("flux contains NaN or inf", code="non-finite")
    return flux
