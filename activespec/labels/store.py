"""The label store: every human label of every round, in one SQLite file.

SQLite in write-ahead-log mode lets the labelling server's threads, the CLI and a
round being prepared read and write the same file. Every write is its own committed
transaction with ``synchronous=FULL``, so a label is on disk when :meth:`add_label`
returns: a crash, a ``kill -9`` or a power cut right after loses nothing.

Tables:

``meta``
    The class names the store was made for (a store refuses other classes).
``spectra``
    The spectra shown for labelling, per round and role, with the sampler's row;
    only registered spectra can be labelled.
``labels``
    Append-only (triggers refuse updates and deletes): relabelling adds a row, the
    latest row of a spectrum is its current label, the earlier ones its history.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence

from activespec.labels.csv_format import read_label_rows, write_label_rows
from activespec.labels.errors import (
    InvalidLabelError,
    LabelCsvError,
    LabelError,
    StoreMismatchError,
    UnknownClassError,
    UnknownSpectrumError,
)
from activespec.labels.records import (
    ROLE_PERFORMANCE,
    ROLE_QUERY,
    ROLE_TITLES,
    ROLES,
    LabelRecord,
    RegisteredSpectrum,
    check_comment,
    check_labeller,
    check_role,
    check_round,
    format_timestamp,
    normalise_timestamp,
    utc_now,
)
from activespec.settings import check_class_names

#: Version 2 admits the role "recall"; a version-1 store is migrated when opened.
SCHEMA_VERSION = "2"
#: How long a writer waits for another one to finish [ms].
BUSY_TIMEOUT_MS = 30_000
#: Idle connections kept open for reuse; more concurrent threads open more, closed after.
MAX_IDLE_CONNECTIONS = 8

_ROLE_LIST = ", ".join(f"'{role}'" for role in ROLES)
_SPECTRA_TABLE = f"""
CREATE TABLE IF NOT EXISTS spectra (
    spectrum_id TEXT NOT NULL,
    round INTEGER NOT NULL CHECK (round >= 0),
    role TEXT NOT NULL CHECK (role IN ({_ROLE_LIST})),
    rank INTEGER,
    metadata TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    PRIMARY KEY (spectrum_id, round, role)
);
"""
_SPECTRA_INDEX = "CREATE INDEX IF NOT EXISTS spectra_by_round ON spectra (round, role);"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
{_SPECTRA_TABLE.strip()}
{_SPECTRA_INDEX}
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spectrum_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    class TEXT NOT NULL,
    labeller TEXT NOT NULL,
    created_at TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    UNIQUE (spectrum_id, round, class, labeller, created_at)
);
CREATE INDEX IF NOT EXISTS labels_by_spectrum ON labels (spectrum_id, round);
CREATE TRIGGER IF NOT EXISTS labels_append_only_update BEFORE UPDATE ON labels
BEGIN SELECT RAISE(ABORT, 'labels are append-only'); END;
CREATE TRIGGER IF NOT EXISTS labels_append_only_delete BEFORE DELETE ON labels
BEGIN SELECT RAISE(ABORT, 'labels are append-only'); END;
"""

#: Roles :meth:`LabelStore.progress` reports even when a round has no such row.
_ALWAYS_IN_PROGRESS = (ROLE_QUERY, ROLE_PERFORMANCE)
_LABEL_COLUMNS = "id, spectrum_id, round, class, labeller, created_at, comment, role"
_ROLE_ORDER = (
    "CASE role "
    + " ".join(f"WHEN '{role}' THEN {i}" for i, role in enumerate(ROLES))
    + f" ELSE {len(ROLES)} END"
)


@dataclasses.dataclass(frozen=True)
class ImportSummary:
    """What :meth:`LabelStore.import_csv` did.

    Attributes
    ----------
    added : int
        Labels written.
    skipped : int
        Rows already in the store (an earlier import of the same labels).
    """

    added: int
    skipped: int


