"""Resumable, bounded, retrying downloads of FITS spectra, each checked with the readers.

:func:`download_all` fetches a list of :class:`DownloadTask` into one folder:

- at most ``workers`` downloads at a time, each retried on connection errors, timeouts,
  HTTP 408/429/5xx and truncated bodies, with exponential back-off (``Retry-After`` is
  honoured);
- a body goes to a hidden temporary name (``.NAME.part``) and is renamed to its final name
  only once it is complete (its ``Content-Length``), FITS (``SIMPLE`` card, plain or
  gzip) and readable by :func:`activespec.io.read_spectrum`, so no partial or unreadable
  file is ever left under a final name;
- every success is appended to ``manifest.csv`` at once (identifier, access URL, file,
  title, object, RA, Dec, SHA-256, size, the reader's ``spectrum_id``), so an interrupted
  run loses nothing; the next run skips every identifier whose file is on disk with the
  recorded checksum, and fetches again those whose file is missing or differs;
- every failure is recorded with a reason code (``http-404``, ``http-500``, ``not-fits``,
  ``truncated``, ``unreadable``, ``connection`` ...) and a one-line reason in
  ``failures.csv``.

No pyvo here: :mod:`activespec.vo.ssap` turns SSAP records into tasks (a task can resolve
its URL when it runs, e.g. through DataLink).
"""

from __future__ import annotations

import collections
import concurrent.futures
import csv
import dataclasses
import email.utils
import gzip
import hashlib
import os
import pathlib
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from activespec import __version__
from activespec.errors import ConfigError

MANIFEST_CSV = "manifest.csv"
FAILURES_CSV = "failures.csv"
MANIFEST_COLUMNS = (
    "identifier",
    "access_url",
    "file",
    "title",
    "object",
    "ra",
    "dec",
    "sha256",
    "size",
    "spectrum_id",
    "via",
)
FAILURE_COLUMNS = ("identifier", "access_url", "code", "reason", "attempts")
USER_AGENT = f"activespec/{__version__} (+https://github.com/; spectra for active learning)"
#: HTTP statuses worth another try.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
DEFAULT_WORKERS = 4
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
DEFAULT_TIMEOUT_S = 60.0
_CHUNK = 1 << 16
_FITS_START = b"SIMPLE  ="
_GZIP_MAGIC = b"\x1f\x8b"


@dataclasses.dataclass
class DownloadTask:
    """One spectrum to fetch.

    Attributes
    ----------
    identifier : str
        The publisher's identifier (e.g. ``ivo://asu.cas.cz/stel/ccd700/...``).
    url : str
        Where the file is; may be filled in by ``resolve`` when the task runs.
    stem : str
        File name without extension (``.fits`` or ``.fits.gz`` is added by content).
    params : dict
        Query parameters sent with ``url``.
    title, object, ra, dec :
        Metadata copied to the manifest.
    via : str
        How the file was asked for (``product``, ``datalink:RELATIVE`` ...).
    resolve : callable, optional
        Called (and retried like a download) before the download, to set ``url`` and
        ``params`` (a DataLink look-up); raises :class:`FetchError` to give up.
    """

    identifier: str
    url: str
    stem: str
    params: dict = dataclasses.field(default_factory=dict)
    title: str = ""
    object: str = ""
    ra: float | None = None
    dec: float | None = None
    via: str = "product"
    resolve: Callable[[DownloadTask], None] | None = None


@dataclasses.dataclass(frozen=True)
class Failure:
    identifier: str
    access_url: str
    code: str
    reason: str
    attempts: int


@dataclasses.dataclass
class FetchSummary:
    """What one :func:`download_all` run did."""

    fetched: list[dict] = dataclasses.field(default_factory=list)
    skipped: list[dict] = dataclasses.field(default_factory=list)
    failures: list[Failure] = dataclasses.field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0

    @property
    def ok_rows(self) -> list[dict]:
        """Manifest rows of every spectrum on disk after the run (fetched or kept)."""
        return [*self.skipped, *self.fetched]


