"""Figures and summary statistics that compare simulated spectra with real ones.

* :mod:`~activespec.plots.compare` - the README figure: real and simulated LAMOST
  spectra of the same type, before and after preprocessing;
* :mod:`~activespec.plots.realism` - per-type statistics of the preprocessed vectors
  of a real and a simulated sample, and whether their distributions overlap.

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas, never
through :mod:`matplotlib.pyplot`, so they work headless and hold no global state.
"""

from activespec.plots.compare import (
    ComparisonRow,
    real_vs_simulated_figure,
    save_png,
)
from activespec.plots.realism import (
    STATISTICS,
    SpectrumStatistics,
    TypeComparison,
    compare_by_type,
    format_table,
    match_snr,
    measure_spectra,
    simulated_star_files,
    spectral_type_of,
    vector_statistics,
)

__all__ = [
    "STATISTICS",
    "ComparisonRow",
    "SpectrumStatistics",
    "TypeComparison",
    "compare_by_type",
    "format_table",
    "match_snr",
    "measure_spectra",
    "real_vs_simulated_figure",
    "save_png",
    "simulated_star_files",
    "spectral_type_of",
    "vector_statistics",
]
