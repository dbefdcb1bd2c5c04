"""``activespec simulate``: write a realistic simulated survey (labelled set + pool + truth)."""

from __future__ import annotations

import argparse
from pathlib import Path

from activespec.errors import ConfigError


def register(subparsers) -> None:
    """Add the ``simulate`` sub-command to an argparse sub-parser collection."""
    parser = subparsers.add_parser(
        "simulate",
        help="simulate a labelled Ondřejov set and a LAMOST pool with ground truth",
        description=(
            "Simulate a survey on disk in the real file layouts: OUT/labelled (Ondřejov "
            "CCD700 raw frames and SSAP tables with labels.csv), OUT/pool (LAMOST LRS "
            "DR2/DR7 images and DR9 tables, some gzipped) and OUT/truth (ground truth for "
            "the oracle and evaluations only). The output depends only on the seed."
        ),
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    parser.add_argument(
        "--labelled", required=True, type=int, metavar="N", help="number of labelled spectra"
    )
    parser.add_argument(
        "--pool", required=True, type=int, metavar="M", help="number of pool spectra"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="master seed (default 0)")
    parser.add_argument(
        "--workers", type=int, default=None, metavar="W", help="worker processes (default: CPUs)"
    )
    parser.add_argument(
        "--emission-fraction",
        type=float,
        default=0.02,
        metavar="F",
        help="share of the pool that is emission or double-peak (default 0.02)",
    )
    parser.add_argument(
        "--label-noise",
        type=float,
        default=0.0,
        metavar="P",
        help="share of labelled spectra given a wrong label in labels.csv (default 0)",
    )
    parser.add_argument(
        "--pool-survey",
        choices=("lamost", "sdss"),
        default="lamost",
        help="write the pool as LAMOST LRS files (default) or as SDSS spec-lite files",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _classes(counts: dict) -> str:
    return "  ".join(f"{name} {count:,}" for name, count in counts.items())


def _layouts(counts: dict) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in counts.items()) or "none"


def run(args: argparse.Namespace) -> int:
    """Run the simulation and print where everything went."""
    # scipy and the simulator: only when this command runs (activespec --help stays fast)
    from activespec.simulator import simulate_survey

    if args.out.exists() and not args.out.is_dir():
        raise ConfigError(f"--out {args.out} exists and is not a directory")
    summary = simulate_survey(
        args.out,
        n_labelled=args.labelled,
        n_pool=args.pool,
        seed=args.seed,
        workers=args.workers,
        emission_fraction=args.emission_fraction,
        label_noise=args.label_noise,
        progress=not args.no_progress,
        pool_survey=args.pool_survey,
    )
    out = Path(summary["out_dir"])
    total = summary["n_labelled"] + summary["n_pool"]
    print(
        f"Simulated {summary['n_labelled']:,} labelled + {summary['n_pool']:,} pool spectra "
        f"(seed {summary['seed']}) in {summary['elapsed_s']:.1f} s "
        f"({summary['spectra_per_s']:.0f} spectra/s, {summary['workers']} worker"
        f"{'s' if summary['workers'] != 1 else ''})"
        if total
        else f"Simulated an empty survey (seed {summary['seed']})"
    )
    counts = summary["counts"]
    print(f"labelled  {out / 'labelled'}   labels: {out / summary['paths']['labels']}")
    print(f"  true classes:     {_classes(counts['labelled'])}")
    print(
        f"  labels.csv:       {_classes(counts['labelled_observed'])}"
        f"   ({summary['labels_flipped']:,} flipped)"
    )
    print(f"  layouts:          {_layouts(summary['layouts']['labelled'])}")
    print(f"pool      {out / 'pool'}")
    print(f"  classes:          {_classes(counts['pool'])}")
    print(
        f"  layouts:          {_layouts(summary['layouts']['pool'])}"
        f"; {summary['pool_gzipped']:,} gzipped"
    )
    print(f"truth     {out / summary['paths']['pool_truth']} (oracle and evaluation only)")
    print(f"summary   {out / 'survey.json'}")
    return 0