class FetchError(Exception):
    """A download failed for a stated reason; ``retry`` tells whether to try again."""

    def __init__(self, code: str, reason: str, *, retry: bool = False, wait: float | None = None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.retry = retry
        self.wait = wait


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_stem(identifier: str) -> str:
    """A file-name stem from an identifier: its last path or query part, FITS endings and
    characters other than letters, digits, ``.``, ``_`` and ``-`` removed."""
    tail = re.split(r"[/?#=~]", identifier.rstrip("/?#"))[-1] or "spectrum"
    tail = re.sub(r"(?i)\.(fits?|fts)(\.gz)?$", "", tail)
    tail = re.sub(r"[^A-Za-z0-9._-]+", "_", tail).strip("._") or "spectrum"
    return tail[:120]


def unique_stems(identifiers: Sequence[str]) -> dict[str, str]:
    """:func:`safe_stem` of each identifier; stems shared by several identifiers get a
    short hash of the identifier appended."""
    stems = {i: safe_stem(i) for i in identifiers}
    counts: dict[str, int] = {}
    for stem in stems.values():
        counts[stem.lower()] = counts.get(stem.lower(), 0) + 1
    for identifier, stem in stems.items():
        if counts[stem.lower()] > 1:
            stems[identifier] = f"{stem}-{hashlib.sha1(identifier.encode()).hexdigest()[:8]}"
    return stems


def read_manifest(out_dir: str | os.PathLike) -> dict[str, dict]:
    """The manifest's rows by identifier (the last row of an identifier wins)."""
    path = pathlib.Path(out_dir) / MANIFEST_CSV
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [
            c for c in ("identifier", "file", "sha256") if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise ConfigError(f"{path}: not a fetch manifest (no {', '.join(missing)} column)")
        return {row["identifier"]: row for row in reader if row.get("identifier")}


def download_all(
    tasks: Iterable[DownloadTask],
    out_dir: str | os.PathLike,
    *,
    workers: int = DEFAULT_WORKERS,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF_S,
    timeout: float = DEFAULT_TIMEOUT_S,
    progress: bool = True,
    session_factory: Callable[[], object] | None = None,
    extra_failures: Sequence[Failure] = (),
) -> FetchSummary:
    """Fetch ``tasks`` into ``out_dir``; see the module's description.

    Parameters
    ----------
    tasks : iterable of DownloadTask
    out_dir : path-like
        Created if missing; holds the spectra, ``manifest.csv`` and ``failures.csv``.
    workers : int
        Downloads at a time (>= 1).
    retries : int
        Further attempts after the first (>= 0).
    backoff : float
        First wait between attempts, doubled each time (with jitter), at most 60 s.
    timeout : float
        Seconds to wait for a connection or for data.
    progress : bool
        A progress bar on standard error when it is a terminal.
    extra_failures : sequence of Failure
        Failures found before the downloads (e.g. identifiers the service does not
        know), recorded with the others.

    Returns
    -------
    FetchSummary
    """
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    if retries < 0:
        raise ConfigError(f"retries must be >= 0, got {retries}")
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tasks = list(tasks)
    previous = read_manifest(out)
    summary = FetchSummary(failures=list(extra_failures))
    todo = []
    for task in tasks:
        row = previous.get(task.identifier)
        if row is not None and _still_valid(out, row):
            summary.skipped.append(row)
            continue
        if row is not None and row.get("file"):
            task.stem = _stem_of(row["file"])  # keep the name it had
        todo.append(task)
    _check_distinct(todo)

    manifest = _ManifestWriter(out / MANIFEST_CSV)
    bar = _progress_bar(len(todo), progress)
    local = threading.local()

    def session():
        if not hasattr(local, "session"):
            local.session = (session_factory or _new_session)()
        return local.session

    def run(task: DownloadTask):
        return _fetch_with_retries(task, out, session(), retries, backoff, timeout)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run, task): task for task in todo}
            for future in concurrent.futures.as_completed(futures):
                result = future.result()
                if isinstance(result, Failure):
                    summary.failures.append(result)
                else:
                    manifest.append(result)
                    summary.fetched.append(result)
                    summary.bytes += int(result["size"])
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        manifest.close()
    _compact_manifest(out / MANIFEST_CSV)
    _write_failures(out / FAILURES_CSV, summary.failures)
    summary.seconds = time.monotonic() - started
    return summary


