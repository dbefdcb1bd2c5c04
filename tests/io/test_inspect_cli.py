"""``activespec inspect``: one JSON line or table row per file, exit status 1 on any failure."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from activespec.io import inspect_file
from activespec.io.inspect import RECORD_KEYS
from activespec_cli import main
from tests.io.corpus import DR1_FILE, MRS_FILE, ONDREJOV_FILE, REAL_DIR

REPO_ROOT = REAL_DIR.parents[2]
REAL_FILES = sorted(str(p) for p in REAL_DIR.glob("*/*.fits*"))


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_inspect_file_record_for_a_real_file():
    record = inspect_file(DR1_FILE)
    assert set(RECORD_KEYS) <= set(record)
    assert "error" not in record
    assert record["ok"] is True
    assert record["layout"] == "lamost-lrs-dr1"
    assert record["n_pixels"] == 3904
    assert record["wave_min"] == pytest.approx(3699.99, abs=0.05)
    assert record["medium"] == "vacuum"
    assert record["object_id"] == "55862-B6212-06-003"
    # object_id is the deprecated former name of spectrum_id, written for old readers.
    assert record["spectrum_id"] == record["object_id"]
    assert (record["lamost_class"], record["lamost_subclass"]) == ("STAR", "F9")
    assert record["data_release"] == "DR1"
    json.dumps(record)  # serialisable as is


def test_json_mode_over_real_and_broken_files(capsys, broken_corpus):
    broken = [str(case.path) for case in broken_corpus]
    status = main(["inspect", "--json", *REAL_FILES, *broken])
    assert status == 1
    records = _json_lines(capsys.readouterr().out)
    assert [r["path"] for r in records] == REAL_FILES + broken
    by_path = {r["path"]: r for r in records}
    assert all(by_path[p]["ok"] is True for p in REAL_FILES)
    for case in broken_corpus:
        record = by_path[str(case.path)]
        assert record["ok"] is False
        assert record["error_code"] == case.error.code
        assert record["error"]


def test_json_mode_all_good_exits_zero(capsys):
    assert main(["inspect", "--json", *REAL_FILES]) == 0
    records = _json_lines(capsys.readouterr().out)
    assert len(records) == 50 and all(r["ok"] for r in records)


def test_mrs_arm_option(capsys):
    assert main(["inspect", "--json", "--mrs-arm", "COADD_B", str(MRS_FILE)]) == 0
    (record,) = _json_lines(capsys.readouterr().out)
    assert record["n_pixels"] == 4101


def test_table_mode_prints_every_file(capsys, broken_corpus):
    broken = [case.path for case in broken_corpus]
    status = main(["inspect", *REAL_FILES, *map(str, broken)])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert status == 1
    assert lines[0].split()[:3] == ["FILE", "STATUS", "LAYOUT"]
    # header + one row per file + summary
    assert len(lines) == 1 + len(REAL_FILES) + len(broken) + 1
    assert lines[-1] == f"{len(REAL_FILES) + len(broken)} file(s), 50 ok, {len(broken)} failed"
    rows = lines[1:-1]
    for path, row in zip(REAL_FILES, rows[: len(REAL_FILES)], strict=True):
        assert row.split()[:2] == [path.rsplit("/", 1)[-1], "ok"]
    for case, row in zip(broken_corpus, rows[len(REAL_FILES) :], strict=True):
        assert row.split()[:2] == [case.name, "FAILED"]
        assert f"{case.error.code}: " in row
    oe_row = next(r for r in rows if r.startswith("oe270005.fits"))
    assert "ondrejov-image" in oe_row and "air" in oe_row and "6265.02-6777.40" in oe_row


def test_directory_is_expanded_to_its_fits_files(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("not a spectrum")
    status = main(["inspect", "--json", str(REAL_DIR / "ondrejov"), str(tmp_path)])
    records = _json_lines(capsys.readouterr().out)
    assert status == 1
    assert [r["path"] for r in records] == [str(ONDREJOV_FILE), str(tmp_path)]
    assert records[0]["ok"] and not records[1]["ok"]


def test_command_does_not_import_tensorflow():
    code = (
        "import sys; from activespec_cli import main; "
        f"rc = main(['inspect', '--json', {str(ONDREJOV_FILE)!r}]); "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'; sys.exit(rc)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
