"""FITS readers for LAMOST, Ondřejov, SDSS and DESI spectra.

:func:`read_spectrum` reads any supported layout (plain or gzip-compressed; see
:data:`LAYOUTS`) into an :class:`activespec.spectrum.Spectrum` or raises a typed
:class:`activespec.errors.SpectrumReadError`. :func:`inspect_file` wraps it into
the never-failing JSON record printed by ``activespec inspect``.
"""

from activespec.io.detect import LAYOUTS, detect_layout
from activespec.io.inspect import inspect_file
from activespec.io.reader import read_spectrum

__all__ = ["LAYOUTS", "detect_layout", "inspect_file", "read_spectrum"]
