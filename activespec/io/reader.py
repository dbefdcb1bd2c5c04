"""``read_spectrum``: any supported FITS file in, a :class:`Spectrum` or a typed error out."""

from __future__ import annotations

from activespec.errors import SpectrumReadError
from activespec.io.detect import LRS_DR1, LRS_IMAGE, LRS_TABLE, MRS, detect_layout
from activespec.io.lamost import DEFAULT_MRS_ARM, read_lamost
from activespec.io.ondrejov import read_ondrejov
from activespec.io.opening import Source, one_line, open_fits, quiet_astropy
from activespec.spectrum import Spectrum

_LAMOST_LAYOUTS = (LRS_DR1, LRS_IMAGE, LRS_TABLE, MRS)


def read_spectrum(
    source: Source, *, name: str | None = None, mrs_arm: str = DEFAULT_MRS_ARM
) -> Spectrum:
    """Read one LAMOST or Ondřejov spectrum from a FITS file, plain or gzip-compressed.

    The layout is detected from the content (see :data:`activespec.io.LAYOUTS`), never
    from the file name; gzip is recognised by its magic bytes.

    Parameters
    ----------
    source : str, os.PathLike, bytes-like or binary file object
        A local path, or the file's bytes / an open binary file (e.g. from Beam's
        ``FileSystems.open``), read exactly once.
    name : str, optional
        Path or URI to record as ``meta.source`` (and to derive a fallback
        ``spectrum_id`` from); defaults to ``source`` when it is a path.
    mrs_arm : str, optional
        Extension read from LAMOST MRS files: ``"COADD_R"`` (default, covers
        H-alpha) or ``"COADD_B"``.

    Returns
    -------
    Spectrum
        Wavelengths in Å, strictly increasing, in ``spectrum.medium``; float64
        flux and inverse variance; ``mask`` True for bad pixels.

    Raises
    ------
    activespec.errors.SpectrumReadError
        Or one of its subclasses (NotFitsError, TruncatedFileError,
        UnknownLayoutError, NoFluxError, AllNaNError, WrongShapeError,
        BadWavelengthError), always with a one-line reason. No other exception
        escapes for bad input.

    Examples
    --------
    >>> spectrum = read_spectrum("spec-55862-B6212_sp06-003.fits")  # doctest: +SKIP
    >>> spectrum.meta.layout, spectrum.medium  # doctest: +SKIP
    ('lamost-lrs-dr1', 'vacuum')
    """
    try:
        with quiet_astropy():
            opened = open_fits(source, name=name)
            try:
                layout = detect_layout(opened.hdul)
                if layout in _LAMOST_LAYOUTS:
                    return read_lamost(opened, layout, mrs_arm=mrs_arm)
                return read_ondrejov(opened, layout)
            finally:
                opened.close()
    except SpectrumReadError:
        raise
    except Exception as err:  # astropy/numpy failures on malformed content: keep it typed
        reason = one_line(str(err)) or type(err).__name__
        raise SpectrumReadError(f"unreadable content ({type(err).__name__}): {reason}") from None
