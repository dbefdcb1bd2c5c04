"""Positional cross-match of the candidates with a user's catalogue of known objects.

The known catalogue (e.g. SIMBAD emission-line stars, Hou et al. 2016) may be a CSV,
VOTable or FITS table. Its coordinate columns are found by their usual names
(``ra``/``dec``, ``RAJ2000``/``DEJ2000``, ``_RA``/``_DE``, ``RA_ICRS``/``DE_ICRS`` ...,
case-insensitive) or by their UCDs; decimal degrees and sexagesimal text (right
ascension in hours) are both accepted.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import warnings

import numpy as np

from activespec.errors import ConfigError
from activespec.io.coordinates import parse_angle

#: Column names tried for the right ascension and the declination, in order of preference.
RA_NAMES = (
    "ra",
    "raj2000",
    "_raj2000",
    "ra_j2000",
    "ra2000",
    "ra_icrs",
    "_ra_icrs",
    "_ra",
    "radeg",
    "ra_deg",
    "ra_d",
    "ra_obs",
    "alpha",
)
DEC_NAMES = (
    "dec",
    "dej2000",
    "_dej2000",
    "dec_j2000",
    "decj2000",
    "de2000",
    "dec2000",
    "de_icrs",
    "_de_icrs",
    "_de",
    "de",
    "decdeg",
    "dedeg",
    "dec_deg",
    "de_deg",
    "dec_d",
    "dec_obs",
    "decl",
    "delta",
)
#: Column names tried for the object name (optional).
NAME_NAMES = (
    "name",
    "main_id",
    "designation",
    "desig",
    "object",
    "object_name",
    "objname",
    "obj_name",
    "simbad_name",
    "identifier",
    "star",
    "target",
    "id",
)
_RA_UCDS = ("pos.eq.ra;meta.main", "pos.eq.ra")
_DEC_UCDS = ("pos.eq.dec;meta.main", "pos.eq.dec")
_NAME_UCDS = ("meta.id;meta.main",)

#: Note set on spectra without coordinates.
NO_COORDINATES_NOTE = "no coordinates: not cross-matched"

_FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")
_VOTABLE_SUFFIXES = (".vot", ".votable", ".xml", ".vot.xml")
_LETTERS = re.compile(r"[hdmsHDMS°'\"]")


@dataclasses.dataclass(frozen=True)
class KnownCatalogue:
    """Positions (and names) of already known objects.

    Attributes
    ----------
    path : str
        The file the catalogue was read from.
    names : ndarray of str
        One name per entry: the name column, or ``<file stem>[<row>]`` without one.
    ra, dec : ndarray of float64
        ICRS (J2000) degrees; rows without valid coordinates were dropped.
    ra_column, dec_column : str
        The columns the coordinates were read from.
    name_column : str or None
        The name column, when the file has one.
    n_dropped : int
        Rows skipped for missing or out-of-range coordinates.
    """

    path: str
    names: np.ndarray
    ra: np.ndarray
    dec: np.ndarray
    ra_column: str
    dec_column: str
    name_column: str | None
    n_dropped: int = 0

    def __len__(self) -> int:
        return int(self.ra.shape[0])


@dataclasses.dataclass(frozen=True)
class MatchResult:
    """Per-spectrum outcome of :func:`crossmatch`.

    Attributes
    ----------
    known : ndarray of bool
        True when a catalogue entry lies within the radius.
    known_name : ndarray of str
        Name of that entry, ``""`` when not known.
    separation_arcsec : ndarray of float64
        Distance to the nearest catalogue entry (also beyond the radius); NaN for a
        spectrum without coordinates.
    note : ndarray of str
        ``NO_COORDINATES_NOTE`` for a spectrum without coordinates, else ``""``.
    """

    known: np.ndarray
    known_name: np.ndarray
    separation_arcsec: np.ndarray
    note: np.ndarray


def load_known_catalogue(path: str | os.PathLike) -> KnownCatalogue:
    """Read a catalogue of known objects from a CSV, VOTable or FITS table.

    The format is taken from the file's content (FITS and XML signatures) or its
    extension, and the other readers are tried when the first one fails.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    KnownCatalogue

    Raises
    ------
    activespec.errors.ConfigError
        If the file is missing or unreadable as a table, has no recognisable RA/Dec
        columns, or no row with valid coordinates.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigError(f"known catalogue {str(path)!r} does not exist")
    table = _read_table(path)
    ra_column = _find_column(table, RA_NAMES, _RA_UCDS)
    dec_column = _find_column(table, DEC_NAMES, _DEC_UCDS)
    if ra_column is None or dec_column is None:
        raise ConfigError(
            f"known catalogue {path.name}: no right ascension / declination columns found "
            f"among {', '.join(table.colnames) or 'no columns'} "
            "(expected e.g. ra/dec, RAJ2000/DEJ2000, _RA/_DE or RA_ICRS/DE_ICRS)"
        )
    ra = _column_degrees(table[ra_column], hours=True)
    dec = _column_degrees(table[dec_column], hours=False)
    valid = np.isfinite(ra) & np.isfinite(dec) & (ra >= 0) & (ra <= 360) & (np.abs(dec) <= 90)
    if not valid.any():
        raise ConfigError(
            f"known catalogue {path.name}: no row has valid coordinates in {ra_column}/{dec_column}"
        )
    name_column = _find_column(table, NAME_NAMES, _NAME_UCDS)
    if name_column is not None:
        names = _column_text(table[name_column])
    else:
        stem = path.name.split(".")[0]
        names = np.array([f"{stem}[{i}]" for i in range(len(table))], dtype=str)
    return KnownCatalogue(
        path=str(path),
        names=names[valid],
        ra=ra[valid],
        dec=dec[valid],
        ra_column=ra_column,
        dec_column=dec_column,
        name_column=name_column,
        n_dropped=int((~valid).sum()),
    )


