"""``activespec demo``: the whole product on a simulated survey, from nothing."""

from __future__ import annotations

import argparse
import os
import pathlib
import time

from activespec.console import Console, add_verbose_option, route_logs
from activespec.constants import (
    DEFAULT_PERFORMANCE_SAMPLE_SIZE,
    DEFAULT_QUERY_SIZE,
    DEFAULT_RECALL_SAMPLE_SIZE,
)
from activespec.workdir import WorkDir
from activespec_cli.run_cmd import format_history
from pipeline.configs import load_config

DEMO_CONFIG = """\
# activespec demo configuration (written by `activespec demo`; edit and re-run freely).
# Every key not given here keeps its default. The published setting (Skoda et al. 2020)
# is query_size = 100, performance_sample_size = 30, recall_sample_size = 0,
# reexamine_size = 0 (activespec.settings.PUBLISHED_SAMPLING).
[data]
labelled = ["survey/labelled/*.fits*"]
labels = "survey/labelled/labels.csv"
pool = ["survey/pool/*.fits*"]

[model]
# The published CNN; fewer epochs than the default 100 keep the demo to minutes.
max_epochs = {max_epochs}
patience = 5

[sampling]
strategy = "entropy"
query_size = {query_size}
performance_sample_size = {performance_sample_size}
recall_sample_size = {recall_sample_size}
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="simulate a survey, run rounds with a simulated oracle, write catalogue and report",
        description=(
            "From nothing: simulate a survey in WORKDIR/survey, run active-learning rounds with "
            "the simulated oracle, then write the candidate catalogue and the HTML report. "
            "Re-running continues where it stopped."
        ),
    )
    parser.add_argument("--workdir", type=pathlib.Path, default=pathlib.Path("demo"))
    parser.add_argument("--labelled", type=int, default=3000, help="labelled spectra to simulate")
    parser.add_argument("--pool", type=int, default=20000, help="pool spectra to simulate")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    add_verbose_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    # scipy and the simulator: only when this command runs (activespec --help stays fast)
    from activespec.simulator import simulate_survey

    workdir = args.workdir.resolve()
    survey = workdir / "survey"
    started = time.time()
    if not (survey / "survey.json").exists():
        print(f"[1/3] simulating {args.labelled} labelled and {args.pool} pool spectra in {survey}")
        simulate_survey(survey, n_labelled=args.labelled, n_pool=args.pool, seed=args.seed)
    else:
        print(f"[1/3] reusing the simulated survey in {survey}")
    config_path = workdir / "activespec.toml"
    if not config_path.exists():
        config_path.write_text(
            DEMO_CONFIG.format(
                max_epochs=args.max_epochs,
                query_size=DEFAULT_QUERY_SIZE,
                performance_sample_size=DEFAULT_PERFORMANCE_SAMPLE_SIZE,
                recall_sample_size=DEFAULT_RECALL_SAMPLE_SIZE,
            )
        )

    # ml_metadata and the round driver: only when rounds run (activespec --help stays fast)
    from pipeline.campaign import run_campaign

    config = load_config(config_path)
    print(f"[2/3] active learning, {args.rounds} rounds with the simulated oracle ({config_path})")
    console = Console(indent=" " * 8)
    # The libraries' logs in WORKDIR/logs, routed before TensorFlow is imported.
    with route_logs(workdir, console, verbose=args.verbose):
        history = run_campaign(
            workdir,
            config,
            rounds=args.rounds,
            oracle="simulated",
            log=lambda s: console.line("      " + s),
        )

        console.line(format_history(history))

        console.line("[3/3] candidate catalogue and report")
        # astropy and matplotlib: only at this step (activespec --help stays fast)
        from activespec.catalogue import build_catalogue, write_catalogue, write_report
        from activespec.catalogue.pool_map import MAP_PAGE_NAME

        catalogue = build_catalogue(workdir)
        layout = WorkDir(workdir)
        files = write_catalogue(catalogue, layout.catalogue_dir)
        files["report"] = write_report(workdir, catalogue, layout.report_path, files=files)
        pool_map = layout.report_path.parent / MAP_PAGE_NAME
        if pool_map.is_file():  # the interactive pool map, beside the report
            files["map"] = pool_map
        for name, path in files.items():
            console.line(f"      {name:<8} {path}")
    print(f"done in {time.time() - started:.0f} s. Next:")
    print(f"  activespec label serve --workdir {workdir}      # the labelling page")
    print(f"  tensorboard --logdir {layout.tensorboard_dir}       # learning curves")
    return 0
