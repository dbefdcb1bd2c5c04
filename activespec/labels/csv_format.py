"""The labels CSV: ``spectrum_id,round,label,labeller,created_at,comment,role``.

The same columns are written by :meth:`LabelStore.export_csv` and read by
:meth:`LabelStore.import_csv`, so an export imports back unchanged. Only
``spectrum_id``, ``round`` and ``label`` are required on import; the column order is free.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable

from activespec.labels.errors import LabelCsvError
from activespec.labels.records import LabelRecord

#: Columns of an exported labels CSV, in order.
LABEL_CSV_COLUMNS: tuple[str, ...] = (
    "spectrum_id",
    "round",
    "label",
    "labeller",
    "created_at",
    "comment",
    "role",
)
#: Columns an imported CSV must have.
REQUIRED_COLUMNS: tuple[str, ...] = ("spectrum_id", "round", "label")


def write_label_rows(handle, records: Iterable[LabelRecord]) -> int:
    """Write a header and one row per label to an open text file; return the row count."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(LABEL_CSV_COLUMNS)
    count = 0
    for record in records:
        writer.writerow(
            [
                record.spectrum_id,
                record.round,
                record.label,
                record.labeller,
                record.created_at,
                record.comment,
                record.role,
            ]
        )
        count += 1
    return count


def read_label_rows(path: str | os.PathLike) -> list[tuple[int, dict[str, str]]]:
    """Read a labels CSV into ``(line number, {column: stripped text})`` pairs.

    Blank lines are skipped. Missing optional columns read as empty text.

    Raises
    ------
    LabelCsvError
        If the file cannot be read, is not UTF-8, or its header lacks a required
        column or names an unknown one.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise LabelCsvError(f"cannot read labels CSV {name}: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LabelCsvError(f"{name}: not UTF-8 text ({err.reason} at byte {err.start})") from None

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        raise LabelCsvError(f"{name}: empty file, expected a header row") from None
    except csv.Error as err:
        raise LabelCsvError(f"{name}:1: malformed CSV header ({err})") from None
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in LABEL_CSV_COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(repr(c) for c in unknown)}")
        raise LabelCsvError(
            f"{name}:1: {'; '.join(problems)}; the columns are {', '.join(LABEL_CSV_COLUMNS)}"
        )
    if len(set(header)) != len(header):
        raise LabelCsvError(f"{name}:1: a column is named twice in the header {header}")

    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                # Reported with the other row problems by the importer.
                rows.append((line, {"__error__": f"{len(cells)} cells, header has {len(header)}"}))
                continue
            values = {column: "" for column in LABEL_CSV_COLUMNS}
            values.update(
                (column, cell.strip()) for column, cell in zip(header, cells, strict=True)
            )
            rows.append((line, values))
    except csv.Error as err:
        raise LabelCsvError(f"{name}:{reader.line_num}: malformed CSV ({err})") from None
    return rows
