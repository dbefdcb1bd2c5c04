"""``activespec candidates``: the candidate catalogue (CSV, VOTable) and the HTML report.

Reads ``WORKDIR/rounds/round-NNN/`` only (no TensorFlow import), so it runs in seconds
and can be repeated with another known catalogue or radius at will.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from activespec.errors import ConfigError
from activespec.workdir import WorkDir


def register(subparsers) -> None:
    """Add the ``candidates`` sub-command to the ``activespec`` parser."""
    parser = subparsers.add_parser(
        "candidates",
        help="write the catalogue of emission-line candidates and the campaign report",
        description=(
            "Build the catalogue of the latest round's candidates (every pool spectrum "
            "predicted emission or double-peak), cross-match it with a catalogue of known "
            "objects (a file, or a table of a TAP service such as SIMBAD's basic), and write "
            "WORKDIR/catalogue/candidates.csv, candidates.vot and report.html. With --samp, "
            "also send the VOTable and the top candidates' spectra to TOPCAT / Aladin / SPLAT "
            "through a running SAMP hub. When the TAP service cannot be used, the catalogue "
            "is still written, with 'known' empty, and the exit status is 1."
        ),
    )
    parser.add_argument("--workdir", required=True, metavar="DIR", help="campaign work directory")
    parser.add_argument(
        "--config",
        type=pathlib.Path,
        help="TOML configuration whose [crossmatch] section gives the known objects and radius",
    )
    known = parser.add_mutually_exclusive_group()
    known.add_argument(
        "--known",
        metavar="CATALOGUE",
        help="known objects to cross-match with: CSV, VOTable or FITS table with RA/Dec columns",
    )
    known.add_argument(
        "--tap",
        metavar="URL",
        help="cross-match over this TAP service instead (an ADQL positional join, the "
        "candidates uploaded as a table); needs --tap-table",
    )
    parser.add_argument(
        "--tap-table",
        metavar="TABLE",
        help="the TAP service's table of known objects (e.g. basic for SIMBAD)",
    )
    parser.add_argument(
        "--radius",
        type=float,
        default=None,
        metavar="ARCSEC",
        help="cross-match radius in arcsec (default [crossmatch] radius_arcsec, else 3)",
    )
    parser.add_argument(
        "--top",
        type=int,
        default=12,
        metavar="N",
        help="thumbnails in the report (and spectra sent over SAMP) per class (default 12)",
    )
    parser.add_argument(
        "--samp",
        action="store_true",
        help="send the VOTable and the top candidates' spectra to all SAMP clients",
    )
    parser.add_argument(
        "--samp-hub",
        metavar="LOCKFILE_URL",
        help="SAMP hub lockfile (path, file:// URL or std-lockurl:...); implies --samp "
        "(default: $SAMP_HUB, else ~/.samp)",
    )
    parser.add_argument(
        "--samp-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the hub and the clients' replies (default 10)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the catalogue and report; optionally broadcast them. Return 0, or 1 when the
    cross-match failed (the catalogue is written with 'known' empty)."""
    # astropy and matplotlib: only when this command runs (activespec --help stays fast)
    from activespec.catalogue import (
        build_catalogue,
        count_summary,
        send_to_samp,
        top_candidates,
        write_catalogue,
        write_report,
    )
    from activespec.catalogue.build import mark_crossmatch_failed
    from activespec.vo.errors import VOError

    if args.top < 0:
        raise ConfigError(f"--top must be >= 0, not {args.top}")
    workdir = pathlib.Path(args.workdir)
    known, radius = _known_catalogue(args)
    failure = None
    try:
        catalogue = build_catalogue(workdir, known=known, radius_arcsec=radius)
    except VOError as err:
        # the catalogue is still written, with known/new left empty rather than wrong
        failure = str(err)
        print(f"activespec candidates: error: cross-match failed: {failure}", file=sys.stderr)
        catalogue = build_catalogue(workdir, known=None, radius_arcsec=radius)
        mark_crossmatch_failed(catalogue, failure)
    layout = WorkDir(workdir)
    files = write_catalogue(catalogue, layout.catalogue_dir)
    report = write_report(workdir, catalogue, layout.report_path, top=args.top, files=files)

    out = sys.stdout
    counts = count_summary(catalogue)
    known = catalogue.meta.get("known_catalogue")
    out.write(f"round {catalogue.meta['round']}: {len(catalogue)} candidate spectra\n")
    width = max(len(name) for name in counts)
    for name, c in counts.items():
        line = f"  {name:<{width}}  {c['all']:>7}"
        if known:
            line += f"  (new {c['new']}, known {c['known']})"
        out.write(line + "\n")
    if failure:
        out.write(
            "cross-match failed: the catalogue is written with 'known' empty (neither known "
            "nor new); run again when the service answers\n"
        )
    elif known and catalogue.meta["known_catalogue_size"] is None:
        out.write(f"cross-matched with {known} within {catalogue.meta['radius_arcsec']:g} arcsec\n")
    elif known:
        out.write(
            f"cross-matched with {known} ({catalogue.meta['known_catalogue_size']} objects) "
            f"within {catalogue.meta['radius_arcsec']:g} arcsec\n"
        )
    else:
        out.write("no known catalogue given (--known): every candidate counts as new\n")
    out.write(f"catalogue  {files['csv']}\n           {files['votable']}\n")
    out.write(f"report     {report}\n")

    if args.samp or args.samp_hub:
        chosen = top_candidates(catalogue, args.top)
        result = send_to_samp(
            files["votable"],
            [str(s) for s in chosen["source"]],
            hub_address=args.samp_hub,
            timeout=args.samp_timeout,
        )
        out.write(f"SAMP hub   {result.hub_url}\n")
        if result.table.replies:
            replies = ", ".join(f"{k}: {v}" for k, v in result.table.replies.items())
            out.write(f"  table sent to {len(result.table.replies)} client(s) ({replies})\n")
        else:
            out.write("  no client subscribes to table.load.votable (start TOPCAT or Aladin)\n")
        n_spectra = sum(1 for d in result.spectra if d.replies)
        out.write(f"  {len(result.spectra)} spectra sent, {n_spectra} received by a client\n")
        for path, reason in result.skipped:
            out.write(f"  skipped {path}: {reason}\n")
    return 1 if failure else 0


def _known_catalogue(args: argparse.Namespace):
    """The known objects (a path, a TAP catalogue or None) and the radius: the command's
    options, else the ``[crossmatch]`` section of ``--config``."""
    from pipeline.configs import CrossmatchSection, load_config

    settings = CrossmatchSection()
    config = None
    if args.config is not None:
        config = load_config(args.config)
        settings = config.crossmatch
    radius = args.radius if args.radius is not None else settings.radius_arcsec
    if args.tap_table and not args.tap:
        raise ConfigError("--tap-table goes with --tap URL")
    if args.tap and not args.tap_table:
        raise ConfigError("--tap needs --tap-table TABLE (e.g. basic for SIMBAD)")
    if args.known:
        return args.known, radius
    tap, table = args.tap or settings.tap, args.tap_table or settings.tap_table
    if tap:
        # pyvo: only for a TAP cross-match
        from activespec.vo.tap import TapCatalogue

        override = not args.tap  # the config's column names go with the config's table
        return (
            TapCatalogue(
                tap,
                table,
                ra_column=(settings.tap_ra if override else "") or None,
                dec_column=(settings.tap_dec if override else "") or None,
                name_column=(settings.tap_name if override else "") or None,
                retries=settings.retries,
            ),
            radius,
        )
    if settings.known:
        return config.resolve(settings.known), radius
    return None, radius
