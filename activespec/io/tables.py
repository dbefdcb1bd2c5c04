"""Pull 1-D spectral vectors out of FITS binary tables in either storage style.

Spectra in tables come either as one row of array columns (LAMOST DR9+ LRS,
``FLUX`` with TFORM ``3909E``) or as one row per pixel (LAMOST MRS, most SSAP
services). :func:`table_vector` returns a 1-D array for both.
"""

from __future__ import annotations

import numpy as np

from activespec.errors import BadWavelengthError, NoFluxError, WrongShapeError

#: Factors from a table's wavelength unit (TUNIT, lower case) to Angstrom.
WAVELENGTH_UNIT_TO_ANGSTROM: dict[str, float] = {
    "": 1.0,
    "angstrom": 1.0,
    "angstroms": 1.0,
    "a": 1.0,
    "aa": 1.0,
    "0.1nm": 1.0,
    "nm": 10.0,
    "um": 1e4,
    "micron": 1e4,
    "m": 1e10,
}


def column_map(hdu) -> dict[str, str]:
    """Upper-case column name -> the table's own spelling."""
    return {name.upper(): name for name in hdu.columns.names}


def table_vector(hdu, column: str) -> np.ndarray:
    """One spectral vector from ``column`` of binary table ``hdu``.

    Parameters
    ----------
    hdu : astropy.io.fits.BinTableHDU
    column : str
        The column's name as spelled in the table.

    Returns
    -------
    ndarray
        1-D, in the file's dtype (converted by the caller).

    Raises
    ------
    NoFluxError
        The table has no rows.
    WrongShapeError
        Array columns in more than one row, or cells that are not vectors.
    """
    n_rows = hdu.header.get("NAXIS2", 0)
    if n_rows == 0:
        raise NoFluxError(f"table {hdu.name or 'HDU'} has no rows")
    values = hdu.data.field(column)
    if values.ndim == 1:
        return values
    if values.ndim == 2:
        if values.shape[0] != 1:
            raise WrongShapeError(
                f"column {column} holds arrays in {values.shape[0]} rows; expected one row"
            )
        return values[0]
    raise WrongShapeError(f"column {column} has cells of shape {values.shape[1:]}; expected 1-D")


def wavelength_scale(hdu, column: str) -> float:
    """Factor converting ``column`` of ``hdu`` to Angstrom, from its TUNIT keyword.

    Raises
    ------
    BadWavelengthError
        When the unit is not a wavelength unit this reader knows.
    """
    index = hdu.columns.names.index(column) + 1
    unit = str(hdu.header.get(f"TUNIT{index}", "")).strip().lower()
    try:
        return WAVELENGTH_UNIT_TO_ANGSTROM[unit]
    except KeyError:
        raise BadWavelengthError(
            f"wavelength column {column} is in unsupported unit {unit!r}"
        ) from None


def row_values(hdu, names, row: int = 0) -> dict:
    """Cells of one row of binary table ``hdu`` as ``{upper-case column name: value}``.

    Only the columns of ``names`` (upper case) that the table has are read. Text comes
    back as a stripped ``str`` (bytes are decoded as ASCII), numbers as Python scalars
    (:func:`python_scalar`),
    vector cells as 1-D arrays in native byte order; a table without that row gives ``{}``.
    """
    columns = column_map(hdu)
    if int(hdu.header.get("NAXIS2", 0)) <= row:
        return {}
    values = {}
    for name in names:
        if name not in columns:
            continue
        value = hdu.data.field(columns[name])[row]
        if isinstance(value, bytes):
            value = value.decode("ascii", errors="replace")
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, np.ndarray):
            value = value.astype(value.dtype.newbyteorder("="))
        elif isinstance(value, np.generic):
            value = python_scalar(value)
        values[name] = value
    return values


def python_scalar(value):
    """A NumPy scalar as a Python one; float32 by its shortest text (0.000123, not
    0.0001230000052601099), so metadata read from tables print as the file shows them."""
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        return float(str(value))
    return value.item() if isinstance(value, np.generic) else value
