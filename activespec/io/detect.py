"""Recognise the layout of an opened FITS file from its content (never its name)."""

from __future__ import annotations

import numpy as np
from astropy.io import fits

from activespec.errors import NoFluxError, UnknownLayoutError, WrongShapeError
from activespec.io.datamodels import (
    DESI_CAMERAS,
    DESI_FLUX_SUFFIX,
    DESI_WAVELENGTH_SUFFIX,
    SDSS_COADD_COLUMNS,
)
from activespec.io.tables import column_map

LRS_DR1 = "lamost-lrs-dr1"
LRS_IMAGE = "lamost-lrs-image"
LRS_TABLE = "lamost-lrs-table"
MRS = "lamost-mrs"
ONDREJOV_IMAGE = "ondrejov-image"
ONDREJOV_SSAP = "ondrejov-ssap"
SDSS_SPEC = "sdss-spec"
DESI_COADD = "desi-coadd"

#: Stable layout names -> one-line description. These names are recorded in
#: :attr:`activespec.spectrum.SpectrumMeta.layout` and in rejection tables.
LAYOUTS: dict[str, str] = {
    LRS_DR1: (
        "LAMOST LRS DR1 (pipeline 2.6): primary 5xN image, rows Flux/Invvar/Subcontinuum/"
        "Andmask/Ormask, log-linear wavelength from COEFF0/COEFF1 (or CRVAL1/CD1_1), vacuum"
    ),
    LRS_IMAGE: (
        "LAMOST LRS DR2-DR8: primary 5xN image, rows Flux/Invvar/Wavelength/Andmask/Ormask, vacuum"
    ),
    LRS_TABLE: (
        "LAMOST LRS DR9+: one-row binary table in HDU 1 with array columns FLUX, IVAR, "
        "WAVELENGTH, ANDMASK, ORMASK, vacuum"
    ),
    MRS: (
        "LAMOST MRS: binary-table extensions COADD_B/COADD_R (+ single exposures) with FLUX, "
        "IVAR, LOGLAM, ANDMASK, ORMASK, vacuum; red coadd by default"
    ),
    ONDREJOV_IMAGE: (
        "Ondrejov 2m CCD700: 1-D primary image, linear WCS (CRVAL1, CDELT1 or CD1_1, CRPIX1), air"
    ),
    ONDREJOV_SSAP: (
        "Ondrejov SSAP/DataLink: binary table in HDU 1 with columns 'spectral' (air, Angstrom) "
        "and 'flux'"
    ),
    SDSS_SPEC: (
        "SDSS spec/spec-lite (DR8-DR17): HDU 1 COADD table with columns flux, loglam, ivar, "
        "and_mask (one row per pixel), HDU 2 SPALL/SPECOBJ metadata, vacuum"
    ),
    DESI_COADD: (
        "DESI coadd/spectra: FIBERMAP table, per camera <C>_WAVELENGTH, <C>_FLUX, <C>_IVAR, "
        "<C>_MASK images (nspec x nwave); the camera covering H-alpha, vacuum"
    ),
}

#: Names of the MRS coadded-arm extensions.
MRS_COADD_EXTENSIONS = ("COADD_B", "COADD_R")
#: Rows of a LAMOST LRS image.
LRS_IMAGE_ROWS = 5
# A row holds wavelengths when it increases and stays within what spectrographs cover.
_MIN_PLAUSIBLE_WAVE = 1_000.0
_MAX_PLAUSIBLE_WAVE = 100_000.0