def _check_distinct(tasks: Sequence[DownloadTask]) -> None:
    """Refuse tasks that would write the same file: concurrent downloads of one name
    overwrite each other's partial file. Stems are compared lower-cased, as file
    systems may ignore case."""
    for what, keys in (
        ("identifier", [t.identifier for t in tasks]),
        ("file stem", [t.stem.lower() for t in tasks]),
    ):
        shared = sorted(k for k, n in collections.Counter(keys).items() if n > 1)
        if shared:
            raise ConfigError(
                f"{len(shared)} {what}(s) given to more than one download "
                f"({', '.join(shared[:3])}{' ...' if len(shared) > 3 else ''}); "
                "give each download its own identifier and stem "
                "(activespec.vo.download.unique_stems)"
            )


# One task ---------------------------------------------------------------------------
def _fetch_with_retries(task, out, session, retries, backoff, timeout) -> dict | Failure:
    attempts = 0
    while True:
        attempts += 1
        try:
            if task.resolve is not None:
                task.resolve(task)
                task.resolve = None  # resolved once; retries re-download only
            return _fetch_once(task, out, session, timeout)
        except FetchError as err:
            if not err.retry or attempts > retries:
                return Failure(task.identifier, task.url, err.code, err.reason, attempts)
            wait = err.wait if err.wait is not None else backoff * 2 ** (attempts - 1)
            time.sleep(min(MAX_BACKOFF_S, wait) * (1 + 0.25 * random.random()))
        except Exception as err:  # a bug or an unexpected library error: record, go on
            reason = " ".join(str(err).split()) or type(err).__name__
            return Failure(task.identifier, task.url, "error", reason[:300], attempts)


def _fetch_once(task: DownloadTask, out: pathlib.Path, session, timeout: float) -> dict:
    import requests

    if not task.url:
        raise FetchError("no-url", "the service gave no access URL")
    part = out / f".{task.stem}.part"
    try:
        try:
            response = session.get(
                task.url, params=task.params or None, stream=True, timeout=timeout
            )
        except requests.exceptions.Timeout as err:
            raise FetchError(
                "timeout", f"no answer within {timeout:g} s ({_short(err)})", retry=True
            ) from None
        except requests.exceptions.RequestException as err:
            raise FetchError("connection", _short(err), retry=True) from None
        with response:
            if response.status_code == 204:
                raise FetchError(
                    "empty", "HTTP 204 No Content: no data for this request (an empty cut-out?)"
                )
            if response.status_code != 200:
                raise FetchError(
                    f"http-{response.status_code}",
                    f"HTTP {response.status_code} {response.reason or ''}".strip()
                    + _body_hint(response),
                    retry=response.status_code in RETRY_STATUSES,
                    wait=_retry_after(response),
                )
            expected = response.headers.get("Content-Length")
            size = 0
            try:
                with part.open("wb") as handle:
                    for block in response.iter_content(_CHUNK):
                        handle.write(block)
                        size += len(block)
            except requests.exceptions.RequestException as err:
                raise FetchError(
                    "truncated",
                    f"the answer stopped after {size} bytes ({_short(err)})",
                    retry=True,
                ) from None
            if expected is not None and expected.isdigit() and size < int(expected):
                raise FetchError("truncated", f"{size} of {expected} bytes received", retry=True)
            content_type = response.headers.get("Content-Type", "")
        _check_fits(part, content_type)
        final = out / (task.stem + (".fits.gz" if _is_gzip(part) else ".fits"))
        spectrum_id = _check_readable(part, final)
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)
    return {
        "identifier": task.identifier,
        "access_url": response.url,
        "file": final.name,
        "title": task.title,
        "object": task.object,
        "ra": "" if task.ra is None else f"{task.ra:.7f}",
        "dec": "" if task.dec is None else f"{task.dec:.7f}",
        "sha256": file_sha256(final),
        "size": str(final.stat().st_size),
        "spectrum_id": spectrum_id,
        "via": task.via,
    }


