"""``activespec label``: label a round's spectra in the browser, and manage the labels.

Sub-commands::

    activespec label serve  --workdir DIR [--round N] [--host H] [--port P] [--token T]
                            [--labeller NAME] [--config FILE]
    activespec label export --workdir DIR --out FILE.csv [--current]
    activespec label import --workdir DIR FILE.csv [--labeller NAME]
    activespec label status --workdir DIR [--json]

The labels live in ``WORKDIR/labels.sqlite``; every command first registers the rows of
every round's ``query.json``, ``performance_sample.json`` and ``recall_sample.json``
(idempotent). Only the
label store and the standard library are imported, except by ``serve`` (FITS readers
and preprocessing, for the plots, and the configuration reader); TensorFlow never.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import pathlib
import secrets
import signal
import sys

from activespec.labels import open_workdir_store
from activespec.labels.records import SAMPLED_ROLES
from pipeline.configs import load_config

#: Default port of ``serve`` (as :data:`activespec.labelling.server.DEFAULT_PORT`, not imported
#: here so that the other actions start without the FITS readers).
DEFAULT_PORT = 8765


def register(subparsers) -> None:
    """Add the ``label`` sub-command (with serve / export / import / status)."""
    parser = subparsers.add_parser(
        "label",
        help="label the queried spectra in a browser; export, import and count labels",
        description=(
            "Human labelling of the active-learning rounds. The labels of a campaign are "
            "kept in WORKDIR/labels.sqlite, saved the moment they are given."
        ),
    )
    actions = parser.add_subparsers(dest="label_command", metavar="ACTION", required=True)

    serve = actions.add_parser(
        "serve",
        help="serve the labelling page of a round",
        description=(
            "Serve the labelling page of one round (default: the latest) until Ctrl-C. "
            "The page lists the round's query, performance sample and recall sample, plots each "
            "spectrum and saves a label per key press (1-9; ? shows the shortcuts)."
        ),
    )
    _workdir_argument(serve)
    serve.add_argument("--round", dest="round_index", type=int, help="round (default: latest)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1: this machine only)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port (default {DEFAULT_PORT}; 0 = any free port)",
    )
    serve.add_argument(
        "--token",
        help=(
            "require this token on every request; when listening beyond this machine "
            "without one, a random token is made up and printed in the URL"
        ),
    )
    serve.add_argument(
        "--labeller", default="human", help="name saved with every label (default: human)"
    )
    serve.add_argument(
        "--config",
        type=pathlib.Path,
        help=(
            "the round's TOML configuration, for its [preprocessing] settings when the "
            "round records no model (else the model's own settings apply)"
        ),
    )
    serve.set_defaults(func=run_serve)

    export = actions.add_parser(
        "export",
        help="write the labels to a CSV file",
        description=(
            "Write every label (the whole history, oldest first) as CSV with the columns "
            "spectrum_id,round,label,labeller,created_at,comment,role."
        ),
    )
    _workdir_argument(export)
    export.add_argument("--out", required=True, type=pathlib.Path, help="CSV file to write")
    export.add_argument(
        "--current",
        action="store_true",
        help="only the current (latest) label of each spectrum",
    )
    export.set_defaults(func=run_export)

    importer = actions.add_parser(
        "import",
        help="add the labels of a CSV file",
        description=(
            "Add labels from a CSV file (columns spectrum_id, round, label; optionally "
            "labeller, created_at, comment, role). All rows are checked first: if any is "
            "bad, nothing is imported and every bad row is listed. Labels already in the "
            "store are skipped, so importing a file twice adds nothing."
        ),
    )
    _workdir_argument(importer)
    importer.add_argument("file", type=pathlib.Path, metavar="FILE.csv", help="labels CSV")
    importer.add_argument("--labeller", help="labeller of the rows whose labeller column is empty")
    importer.set_defaults(func=run_import)

    status = actions.add_parser(
        "status",
        help="how many spectra of each round are labelled",
        description="Per round and role: spectra labelled / spectra shown.",
    )
    _workdir_argument(status)
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.set_defaults(func=run_status)


def _workdir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workdir", required=True, type=pathlib.Path, help="campaign directory")


def run_serve(args: argparse.Namespace) -> int:
    """Serve the labelling page until interrupted."""
    # the page's server and scipy: only for label serve (activespec --help stays fast)
    from activespec.labelling import create_server

    preprocess_config = None if args.config is None else preprocess_config_from_toml(args.config)
    token = args.token
    generated = False
    if token is None and not _is_loopback(args.host):
        token, generated = secrets.token_urlsafe(18), True
    server = create_server(
        args.workdir,
        round_index=args.round_index,
        host=args.host,
        port=args.port,
        token=token,
        labeller=args.labeller,
        preprocess_config=preprocess_config,
    )
    app = server.app
    progress = ", ".join(
        f"{role} {p['labelled']}/{p['total']}" for role, p in app.progress().items() if p["total"]
    )
    print(f"Labelling round {app.round_index} of {app.workdir} as {app.labeller!r} ({progress})")
    print(f"Labels are saved to {app.store.path}")
    if app.model_metadata_path is not None:
        print(f"Model window: preprocessing of the round's model ({app.model_metadata_path})")
    elif args.config is not None:
        print(f"Model window: [preprocessing] of {args.config} (the round records no model)")
    else:
        print("Model window: default preprocessing (the round records no model)")
    if generated:
        print("Listening beyond this machine: a random access token was generated.")
    print(f"Open {server.url}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    # A service manager (systemd, Docker, Kubernetes) stops a server with SIGTERM, and a
    # server started in the background of a script ignores Ctrl-C's SIGINT: both stop it
    # the same way, the label store closed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def preprocess_config_from_toml(path: str | os.PathLike):
    """The preprocessing settings of a round's TOML configuration, read and validated by
    :func:`pipeline.configs.load_config` (the one reader of that file).

    Raises
    ------
    activespec.errors.ConfigError
        If the file is missing or not TOML, or the configuration is invalid.
    """
    return load_config(path).preprocess_config()


def run_export(args: argparse.Namespace) -> int:
    """Write the labels to ``args.out``."""
    store, _ = open_workdir_store(args.workdir)
    with store:
        count = store.export_csv(args.out, current_only=args.current)
    what = "current labels" if args.current else "labels"
    print(f"Wrote {count} {what} to {args.out}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import ``args.file`` (all or nothing)."""
    store, _ = open_workdir_store(args.workdir)
    with store:
        summary = store.import_csv(args.file, labeller=args.labeller)
    print(
        f"Imported {summary.added} label(s) from {args.file}"
        + (f"; {summary.skipped} already in the store" if summary.skipped else "")
    )
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print labelled / total per round and role."""
    store, rounds = open_workdir_store(args.workdir)
    with store:
        report = {
            index: store.progress(index) for index in sorted(set(rounds) | set(store.rounds()))
        }
        n_labelled = len(store.current_labels())
    if args.json:
        payload = {
            "store": str(store.path),
            "labelled_spectra": n_labelled,
            "rounds": [
                {
                    "round": index,
                    **{
                        role: {"labelled": done, "total": total}
                        for role, (done, total) in progress.items()
                    },
                }
                for index, progress in report.items()
            ],
        }
        print(json.dumps(payload, indent=2))
        return 0
    if not report:
        print(f"{args.workdir}: no round to label yet")
        return 0
    columns = SAMPLED_ROLES
    print(f"{'ROUND':>5}  " + "  ".join(f"{role.upper():>13}" for role in columns) + "  OTHER")
    for index, progress in report.items():
        cells = [_fraction(*progress.get(role, (0, 0))) for role in columns]
        extra = ", ".join(
            f"{role} {_fraction(*counts)}"
            for role, counts in progress.items()
            if role not in columns
        )
        print(f"{index:>5}  " + "  ".join(f"{cell:>13}" for cell in cells) + f"  {extra or '-'}")
    print(f"{n_labelled} spectra labelled in all; store {store.path}")
    return 0


def _fraction(done: int, total: int) -> str:
    return f"{done} / {total}" if total else "-"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