def crossmatch(
    ra: np.ndarray, dec: np.ndarray, known: KnownCatalogue, radius_arcsec: float = 3.0
) -> MatchResult:
    """Match each position to its nearest neighbour in ``known`` on the sky.

    Parameters
    ----------
    ra, dec : array-like of float
        Degrees (ICRS); NaN where a spectrum has no coordinates.
    known : KnownCatalogue
    radius_arcsec : float, optional
        Largest separation of a match.

    Returns
    -------
    MatchResult

    Raises
    ------
    activespec.errors.ConfigError
        If the radius is not a positive finite number.
    """
    check_radius(radius_arcsec)
    ra = np.asarray(ra, dtype=np.float64)
    dec = np.asarray(dec, dtype=np.float64)
    n = ra.shape[0]
    has_position = np.isfinite(ra) & np.isfinite(dec)
    separation = np.full(n, np.nan)
    nearest = np.zeros(n, dtype=np.int64)
    if has_position.any() and len(known):
        # astropy's coordinates are slow to import; only a cross-match needs them
        from astropy import units as u
        from astropy.coordinates import SkyCoord

        spectra = SkyCoord(ra[has_position] * u.deg, dec[has_position] * u.deg, frame="icrs")
        catalogue = SkyCoord(known.ra * u.deg, known.dec * u.deg, frame="icrs")
        index, sep2d, _ = spectra.match_to_catalog_sky(catalogue)
        separation[has_position] = sep2d.to_value(u.arcsec)
        nearest[has_position] = index
    is_known = has_position & (separation <= radius_arcsec)
    names = np.where(is_known, known.names[nearest] if len(known) else "", "")
    note = np.where(has_position, "", NO_COORDINATES_NOTE)
    return MatchResult(is_known, names.astype(str), separation, note.astype(str))


def check_radius(radius_arcsec: float) -> float:
    """Return the radius as float, or raise ConfigError unless it is positive and finite."""
    try:
        radius = float(radius_arcsec)
    except (TypeError, ValueError):
        raise ConfigError(
            f"match radius must be a number of arcsec, not {radius_arcsec!r}"
        ) from None
    if not np.isfinite(radius) or radius <= 0:
        raise ConfigError(f"match radius must be a positive number of arcsec, not {radius_arcsec}")
    return radius


