"""Reader for SDSS ``spec`` and ``spec-lite`` files (SDSS-I/II and BOSS/eBOSS, DR8-DR17).

Wavelengths are vacuum (``10**loglam`` Å); fluxes are in 1e-17 erg/s/cm²/Å, unlike
LAMOST's relative units (preprocessing scales every spectrum, so this does not matter
downstream). A pixel whose ``and_mask`` is nonzero (bad in every exposure) or whose
``ivar`` is 0 is flagged bad, as for LAMOST; ``or_mask`` is not used. The data model's
facts (HDU and column names, keywords) live in :mod:`activespec.io.datamodels`.
"""

from __future__ import annotations

import math

import numpy as np

from activespec.constants import R_SDSS
from activespec.errors import BadWavelengthError
from activespec.io.assemble import assemble_spectrum
from activespec.io.datamodels import (
    SDSS_AND_MASK,
    SDSS_CLASS_KEY,
    SDSS_DEC_KEYS,
    SDSS_FIBER_KEYS,
    SDSS_FLUX,
    SDSS_INSTRUMENT_KEY,
    SDSS_IVAR,
    SDSS_LOGLAM,
    SDSS_METADATA_EXTENSIONS,
    SDSS_MJD_KEYS,
    SDSS_PLATE_KEYS,
    SDSS_RA_KEYS,
    SDSS_REDSHIFT_KEY,
    SDSS_SN_ALL_KEY,
    SDSS_SN_BANDS_KEY,
    SDSS_SN_R_INDEX,
    SDSS_SUBCLASS_KEY,
)
from activespec.io.detect import SDSS_SPEC, is_binary_table
from activespec.io.headers import HeaderLookup
from activespec.io.identity import file_stem
from activespec.io.opening import OpenedFits
from activespec.io.tables import column_map, python_scalar, row_values, table_vector
from activespec.spectrum import Spectrum, SpectrumMeta

SURVEY = "SDSS"
INSTRUMENT = "SDSS"
#: The metadata columns read from the SPALL/SPECOBJ row (only these: a table of hundreds).
_ROW_KEYS = (
    *SDSS_PLATE_KEYS, *SDSS_MJD_KEYS, *SDSS_FIBER_KEYS, *SDSS_RA_KEYS, *SDSS_DEC_KEYS,
    SDSS_CLASS_KEY, SDSS_SUBCLASS_KEY, SDSS_REDSHIFT_KEY, SDSS_SN_BANDS_KEY, SDSS_SN_ALL_KEY,
    SDSS_INSTRUMENT_KEY,
)  # fmt: skip


def read_sdss(opened: OpenedFits) -> Spectrum:
    """Read an SDSS spec or spec-lite file into a :class:`Spectrum`.

    Parameters
    ----------
    opened : OpenedFits
        A file :func:`activespec.io.detect_layout` found to be ``"sdss-spec"``.

    Returns
    -------
    Spectrum
        Vacuum wavelengths; metadata from the SPALL/SPECOBJ row, then the primary header.

    Raises
    ------
    BadWavelengthError
        When the COADD table has no ``loglam`` column.
    """
    coadd = opened.hdul[1]
    columns = column_map(coadd)
    if SDSS_LOGLAM not in columns:
        raise BadWavelengthError("SDSS COADD table has no loglam column")
    # float32 loglam: widen before the power so the grid stays strictly increasing.
    wave = 10.0 ** table_vector(coadd, columns[SDSS_LOGLAM]).astype("f8")
    ivar = table_vector(coadd, columns[SDSS_IVAR]) if SDSS_IVAR in columns else None
    and_mask = table_vector(coadd, columns[SDSS_AND_MASK])
    lookup = HeaderLookup(_metadata_row(opened), opened.hdul[0].header)
    return assemble_spectrum(
        wave,
        table_vector(coadd, columns[SDSS_FLUX]),
        ivar=ivar,
        bad=and_mask != 0,
        medium="vacuum",
        meta=sdss_meta(lookup, opened),
    )


def _metadata_row(opened: OpenedFits) -> dict | None:
    """The first row of the SPALL/SPECOBJ table as ``{upper-case column: value}``."""
    for hdu in opened.hdul[2:]:
        if hdu.name.strip().upper() in SDSS_METADATA_EXTENSIONS and is_binary_table(hdu):
            return row_values(hdu, _ROW_KEYS)
    return None


def sdss_spectrum_id(lookup: HeaderLookup, opened: OpenedFits) -> str:
    """``f"sdss-{PLATE}-{MJD}-{FIBERID}"`` (PLATE as 4 digits, FIBERID as 4, as SDSS
    names its files); else the file stem of the recorded name; else a SHA-1 of the bytes."""
    plate = lookup.integer(*SDSS_PLATE_KEYS)
    mjd = lookup.integer(*SDSS_MJD_KEYS)
    fiber = lookup.integer(*SDSS_FIBER_KEYS)
    if plate is not None and mjd is not None and fiber is not None:
        return f"sdss-{plate:04d}-{mjd}-{fiber:04d}"
    return file_stem(opened.name) or opened.sha1()


def sdss_snr(lookup: HeaderLookup) -> float | None:
    """Median S/N per pixel in r (SN_MEDIAN[2]), else over the whole spectrum."""
    bands = lookup.raw(SDSS_SN_BANDS_KEY)
    if isinstance(bands, np.ndarray) and bands.shape == (5,):
        value = python_scalar(bands[SDSS_SN_R_INDEX])
        if math.isfinite(value):
            return value
    return lookup.number(SDSS_SN_ALL_KEY)


def sdss_meta(lookup: HeaderLookup, opened: OpenedFits) -> SpectrumMeta:
    """Metadata of an SDSS spectrum from its SPALL/SPECOBJ row and primary header."""
    return SpectrumMeta(
        spectrum_id=sdss_spectrum_id(lookup, opened),
        survey=SURVEY,
        instrument=lookup.string(SDSS_INSTRUMENT_KEY) or INSTRUMENT,
        layout=SDSS_SPEC,
        source=opened.source,
        ra=lookup.number(*SDSS_RA_KEYS),
        dec=lookup.number(*SDSS_DEC_KEYS),
        lamost_class=lookup.string(SDSS_CLASS_KEY),
        lamost_subclass=lookup.string(SDSS_SUBCLASS_KEY),
        snr=sdss_snr(lookup),
        resolving_power=R_SDSS,
        redshift=lookup.number(SDSS_REDSHIFT_KEY),
    )