class LabelStore:
    """Human labels of the active-learning rounds, in an SQLite file (WAL mode).

    Safe to share between threads (a thread works on a connection of its own, lent from
    a small pool of idle ones) and between processes (SQLite locking; a writer waits up
    to :data:`BUSY_TIMEOUT_MS` for another).

    Parameters
    ----------
    path : path-like
        The SQLite file; created with its folder when missing.
    class_names : sequence of str
        Class names in label-index order. An existing store must have been made for
        exactly these.

    Raises
    ------
    StoreMismatchError
        If the file is not a label store, was made for other class names or by a newer
        version, or cannot be opened in WAL mode.
    activespec.errors.ConfigError
        If ``class_names`` has fewer than two distinct names.

    Examples
    --------
    >>> store = LabelStore("labels.sqlite", ["other", "emission", "double-peak"])  # doctest: +SKIP
    >>> store.register_round(0, query_rows)  # doctest: +SKIP
    >>> store.add_label("55862-B6212-06-003", "emission", round_index=0, labeller="ana")  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, class_names: Sequence[str]):
        self._path = os.path.abspath(os.fspath(path))
        self._class_names = check_class_names(class_names)
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        os.makedirs(os.path.dirname(self._path), exist_ok=True)
        try:
            self._initialise()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ properties

    @property
    def path(self) -> str:
        """Absolute path of the SQLite file."""
        return self._path

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in label-index order."""
        return self._class_names

    # ------------------------------------------------------------------ spectra

    def register_round(self, round_index: int, records: Iterable[Mapping]) -> int:
        """Register the spectra shown for labelling in a round (idempotent).

        Parameters
        ----------
        round_index : int
        records : iterable of mapping
            Rows of the sampler's ``query.json`` / ``performance_sample.json`` /
            ``recall_sample.json``: each needs ``spectrum_id`` and ``role`` (one of
            :data:`~activespec.labels.records.ROLES`); ``rank`` and everything else are
            kept as the row's metadata.

        Returns
        -------
        int
            How many (spectrum, role) rows were new; registering the same rows again
            returns 0 and refreshes their metadata.

        Raises
        ------
        InvalidLabelError
            If a row lacks an identifier, has an unknown role or is listed twice.
        """
        index = check_round(round_index)
        rows = []
        seen: set[tuple[str, str]] = set()
        for position, record in enumerate(records, start=1):
            if not isinstance(record, Mapping):
                raise InvalidLabelError(f"round {index}, row {position}: not a mapping")
            spectrum_id = record.get("spectrum_id")
            if not isinstance(spectrum_id, str) or not spectrum_id.strip():
                raise InvalidLabelError(f"round {index}, row {position}: no spectrum_id")
            role = check_role(record.get("role"))
            if (spectrum_id, role) in seen:
                raise InvalidLabelError(
                    f"round {index}: spectrum {spectrum_id!r} is listed twice as {role}"
                )
            seen.add((spectrum_id, role))
            rank = record.get("rank")
            rank = rank if isinstance(rank, int) and not isinstance(rank, bool) else None
            metadata = json.dumps(_finite(dict(record)), allow_nan=False, default=str)
            rows.append((spectrum_id, index, role, rank, metadata))
        now = utc_now()
        with self._write() as conn:
            before = conn.execute("SELECT COUNT(*) FROM spectra WHERE round = ?", (index,))
            count_before = before.fetchone()[0]
            conn.executemany(
                "INSERT INTO spectra (spectrum_id, round, role, rank, metadata, registered_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (spectrum_id, round, role) "
                "DO UPDATE SET rank = excluded.rank, metadata = excluded.metadata",
                [(*row, now) for row in rows],
            )
            after = conn.execute("SELECT COUNT(*) FROM spectra WHERE round = ?", (index,))
            return after.fetchone()[0] - count_before

    def rows(self, round_index: int, role: str | None = None) -> list[RegisteredSpectrum]:
        """The registered spectra of a round: query first, then the performance sample,
        the recall sample and candidates, each by rank."""
        index = check_round(round_index)
        sql = "SELECT spectrum_id, round, role, rank, metadata FROM spectra WHERE round = ?"
        params: tuple = (index,)
        if role is not None:
            sql += " AND role = ?"
            params += (check_role(role),)
        sql += f" ORDER BY {_ROLE_ORDER}, rank IS NULL, rank, spectrum_id"
        return [
            RegisteredSpectrum(sid, rnd, rl, rank, json.loads(metadata))
            for sid, rnd, rl, rank, metadata in self._read(sql, params)
        ]

    def rounds(self) -> list[int]:
        """Indices of the rounds with registered spectra, ascending."""
        return [row[0] for row in self._read("SELECT DISTINCT round FROM spectra ORDER BY round")]

    # ------------------------------------------------------------------ labels

    def add_label(
        self,
        spectrum_id: str,
        cls: str,
        *,
        round_index: int,
        labeller: str,
        comment: str = "",
        role: str | None = None,
    ) -> LabelRecord:
        """Record a label; it is committed to disk when this returns.

        Parameters
        ----------
        spectrum_id : str
            A spectrum registered in round ``round_index``.
        cls : str
            One of :attr:`class_names`.
        round_index : int
        labeller : str
            Who gave the label.
        comment : str, optional
            Free text, at most 2,000 characters.
        role : {"query", "performance", "recall", "candidate"}, optional
            The row labelled, when the spectrum has several roles in the round; by
            default its first role in the order query, performance, recall, candidate.

        Returns
        -------
        LabelRecord

        Raises
        ------
        UnknownClassError
            If ``cls`` is not a class name.
        UnknownSpectrumError
            If the spectrum is not registered in that round (with that role).
        InvalidLabelError
            If the round, labeller, comment or role is invalid.
        """
        cls = self._check_class(cls)
        index = check_round(round_index)
        labeller = check_labeller(labeller)
        comment = check_comment(comment)
        if role is not None:
            check_role(role)
        with self._write() as conn:
            role = self._resolve_role(conn, spectrum_id, index, role)
            created_at = utc_now()
            while True:
                try:
                    cursor = conn.execute(
                        "INSERT INTO labels (spectrum_id, round, class, labeller, created_at, "
                        "comment, role) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (spectrum_id, index, cls, labeller, created_at, comment, role),
                    )
                    break
                except sqlite3.IntegrityError:
                    # The same label by the same person within one microsecond.
                    created_at = _later(created_at)
            return LabelRecord(
                cursor.lastrowid, spectrum_id, index, cls, labeller, created_at, comment, role
            )

    def current_labels(self, round_index: int | None = None) -> dict[str, LabelRecord]:
        """The latest label of every labelled spectrum: one label per spectrum.

        Parameters
        ----------
        round_index : int, optional
            Only labels given in this round; by default all rounds (a spectrum labelled in
            two rounds then counts once, with its latest label).

        Returns
        -------
        dict of str to LabelRecord
            Keyed by spectrum id, sorted by id.
        """
        where, params = "", ()
        if round_index is not None:
            where, params = "WHERE round = ?", (check_round(round_index),)
        sql = (
            f"SELECT {_LABEL_COLUMNS} FROM (SELECT *, ROW_NUMBER() OVER ("
            "PARTITION BY spectrum_id ORDER BY created_at DESC, id DESC) AS newest "
            f"FROM labels {where}) WHERE newest = 1 ORDER BY spectrum_id"
        )
        return {row[1]: LabelRecord(*row) for row in self._read(sql, params)}

    def history(self, spectrum_id: str) -> list[LabelRecord]:
        """Every label of a spectrum, oldest first (empty if it was never labelled)."""
        sql = f"SELECT {_LABEL_COLUMNS} FROM labels WHERE spectrum_id = ? ORDER BY created_at, id"
        return [LabelRecord(*row) for row in self._read(sql, (spectrum_id,))]

    def all_labels(self) -> list[LabelRecord]:
        """Every label in the store, oldest first."""
        sql = f"SELECT {_LABEL_COLUMNS} FROM labels ORDER BY created_at, id"
        return [LabelRecord(*row) for row in self._read(sql)]

    def progress(self, round_index: int) -> dict[str, tuple[int, int]]:
        """How many of a round's spectra are labelled, per role.

        A spectrum counts as labelled when it has a label given in this round (under any
        role: a spectrum both queried and sampled is labelled once).

        Returns
        -------
        dict of str to (int, int)
            ``role -> (labelled, total)``; always has "query" and "performance", and
            "recall" and "candidate" when the round has such rows.
        """
        index = check_round(round_index)
        sql = (
            "SELECT role, COUNT(*), SUM(EXISTS (SELECT 1 FROM labels "
            "WHERE labels.spectrum_id = spectra.spectrum_id AND labels.round = spectra.round)) "
            "FROM spectra WHERE round = ? GROUP BY role"
        )
        counts = {
            role: (int(done or 0), int(total)) for role, total, done in self._read(sql, (index,))
        }
        return {
            role: counts.get(role, (0, 0))
            for role in ROLES
            if role in counts or role in _ALWAYS_IN_PROGRESS
        }

    # ------------------------------------------------------------------ CSV

    def export_csv(self, path_or_file, *, current_only: bool = False) -> int:
        """Write the labels as CSV (see :mod:`activespec.labels.csv_format`).

        Parameters
        ----------
        path_or_file : path-like or text file
            A path is written atomically (a temporary file renamed into place).
        current_only : bool, optional
            Only the current label of each spectrum instead of the whole history.

        Returns
        -------
        int
            Rows written.
        """
        if current_only:
            records = sorted(self.current_labels().values(), key=lambda r: (r.created_at, r.id))
        else:
            records = self.all_labels()
        if hasattr(path_or_file, "write"):
            return write_label_rows(path_or_file, records)
        target = os.path.abspath(os.fspath(path_or_file))
        folder = os.path.dirname(target)
        os.makedirs(folder, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".labels-", suffix=".csv", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                count = write_label_rows(out, records)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return count

    def import_csv(self, path: str | os.PathLike, *, labeller: str | None = None) -> ImportSummary:
        """Add the labels of a CSV file, all or nothing.

        Every row is checked first; if any is bad, nothing is written and the error lists
        every bad row with its line number. Rows already in the store (same spectrum,
        round, class, labeller and time; or, for rows without a time, the same spectrum,
        round, class, labeller and comment) are skipped, so importing a file twice adds
        nothing the second time.

        Parameters
        ----------
        path : path-like
        labeller : str, optional
            The labeller of rows whose ``labeller`` cell is empty.

        Returns
        -------
        ImportSummary

        Raises
        ------
        LabelCsvError
            With ``problems`` listing ``"line N: reason"`` for every bad row.
        """
        name = os.fspath(path)
        default_labeller = None if labeller is None else check_labeller(labeller)
        rows = read_label_rows(name)
        registered = self._registered_roles()
        problems: list[str] = []
        parsed: list[tuple] = []
        for line, values in rows:
            row, reasons = self._parse_csv_row(values, default_labeller, registered)
            if reasons:
                problems.append(f"line {line}: {'; '.join(reasons)}")
            else:
                parsed.append(row)
        if problems:
            raise LabelCsvError(
                f"{name}: {len(problems)} bad row(s), nothing imported:\n  "
                + "\n  ".join(problems),
                problems,
            )

        added = 0
        import_time = utc_now()
        with self._write() as conn:
            for position, row in enumerate(parsed):
                spectrum_id, index, cls, who, created_at, comment, role = row
                if created_at is None:
                    exists = conn.execute(
                        "SELECT 1 FROM labels WHERE spectrum_id = ? AND round = ? AND class = ? "
                        "AND labeller = ? AND comment = ?",
                        (spectrum_id, index, cls, who, comment),
                    ).fetchone()
                    if exists:
                        continue
                    # Keep the file's order among the rows without a time.
                    created_at = _later(import_time, position)
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO labels (spectrum_id, round, class, labeller, "
                    "created_at, comment, role) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (spectrum_id, index, cls, who, created_at, comment, role),
                )
                added += cursor.rowcount
        return ImportSummary(added=added, skipped=len(parsed) - added)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the store's connections (one in use is closed when its thread is done)."""
        with self._lock:
            self._closed = True
            connections, self._idle = self._idle, []
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LabelStore({self._path!r}, {list(self._class_names)!r})"

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _connection(self):
        """Lend a connection to the calling thread; it returns to the idle pool after.

        A connection is never used by two threads at once. Threads come and go (the
        HTTP server starts one per request), so idle connections are reused instead of
        being opened per thread and left open.
        """
        with self._lock:
            if self._closed:
                raise LabelError(f"label store {self._path} is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            if conn.in_transaction:  # interrupted half-way (e.g. KeyboardInterrupt)
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            with self._lock:
                keep = not self._closed and len(self._idle) < MAX_IDLE_CONNECTIONS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self._path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,  # lent to one thread at a time
            )
        except sqlite3.Error as err:
            raise StoreMismatchError(f"cannot open label store {self._path}: {err}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as err:
            conn.close()
            raise StoreMismatchError(f"cannot open label store {self._path}: {err}") from None
        if str(mode).lower() != "wal":
            conn.close()
            raise StoreMismatchError(
                f"label store {self._path}: the file system does not support SQLite's "
                f"write-ahead log (journal mode {mode!r}); put the work directory on a "
                "local disk"
            )
        return conn

    @contextlib.contextmanager
    def _write(self):
        """One immediate (write-locked) transaction, committed on success."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchall()

    def _initialise(self) -> None:
        with self._write() as conn:
            try:
                # Not executescript(): it would commit the transaction half-way.
                for statement in _statements(_SCHEMA):
                    conn.execute(statement)
            except sqlite3.DatabaseError as err:
                raise StoreMismatchError(f"{self._path} is not a label store: {err}") from None
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if not meta:
                conn.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [
                        ("schema_version", SCHEMA_VERSION),
                        ("class_names", json.dumps(list(self._class_names))),
                        ("created_at", utc_now()),
                    ],
                )
                return
            if meta.get("schema_version") == "1":
                _migrate_from_version_1(conn)
                meta["schema_version"] = SCHEMA_VERSION
        version = meta.get("schema_version")
        if version != SCHEMA_VERSION:
            raise StoreMismatchError(
                f"label store {self._path} has schema version {version!r}; "
                f"this activespec reads version {SCHEMA_VERSION}"
            )
        stored = tuple(json.loads(meta.get("class_names", "[]")))
        if stored != self._class_names:
            raise StoreMismatchError(
                f"label store {self._path} was made for the classes {', '.join(stored)}, "
                f"not {', '.join(self._class_names)}; use another store file or the same "
                "classes"
            )

    def _check_class(self, cls) -> str:
        if not isinstance(cls, str) or cls not in self._class_names:
            raise UnknownClassError(
                f"unknown class {cls!r}; classes are {', '.join(self._class_names)}"
            )
        return cls

    def _resolve_role(
        self, conn: sqlite3.Connection, spectrum_id: str, index: int, role: str | None
    ) -> str:
        roles = [
            row[0]
            for row in conn.execute(
                f"SELECT role FROM spectra WHERE spectrum_id = ? AND round = ? "
                f"ORDER BY {_ROLE_ORDER}",
                (spectrum_id, index),
            )
        ]
        if not roles:
            other = [
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT round FROM spectra WHERE spectrum_id = ? ORDER BY round",
                    (spectrum_id,),
                )
            ]
            raise UnknownSpectrumError(_unknown_message(spectrum_id, index, other))
        if role is None:
            return roles[0]
        if role not in roles:
            raise UnknownSpectrumError(
                f"spectrum {spectrum_id!r} is not in round {index}'s {_role_text(role)}; "
                f"it is in its {' and '.join(_role_text(r) for r in roles)}"
            )
        return role

    def _registered_roles(self) -> dict[tuple[str, int], list[str]]:
        registered: dict[tuple[str, int], list[str]] = {}
        sql = f"SELECT spectrum_id, round, role FROM spectra ORDER BY {_ROLE_ORDER}"
        for spectrum_id, index, role in self._read(sql):
            registered.setdefault((spectrum_id, index), []).append(role)
        return registered

    def _parse_csv_row(
        self,
        values: dict[str, str],
        default_labeller: str | None,
        registered: dict[tuple[str, int], list[str]],
    ) -> tuple[tuple | None, list[str]]:
        """One CSV row as insert values, or the list of what is wrong with it."""
        if "__error__" in values:
            return None, [values["__error__"]]
        reasons: list[str] = []
        spectrum_id = values["spectrum_id"]
        if not spectrum_id:
            reasons.append("empty spectrum_id")
        index = None
        try:
            index = check_round(values["round"])
        except LabelError as err:
            reasons.append(str(err))
        cls = values["label"]
        try:
            self._check_class(cls)
        except LabelError as err:
            reasons.append(str(err))
        labeller = values["labeller"] or default_labeller
        if labeller is None:
            reasons.append("empty labeller (give the labeller of such rows with --labeller)")
        else:
            try:
                labeller = check_labeller(labeller)
            except LabelError as err:
                reasons.append(str(err))
        created_at = None
        if values["created_at"]:
            try:
                created_at = normalise_timestamp(values["created_at"])
            except LabelError as err:
                reasons.append(str(err))
        try:
            comment = check_comment(values["comment"])
        except LabelError as err:
            reasons.append(str(err))
            comment = ""
        role = values["role"] or None
        if role is not None:
            try:
                check_role(role)
            except LabelError as err:
                reasons.append(str(err))
                role = None
        if spectrum_id and index is not None:
            roles = registered.get((spectrum_id, index))
            if not roles:
                other = sorted(r for (sid, r) in registered if sid == spectrum_id)
                reasons.append(_unknown_message(spectrum_id, index, other))
            elif role is None:
                role = roles[0]
            elif role not in roles:
                reasons.append(
                    f"spectrum {spectrum_id!r} is not in round {index}'s {_role_text(role)}"
                )
        if reasons:
            return None, reasons
        return (spectrum_id, index, cls, labeller, created_at, comment, role), []


def _statements(script: str) -> list[str]:
    """Split the schema into statements (triggers contain ``;`` inside BEGIN ... END)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current)
        if sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    return statements


def _later(timestamp: str, microseconds: int = 1) -> str:
    moment = dt.datetime.fromisoformat(timestamp) + dt.timedelta(microseconds=microseconds)
    return format_timestamp(moment)


def _migrate_from_version_1(conn: sqlite3.Connection) -> None:
    """Rebuild the ``spectra`` table with the role check of this version (SQLite cannot
    alter a CHECK constraint); rows and labels are kept. Runs inside the caller's write
    transaction, so a failure leaves the version-1 store as it was."""
    conn.execute("ALTER TABLE spectra RENAME TO spectra_version_1")
    conn.execute(_SPECTRA_TABLE)
    conn.execute(
        "INSERT INTO spectra (spectrum_id, round, role, rank, metadata, registered_at) "
        "SELECT spectrum_id, round, role, rank, metadata, registered_at FROM spectra_version_1"
    )
    conn.execute("DROP TABLE spectra_version_1")
    conn.execute(_SPECTRA_INDEX)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))


def _role_text(role: str) -> str:
    return ROLE_TITLES[role]


def _unknown_message(spectrum_id: str, index: int, other_rounds: list[int]) -> str:
    if not other_rounds:
        return f"unknown spectrum id {spectrum_id!r}: not in any round's query or samples"
    rounds = ", ".join(str(r) for r in other_rounds)
    return (
        f"spectrum {spectrum_id!r} is not in round {index}'s query or samples "
        f"(it is in round {rounds})"
    )


def _finite(value):
    """Replace NaN and infinities by None, recursively, so the metadata is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
