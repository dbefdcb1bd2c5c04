"""The common wavelength grid every spectrum is resampled onto.

Škoda et al. (2020) used 140 points evenly spaced over 6519-6732 Å in vacuum
(a 1.532 Å step, the LAMOST pixel size there): the overlap of all Ondřejov
spectra, which holds H-alpha and He I 6678 Å.
"""

from __future__ import annotations

import functools

import numpy as np

from activespec.constants import GRID_POINTS, GRID_START, GRID_STOP
from activespec.errors import ConfigError


def common_grid(
    start: float = GRID_START, stop: float = GRID_STOP, n_points: int = GRID_POINTS
) -> np.ndarray:
    """Return the evenly spaced common wavelength grid (pixel centres).

    Parameters
    ----------
    start, stop : float
        First and last pixel centre in vacuum Å (both included).
    n_points : int
        Number of pixels, at least 2.

    Returns
    -------
    ndarray of float64
        ``n_points`` vacuum wavelengths in Å; a fresh writable array. With the
        defaults: 6519.0, 6520.532, ..., 6732.0 (step 213/139 = 1.5324 Å).

    Raises
    ------
    activespec.errors.ConfigError
        If ``stop <= start`` or ``n_points < 2``.
    """
    return _cached_grid(float(start), float(stop), int(n_points)).copy()


def grid_edges(grid: np.ndarray) -> np.ndarray:
    """Pixel edges of a grid given by its centres (midpoints; outer edges half a step out).

    Parameters
    ----------
    grid : ndarray
        Strictly increasing pixel centres, at least 2.

    Returns
    -------
    ndarray of float64
        ``len(grid) + 1`` edges, as in SpectRes (Carnall 2017).
    """
    grid = np.asarray(grid, dtype=np.float64)
    edges = np.empty(grid.size + 1)
    edges[1:-1] = 0.5 * (grid[1:] + grid[:-1])
    edges[0] = grid[0] - 0.5 * (grid[1] - grid[0])
    edges[-1] = grid[-1] + 0.5 * (grid[-1] - grid[-2])
    return edges


@functools.lru_cache(maxsize=16)
def _cached_grid(start: float, stop: float, n_points: int) -> np.ndarray:
    # Cached because every spectrum of a run uses the same grid; returned read-only so
    # callers of the cache (the pipeline) cannot corrupt it.
    if not (np.isfinite(start) and np.isfinite(stop)) or stop <= start:
        raise ConfigError(f"grid stop ({stop}) must be greater than grid start ({start})")
    if n_points < 2:
        raise ConfigError(f"the grid needs at least 2 points, got {n_points}")
    grid = np.linspace(start, stop, n_points)
    grid.setflags(write=False)
    return grid


@functools.lru_cache(maxsize=16)
def _cached_edges(start: float, stop: float, n_points: int) -> np.ndarray:
    edges = grid_edges(_cached_grid(start, stop, n_points))
    edges.setflags(write=False)
    return edges
