"""Spectral preprocessing: the same spectrum always becomes the same vector.

Pure, vectorised NumPy/SciPy shared by ingestion, scoring, serving and plots.
:func:`preprocess` runs the whole chain (air -> vacuum, bad pixels, optional
resolution degradation (:func:`should_degrade` decides which spectra), flux-conserving resampling onto the common grid,
scaling) under a :class:`PreprocessConfig`; the building blocks are public for
plots and experiments.
"""

from activespec.preprocessing.badpixels import bad_pixel_mask, repair_bad_pixels
from activespec.preprocessing.config import PreprocessConfig
from activespec.preprocessing.continuum import fit_continuum, normalise_continuum
from activespec.preprocessing.grid import common_grid, grid_edges
from activespec.preprocessing.pipeline import (
    PreprocessResult,
    preprocess,
    preprocess_with_details,
    should_degrade,
)
from activespec.preprocessing.resample import resample_flux_conserving
from activespec.preprocessing.resolution import degrade_resolution, gaussian_sigma_pixels
from activespec.preprocessing.scaling import scale_minmax, scale_robust
from activespec.preprocessing.wavelength import air_to_vacuum, to_vacuum, vacuum_to_air

__all__ = [
    "PreprocessConfig",
    "PreprocessResult",
    "air_to_vacuum",
    "bad_pixel_mask",
    "common_grid",
    "degrade_resolution",
    "fit_continuum",
    "gaussian_sigma_pixels",
    "grid_edges",
    "normalise_continuum",
    "preprocess",
    "preprocess_with_details",
    "repair_bad_pixels",
    "resample_flux_conserving",
    "scale_minmax",
    "scale_robust",
    "should_degrade",
    "to_vacuum",
    "vacuum_to_air",
]
