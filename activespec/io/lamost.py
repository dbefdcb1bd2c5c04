"""Readers for the LAMOST layouts: LRS DR1 image, DR2-DR8 image, DR9+ table, MRS tables.

All LAMOST wavelengths are vacuum, heliocentric, in Å. A pixel whose ANDMASK is
nonzero (bad in every exposure) is flagged bad; ORMASK (bad in at least one
exposure) is not used, since it flags far too many usable pixels.
"""

from __future__ import annotations

import re

from activespec.constants import R_LAMOST_LRS, R_LAMOST_MRS
from activespec.errors import BadWavelengthError, NoFluxError, WrongShapeError
from activespec.io.assemble import assemble_spectrum, linear_wavelengths, log_linear_wavelengths
from activespec.io.detect import LRS_DR1, LRS_IMAGE, LRS_TABLE, MRS, is_binary_table
from activespec.io.headers import HeaderLookup
from activespec.io.identity import file_stem
from activespec.io.opening import OpenedFits
from activespec.io.tables import column_map, table_vector
from activespec.spectrum import Spectrum, SpectrumMeta

SURVEY = "LAMOST"
INSTRUMENT_LRS = "LAMOST-LRS"
INSTRUMENT_MRS = "LAMOST-MRS"
#: The red MRS coadd covers H-alpha (6292-6851 Å), hence the default arm.
DEFAULT_MRS_ARM = "COADD_R"

# Rows of the LRS 5xN primary image.
_FLUX_ROW, _IVAR_ROW, _WAVE_ROW, _ANDMASK_ROW = 0, 1, 2, 3
_DATA_RELEASE = re.compile(r"DR\s*(\d+)", re.IGNORECASE)


def read_lamost(opened: OpenedFits, layout: str, *, mrs_arm: str = DEFAULT_MRS_ARM) -> Spectrum:
    """Read a LAMOST file of a detected ``layout`` into a :class:`Spectrum`.

    Parameters
    ----------
    opened : OpenedFits
    layout : str
        One of ``"lamost-lrs-dr1"``, ``"lamost-lrs-image"``, ``"lamost-lrs-table"``,
        ``"lamost-mrs"``.
    mrs_arm : str
        Extension to read from an MRS file (``"COADD_R"`` or ``"COADD_B"``, or a
        single-exposure extension name such as ``"R-84107311"``).

    Returns
    -------
    Spectrum
    """
    if layout in (LRS_DR1, LRS_IMAGE):
        return _read_lrs_image(opened, layout)
    if layout == LRS_TABLE:
        return _read_lrs_table(opened)
    if layout == MRS:
        return _read_mrs(opened, mrs_arm)
    raise ValueError(f"not a LAMOST layout: {layout!r}")


def _read_lrs_image(opened: OpenedFits, layout: str) -> Spectrum:
    primary = opened.hdul[0]
    image = primary.data
    lookup = HeaderLookup(primary.header)
    wave = dr1_wavelengths(lookup, image.shape[1]) if layout == LRS_DR1 else image[_WAVE_ROW]
    meta = lamost_meta(lookup, opened, layout=layout, instrument=INSTRUMENT_LRS)
    return assemble_spectrum(
        wave,
        image[_FLUX_ROW],
        ivar=image[_IVAR_ROW],
        bad=image[_ANDMASK_ROW] != 0,
        medium=lamost_medium(lookup),
        meta=meta,
    )


def dr1_wavelengths(lookup: HeaderLookup, n_pixels: int):
    """Log-linear DR1 wavelengths: ``10**(COEFF0 + COEFF1*i)``, else from the WCS keys.

    Raises
    ------
    BadWavelengthError
        When the header has neither COEFF0/COEFF1 nor CRVAL1 with CD1_1/CDELT1.
    """
    start, step = lookup.number("COEFF0"), lookup.number("COEFF1")
    if start is not None and step is not None:
        return log_linear_wavelengths(start, step, n_pixels)
    start, step = lookup.number("CRVAL1"), lookup.number("CD1_1", "CDELT1")
    if start is None or step is None:
        raise BadWavelengthError(
            "no wavelength solution: neither COEFF0/COEFF1 nor CRVAL1/CD1_1 in the header"
        )
    reference_pixel = lookup.number("CRPIX1")
    first_pixel = 0.0 if reference_pixel is None else reference_pixel - 1.0
    # DC-FLAG = 1 marks log10 wavelengths; LAMOST always uses them, so assume log when
    # the flag is missing and CRVAL1 is too small to be Angstrom.
    dc_flag = lookup.integer("DC-FLAG")
    if dc_flag == 1 or (dc_flag is None and start < 10.0):
        return log_linear_wavelengths(start, step, n_pixels, first_pixel)
    return linear_wavelengths(start, step, n_pixels, first_pixel)


def _read_lrs_table(opened: OpenedFits) -> Spectrum:
    table = opened.hdul[1]
    columns = column_map(table)
    lookup = HeaderLookup(opened.hdul[0].header, table.header)
    ivar = table_vector(table, columns["IVAR"]) if "IVAR" in columns else None
    andmask = table_vector(table, columns["ANDMASK"]) if "ANDMASK" in columns else None
    meta = lamost_meta(lookup, opened, layout=LRS_TABLE, instrument=INSTRUMENT_LRS)
    return assemble_spectrum(
        table_vector(table, columns["WAVELENGTH"]),
        table_vector(table, columns["FLUX"]),
        ivar=ivar,
        bad=None if andmask is None else andmask != 0,
        medium=lamost_medium(lookup),
        meta=meta,
    )


