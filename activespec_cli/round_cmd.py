"""``activespec round``: run one active-learning round on the local TFX runner."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

from activespec.console import Console, add_verbose_option, route_logs
from pipeline.configs import load_config


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "round",
        help="run one active-learning round (ingest, validate, train, evaluate, push, score, query)",
        description=(
            "Run one round of the published method as a TFX pipeline on this machine "
            "(LocalDagRunner, SQLite ML Metadata, Beam DirectRunner). The pool is ingested "
            "once and reused by later rounds. The labels given so far (`activespec label`) "
            "join the training set, and the round's query and performance sample are "
            "registered for labelling: one round of `activespec run --oracle human`. "
            "Without --config, the defaults apply and data "
            "paths are relative to WORKDIR (survey/labelled, survey/pool: see "
            "`activespec simulate`)."
        ),
    )
    parser.add_argument("--workdir", required=True, type=pathlib.Path, help="campaign directory")
    parser.add_argument("--config", type=pathlib.Path, help="TOML configuration file")
    parser.add_argument(
        "--round", dest="round_index", type=int, help="round number (default: next)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_verbose_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Validate before TensorFlow/TFX are even imported: bad config fails in milliseconds.
    base = None if args.config else args.workdir
    config = load_config(args.config, base_dir=base)
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    # The round's progress on the console (stderr with --json, stdout stays JSON); the
    # libraries' logs in WORKDIR/logs, routed before TensorFlow is imported.
    console = Console(sys.stderr if args.json else sys.stdout)
    with route_logs(args.workdir, console, verbose=args.verbose):
        # Imported once the logs are routed: its libraries' import-time output goes to the file.
        from pipeline.campaign import run_next_round

        # Exactly one round of `activespec run` with a human oracle: the labels given so
        # far train the model, and the round's query is registered for labelling.
        summary, _ = run_next_round(
            args.workdir, config, round_index=args.round_index, log=console.line
        )
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary, list(config.data.classes)))
    return 0


#: The two held-out macro-F1 figures of a round (``summary.json``: ``evaluation``).
#: ``blessing_macro_f1`` is the one the Evaluator's threshold applies to: TFMA's F1 of
#: each class one-vs-rest at probability 0.5, averaged over the classes.
BLESSING_F1 = "blessing macro-F1 (per class at p>=0.5, TFMA)"
#: ``macro_f1``: the predicted class is the most probable one, as in the per-class table,
#: the catalogue and the learning curves.
ARGMAX_F1 = "argmax macro-F1 (most probable class)"


def format_summary(summary: dict, class_names: list[str]) -> str:
    """A human-readable report of one round."""
    lines = [f"Round {summary['round']} finished in {summary['elapsed_s']:.0f} s"]
    for node, label in (("LabelledIngest", "labelled set"), ("PoolIngest", "pool")):
        info = summary.get("ingestion", {}).get(node)
        if not info:
            continue
        reused = (
            " (reused from an earlier round, no file re-read)" if info["reused_from_cache"] else ""
        )
        lines.append(
            f"  {label}: {info['num_ingested']} spectra ingested, {info['num_rejected']} rejected{reused}"
        )
        by_code = info.get("rejections_by_code") or {}
        for code, count in sorted(by_code.items(), key=lambda kv: -kv[1])[:5]:
            lines.append(f"      {count:>7}  {code}")
    ev = summary.get("evaluation")
    if ev:
        lines.append(f"  held-out test split: n={ev['n']}, accuracy={_fmt(ev['accuracy'])}")
        lines.append(
            f"      {BLESSING_F1}={_fmt(ev.get('blessing_macro_f1'))} "
            f"(blessing needs >= {ev['min_macro_f1']}: "
            f"{'blessed' if ev['blessed'] else 'NOT blessed'})"
        )
        lines.append(f"      {ARGMAX_F1}={_fmt(ev['macro_f1'])}")
        width = max(len(c) for c in class_names)
        lines.append(f"      {'class':<{width}}  precision  recall     F1")
        for name in class_names:
            m = ev["per_class"].get(name, {})
            lines.append(
                f"      {name:<{width}}  {_fmt(m.get('precision')):>9}  {_fmt(m.get('recall')):>6}  "
                f"{_fmt(m.get('f1')):>5}"
            )
        if ev.get("confusion_matrix"):
            lines.append("      confusion matrix (rows true, columns predicted):")
            for name, row in zip(class_names, ev["confusion_matrix"], strict=True):
                lines.append(f"      {name:<{width}}  " + " ".join(f"{v:>6}" for v in row))
    if "pushed" in summary:
        where = summary.get("pushed_destination") or summary.get("serving_model_dir")
        lines.append(
            f"  model pushed: {'yes, ' + str(where) if summary['pushed'] else 'no (not blessed)'}"
        )
    if summary.get("num_scored") is not None:
        lines.append(f"  pool scored: {summary['num_scored']} spectra")
    lines += _label_spreading_lines(summary)
    sampling = summary.get("sampling")
    if sampling:
        lines.append(
            f"  query ({sampling['strategy']}): {sampling['query_size']} spectra to label; "
            f"performance sample: {sampling['performance_sample_size']}; "
            f"candidates (predicted positive): {sampling['num_candidates']}"
        )
    stages = summary.get("stages") or {}
    if stages:
        lines.append("  stages (wall time, CPU cores kept busy; cached stages left out):")
        for node, use in stages.items():
            cores = "" if use.get("cores") is None else f"{use['cores']:>5.2f} cores"
            lines.append(f"      {node:<26} {use['wall_s']:>7.1f} s  {cores}")
    files = summary.get("files") or {}
    if files:
        lines.append("  outputs:")
        for name, path in files.items():
            lines.append(f"      {name:<26} {path}")
    lines.append(f"      {'summary.json':<26} {summary.get('summary_path', '')}")
    if summary.get("model_run_uri"):
        lines.append(f"      {'TensorBoard logs':<26} {summary['model_run_uri']}")
    return "\n".join(lines)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _label_spreading_lines(summary: dict) -> list[str]:
    """Label spreading's run and, with ``kind = "both"``, how it compares with the CNN."""
    spreading = summary.get("label_spreading")
    if not spreading:
        return []
    stop = "converged" if spreading.get("converged") else "stopped at the iteration cap"
    lines = [
        f"  label spreading ({spreading.get('space')} space, k={spreading.get('k')}, "
        f"alpha={spreading.get('alpha')}): {spreading.get('num_labelled_nodes')} labelled "
        f"nodes, {spreading.get('graph_edges')} edges, {spreading.get('iterations_done')} "
        f"iterations ({stop}), {spreading.get('num_unreached')} pool spectra no label reached"
    ]
    comparison = summary.get("scorer_comparison")
    if comparison:
        positives = comparison["positives"]
        lines.append(
            f"      vs the CNN over {comparison['n']} spectra: same class for "
            f"{_fmt(comparison['agreement'])}; predicted positive by the CNN "
            f"{positives['cnn']}, by label spreading {positives['label_spreading']}, by both "
            f"{positives['both']} (Jaccard {_fmt(positives['jaccard'])})"
        )
    return lines
