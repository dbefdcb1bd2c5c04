"""Readers for Ondřejov 2m CCD700 spectra: the raw 1-D image and the SSAP/DataLink table.

Wavelengths are in air. The raw image has a linear WCS and ADU fluxes without
uncertainties; the SSAP table has columns ``spectral`` (air wavelength) and
``flux`` (often continuum-normalised).
"""

from __future__ import annotations

from activespec.constants import R_ONDREJOV
from activespec.errors import BadWavelengthError, NoFluxError
from activespec.io.assemble import assemble_spectrum, linear_wavelengths, log_linear_wavelengths
from activespec.io.coordinates import parse_angle, to_j2000
from activespec.io.detect import ONDREJOV_IMAGE, ONDREJOV_SSAP
from activespec.io.headers import HeaderLookup
from activespec.io.identity import file_stem
from activespec.io.opening import OpenedFits
from activespec.io.tables import column_map, table_vector, wavelength_scale
from activespec.spectrum import Spectrum, SpectrumMeta

SURVEY = "Ondrejov"
INSTRUMENT = "Ondrejov-CCD700"


def read_ondrejov(opened: OpenedFits, layout: str) -> Spectrum:
    """Read an Ondřejov file of a detected ``layout`` into a :class:`Spectrum`.

    Parameters
    ----------
    opened : OpenedFits
    layout : {"ondrejov-image", "ondrejov-ssap"}

    Returns
    -------
    Spectrum
    """
    if layout == ONDREJOV_IMAGE:
        return _read_image(opened)
    if layout == ONDREJOV_SSAP:
        return _read_ssap(opened)
    raise ValueError(f"not an Ondrejov layout: {layout!r}")


def _read_image(opened: OpenedFits) -> Spectrum:
    primary = opened.hdul[0]
    lookup = HeaderLookup(primary.header)
    flux = primary.data
    return assemble_spectrum(
        image_wavelengths(lookup, flux.shape[0]),
        flux,
        medium=ondrejov_medium(lookup),
        meta=ondrejov_meta(lookup, opened, layout=ONDREJOV_IMAGE),
    )


def image_wavelengths(lookup: HeaderLookup, n_pixels: int):
    """Wavelengths from the linear WCS: ``CRVAL1 + step * (i + 1 - CRPIX1)``.

    The step is CD1_1 (which takes precedence in the FITS standard) or CDELT1;
    CRPIX1 defaults to 1. ``DC-FLAG = 1`` (IRAF log-linear) is honoured.

    Raises
    ------
    BadWavelengthError
        When CRVAL1 or the step is missing, or the step is zero.
    """
    start = lookup.number("CRVAL1")
    step = lookup.number("CD1_1", "CDELT1")
    if start is None or step is None:
        missing = "CRVAL1" if start is None else "CD1_1/CDELT1"
        raise BadWavelengthError(f"no wavelength solution: {missing} missing from the header")
    if step == 0:
        raise BadWavelengthError("wavelength step CD1_1/CDELT1 is zero")
    first_pixel = lookup.number("CRPIX1")
    first_pixel = 0.0 if first_pixel is None else first_pixel - 1.0
    if lookup.integer("DC-FLAG") == 1:
        return log_linear_wavelengths(start, step, n_pixels, first_pixel)
    return linear_wavelengths(start, step, n_pixels, first_pixel)


def _read_ssap(opened: OpenedFits) -> Spectrum:
    table = opened.hdul[1]
    columns = column_map(table)
    if "FLUX" not in columns:
        raise NoFluxError("SSAP table has no flux column")
    spectral = columns["SPECTRAL"]
    wave = table_vector(table, spectral)
    scale = wavelength_scale(table, spectral)
    if scale != 1.0:
        wave = wave * scale
    lookup = HeaderLookup(opened.hdul[0].header, table.header)
    return assemble_spectrum(
        wave,
        table_vector(table, columns["FLUX"]),
        medium=ondrejov_medium(lookup),
        meta=ondrejov_meta(lookup, opened, layout=ONDREJOV_SSAP),
    )


def ondrejov_medium(lookup: HeaderLookup) -> str:
    """``"air"`` unless the header declares vacuum (``AIRORVAC = 'vac'`` or ``VACUUM = T``)."""
    declared = (lookup.string("AIRORVAC") or "").lower()
    if declared.startswith("vac") or lookup.flag("VACUUM") is True:
        return "vacuum"
    return "air"


def ondrejov_coordinates(lookup: HeaderLookup) -> tuple[float | None, float | None]:
    """RA and Dec in J2000 degrees.

    Raw CCD700 headers give sexagesimal text (RA in hours) in the equinox of the
    date, precessed here to J2000; SSAP headers give J2000 degrees.
    """
    ra_value, dec_value = lookup.raw("RA"), lookup.raw("DEC")
    ra = parse_angle(ra_value, hours=isinstance(ra_value, str))
    dec = parse_angle(dec_value)
    if ra is None or dec is None:
        return ra, dec
    return to_j2000(ra, dec, lookup.number("EQUINOX"))


def ondrejov_spectrum_id(lookup: HeaderLookup, opened: OpenedFits) -> str:
    """The publisher DID (DS_IDPUB), else the file stem of the recorded name, else a SHA-1."""
    return lookup.string("DS_IDPUB") or file_stem(opened.name) or opened.sha1()


def ondrejov_meta(lookup: HeaderLookup, opened: OpenedFits, *, layout: str) -> SpectrumMeta:
    """Metadata of an Ondřejov spectrum from its header(s)."""
    ra, dec = ondrejov_coordinates(lookup)
    return SpectrumMeta(
        spectrum_id=ondrejov_spectrum_id(lookup, opened),
        survey=SURVEY,
        instrument=INSTRUMENT,
        layout=layout,
        source=opened.source,
        designation=lookup.string("OBJECT"),
        ra=ra,
        dec=dec,
        snr=lookup.number("SNR"),
        resolving_power=R_ONDREJOV,
    )
