"""Spectra from an SSAP service (and its DataLink), written where the pipeline reads them.

:func:`fetch_ssap` queries the service with pyvo (``BAND``, ``POS``/``SIZE`` or
``TARGETNAME``), keeps the records a list of identifiers names (``--ids``, else the
identifiers of ``--labels``, else all), downloads each spectrum with
:func:`activespec.vo.download.download_all` (the access URL, or with ``datalink`` the
DataLink processing service with ``FLUXCALIB``, ``BAND`` as a cut-out and
``FORMAT=application/fits``) and, given ``id,label`` rows keyed by the publisher's
identifiers, writes the ``labels.csv`` the pipeline trains on (``spectrum_id,file,label``
with the ``spectrum_id`` the readers give each file, plus the ``identifier``).

Wavelengths of ``band`` are in Ångström, or in metres (SSAP's unit) when below 1e-3.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import pathlib
import time
import warnings
from collections.abc import Sequence

from activespec.errors import ConfigError
from activespec.vo.download import (
    DEFAULT_BACKOFF_S,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_WORKERS,
    DownloadTask,
    Failure,
    FetchError,
    FetchSummary,
    download_all,
    unique_stems,
)
from activespec.vo.retry import call_with_retries

#: ``--datalink`` choices -> the DataLink ``FLUXCALIB`` value.
DATALINK_CALIBRATIONS = {
    "normalized": "NORMALIZED",
    "relative": "RELATIVE",
    "uncalibrated": "UNCALIBRATED",
}
LABELS_CSV = "labels.csv"
LABELS_COLUMNS = ("spectrum_id", "file", "label", "identifier")
#: Header names accepted for the identifier column of ``--ids`` and ``--labels`` files.
ID_HEADERS = (
    "id",
    "identifier",
    "publisher_did",
    "pubdid",
    "ivoid",
    "did",
    "ssa_pubdid",
    "obs_publisher_did",
)
LABEL_HEADERS = ("label", "class")
DEFAULT_MAXREC = 1_000_000
_FITS_MIME = "application/fits"


@dataclasses.dataclass
class SsapRecord:
    """The fields of one SSAP answer row that a download needs."""

    identifier: str
    access_url: str
    format: str
    title: str
    object: str
    ra: float | None
    dec: float | None
    record: object = dataclasses.field(default=None, repr=False)  # the pyvo record


@dataclasses.dataclass
class SsapFetchResult:
    records: int  # rows of the SSAP answer
    overflow: bool  # the service cut the answer at its limit
    query_seconds: float
    summary: FetchSummary
    labels_path: pathlib.Path | None = None
    labelled: int = 0
    labels_without_spectrum: list[str] = dataclasses.field(default_factory=list)


#: Where ``[data] labelled_ssap`` fetches to, relative to the configuration's directory.
DEFAULT_SOURCE_OUT = "survey/labelled-ssap"


@dataclasses.dataclass(frozen=True)
class SsapSource:
    """``[data] labelled_ssap``: the labelled set as an SSAP service and an ``id,label`` list.

    Before each round the spectra are fetched (resumably: a round after the first only
    checks the checksums) into ``out``, which the ingestion then reads with its
    ``labels.csv``. The keys are those of ``activespec fetch ssap``.
    """

    service: str
    labels: str
    out: str = DEFAULT_SOURCE_OUT
    ids: str = ""
    datalink: str = ""
    band: tuple[float, float] | None = None
    target: str = ""
    pos: tuple[float, float] | None = None
    size: float | None = None
    workers: int = DEFAULT_WORKERS
    retries: int = DEFAULT_RETRIES

    @classmethod
    def from_dict(cls, table: dict, where: str = "data.labelled_ssap") -> SsapSource:
        """Build and check one from a TOML table; raise ConfigError naming the key."""
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table, got {table!r}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(table) - fields)
        if unknown:
            raise ConfigError(f"unknown key {where}.{unknown[0]}; it accepts: {', '.join(fields)}")
        for key in ("service", "labels"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise ConfigError(f"{where}.{key}: required (a string)")
        values = dict(table)
        for key in ("out", "ids", "datalink", "target"):
            if key in values and not isinstance(values[key], str):
                raise ConfigError(f"{where}.{key}: expected a string, got {values[key]!r}")
        if values.get("datalink") and values["datalink"] not in DATALINK_CALIBRATIONS:
            raise ConfigError(
                f"{where}.datalink: {values['datalink']!r} is not one of "
                f"{', '.join(DATALINK_CALIBRATIONS)}"
            )
        for key in ("band", "pos"):
            if key in values:
                pair = values[key]
                if (
                    not isinstance(pair, list)
                    or len(pair) != 2
                    or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair
                    )
                ):
                    raise ConfigError(f"{where}.{key}: expected two numbers, got {pair!r}")
                values[key] = (float(pair[0]), float(pair[1]))
        if "band" in values:
            band_in_metres(*values["band"])
        if "size" in values:
            size = values["size"]
            if isinstance(size, bool) or not isinstance(size, (int, float)) or size <= 0:
                raise ConfigError(
                    f"{where}.size: expected a positive number of degrees, got {size!r}"
                )
            values["size"] = float(size)
        if ("pos" in values) != ("size" in values):
            raise ConfigError(f"{where}.pos and {where}.size go together")
        if values.get("target") and "pos" in values:
            raise ConfigError(f"{where}: give target or pos, not both")
        for key, least in (("workers", 1), ("retries", 0)):
            if key in values:
                value = values[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < least:
                    raise ConfigError(
                        f"{where}.{key}: expected an integer >= {least}, got {value!r}"
                    )
        return cls(**values)

    def fetch(self, resolve, *, progress: bool = False) -> SsapFetchResult:
        """Fetch into ``resolve(out)``; ``resolve`` makes the configured paths absolute.

        Raises
        ------
        activespec.errors.ConfigError
            When no labelled spectrum could be fetched.
        ServiceUnreachableError, VOError
            When the SSAP query fails.
        """
        out = resolve(self.out)
        result = fetch_ssap(
            self.service,
            out,
            band=self.band,
            target=self.target or None,
            pos=self.pos,
            size=self.size,
            ids=read_identifiers(resolve(self.ids)) if self.ids else None,
            labels=read_labels(resolve(self.labels)),
            datalink=self.datalink or None,
            workers=self.workers,
            retries=self.retries,
            progress=progress,
        )
        if not result.labelled:
            raise ConfigError(
                f"data.labelled_ssap: no labelled spectrum fetched from {self.service} into "
                f"{out} ({len(result.summary.failures)} failed; see failures.csv there)"
            )
        return result


def band_in_metres(low: float, high: float) -> tuple[float, float]:
    """``(low, high)`` in metres: Ångström unless the values are below 1e-3 (metres)."""
    if not (low < high) or low <= 0:
        raise ConfigError(f"band: need 0 < MIN < MAX, got {low:g} {high:g}")
    if high < 1e-3:
        return float(low), float(high)
    return float(low) * 1e-10, float(high) * 1e-10


def query_ssap(
    service: str,
    *,
    band: tuple[float, float] | None = None,
    target: str | None = None,
    pos: tuple[float, float] | None = None,
    size: float | None = None,
    maxrec: int = DEFAULT_MAXREC,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF_S,
) -> tuple[list[SsapRecord], bool]:
    """Query an SSAP service; return its records and whether the answer overflowed.

    Raises
    ------
    ServiceUnreachableError
        When the service does not answer (after ``retries`` further tries).
    VOError
        When it answers with an error or something that is not an SSAP VOTable.
    """
    import pyvo

    keywords: dict = {"maxrec": maxrec}
    if band is not None:
        keywords["band"] = band_in_metres(*band)
    if pos is not None:
        keywords["pos"] = (float(pos[0]), float(pos[1]))
        if size is not None:
            keywords["diameter"] = float(size)
    if target:
        keywords["TARGETNAME"] = target
    results = call_with_retries(
        lambda: pyvo.dal.SSAService(service).search(**keywords),
        what=f"SSAP service {service}",
        retries=retries,
        backoff=backoff,
    )
    status = getattr(results, "status", None) or ("",)
    overflow = str(status[0]).strip().upper() == "OVERFLOW"
    return [_record(r) for r in results], overflow


def fetch_ssap(
    service: str,
    out_dir: str | os.PathLike,
    *,
    band: tuple[float, float] | None = None,
    target: str | None = None,
    pos: tuple[float, float] | None = None,
    size: float | None = None,
    ids: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
    datalink: str | None = None,
    maxrec: int = DEFAULT_MAXREC,
    workers: int = DEFAULT_WORKERS,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF_S,
    timeout: float = DEFAULT_TIMEOUT_S,
    progress: bool = True,
) -> SsapFetchResult:
    """Query ``service`` and fetch its spectra into ``out_dir`` (see the module's text).

    Raises
    ------
    activespec.errors.ConfigError
        On a bad ``datalink`` choice or band.
    ServiceUnreachableError, VOError
        When the SSAP query fails.
    """
    if datalink is not None and datalink not in DATALINK_CALIBRATIONS:
        raise ConfigError(
            f"datalink: {datalink!r} is not one of {', '.join(DATALINK_CALIBRATIONS)}"
        )
    band_m = band_in_metres(*band) if band is not None else None
    started = time.monotonic()
    records, overflow = query_ssap(
        service,
        band=band,
        target=target,
        pos=pos,
        size=size,
        maxrec=maxrec,
        retries=retries,
        backoff=backoff,
    )
    query_seconds = time.monotonic() - started
    wanted = list(ids) if ids is not None else (list(labels) if labels is not None else None)
    by_id = {r.identifier: r for r in records}
    not_found: list[Failure] = []
    if wanted is not None:
        chosen = [by_id[i] for i in dict.fromkeys(wanted) if i in by_id]
        not_found = [
            Failure(i, "", "not-found", "not among the SSAP service's answer", 0)
            for i in dict.fromkeys(wanted)
            if i not in by_id
        ]
    else:
        chosen = list(by_id.values())
    stems = unique_stems([r.identifier for r in chosen])
    tasks = [_task(r, stems[r.identifier], datalink, band_m) for r in chosen]
    summary = download_all(
        tasks,
        out_dir,
        workers=workers,
        retries=retries,
        backoff=backoff,
        timeout=timeout,
        progress=progress,
        extra_failures=not_found,
    )
    result = SsapFetchResult(len(records), overflow, query_seconds, summary)
    if labels is not None:
        path, labelled, missing = write_training_labels(out_dir, summary.ok_rows, labels)
        result.labels_path, result.labelled, result.labels_without_spectrum = (
            path,
            labelled,
            missing,
        )
    return result


def write_training_labels(
    out_dir: str | os.PathLike, rows: Sequence[dict], labels: dict[str, str]
) -> tuple[pathlib.Path, int, list[str]]:
    """Write ``labels.csv`` (``spectrum_id,file,label,identifier``) for the fetched spectra.

    Returns the path, the rows written and the labelled identifiers without a spectrum.
    """
    path = pathlib.Path(out_dir) / LABELS_CSV
    by_id = {row["identifier"]: row for row in rows}
    written = 0
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LABELS_COLUMNS)
        for identifier in sorted(labels):
            row = by_id.get(identifier)
            if row is None:
                continue
            writer.writerow([row["spectrum_id"], row["file"], labels[identifier], identifier])
            written += 1
    os.replace(tmp, path)
    missing = sorted(i for i in labels if i not in by_id)
    return path, written, missing


def read_identifiers(path: str | os.PathLike) -> list[str]:
    """Identifiers, one a line (``#`` comments, an optional header), or a CSV's id column."""
    rows = _read_rows(path)
    if not rows:
        return []
    if len(rows[0]) > 1:
        column = _header_index(rows[0], ID_HEADERS)
        if column is None:
            raise ConfigError(
                f"{path}: a CSV of identifiers needs a header naming the identifier column "
                f"({', '.join(ID_HEADERS)})"
            )
        return [r[column].strip() for r in rows[1:] if len(r) > column and r[column].strip()]
    body = rows[1:] if rows[0][0].strip().lower() in ID_HEADERS else rows
    return [r[0].strip() for r in body if r and r[0].strip()]


def read_labels(path: str | os.PathLike) -> dict[str, str]:
    """``{identifier: label}`` from an ``id,label`` CSV (header optional).

    Raises
    ------
    activespec.errors.ConfigError
        On a missing file, a row without a label, or one identifier with two labels.
    """
    rows = _read_rows(path)
    if not rows:
        raise ConfigError(f"{path}: no labels")
    id_col, label_col = _header_index(rows[0], ID_HEADERS), _header_index(rows[0], LABEL_HEADERS)
    start = 1
    if id_col is None or label_col is None:
        id_col, label_col, start = 0, 1, 0
    labels: dict[str, str] = {}
    for number, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(id_col, label_col) or not row[label_col].strip():
            raise ConfigError(f"{path}:{number}: expected an identifier and a label")
        identifier, label = row[id_col].strip(), row[label_col].strip()
        if labels.setdefault(identifier, label) != label:
            raise ConfigError(
                f"{path}:{number}: {identifier!r} is labelled both {labels[identifier]!r} "
                f"and {label!r}"
            )
    return labels


# Helpers ----------------------------------------------------------------------------
def _task(record: SsapRecord, stem: str, datalink: str | None, band_m) -> DownloadTask:
    task = DownloadTask(
        identifier=record.identifier,
        url=record.access_url,
        stem=stem,
        title=record.title,
        object=record.object,
        ra=record.ra,
        dec=record.dec,
    )
    if datalink is not None:
        calib = DATALINK_CALIBRATIONS[datalink]
        task.via = f"datalink:{calib}"
        task.resolve = lambda t: _resolve_datalink(t, record, calib, band_m)
    elif "content=datalink" in record.format.lower():
        task.via = "datalink:#this"
        task.resolve = lambda t: _resolve_this(t, record)
    return task


def _resolve_datalink(task: DownloadTask, record: SsapRecord, calib: str, band_m) -> None:
    """Point ``task`` at the record's DataLink processing service with FLUXCALIB etc."""
    from astropy import units as u
    from pyvo.dal.adhoc import SodaQuery

    links = _datalink_of(record)
    for proc in links.iter_procs():
        resource = links.get_adhocservice_by_id(proc.service_def)
        names = {
            str(getattr(entry, "name", "")).upper()
            for group in resource.groups
            for entry in group.entries
        }
        if names and "FLUXCALIB" not in names:
            continue
        extra = {"FLUXCALIB": calib, "FORMAT": _FITS_MIME}
        if band_m is not None:
            extra["band"] = list(band_m) * u.m
        query = SodaQuery.from_resource(proc, resource, **extra)
        task.url = query.queryurl
        task.params = {k: _param_text(v) for k, v in dict(query).items()}
        return
    raise FetchError(
        "no-datalink-service", "the DataLink offers no processing service with FLUXCALIB"
    )


def _resolve_this(task: DownloadTask, record: SsapRecord) -> None:
    links = _datalink_of(record)
    for row in links.bysemantics("#this"):
        if row.access_url:
            task.url = str(row.access_url)
            return
    raise FetchError("no-datalink-this", "the DataLink document has no #this link")


def _datalink_of(record: SsapRecord):
    import requests
    from pyvo.dal.exceptions import DALFormatError, DALServiceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return record.record.getdatalink()
    except DALServiceError as err:
        status = getattr(err, "code", None)
        retry = status is None or (
            isinstance(status, int) and (status >= 500 or status in (408, 429))
        )
        code = f"datalink-http-{status}" if isinstance(status, int) else "datalink-connection"
        raise FetchError(code, f"DataLink: {_short(err)}", retry=retry) from None
    except DALFormatError as err:
        if isinstance(err.cause, requests.exceptions.RequestException):
            raise FetchError(
                "datalink-connection", f"DataLink: {_short(err.cause)}", retry=True
            ) from None
        raise FetchError("datalink-format", f"DataLink answer unusable: {_short(err)}") from None


def _param_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def _record(row) -> SsapRecord:
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        value = str(value).strip()
        return "" if value in ("--", "nan") else value

    access_url = text(row.getdataurl())
    identifier = text(_by_utype(row, "ssa:Curation.PublisherDID")) or text(
        _by_ucd(row, "meta.ref.ivoid")
    )
    ra, dec = _position(row)
    return SsapRecord(
        identifier=identifier or access_url,
        access_url=access_url,
        format=text(_by_utype(row, "ssa:Access.Format")),
        title=text(_by_utype(row, "ssa:DataID.Title")),
        object=text(_by_utype(row, "ssa:Target.Name")),
        ra=ra,
        dec=dec,
        record=row,
    )


def _position(row) -> tuple[float | None, float | None]:
    """RA and Dec of a record: the target position, else the coverage location (DaCHS
    splits it into ``...Location.Value.C1``/``C2``), else the main RA/Dec UCDs."""
    for utype in ("ssa:Target.Pos", "ssa:Char.SpatialAxis.Coverage.Location.Value"):
        pair = _pair(_by_utype(row, utype))
        if pair is not None:
            return pair
    c1 = _by_utype(row, "ssa:Char.SpatialAxis.Coverage.Location.Value.C1")
    c2 = _by_utype(row, "ssa:Char.SpatialAxis.Coverage.Location.Value.C2")
    pair = _pair([c1, c2])
    if pair is not None:
        return pair
    pair = _pair([_by_ucd(row, "pos.eq.ra;meta.main"), _by_ucd(row, "pos.eq.dec;meta.main")])
    return pair if pair is not None else (None, None)


def _pair(value) -> tuple[float, float] | None:
    import numpy as np

    if value is None:
        return None
    try:
        numbers = np.ma.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    if numbers.shape != (2,) or np.ma.is_masked(numbers) or not np.all(np.isfinite(numbers)):
        return None
    return float(numbers[0]), float(numbers[1])


def _by_utype(row, utype: str):
    try:
        return row.getbyutype(utype)
    except (KeyError, ValueError):
        return None


def _by_ucd(row, ucd: str):
    try:
        return row.getbyucd(ucd)
    except (KeyError, ValueError):
        return None


def _short(err: BaseException) -> str:
    return (" ".join(str(err).split()) or type(err).__name__)[:300]


def _read_rows(path: str | os.PathLike) -> list[list[str]]:
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from None
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    return list(csv.reader(lines))


def _header_index(header: Sequence[str], names: Sequence[str]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None