def _read_table(path: pathlib.Path):
    """Read the first table of the file, trying the likeliest format first."""
    # astropy.table is slow to import; only a known catalogue needs it
    from astropy.table import Table

    errors = []
    for fmt in _format_order(path):
        kwargs = {"format": fmt}
        if fmt == "ascii":
            kwargs["guess"] = True
        try:
            with warnings.catch_warnings():
                # Unit strings, VOTable W-codes and "more than one table" are not fatal.
                warnings.simplefilter("ignore")
                return Table.read(str(path), **kwargs)
        except Exception as err:  # astropy raises many exception types per reader
            errors.append(f"{fmt}: {' '.join(str(err).split())[:120]}")
    raise ConfigError(
        f"known catalogue {path.name} is not a readable CSV, VOTable or FITS table "
        f"({'; '.join(errors)})"
    )


def _format_order(path: pathlib.Path) -> list[str]:
    with path.open("rb") as handle:
        head = handle.read(2048)
    name = path.name.lower()
    if head.startswith(b"SIMPLE") or head.startswith(b"\x1f\x8b") or name.endswith(_FITS_SUFFIXES):
        first = ["fits"]
    elif b"<VOTABLE" in head.upper() or name.endswith(_VOTABLE_SUFFIXES):
        first = ["votable"]
    else:
        first = ["ascii.ecsv", "ascii.csv"] if name.endswith(".ecsv") else ["ascii.csv"]
    rest = [f for f in ("fits", "votable", "ascii.csv", "ascii") if f not in first]
    return first + rest


def _find_column(table, names: tuple[str, ...], ucds: tuple[str, ...]) -> str | None:
    by_lower = {name.lower().strip(): name for name in table.colnames}
    for candidate in names:
        if candidate in by_lower:
            return by_lower[candidate]
    for ucd in ucds:
        for name in table.colnames:
            column_ucd = (table[name].meta or {}).get("ucd") or ""
            if column_ucd.lower().replace(" ", "") == ucd:
                return name
    return None


def _column_degrees(column, *, hours: bool) -> np.ndarray:
    """A coordinate column in degrees: numbers (with their unit) or sexagesimal text."""
    # astropy's coordinates are slow to import; only a cross-match needs them
    from astropy import units as u

    if column.dtype.kind in "fiu":
        values = np.ma.asarray(column).astype(np.float64).filled(np.nan)
        unit = column.unit
        if unit is None or unit == u.dimensionless_unscaled:
            return values
        if unit in (u.hourangle, u.hour):
            return values * 15.0
        if unit.is_equivalent(u.deg):
            return (values * unit).to_value(u.deg)
        return values  # an unrecognised unit string: assume degrees as most catalogues give
    return np.array([_text_degrees(text, hours) for text in _column_text(column)], dtype=float)


def _text_degrees(text: str, hours: bool) -> float:
    """Decimal degrees or sexagesimal text (hours for right ascension) to degrees."""
    text = text.strip()
    if not text:
        return np.nan
    value = parse_angle(text, hours=hours) if not _LETTERS.search(text) else None
    if value is not None:
        return value
    try:
        # astropy's coordinates are slow to import; only a cross-match needs them
        from astropy import units as u
        from astropy.coordinates import Angle

        return float(Angle(text, unit=u.hourangle if hours else u.deg).to_value(u.deg))
    except Exception:  # any unparsable text is a missing coordinate, not a crash
        return np.nan


def _column_text(column) -> np.ndarray:
    """Column values as str; masked or missing entries as ``""``."""
    mask = np.asarray(getattr(column, "mask", np.zeros(len(column), dtype=bool)))
    if mask.shape != (len(column),):
        mask = np.zeros(len(column), dtype=bool)
    values = []
    for value, masked in zip(np.asarray(column), mask, strict=True):
        if masked:
            values.append("")
        elif isinstance(value, bytes):
            values.append(value.decode("utf-8", errors="replace").strip())
        else:
            values.append(str(value).strip())
    return np.array(values, dtype=str) if values else np.array([], dtype=str)