def detect_layout(hdul) -> str:
    """Return the layout name (a key of :data:`LAYOUTS`) of an opened FITS file.

    Parameters
    ----------
    hdul : astropy.io.fits.HDUList or activespec.io.fastfits.FastHDUList
        The file, with data loaded.

    Returns
    -------
    str

    Raises
    ------
    NoFluxError
        When the file holds no data at all.
    WrongShapeError
        When the primary image has a shape no supported layout uses.
    UnknownLayoutError
        When data exist but match no supported layout.
    """
    primary = hdul[0]
    naxis = int(primary.header.get("NAXIS", 0))
    if naxis > 0:
        return _detect_primary_image(primary, naxis)

    extensions = hdul[1:]
    if len(extensions) == 0:
        raise NoFluxError("no data: the primary HDU is empty and there are no extensions")
    if desi_cameras(hdul):
        return DESI_COADD
    tables = [hdu for hdu in extensions if is_binary_table(hdu)]
    if is_binary_table(extensions[0]) and all(
        column in column_map(extensions[0]) for column in SDSS_COADD_COLUMNS
    ):
        return SDSS_SPEC
    if any(hdu.name.upper() in MRS_COADD_EXTENSIONS for hdu in tables) or any(
        "LOGLAM" in column_map(hdu) for hdu in tables
    ):
        return MRS
    first = extensions[0]
    if is_binary_table(first):
        columns = column_map(first)
        if "FLUX" in columns and "WAVELENGTH" in columns:
            return LRS_TABLE
        if "FLUX" in columns and "SPECTRAL" in columns:
            return ONDREJOV_SSAP
        raise UnknownLayoutError(
            f"unrecognised table in HDU 1 (columns: {', '.join(first.columns.names) or 'none'})"
        )
    kinds = ", ".join(f"{type(hdu).__name__} {hdu.name!r}" for hdu in extensions[:4])
    raise UnknownLayoutError(f"unrecognised layout: empty primary HDU, extensions {kinds}")


def desi_cameras(hdul) -> list[str]:
    """Cameras (of :data:`~activespec.io.datamodels.DESI_CAMERAS`) with both a wavelength
    and a flux HDU, blue to red; empty for anything but a DESI coadd or spectra file."""
    names = {hdu.name.strip().upper() for hdu in hdul[1:]}
    return [
        camera
        for camera in DESI_CAMERAS
        if camera + DESI_WAVELENGTH_SUFFIX in names and camera + DESI_FLUX_SUFFIX in names
    ]


def is_binary_table(hdu) -> bool:
    """Whether ``hdu`` is a binary table, read by astropy or by :mod:`activespec.io.fastfits`."""
    return isinstance(hdu, fits.BinTableHDU) or getattr(hdu, "is_binary_table", False)


def _detect_primary_image(primary, naxis: int) -> str:
    shape = tuple(int(primary.header.get(f"NAXIS{i}", 0)) for i in range(naxis, 0, -1))
    if 0 in shape:
        raise NoFluxError(f"primary image has an empty axis (shape {'x'.join(map(str, shape))})")
    if naxis == 1:
        return ONDREJOV_IMAGE
    if naxis == 2 and shape[0] == LRS_IMAGE_ROWS:
        return LRS_IMAGE if _has_wavelength_row(primary) else LRS_DR1
    raise WrongShapeError(
        f"primary image has shape {'x'.join(map(str, shape))}; expected 5xN (LAMOST LRS) "
        "or 1-D (Ondrejov)"
    )


def _has_wavelength_row(primary) -> bool:
    """Whether the third row of a LAMOST 5xN image holds wavelengths.

    The pipeline names the rows in EXTEN0 ("... Wavelength ..." from DR2 on,
    "... Subcontinuum ..." in DR1); without it the row's values decide.
    """
    rows = str(primary.header.get("EXTEN0", "")).upper()
    if "WAVELENGTH" in rows:
        return True
    if "SUBCONT" in rows:
        return False
    row = primary.data[2]
    with np.errstate(invalid="ignore"):
        return bool(
            np.isfinite(row).all()
            and row[0] > _MIN_PLAUSIBLE_WAVE
            and row[-1] < _MAX_PLAUSIBLE_WAVE
            and (np.diff(row) > 0).all()
        )
