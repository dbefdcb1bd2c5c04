"""``read_spectrum``: any supported FITS file in, a :class:`Spectrum` or a typed error out."""

from __future__ import annotations

from typing import Literal

from activespec.errors import SpectrumReadError
from activespec.io.desi import read_desi
from activespec.io.detect import (
    DESI_COADD,
    LRS_DR1,
    LRS_IMAGE,
    LRS_TABLE,
    MRS,
    SDSS_SPEC,
    detect_layout,
)
from activespec.io.fastfits import parse_fits_fast
from activespec.io.lamost import DEFAULT_MRS_ARM, read_lamost
from activespec.io.ondrejov import read_ondrejov
from activespec.io.opening import (
    OpenedFits,
    Source,
    gunzip_if_needed,
    one_line,
    parse_fits,
    quiet_astropy,
    read_source_bytes,
)
from activespec.io.sdss import read_sdss
from activespec.spectrum import Spectrum

_LAMOST_LAYOUTS = (LRS_DR1, LRS_IMAGE, LRS_TABLE, MRS)
#: FITS parsers :func:`read_spectrum` can use.
PARSERS = ("fast", "astropy")


def read_spectrum(
    source: Source,
    *,
    name: str | None = None,
    mrs_arm: str = DEFAULT_MRS_ARM,
    parser: Literal["fast", "astropy"] = "fast",
    desi_targetid: int | None = None,
) -> Spectrum:
    """Read one LAMOST, Ondřejov, SDSS or DESI spectrum from a FITS file, plain or gzipped.

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
    parser : {"fast", "astropy"}, optional
        ``"fast"`` (default) parses the file with :mod:`activespec.io.fastfits` and
        falls back to astropy for anything that parser does not cover and for every
        file it cannot read, so results and errors are astropy's either way;
        ``"astropy"`` uses astropy only (the reference).
    desi_targetid : int, optional
        TARGETID of the spectrum to read from a DESI file holding several; a DESI file
        with one spectrum needs none (see :mod:`activespec.io.desi`). Ignored for other
        layouts.

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
        BadWavelengthError, MultiSpectrumError), always with a one-line reason. No
        other exception escapes for bad input.

    Examples
    --------
    >>> spectrum = read_spectrum("spec-55862-B6212_sp06-003.fits")  # doctest: +SKIP
    >>> spectrum.meta.layout, spectrum.medium  # doctest: +SKIP
    ('lamost-lrs-dr1', 'vacuum')
    """
    if parser not in PARSERS:
        raise ValueError(f"parser must be one of {PARSERS}, got {parser!r}")
    try:
        raw, path = read_source_bytes(source)
        data = gunzip_if_needed(raw)
        name = name if name is not None else path
        if parser == "fast":
            try:
                return _read_opened(
                    OpenedFits(parse_fits_fast(data), data, name), mrs_arm, desi_targetid
                )
            except Exception:  # outside the fast subset, or bad: astropy reads and words it
                pass
        with quiet_astropy():
            opened = OpenedFits(parse_fits(data), data, name)
            try:
                return _read_opened(opened, mrs_arm, desi_targetid)
            finally:
                opened.close()
    except SpectrumReadError:
        raise
    except Exception as err:  # astropy/numpy failures on malformed content: keep it typed
        reason = one_line(str(err)) or type(err).__name__
        raise SpectrumReadError(f"unreadable content ({type(err).__name__}): {reason}") from None


def _read_opened(opened: OpenedFits, mrs_arm: str, desi_targetid: int | None) -> Spectrum:
    layout = detect_layout(opened.hdul)
    if layout in _LAMOST_LAYOUTS:
        return read_lamost(opened, layout, mrs_arm=mrs_arm)
    if layout == SDSS_SPEC:
        return read_sdss(opened)
    if layout == DESI_COADD:
        return read_desi(opened, targetid=desi_targetid)
    return read_ondrejov(opened, layout)
