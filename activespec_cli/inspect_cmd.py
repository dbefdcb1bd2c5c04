"""``activespec inspect``: read FITS files and report layout, range and metadata per file.

Only :mod:`activespec.io` is imported (no TensorFlow), so the command starts fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator

from activespec.io import inspect_file
from activespec.io.lamost import DEFAULT_MRS_ARM

#: File-name endings taken from a directory given as FILE.
FITS_ENDINGS = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz")

#: (header, function of a record) for each table column, in order.
_TABLE_COLUMNS = (
    ("FILE", lambda r: os.path.basename(r["path"].rstrip("/")) or r["path"]),
    ("STATUS", lambda r: "ok" if r["ok"] else "FAILED"),
    ("LAYOUT", lambda r: r["layout"] or "-"),
    ("PIXELS", lambda r: _text(r["n_pixels"])),
    ("WAVE [Å]", lambda r: _wave_range(r)),
    ("MEDIUM", lambda r: r["medium"] or "-"),
    ("ID", lambda r: r["spectrum_id"] or "-"),
    ("CLASS", lambda r: _class(r)),
    ("S/N", lambda r: "-" if r["snr"] is None else f"{r['snr']:.1f}"),
)


def register(subparsers) -> None:
    """Add the ``inspect`` sub-command to the ``activespec`` parser."""
    parser = subparsers.add_parser(
        "inspect",
        help="read FITS spectra and report their layout, wavelength range and metadata",
        description=(
            "Read each FILE (LAMOST, Ondrejov, SDSS or DESI FITS, plain or gzip-compressed) "
            "and print one "
            "line per file: layout, pixels, wavelength range, medium, id, class, S/N, or the "
            "reason it cannot be read. A directory is expanded to the FITS files directly "
            f"inside it (names ending in {', '.join(FITS_ENDINGS)}; not recursive). "
            "Every file is reported; the exit status is 1 when any file failed, else 0."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="FITS file or directory")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per file and line instead of a table",
    )
    parser.add_argument(
        "--mrs-arm",
        default=DEFAULT_MRS_ARM,
        metavar="EXTNAME",
        help=f"extension read from LAMOST MRS files (default {DEFAULT_MRS_ARM}; or COADD_B)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Inspect ``args.files``; return 1 when any file failed, else 0."""
    records = (inspect_file(path, mrs_arm=args.mrs_arm) for path in expand_paths(args.files))
    if args.json:
        failed = _print_json(records, sys.stdout)
    else:
        failed = _print_table(list(records), sys.stdout)
    return 1 if failed else 0


def expand_paths(paths: Iterable[str]) -> Iterator[str]:
    """Yield ``paths``, replacing each directory by its FITS files (sorted, not recursive).

    A directory without FITS files is yielded as is, so that it is reported as a failure.
    """
    for path in paths:
        if not os.path.isdir(path):
            yield path
            continue
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(FITS_ENDINGS))
        if not names:
            yield path
        for name in names:
            yield os.path.join(path, name)


def _print_json(records: Iterable[dict], out) -> int:
    failed = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()  # stream: a long scan shows progress and survives interruption
        failed += not record["ok"]
    return failed


def _print_table(records: list[dict], out) -> int:
    headers = [name for name, _ in _TABLE_COLUMNS]
    rows = [[cell(record) for _, cell in _TABLE_COLUMNS] for record in records]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str], reason: str = "") -> str:
        text = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        return (text + "  " + reason).rstrip()

    out.write(line(headers, "REASON") + "\n")
    for record, row in zip(records, rows, strict=True):
        reason = "" if record["ok"] else f"{record['error_code']}: {record['error']}"
        out.write(line(row, reason) + "\n")
    failed = sum(not record["ok"] for record in records)
    out.write(f"{len(records)} file(s), {len(records) - failed} ok, {failed} failed\n")
    return failed


def _text(value) -> str:
    return "-" if value is None else str(value)


def _wave_range(record: dict) -> str:
    if record["wave_min"] is None:
        return "-"
    return f"{record['wave_min']:.2f}-{record['wave_max']:.2f}"


def _class(record: dict) -> str:
    parts = [p for p in (record["lamost_class"], record["lamost_subclass"]) if p]
    return "/".join(parts) or "-"