def _check_fits(path: pathlib.Path, content_type: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(80)
    if head.startswith(_GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as handle:
                head = handle.read(80)
        except (OSError, EOFError) as err:
            raise FetchError(
                "truncated", f"broken gzip stream ({_short(err)})", retry=True
            ) from None
    if not head.startswith(_FITS_START):
        kind = content_type.split(";")[0].strip() or "no Content-Type"
        text = head.decode("utf-8", errors="replace")
        raise FetchError(
            "not-fits", f"the answer is {kind}, not FITS: {' '.join(text.split())[:60]!r}"
        )


def _check_readable(path: pathlib.Path, final: pathlib.Path) -> str:
    """The ``spectrum_id`` the readers give the file (read as if under its final name)."""
    # astropy and the readers: only when a file is checked
    from activespec.errors import SpectrumReadError, TruncatedFileError
    from activespec.io import read_spectrum

    try:
        return read_spectrum(path, name=str(final)).meta.spectrum_id
    except TruncatedFileError as err:
        raise FetchError("truncated", str(err), retry=True) from None
    except SpectrumReadError as err:
        raise FetchError(f"unreadable-{err.code}", str(err)) from None


def _is_gzip(path: pathlib.Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def _still_valid(out: pathlib.Path, row: dict) -> bool:
    path = out / row.get("file", "")
    return bool(row.get("file")) and path.is_file() and file_sha256(path) == row.get("sha256")


def _stem_of(name: str) -> str:
    return re.sub(r"(?i)\.(fits?|fts)(\.gz)?$", "", name)


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _body_hint(response) -> str:
    try:
        text = response.raw.read(300, decode_content=True).decode("utf-8", errors="replace")
    except Exception:  # the hint is a courtesy; the status says enough
        return ""
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return f": {text[:120]}" if text else ""


def _short(err: BaseException) -> str:
    return (" ".join(str(err).split()) or type(err).__name__)[:200]


def _new_session():
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def _progress_bar(total: int, progress: bool):
    if not total:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit="spectra",
        desc="fetch",
        file=sys.stderr,
        disable=not (progress and sys.stderr.isatty()),
    )


# Manifest and failures --------------------------------------------------------------
class _ManifestWriter:
    """Appends rows to the manifest as they come (thread-safe), header first if new."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        new = not path.is_file() or path.stat().st_size == 0
        self._handle = path.open("a", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._handle, fieldnames=MANIFEST_COLUMNS)
        if new:
            self._writer.writeheader()
            self._handle.flush()

    def append(self, row: dict) -> None:
        with self._lock:
            self._writer.writerow({c: row.get(c, "") for c in MANIFEST_COLUMNS})
            self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def _compact_manifest(path: pathlib.Path) -> None:
    """One row per identifier (the latest), sorted, rewritten under a temporary name."""
    rows = read_manifest(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS)
        writer.writeheader()
        for identifier in sorted(rows):
            writer.writerow({c: rows[identifier].get(c, "") for c in MANIFEST_COLUMNS})
    os.replace(tmp, path)


def _write_failures(path: pathlib.Path, failures: Sequence[Failure]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FAILURE_COLUMNS)
        for f in sorted(failures, key=lambda f: f.identifier):
            writer.writerow([f.identifier, f.access_url, f.code, f.reason, f.attempts])
    os.replace(tmp, path)