def _read_mrs(opened: OpenedFits, mrs_arm: str) -> Spectrum:
    wanted = mrs_arm.strip().upper()
    arm = next((hdu for hdu in opened.hdul[1:] if hdu.name.strip().upper() == wanted), None)
    if arm is None:
        names = [hdu.name for hdu in opened.hdul[1:]]
        present = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        present = present or "none"
        raise NoFluxError(f"MRS file has no {wanted} extension (extensions: {present})")
    if not is_binary_table(arm):
        raise WrongShapeError(f"MRS extension {wanted} is not a binary table")
    columns = column_map(arm)
    if "FLUX" not in columns:
        raise NoFluxError(f"MRS extension {wanted} has no FLUX column")
    if "LOGLAM" in columns:
        # float32 LOGLAM: widen before the power so the grid stays strictly increasing.
        wave = 10.0 ** table_vector(arm, columns["LOGLAM"]).astype("f8")
    elif "WAVELENGTH" in columns:
        wave = table_vector(arm, columns["WAVELENGTH"])
    else:
        raise BadWavelengthError(f"MRS extension {wanted} has no LOGLAM or WAVELENGTH column")
    mask_column = next((columns[c] for c in ("ANDMASK", "PIXMASK") if c in columns), None)
    ivar = table_vector(arm, columns["IVAR"]) if "IVAR" in columns else None
    bad = None if mask_column is None else table_vector(arm, mask_column) != 0
    lookup = HeaderLookup(opened.hdul[0].header, arm.header)
    # The S/N of the arm read describes the returned spectrum better than the r-band S/N.
    snr = HeaderLookup(arm.header).number("SNR")
    meta = lamost_meta(lookup, opened, layout=MRS, instrument=INSTRUMENT_MRS, snr=snr)
    return assemble_spectrum(
        wave, table_vector(arm, columns["FLUX"]), ivar=ivar, bad=bad,
        medium=lamost_medium(lookup), meta=meta,
    )  # fmt: skip


def lamost_medium(lookup: HeaderLookup) -> str:
    """``"vacuum"`` unless the header says ``VACUUM = F``."""
    return "air" if lookup.flag("VACUUM") is False else "vacuum"


def lamost_data_release(lookup: HeaderLookup) -> str | None:
    """Data release as ``"DR<n>"``.

    From ``DATA_V`` (``'LAMOST DR7'`` -> ``"DR7"``) when present; otherwise inferred
    from the pipeline version: 2.6.x was used only for DR1, and 2.7.x files without
    an OBSID (introduced in DR3) are DR2. None when it cannot be told.
    """
    version = lookup.string("DATA_V", "DATA_VRS", "DATAVERS")
    if version is not None:
        match = _DATA_RELEASE.search(version)
        return f"DR{match.group(1)}" if match else version
    pipeline = (lookup.string("VERSPIPE") or "").lstrip("vV")
    if pipeline.startswith("2.6"):
        return "DR1"
    if pipeline.startswith("2.7") and lamost_obsid(lookup) is None:
        return "DR2"
    return None


def lamost_obsid(lookup: HeaderLookup) -> int | None:
    """The OBSID when the header has a positive integer one."""
    obsid = lookup.integer("OBSID")
    return obsid if obsid is not None and obsid > 0 else None


def lamost_spectrum_id(lookup: HeaderLookup, opened: OpenedFits) -> str:
    """Stable spectrum identifier (see :class:`~activespec.spectrum.SpectrumMeta`).

    ``str(OBSID)`` when positive; else ``f"{LMJD}-{PLANID}-{SPID:02d}-{FIBERID:03d}"``;
    else the file stem of the recorded name; else a SHA-1 of the FITS bytes.
    """
    obsid = lamost_obsid(lookup)
    if obsid is not None:
        return str(obsid)
    lmjd, planid = lookup.integer("LMJD"), lookup.string("PLANID")
    spid, fiberid = lookup.integer("SPID"), lookup.integer("FIBERID")
    if lmjd is not None and planid and spid is not None and fiberid is not None:
        return f"{lmjd}-{planid.strip()}-{spid:02d}-{fiberid:03d}"
    return file_stem(opened.name) or opened.sha1()


def lamost_meta(
    lookup: HeaderLookup,
    opened: OpenedFits,
    *,
    layout: str,
    instrument: str,
    snr: float | None = None,
) -> SpectrumMeta:
    """Metadata of a LAMOST spectrum from its header(s).

    ``snr`` overrides the header's r-band S/N (SNRR in DR6+, SN_R before).
    """
    return SpectrumMeta(
        spectrum_id=lamost_spectrum_id(lookup, opened),
        survey=SURVEY,
        instrument=instrument,
        layout=layout,
        source=opened.source,
        designation=lookup.string("DESIG", "DESIGNATION"),
        ra=lookup.number("RA"),
        dec=lookup.number("DEC"),
        data_release=lamost_data_release(lookup),
        lamost_class=lookup.string("CLASS"),
        lamost_subclass=lookup.string("SUBCLASS"),
        snr=snr if snr is not None else lookup.number("SNRR", "SN_R", "SNR_R"),
        obsid=lamost_obsid(lookup),
        resolving_power=R_LAMOST_MRS if instrument == INSTRUMENT_MRS else R_LAMOST_LRS,
    )
