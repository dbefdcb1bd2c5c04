"""LabelStore: WAL, refusals, history, concurrency, crash safety and the CSV exchange."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from activespec.constants import DEFAULT_CLASSES
from activespec.errors import ActivespecError
from activespec.labels import (
    LABEL_CSV_COLUMNS,
    LabelCsvError,
    LabelStore,
    StoreMismatchError,
    UnknownClassError,
    UnknownSpectrumError,
)
from activespec.labels.errors import InvalidLabelError
from tests.labels.round_files import random_probabilities, sampler_row

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _rows(round_index: int, n_query: int, n_performance: int, *, shared: tuple = ()) -> list:
    import numpy as np

    rng = np.random.default_rng(round_index)
    rows = [
        sampler_row(
            f"r{round_index}-q{i}",
            role="query",
            rank=i + 1,
            probabilities=random_probabilities(rng),
        )
        for i in range(n_query)
    ]
    rows += [
        sampler_row(
            f"r{round_index}-p{i}",
            role="performance",
            rank=i + 1,
            probabilities=[0.1, 0.5, 0.4],
        )
        for i in range(n_performance)
    ]
    # Spectra given in both roles (a queried spectrum can also be drawn for the sample).
    rows += [
        sampler_row(sid, role=role, rank=90 + k, probabilities=[0.3, 0.4, 0.3])
        for k, sid in enumerate(shared)
        for role in ("query", "performance")
    ]
    return rows


@pytest.fixture
def store(tmp_path):
    with LabelStore(tmp_path / "labels.sqlite", DEFAULT_CLASSES) as opened:
        opened.register_round(0, _rows(0, 5, 3, shared=("both",)))
        opened.register_round(1, _rows(1, 4, 2))
        yield opened


def test_store_is_in_wal_mode_with_full_sync(store):
    raw = sqlite3.connect(store.path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    with store._connection() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_unknown_spectrum_is_refused_with_a_clear_message(store):
    with pytest.raises(UnknownSpectrumError) as info:
        store.add_label("x", "emission", round_index=0, labeller="ana")
    assert str(info.value) == ("unknown spectrum id 'x': not in any round's query or samples")
    assert isinstance(info.value, ActivespecError) and info.value.code == "unknown-spectrum"
    with pytest.raises(UnknownSpectrumError, match=r"not in round 1's .*\(it is in round 0\)"):
        store.add_label("r0-q1", "emission", round_index=1, labeller="ana")
    with pytest.raises(UnknownSpectrumError, match="not in round 0's performance sample"):
        store.add_label("r0-q1", "emission", round_index=0, labeller="ana", role="performance")
    assert store.all_labels() == []


def test_unknown_class_and_bad_fields_are_refused(store):
    with pytest.raises(UnknownClassError, match="unknown class 'Be'; classes are other, emission"):
        store.add_label("r0-q0", "Be", round_index=0, labeller="ana")
    with pytest.raises(InvalidLabelError, match="labeller"):
        store.add_label("r0-q0", "other", round_index=0, labeller="  ")
    with pytest.raises(InvalidLabelError, match="at most 2000"):
        store.add_label("r0-q0", "other", round_index=0, labeller="ana", comment="x" * 2001)
    with pytest.raises(InvalidLabelError, match="round"):
        store.add_label("r0-q0", "other", round_index=-1, labeller="ana")
    assert store.all_labels() == []


def test_relabelling_keeps_history_and_current_is_latest(store):
    first = store.add_label("r0-q0", "emission", round_index=0, labeller="ana")
    second = store.add_label(
        "r0-q0", "double-peak", round_index=0, labeller="ben", comment="two peaks, V/R ~ 1"
    )
    store.add_label("r0-q1", "other", round_index=0, labeller="ana")

    history = store.history("r0-q0")
    assert [r.label for r in history] == ["emission", "double-peak"]
    assert history[0] == first and history[1] == second
    assert first.created_at < second.created_at
    current = store.current_labels()
    assert set(current) == {"r0-q0", "r0-q1"}
    assert current["r0-q0"].label == "double-peak"
    assert current["r0-q0"].comment == "two peaks, V/R ~ 1"
    assert current["r0-q0"].role == "query"
    assert store.current_labels(round_index=1) == {}
    # The history cannot be rewritten behind the store's back.
    raw = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("UPDATE labels SET class = 'other'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            raw.execute("DELETE FROM labels")
    finally:
        raw.close()


def test_a_spectrum_labelled_in_two_rounds_counts_once(tmp_path):
    with LabelStore(tmp_path / "l.sqlite", DEFAULT_CLASSES) as store:
        store.register_round(
            0, [sampler_row("s", role="performance", rank=1, probabilities=[0.2, 0.7, 0.1])]
        )
        store.register_round(
            1, [sampler_row("s", role="query", rank=1, probabilities=[0.4, 0.3, 0.3])]
        )
        store.add_label("s", "emission", round_index=0, labeller="ana")
        store.add_label("s", "other", round_index=1, labeller="ana")
        current = store.current_labels()
        assert list(current) == ["s"]
        assert (current["s"].label, current["s"].round) == ("other", 1)
        assert store.current_labels(0)["s"].label == "emission"


def test_progress_per_role_counts_a_shared_spectrum_in_both(store):
    assert store.progress(0) == {"query": (0, 6), "performance": (0, 4)}
    store.add_label("r0-q0", "other", round_index=0, labeller="ana")
    store.add_label("r0-q0", "emission", round_index=0, labeller="ana")  # relabel: still one
    store.add_label("r0-p2", "emission", round_index=0, labeller="ana")
    store.add_label("both", "double-peak", round_index=0, labeller="ana", role="performance")
    assert store.progress(0) == {"query": (2, 6), "performance": (2, 4)}
    assert store.progress(1) == {"query": (0, 4), "performance": (0, 2)}
    assert store.progress(7) == {"query": (0, 0), "performance": (0, 0)}
    # Without a role, a spectrum with two roles is labelled as queried.
    assert store.add_label("both", "other", round_index=0, labeller="ana").role == "query"


def test_register_round_is_idempotent_and_keeps_metadata(store):
    rows = _rows(0, 5, 3, shared=("both",))
    assert store.register_round(0, rows) == 0
    registered = store.rows(0)
    assert len(registered) == 10
    assert [r.role for r in registered] == ["query"] * 6 + ["performance"] * 4
    assert [r.rank for r in registered[:6]] == [1, 2, 3, 4, 5, 90]
    assert registered[0].metadata["probabilities"] == rows[0]["probabilities"]
    assert store.rounds() == [0, 1]
    # NaN (unknown S/N) is stored as null, so the metadata stays strict JSON.
    row = dict(rows[0], snr=float("nan"))
    store.register_round(0, [row])
    assert store.rows(0, "query")[0].metadata["snr"] is None
    with pytest.raises(InvalidLabelError, match="listed twice"):
        store.register_round(2, [rows[0], rows[0]])
    with pytest.raises(InvalidLabelError, match="unknown role"):
        store.register_round(2, [dict(rows[0], role="oracle")])
    assert 2 not in store.rounds()


def test_refuses_a_store_made_for_other_classes(tmp_path):
    path = tmp_path / "labels.sqlite"
    LabelStore(path, DEFAULT_CLASSES).close()
    with pytest.raises(StoreMismatchError, match="made for the classes other, emission"):
        LabelStore(path, ["absorption", "emission"])
    LabelStore(path, list(DEFAULT_CLASSES)).close()  # the same classes open fine
    not_a_store = tmp_path / "notes.sqlite"
    not_a_store.write_text("these are not labels\n" * 100)
    with pytest.raises(StoreMismatchError):
        LabelStore(not_a_store, DEFAULT_CLASSES)


def test_concurrent_writers_do_not_lose_labels(tmp_path):
    path = tmp_path / "labels.sqlite"
    n_threads, per_thread = 6, 30
    rows = [
        sampler_row(
            f"s{t}-{i}", role="query", rank=t * per_thread + i + 1, probabilities=[0.3, 0.4, 0.3]
        )
        for t in range(n_threads)
        for i in range(per_thread)
    ]
    shared = LabelStore(path, DEFAULT_CLASSES)
    shared.register_round(0, rows)
    # Half the threads share one store object (a connection per thread), the others each
    # open their own, like separate processes would.
    errors = []
    start = threading.Barrier(n_threads)

    def label(t: int) -> None:
        store = shared if t % 2 == 0 else LabelStore(path, DEFAULT_CLASSES)
        try:
            start.wait()
            for i in range(per_thread):
                cls = DEFAULT_CLASSES[(t + i) % 3]
                store.add_label(f"s{t}-{i}", cls, round_index=0, labeller=f"user{t}")
                # Everyone also relabels one hot spectrum, so writes collide on one row.
                store.add_label("s0-0", cls, round_index=0, labeller=f"user{t}")
        except Exception as err:  # collected: an assertion in a thread would be lost
            errors.append(err)
        finally:
            if store is not shared:
                store.close()

    threads = [threading.Thread(target=label, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with LabelStore(path, DEFAULT_CLASSES) as reopened:
        assert len(reopened.all_labels()) == 2 * n_threads * per_thread
        assert len(reopened.history("s0-0")) == n_threads * per_thread + 1
        current = reopened.current_labels()
        assert len(current) == n_threads * per_thread
        for t in range(1, n_threads):
            for i in range(per_thread):
                assert current[f"s{t}-{i}"].label == DEFAULT_CLASSES[(t + i) % 3]
    shared.close()


def test_a_label_survives_killing_the_process(tmp_path):
    path = tmp_path / "labels.sqlite"
    with LabelStore(path, DEFAULT_CLASSES) as store:
        store.register_round(3, _rows(3, 2, 0))
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from activespec.labels import LabelStore
        store = LabelStore({str(path)!r}, {list(DEFAULT_CLASSES)!r})
        record = store.add_label("r3-q1", "double-peak", round_index=3, labeller="ana",
                                 comment="shell profile")
        print(json.dumps(record.to_dict()), flush=True)
        time.sleep(120)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()
        assert line, "the writer process printed nothing"
        written = json.loads(line)
        os.kill(process.pid, signal.SIGKILL)  # no clean-up, no checkpoint
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
    with LabelStore(path, DEFAULT_CLASSES) as reopened:
        current = reopened.current_labels()
        assert list(current) == ["r3-q1"]
        assert current["r3-q1"].to_dict() == written
        assert current["r3-q1"].comment == "shell profile"


# ---------------------------------------------------------------------------- CSV


def _labelled(store):
    store.add_label("r0-q0", "emission", round_index=0, labeller="ana")
    store.add_label(
        "r0-q0", "double-peak", round_index=0, labeller="ben", comment='peaks, "V/R" 1.2'
    )
    store.add_label(
        "r0-p1", "other", round_index=0, labeller="ana", comment="sky residual\nat 6300"
    )
    store.add_label("both", "emission", round_index=0, labeller="ana", role="performance")
    store.add_label("r1-q2", "other", round_index=1, labeller="ana")


def test_csv_round_trip_reproduces_the_history(store, tmp_path):
    _labelled(store)
    out = tmp_path / "export" / "labels.csv"
    assert store.export_csv(out) == 5
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == LABEL_CSV_COLUMNS
    assert [r["label"] for r in rows] == ["emission", "double-peak", "other", "emission", "other"]
    assert rows[3]["role"] == "performance"

    with LabelStore(tmp_path / "other.sqlite", DEFAULT_CLASSES) as fresh:
        fresh.register_round(0, _rows(0, 5, 3, shared=("both",)))
        fresh.register_round(1, _rows(1, 4, 2))
        summary = fresh.import_csv(out)
        assert (summary.added, summary.skipped) == (5, 0)

        def strip(records):
            return [{k: v for k, v in r.to_dict().items() if k != "id"} for r in records]

        assert strip(fresh.all_labels()) == strip(store.all_labels())
        assert fresh.current_labels()["r0-p1"].comment == "sky residual\nat 6300"
        # Importing the same file again adds nothing.
        again = fresh.import_csv(out)
        assert (again.added, again.skipped) == (0, 5)
        assert len(fresh.all_labels()) == 5

    buffer = io.StringIO()
    assert store.export_csv(buffer, current_only=True) == 4
    current_rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert sorted(r["spectrum_id"] for r in current_rows) == ["both", "r0-p1", "r0-q0", "r1-q2"]


def test_import_without_times_or_labellers(store, tmp_path):
    path = tmp_path / "by_hand.csv"
    path.write_text(
        "spectrum_id,round,label\nr0-q3,0,emission\n\nr1-p0,1,double-peak\n",
        encoding="utf-8",
    )
    with pytest.raises(LabelCsvError, match="empty labeller"):
        store.import_csv(path)
    summary = store.import_csv(path, labeller="ondrejov-team")
    assert (summary.added, summary.skipped) == (2, 0)
    current = store.current_labels()
    assert current["r0-q3"].labeller == "ondrejov-team"
    assert current["r1-p0"].role == "performance"
    assert store.import_csv(path, labeller="ondrejov-team").added == 0
    assert len(store.all_labels()) == 2


def test_bad_csv_rows_are_all_reported_and_nothing_is_written(store, tmp_path):
    store.add_label("r0-q0", "other", round_index=0, labeller="ana")
    path = tmp_path / "bad.csv"
    path.write_text(
        "spectrum_id,round,label,labeller,created_at,comment,role\n"
        "r0-q1,0,emission,ana,2024-05-01T10:00:00Z,,query\n"  # line 2: fine
        "nope,0,emission,ana,,,\n"  # 3: unknown id
        "r0-q2,0,Be,ana,,,\n"  # 4: unknown class
        "r0-q3,zero,other,ana,,,\n"  # 5: bad round
        "r0-q4,0,other,ana,yesterday,,\n"  # 6: bad time
        "r0-q1,1,other,ana,,,\n"  # 7: id of another round
        "r0-p0,0,other,ana,,,query\n"  # 8: wrong role
        "r0-p1,0,other\n",  # 9: too few cells
        encoding="utf-8",
    )
    with pytest.raises(LabelCsvError) as info:
        store.import_csv(path)
    problems = info.value.problems
    assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in range(3, 10)]
    assert "unknown spectrum id 'nope'" in problems[0]
    assert "unknown class 'Be'" in problems[1]
    assert "round must be a non-negative integer" in problems[2]
    assert "not an ISO 8601 time" in problems[3]
    assert "it is in round 0" in problems[4]
    assert "performance sample" not in problems[5] and "query" in problems[5]
    assert "7 bad row(s), nothing imported" in str(info.value)
    assert [r.spectrum_id for r in store.all_labels()] == ["r0-q0"]


def test_csv_header_is_checked(store, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("spectrum_id,label,comments\nr0-q0,other,hi\n", encoding="utf-8")
    with pytest.raises(
        LabelCsvError, match=r"missing column\(s\) round; unknown column\(s\) 'comments'"
    ):
        store.import_csv(path)
    with pytest.raises(LabelCsvError, match="cannot read labels CSV"):
        store.import_csv(tmp_path / "missing.csv")


def test_recall_rows_are_registered_listed_and_counted(store):
    recall = [
        sampler_row(f"r0-n{i}", role="recall", rank=i + 1, probabilities=[0.9, 0.06, 0.04])
        for i in range(3)
    ]
    assert store.register_round(0, recall) == 3
    roles = [r.role for r in store.rows(0)]
    assert roles == ["query"] * 6 + ["performance"] * 4 + ["recall"] * 3
    store.add_label("r0-n1", "emission", round_index=0, labeller="ana")
    assert store.progress(0)["recall"] == (1, 3)
    assert "recall" not in store.progress(1)
    with pytest.raises(UnknownSpectrumError, match="not in round 0's recall sample"):
        store.add_label("r0-q1", "other", round_index=0, labeller="ana", role="recall")


def test_a_version_1_store_is_migrated_keeping_rows_and_labels(tmp_path):
    path = tmp_path / "labels.sqlite"
    # The version-1 schema: its role check does not admit "recall".
    raw = sqlite3.connect(path)
    raw.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE spectra (
            spectrum_id TEXT NOT NULL,
            round INTEGER NOT NULL CHECK (round >= 0),
            role TEXT NOT NULL CHECK (role IN ('query', 'performance', 'candidate')),
            rank INTEGER,
            metadata TEXT NOT NULL,
            registered_at TEXT NOT NULL,
            PRIMARY KEY (spectrum_id, round, role)
        );
        CREATE INDEX spectra_by_round ON spectra (round, role);
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY AUTOINCREMENT, spectrum_id TEXT NOT NULL,
            round INTEGER NOT NULL, class TEXT NOT NULL, labeller TEXT NOT NULL,
            created_at TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', role TEXT NOT NULL,
            UNIQUE (spectrum_id, round, class, labeller, created_at)
        );
        INSERT INTO spectra VALUES ('a', 0, 'query', 1, '{"spectrum_id": "a"}',
                                    '2024-05-01T12:00:00.000000+00:00');
        INSERT INTO labels (spectrum_id, round, class, labeller, created_at, role)
            VALUES ('a', 0, 'emission', 'ana', '2024-05-01T12:01:00.000000+00:00', 'query');
        """
    )
    raw.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("schema_version", "1"), ("class_names", json.dumps(list(DEFAULT_CLASSES)))],
    )
    raw.commit()
    raw.close()
    with LabelStore(path, DEFAULT_CLASSES) as store:
        assert [(r.spectrum_id, r.role) for r in store.rows(0)] == [("a", "query")]
        assert store.current_labels()["a"].label == "emission"
        store.register_round(0, [sampler_row("b", role="recall", rank=1, probabilities=[1, 0, 0])])
        assert [r.role for r in store.rows(0)] == ["query", "recall"]
    # Opening again finds version 2 and migrates nothing.
    with LabelStore(path, DEFAULT_CLASSES) as store:
        assert len(store.rows(0)) == 2
