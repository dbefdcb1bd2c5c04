"""Realistic simulator of the two surveys the project works with.

It writes LAMOST LRS and Ondřejov CCD700 spectra in the real archive file layouts,
with physically motivated H-alpha profiles, instrument resolution, noise and
defects, plus ground-truth tables. Modules:

* :mod:`~activespec.simulator.profiles` - line and continuum shapes;
* :mod:`~activespec.simulator.sources` - object model and the subtype -> class map;
* :mod:`~activespec.simulator.population` - priors of every subtype and the mixtures;
* :mod:`~activespec.simulator.atmosphere` - telluric absorption and sky lines;
* :mod:`~activespec.simulator.instruments` - LSF, pixels, noise for LAMOST and Ondřejov;
* :mod:`~activespec.simulator.artifacts` - cosmic rays, sky residuals, masks, junk;
* :mod:`~activespec.simulator.catalog` - plates, coordinates, names, identifiers;
* :mod:`~activespec.simulator.fits_format` / :mod:`~activespec.simulator.fits_writers`
  - FITS bytes in the real layouts;
* :mod:`~activespec.simulator.survey` - :func:`simulate_survey`.
"""

from activespec.simulator.sources import SUBTYPE_CLASS
from activespec.simulator.survey import simulate_survey

__all__ = ["SUBTYPE_CLASS", "simulate_survey"]
