"""Known or new: the positional cross-match of the candidates against a TAP service.

:class:`TapCatalogue` stands where a :class:`activespec.catalogue.crossmatch.KnownCatalogue`
does in :func:`activespec.catalogue.build_catalogue`, and gives the same
:class:`~activespec.catalogue.crossmatch.MatchResult`: the candidates with coordinates
are uploaded as a table (``TAP_UPLOAD.cand``: row index, RA, Dec) and joined with the
service's table by an ADQL positional join::

    SELECT c.cid, k.<name>, DISTANCE(POINT('ICRS', c.ra, c.dec),
                                     POINT('ICRS', k.<ra>, k.<dec>)) AS sep
    FROM TAP_UPLOAD.cand AS c JOIN <table> AS k
    ON 1 = CONTAINS(POINT('ICRS', k.<ra>, k.<dec>), CIRCLE('ICRS', c.ra, c.dec, <r>))

The search circle is :data:`SEARCH_FACTOR` times the match radius, so that
``separation_arcsec`` gives the nearest known object also somewhat beyond the radius
(the file-based match gives it at any distance; here it is NaN beyond the circle).
The table's RA, Dec and name columns are found from a ``SELECT TOP 0`` of it, by the
same names and UCDs as a catalogue file's (numeric columns only), unless given.

Failures are bounded retries (connection errors, timeouts, HTTP 5xx) and then
:class:`~activespec.vo.errors.ServiceUnreachableError`; a refused query or an unusable
table is :class:`~activespec.vo.errors.VOError`.
"""

from __future__ import annotations

import dataclasses
import io
import re

import numpy as np

from activespec.catalogue.crossmatch import (
    _DEC_UCDS,
    _NAME_UCDS,
    _RA_UCDS,
    DEC_NAMES,
    NAME_NAMES,
    NO_COORDINATES_NOTE,
    RA_NAMES,
    MatchResult,
    check_radius,
)
from activespec.catalogue.writers import votable_bytes
from activespec.errors import ConfigError
from activespec.vo.errors import VOError
from activespec.vo.retry import call_with_retries

#: The search circle of the join, in match radii.
SEARCH_FACTOR = 10.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 2.0
#: Rows uploaded per query (a service limits uploads; larger catalogues go in chunks).
UPLOAD_CHUNK = 20_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$|^\"[^\"]+\"$")


