"""Typed errors. Every reader and preprocessing failure carries a one-line reason.

The ``code`` class attribute is a short machine-readable tag used in rejection
tables and JSON output; ``str(error)`` is the human-readable one-line reason.
"""


class ActivespecError(Exception):
    """Base class of all errors raised on purpose by activespec."""

    code = "error"


class SpectrumReadError(ActivespecError):
    """A file could not be read into a spectrum."""

    code = "read-error"


class NotFitsError(SpectrumReadError):
    code = "not-fits"


class TruncatedFileError(SpectrumReadError):
    code = "truncated"


class UnknownLayoutError(SpectrumReadError):
    code = "unknown-layout"


class NoFluxError(SpectrumReadError):
    code = "no-flux"


class AllNaNError(SpectrumReadError):
    code = "all-nan"


class WrongShapeError(SpectrumReadError):
    code = "wrong-shape"


class BadWavelengthError(SpectrumReadError):
    code = "bad-wavelength"


class MultiSpectrumError(SpectrumReadError):
    """The file holds several spectra (a DESI coadd) and none was chosen."""

    code = "multi-spectrum"


class RejectedSpectrum(ActivespecError):
    """Preprocessing refused a spectrum (e.g. the window is mostly bad pixels)."""

    code = "rejected"

    def __init__(self, reason: str, code: str | None = None):
        super().__init__(reason)
        if code is not None:
            self.code = code


class ConfigError(ActivespecError):
    """A configuration file or value is invalid."""

    code = "config"
