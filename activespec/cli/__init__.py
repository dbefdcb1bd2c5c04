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
from activespec.errors import ActivespecError

#: sub-command name -> module (relative to this package) that registers it.
COMMANDS: dict[str, str] = {
    "inspect": "inspect_cmd",
    "simulate": "simulate_cmd",
    "round": "round_cmd",
    "score": "score_cmd",
    "run": "run_cmd",
    "demo": "demo_cmd",
    "candidates": "candidates_cmd",
    "label": "label_cmd",
    "compile": "compile_cmd",
}


def build_parser(commands: dict[str, str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="activespec",
        description="Find rare emission-line objects in spectral surveys by active deep learning.",
    )
    parser.add_argument("--version", action="version", version=f"activespec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (commands or COMMANDS).values():
        importlib.import_module(f"activespec.cli.{module}").register(sub)
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
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
