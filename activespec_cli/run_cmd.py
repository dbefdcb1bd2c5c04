"""``activespec run``: several active-learning rounds with an oracle in the loop."""

from __future__ import annotations

import argparse
import os
import pathlib

from activespec.console import Console, add_verbose_option, route_logs
from activespec.errors import ConfigError
from pipeline.configs import load_config


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run active-learning rounds with a simulated or human oracle",
        description=(
            "Run rounds until N are complete in WORKDIR. With --oracle simulated, each round's "
            "query and performance sample are answered from the simulated survey's ground "
            "truth. With --oracle human, the run stops after each round's query; label it with "
            "`activespec label serve` and run the same command again to continue."
        ),
    )
    parser.add_argument("--workdir", required=True, type=pathlib.Path)
    parser.add_argument("--rounds", required=True, type=int, help="rounds wanted in total")
    parser.add_argument("--oracle", choices=("simulated", "human"), default="human")
    parser.add_argument("--config", type=pathlib.Path, help="TOML configuration file")
    parser.add_argument("--truth", type=pathlib.Path, help="ground truth of a simulated survey")
    add_verbose_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, base_dir=None if args.config else args.workdir)
    if args.rounds < 1:
        raise ConfigError("--rounds must be at least 1")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    # ml_metadata and the round driver: only when rounds run (activespec --help stays fast)
    from pipeline.campaign import LabelsPending, run_campaign

    console = Console()
    try:
        # The libraries' logs in WORKDIR/logs, routed before TensorFlow is imported.
        with route_logs(args.workdir, console, verbose=args.verbose):
            history = run_campaign(
                args.workdir,
                config,
                rounds=args.rounds,
                oracle=args.oracle,
                truth_path=args.truth,
                log=console.line,
            )
    except LabelsPending as pending:
        print(f"waiting for labels: {pending}")
        return 3
    print(format_history(history))
    return 0


def format_history(history: list[dict]) -> str:
    lines = [
        "round  labels  argmax-F1  blessing-F1  candidates  perf. precision (95% lower)  "
        "est. recall (95% interval)  true precision  true recall"
    ]
    for h in history:
        ev = h.get("evaluation") or {}
        perf = h.get("performance") or {}
        sim = h.get("simulated") or {}
        perf_text = (
            f"{perf['precision']:.2f} ({perf['lower_bound_95']:.2f}, n={perf['n']})"
            if perf.get("precision") is not None
            else "-"
        )
        est = h.get("estimated_recall") or {}
        recall_text = (
            f"{est['value']:.2f} ({est['lower']:.2f}-{est['upper']:.2f}, n={est['n']})"
            if est.get("value") is not None and est.get("lower") is not None
            else "-"
        )
        lines.append(
            f"{h['round']:>5}  {h['labels_so_far']:>6}  {_fmt(ev.get('macro_f1')):>9}  "
            f"{_fmt(ev.get('blessing_macro_f1')):>11}  "
            f"{h.get('num_candidates') or 0:>10}  {perf_text:>27}  {recall_text:>26}  "
            f"{_fmt(sim.get('precision')):>14}  {_fmt(sim.get('recall')):>11}"
        )
    lines.append(
        "held-out macro-F1: argmax-F1 takes the most probable class; blessing-F1 (TFMA, each "
        "class at p>=0.5) is the one the blessing threshold applies to"
    )
    return "\n".join(lines)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"