@dataclasses.dataclass
class TapCatalogue:
    """A table of known objects behind a TAP service.

    Parameters
    ----------
    url : str
        The TAP service (e.g. ``https://simbad.cds.unistra.fr/simbad/sim-tap``).
    table : str
        Its table of known objects (e.g. ``basic``, or a VizieR table such as
        ``"J/ApJS/223/18/table1"``).
    ra_column, dec_column, name_column : str, optional
        Override the columns found from the table's names and UCDs.
    retries : int
        Further attempts of each query after a transient failure.
    backoff : float
        First wait between attempts in seconds, doubled each time.
    """

    url: str
    table: str
    ra_column: str | None = None
    dec_column: str | None = None
    name_column: str | None = None
    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF_S

    def __post_init__(self) -> None:
        if not self.url or not self.table:
            raise ConfigError("a TAP cross-match needs the service URL and the table")
        for name in ("table", "ra_column", "dec_column", "name_column"):
            value = getattr(self, name)
            if value and not _IDENTIFIER.match(value):
                raise ConfigError(f"TAP {name.replace('_', ' ')} {value!r} is not an ADQL name")

    @property
    def path(self) -> str:
        """How the catalogue is named in the catalogue's metadata and the report."""
        return f"{self.table} at {self.url}"

    size = None  # the table's rows are not counted

    def columns(self) -> tuple[str, str, str | None]:
        """RA, Dec and (optional) name columns of the table."""
        if self.ra_column and self.dec_column:
            return self.ra_column, self.dec_column, self.name_column
        fields = self._fields()
        numeric = [f for f in fields if f[2]]
        ra = self.ra_column or _find(numeric, RA_NAMES, _RA_UCDS)
        dec = self.dec_column or _find(numeric, DEC_NAMES, _DEC_UCDS)
        if ra is None or dec is None:
            names = ", ".join(f[0] for f in fields) or "no columns"
            raise VOError(
                f"TAP table {self.table}: no numeric right ascension / declination columns "
                f"among {names} (set them in [crossmatch] tap_ra / tap_dec)"
            )
        name = self.name_column or _find(fields, NAME_NAMES, _NAME_UCDS)
        return ra, dec, name

    def crossmatch(self, ra, dec, radius_arcsec: float = 3.0) -> MatchResult:
        """Mark each position known (a table entry within the radius) or new.

        Raises
        ------
        ServiceUnreachableError, VOError
        """
        radius = check_radius(radius_arcsec)
        ra = np.asarray(ra, dtype=np.float64)
        dec = np.asarray(dec, dtype=np.float64)
        n = ra.shape[0]
        has_position = np.isfinite(ra) & np.isfinite(dec)
        separation = np.full(n, np.nan)
        names = np.full(n, "", dtype=object)
        rows = np.flatnonzero(has_position)
        if rows.size:
            ra_col, dec_col, name_col = self.columns()
            search_deg = radius * SEARCH_FACTOR / 3600.0
            for start in range(0, rows.size, UPLOAD_CHUNK):
                chunk = rows[start : start + UPLOAD_CHUNK]
                for cid, name, sep_deg in self._join(
                    chunk, ra[chunk], dec[chunk], ra_col, dec_col, name_col, search_deg
                ):
                    sep = sep_deg * 3600.0
                    if np.isnan(separation[cid]) or sep < separation[cid]:
                        separation[cid] = sep
                        names[cid] = name
        known = has_position & (separation <= radius)
        known_name = np.where(known, names, "").astype(str)
        note = np.where(has_position, "", NO_COORDINATES_NOTE).astype(str)
        return MatchResult(known, known_name, separation, note)

    # Queries ------------------------------------------------------------------------
    def _fields(self) -> list[tuple[str, str, bool]]:
        """(name, ucd, numeric) of every column, from an empty query of the table."""
        result = self._run(f"SELECT TOP 0 * FROM {self.table}")
        fields = []
        for field in result.fielddescs:
            numeric = str(field.datatype) in ("double", "float", "int", "long", "short")
            fields.append((field.name, (field.ucd or "").lower().replace(" ", ""), numeric))
        return fields

    def _join(self, cids, ra, dec, ra_col, dec_col, name_col, search_deg):
        from astropy.table import Table

        upload = votable_bytes(
            Table({"cid": np.asarray(cids, dtype=np.int64), "ra": ra, "dec": dec})
        )
        name_expr = f"k.{name_col}" if name_col else "''"
        known_point = f"POINT('ICRS', k.{ra_col}, k.{dec_col})"
        query = (
            f"SELECT c.cid AS cid, {name_expr} AS known_name, "
            f"DISTANCE(POINT('ICRS', c.ra, c.dec), {known_point}) AS sep "
            f"FROM TAP_UPLOAD.cand AS c JOIN {self.table} AS k "
            f"ON 1 = CONTAINS({known_point}, CIRCLE('ICRS', c.ra, c.dec, {search_deg!r}))"
        )
        result = self._run(query, uploads={"cand": upload}).to_table()
        for row in result:
            name = row["known_name"]
            if isinstance(name, bytes):
                name = name.decode("utf-8", errors="replace")
            name = "" if np.ma.is_masked(name) else str(name).strip()
            yield int(row["cid"]), name, float(row["sep"])

    def _run(self, query: str, uploads: dict[str, bytes] | None = None):
        import pyvo

        service = pyvo.dal.TAPService(self.url)

        def attempt():
            # A fresh file per attempt: a retry must send the whole table again.
            files = {name: io.BytesIO(data) for name, data in (uploads or {}).items()}
            extra = {"uploads": files} if files else {}
            return service.run_sync(query, maxrec=10_000_000, **extra)

        return call_with_retries(
            attempt,
            what=f"TAP service {self.url}",
            retries=self.retries,
            backoff=self.backoff,
        )


def _find(fields, names, ucds) -> str | None:
    by_lower = {f[0].lower(): f[0] for f in fields}
    for candidate in names:
        if candidate in by_lower:
            return by_lower[candidate]
    for ucd in ucds:
        for field in fields:
            if field[1] == ucd:
                return field[0]
    return None
