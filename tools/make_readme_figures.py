#!/usr/bin/env python
"""Regenerate the README figure and the real-vs-simulated table.

    .venv/bin/python tools/make_readme_figures.py [--out docs/figures] [--seed 7]

1. Simulates a LAMOST pool with :func:`activespec.simulator.simulate_survey` (same
   code path as ``activespec simulate``) in a temporary folder.
2. Reads the 48 real LAMOST LRS files of ``tests/data/real/lamost`` and the simulated
   ordinary stars back with :func:`activespec.io.read_spectrum`, preprocesses them
   with the default (published) settings and measures H-alpha depth and a noise
   proxy (:mod:`activespec.plots.realism`); prints a Markdown table per type.
3. Draws ``real_vs_simulated.png``: for each subclass of ``--subclasses``, the real
   spectrum of that subclass with the highest S/N and the simulated one of the same
   subclass whose S/N is nearest to it (a rule, not a choice by eye).

The output depends only on the arguments: the simulator is deterministic for a seed,
and the PNG carries no timestamp.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from activespec.errors import ActivespecError
from activespec.plots import (
    ComparisonRow,
    compare_by_type,
    format_table,
    measure_spectra,
    real_vs_simulated_figure,
    save_png,
    simulated_star_files,
    spectral_type_of,
)
from activespec.simulator import simulate_survey

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REAL_DIR = REPO / "tests" / "data" / "real" / "lamost"
DEFAULT_OUT = REPO / "docs" / "figures"
FIGURE_NAME = "real_vs_simulated.png"
#: Simulated spectra per real one in the S/N-matched comparison.
SNR_MATCHED_PER_REAL = 3
TYPE_NAMES = {"A": "A star", "F": "F star", "G": "G star", "K": "K star", "M": "M star"}


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder of the PNG")
    parser.add_argument("--real-dir", type=Path, default=DEFAULT_REAL_DIR)
    parser.add_argument("--seed", type=int, default=7, help="simulator seed")
    parser.add_argument("--n-pool", type=int, default=1200, help="simulated pool size")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--subclasses",
        nargs="+",
        default=["A1", "K3", "M2"],
        help="one figure row per MK subclass (letter and number)",
    )
    args = parser.parse_args(argv)
    for wanted in args.subclasses:
        if spectral_type_of(wanted) is None:
            parser.error(f"--subclasses: {wanted!r} is not an MK subclass like A1 or K3")
    return args


def _same_subclass(statistics, letter: str, number: float):
    return [s for s in statistics if s.spectral_type == letter and s.subclass_number == number]


def _figure_rows(real, simulated, subclasses):
    """Pick the real and simulated file of every requested subclass (see the docstring)."""
    rows = []
    for wanted in subclasses:
        mk_type = spectral_type_of(wanted)  # validated by _parse
        real_matches = [s for s in _same_subclass(real, *mk_type) if s.snr is not None]
        simulated_matches = [s for s in _same_subclass(simulated, *mk_type) if s.snr is not None]
        if not real_matches or not simulated_matches:
            raise SystemExit(
                f"no {wanted} spectrum among the {'real' if not real_matches else 'simulated'}"
                " ones; choose another subclass or a larger --n-pool"
            )
        chosen_real = max(real_matches, key=lambda s: s.snr)
        chosen_simulated = min(
            simulated_matches, key=lambda s: (abs(s.snr - chosen_real.snr), s.source)
        )
        rows.append(
            ComparisonRow(
                TYPE_NAMES.get(mk_type[0], f"{mk_type[0]} star"),
                chosen_real.source,
                chosen_simulated.source,
            )
        )
    return rows


def main(argv=None) -> int:
    args = _parse(argv)
    real_files = sorted(args.real_dir.glob("spec-*.fits*"))  # LRS files; MRS ones are med-*
    if not real_files:
        print(f"no LAMOST LRS file (spec-*.fits*) in {args.real_dir}", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="activespec-readme-") as tmp:
            simulate_survey(
                tmp,
                n_labelled=0,
                n_pool=args.n_pool,
                seed=args.seed,
                workers=args.workers,
                progress=False,
            )
            real, real_rejected = measure_spectra(real_files)
            simulated, simulated_rejected = measure_spectra(simulated_star_files(tmp))
            comparisons = compare_by_type(real, simulated)
            matched = compare_by_type(real, simulated, snr_matched=SNR_MATCHED_PER_REAL)
            rows = _figure_rows(real, simulated, args.subclasses)
            caption = (
                "Real: the LAMOST LRS file of tests/data/real with the highest S/N of the subclass."
                f" Simulated: activespec.simulator (seed {args.seed}), same subclass, nearest S/N."
                "\nLeft: native pixels divided by their median over 6450-6800 Å. Right: what the"
                " classifier sees, the shaded window resampled to 140 points and scaled to [-1, 1]."
            )
            figure = real_vs_simulated_figure(rows, caption=caption)
            path = save_png(figure, args.out / FIGURE_NAME)
    except ActivespecError as error:
        print(f"make_readme_figures: {error.code}: {error}", file=sys.stderr)
        return 1

    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    for row in rows:
        print(
            f"  {row.title}: real {Path(row.real_path).name}, simulated {Path(row.simulated_path).name}"
        )
    print(
        f"\n{len(real)} real LRS spectra measured ({len(real_rejected)} rejected); "
        f"{len(simulated)} simulated ordinary stars from a pool of {args.n_pool} "
        f"(seed {args.seed}; {len(simulated_rejected)} rejected). Median [P10, P90].\n"
    )
    print("All simulated stars of the real stars' subclasses:\n")
    print(format_table(comparisons))
    print(
        f"S/N-matched: the {SNR_MATCHED_PER_REAL} simulated stars nearest in S/N to each real one:\n"
    )
    print(format_table(matched))
    for source, code, reason in real_rejected:
        print(f"real rejected: {Path(source).name}: {code}: {reason}")
    for s in real:
        if s.spectral_type is None:
            print(f"real, not compared (no MK type): {Path(s.source).name} SUBCLASS={s.subclass}")
    print("\nDo the central 80 % of the S/N-matched samples hold each other's median?")
    for comparison in matched:
        if comparison.n_real and comparison.n_simulated:
            verdicts = ", ".join(
                f"{name} {'yes' if comparison.overlaps(name) else 'NO'}"
                for name in ("halpha_depth", "halpha_relative_depth", "mean_abs_step")
            )
            print(f"  {comparison.spectral_type}: {verdicts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
