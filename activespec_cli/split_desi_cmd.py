"""``activespec split-desi``: write each spectrum of DESI coadd files as its own file.

Ingestion, scoring and the labelling page name a spectrum by its file, so a DESI coadd
(hundreds of targets) is split first. Only :mod:`activespec.io` is imported.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Add the ``split-desi`` sub-command to the ``activespec`` parser."""
    parser = subparsers.add_parser(
        "split-desi",
        help="write each spectrum of DESI coadd/spectra files as a single-spectrum file",
        description=(
            "Write every spectrum of each DESI coadd (or spectra) FILE, plain or gzip-"
            "compressed, as <file stem>-<TARGETID>.fits in --out, in the same data model "
            "with one row, so that ingestion, scoring and inspect read it like any file."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="DESI coadd file")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Split ``args.files`` into ``args.out``; typed read errors stop with exit status 2."""
    from activespec.io.desi import split_desi_file

    for path in args.files:
        written = split_desi_file(path, args.out)
        sys.stdout.write(f"{path}: {len(written)} spectra written to {args.out}\n")
    return 0
