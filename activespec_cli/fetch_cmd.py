"""``activespec fetch ssap``: spectra (and their labels) from an SSAP/DataLink service.

Only :mod:`activespec.vo` is imported (pyvo, requests, astropy; no TensorFlow).
"""

from __future__ import annotations

import argparse
import sys

from activespec.errors import ConfigError
from activespec.vo.download import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_S,
    DEFAULT_WORKERS,
    FAILURES_CSV,
    MANIFEST_CSV,
)


def register(subparsers) -> None:
    """Add the ``fetch`` sub-command to the ``activespec`` parser."""
    parser = subparsers.add_parser(
        "fetch",
        help="download spectra (and build the labelled set) from a Virtual Observatory service",
        description="Download spectra from a Virtual Observatory service into a folder the "
        "pipeline reads (e.g. [data] labelled).",
    )
    services = parser.add_subparsers(dest="service", metavar="SERVICE", required=True)
    ssap = services.add_parser(
        "ssap",
        help="spectra of an SSAP service, optionally through its DataLink",
        description=(
            "Query an SSAP service, download every spectrum it lists (or those of --ids / "
            "--labels), check that the project's readers accept each one, and write "
            "OUT/manifest.csv (identifier, access URL, file, title, object, RA, Dec, "
            "SHA-256, size, spectrum_id), OUT/failures.csv (identifier, reason code, "
            "reason) and, with --labels, OUT/labels.csv (spectrum_id,file,label,identifier). "
            "A second run skips the files already there with their recorded checksum. "
            "The exit status is 1 when any spectrum failed, else 0."
        ),
    )
    ssap.add_argument("--service", required=True, metavar="URL", help="SSAP service URL")
    ssap.add_argument(
        "--band",
        nargs=2,
        type=float,
        metavar=("MIN", "MAX"),
        help="spectra covering this wavelength interval, in Å (or metres, as SSAP's BAND, "
        "when below 0.001); with --datalink also the cut-out",
    )
    where = ssap.add_mutually_exclusive_group()
    where.add_argument("--target", metavar="NAME", help="SSAP TARGETNAME")
    where.add_argument(
        "--pos", nargs=2, type=float, metavar=("RA", "DEC"), help="ICRS degrees (with --size)"
    )
    ssap.add_argument("--size", type=float, metavar="DEG", help="search diameter around --pos")
    ssap.add_argument(
        "--ids",
        metavar="FILE",
        help="only these publisher identifiers (one a line, or a CSV with an id column)",
    )
    ssap.add_argument(
        "--labels",
        metavar="FILE",
        help="id,label CSV keyed by the publisher identifiers: write OUT/labels.csv for the "
        "fetched spectra (without --ids, only the labelled identifiers are fetched)",
    )
    ssap.add_argument(
        "--datalink",
        choices=["normalized", "relative", "uncalibrated"],
        help="download through each record's DataLink processing service with this FLUXCALIB "
        "(FORMAT=application/fits) instead of the access URL",
    )
    ssap.add_argument("--out", required=True, metavar="DIR", help="output folder")
    ssap.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"parallel downloads (default {DEFAULT_WORKERS})",
    )
    ssap.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"further attempts after a transient failure, with back-off (default {DEFAULT_RETRIES})",
    )
    ssap.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"per request (default {DEFAULT_TIMEOUT_S:g})",
    )
    ssap.add_argument("--maxrec", type=int, default=1_000_000, metavar="N", help="SSAP MAXREC")
    ssap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ssap.set_defaults(func=run_ssap)


def run_ssap(args: argparse.Namespace) -> int:
    """Fetch; print a summary; return 1 when any spectrum failed, else 0."""
    from activespec.vo.ssap import fetch_ssap, read_identifiers, read_labels

    if args.size is not None and args.pos is None:
        raise ConfigError("--size goes with --pos RA DEC")
    if args.pos is not None and args.size is None:
        raise ConfigError("--pos needs --size DEG (the search diameter)")
    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, not {args.workers}")
    ids = read_identifiers(args.ids) if args.ids else None
    labels = read_labels(args.labels) if args.labels else None
    result = fetch_ssap(
        args.service,
        args.out,
        band=tuple(args.band) if args.band else None,
        target=args.target,
        pos=tuple(args.pos) if args.pos else None,
        size=args.size,
        ids=ids,
        labels=labels,
        datalink=args.datalink,
        maxrec=args.maxrec,
        workers=args.workers,
        retries=args.retries,
        timeout=args.timeout,
        progress=not args.no_progress,
    )
    out = sys.stdout
    summary = result.summary
    out.write(
        f"SSAP {args.service}: {result.records} record(s) in {result.query_seconds:.1f} s"
        + (
            "  (the service's limit was reached: raise --maxrec or narrow the query)"
            if result.overflow
            else ""
        )
        + "\n"
    )
    rate = len(summary.fetched) / summary.seconds if summary.seconds > 0 else 0.0
    out.write(
        f"fetched {len(summary.fetched)} spectra ({summary.bytes / 1e6:.1f} MB) in "
        f"{summary.seconds:.1f} s ({rate:.1f} spectra/s); {len(summary.skipped)} already "
        f"here (same checksum); {len(summary.failures)} failed\n"
    )
    codes: dict[str, int] = {}
    for failure in summary.failures:
        codes[failure.code] = codes.get(failure.code, 0) + 1
    for code, count in sorted(codes.items()):
        example = next(f for f in summary.failures if f.code == code)
        out.write(f"  {code:<24} {count:>6}  e.g. {example.identifier}: {example.reason}\n")
    out.write(f"manifest  {args.out}/{MANIFEST_CSV}\n")
    out.write(f"failures  {args.out}/{FAILURES_CSV}\n")
    if result.labels_path is not None:
        out.write(
            f"labels    {result.labels_path} ({result.labelled} labelled spectra; "
            f"{len(result.labels_without_spectrum)} labels without a fetched spectrum)\n"
        )
    return 1 if summary.failures else 0
