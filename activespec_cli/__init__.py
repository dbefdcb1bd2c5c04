"""The ``activespec`` command line.

Each sub-command lives in its own module exposing ``register(subparsers)``; the
module is imported lazily-by-name so that ``activespec inspect`` does not pay for
importing TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from activespec import __version__
from activespec.console import log_path_of
from activespec.errors import ActivespecError

#: sub-command name -> module (relative to this package) that registers it.
COMMANDS: dict[str, str] = {
    "inspect": "inspect_cmd",
    "fetch": "fetch_cmd",
    "simulate": "simulate_cmd",
    "round": "round_cmd",
    "score": "score_cmd",
    "run": "run_cmd",
    "demo": "demo_cmd",
    "candidates": "candidates_cmd",
    "label": "label_cmd",
    "compile": "compile_cmd",
    "split-desi": "split_desi_cmd",
}


def build_parser(commands: dict[str, str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="activespec",
        description="Find rare emission-line objects in spectral surveys by active deep learning.",
    )
    parser.add_argument("--version", action="version", version=f"activespec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (commands or COMMANDS).values():
        importlib.import_module(f"{__name__}.{module}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Only import the module of the command actually asked for.
    wanted = next((a for a in argv if not a.startswith("-")), None)
    commands = {wanted: COMMANDS[wanted]} if wanted in COMMANDS else None
    args = build_parser(commands).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ActivespecError as err:
        print(f"activespec {args.command}: error: {err}", file=sys.stderr)
        _print_log_path(err)
        return 2
    except KeyboardInterrupt as err:
        _print_log_path(err)
        return 130
    except Exception as err:
        # A failure inside a run whose logs went to a file (activespec.console): its
        # message here, the traceback in the file. Elsewhere, the usual traceback.
        if log_path_of(err) is None:
            raise
        print(f"activespec {args.command}: error: {type(err).__name__}: {err}", file=sys.stderr)
        root = _root_cause(err)
        if root is not err:
            print(f"  caused by {type(root).__name__}: {root}", file=sys.stderr)
        _print_log_path(err)
        return 1


def _root_cause(err: BaseException) -> BaseException:
    """The first exception of the chain ``err`` ends (``raise ... from``, or raised while
    handling another)."""
    seen = {id(err)}
    while (cause := err.__cause__ or err.__context__) is not None and id(cause) not in seen:
        seen.add(id(cause))
        err = cause
    return err


def _print_log_path(err: BaseException) -> None:
    path = log_path_of(err)
    if path is not None:
        print(f"  the traceback and the libraries' logs: {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
