"""The CNN against label spreading (the 2016 system, over the flux and over the CNN's
embedding): precision and recall of each scorer's predicted positives on simulated
surveys, at round 0 and after rounds of labels, and false alarms on real LAMOST stars.

Per seed, a demo-sized simulated survey (:func:`bench.campaign.load_survey`) and the
product's own pieces, in memory:

* each round a fresh published CNN trained as the Trainer does
  (:func:`bench.campaign.train`) on the labelled instrument's train split plus every pool
  label so far;
* label spreading (:func:`activespec.label_spreading.label_spreading`, the 2016 defaults
  k = 5, alpha = 0.99, 100 iterations, tolerance 0.001) seeded, as the LabelSpreading
  component is, by every labelled-instrument spectrum and every pool label, over the
  140-point flux (``ls_flux``) or over that round's CNN embedding (``ls_embedding``);
* the 48 real LAMOST LRS spectra of ``tests/data/real`` (none shows H-alpha emission)
  join the pool as extra unlabelled nodes: a scorer that calls them positive raises a
  false alarm on real data;
* after scoring, the CNN's 100 most uncertain unlabelled pool spectra (entropy, the
  published query) get their true labels, as the simulated oracle gives them.

Figures per round and scorer, over the unlabelled simulated pool: precision and recall of
the predicted positives (argmax is ``emission`` or ``double-peak``) against the truth,
the recall of weak emitters, and the real stars called positive.
"""

from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np

from bench import datasets
from bench.campaign import Sizes, load_survey, train
from bench.harness import REPO_ROOT, BenchOptions, Report, Stopwatch, benchmark_main

NAME = "scorers"
SCORERS = ("cnn", "ls_flux", "ls_embedding")
QUERY_SIZE = 100
FULL = Sizes(n_labelled=3_000, n_pool=20_000, rounds=4, seeds=(1, 2), max_epochs=50, patience=5)
QUICK = Sizes(n_labelled=150, n_pool=400, rounds=2, seeds=(1,), max_epochs=2, patience=1)
#: The simulator's weak Be emitters, the ones the loop lost first (issue 8).
WEAK_SUBTYPE = "be-weak"


def real_lamost_flux() -> np.ndarray:
    """Preprocessed flux of the real LAMOST LRS spectra (all normal stars)."""
    paths = sorted(
        str(p) for p in (REPO_ROOT / "tests" / "data" / "real" / "lamost").glob("spec-*")
    )
    return datasets.encode_files(paths).flux


def figures(predicted: np.ndarray, truth: np.ndarray, weak: np.ndarray) -> dict:
    """Precision, recall and weak-emitter recall of boolean ``predicted`` positives."""
    hits = int((predicted & truth).sum())
    return {
        "precision": hits / int(predicted.sum()) if predicted.any() else None,
        "recall": hits / int(truth.sum()) if truth.any() else None,
        "weak_recall": (int((predicted & weak).sum()) / int(weak.sum()) if weak.any() else None),
        "num_predicted": int(predicted.sum()),
    }


def run_seed(survey, sizes: Sizes, seed: int, real_flux: np.ndarray) -> list[dict]:
    """Every round's figures of the three scorers on one survey."""
    from activespec import uncertainty
    from activespec.label_spreading import UNLABELLED, label_spreading
    from models.export import embed

    n_lab, n_pool = len(survey.labelled_labels), len(survey.pool_labels)
    all_flux = np.concatenate([survey.labelled_flux, survey.pool_flux, real_flux]).astype(
        np.float32
    )
    pool_slice = slice(n_lab, n_lab + n_pool)
    real_slice = slice(n_lab + n_pool, None)
    train_rows, eval_rows = survey.labelled_split == 0, survey.labelled_split == 1
    truth = survey.pool_labels > 0
    weak = survey.pool_subtypes == WEAK_SUBTYPE
    labelled: dict[int, int] = {}
    rounds = []
    for round_index in range(sizes.rounds):
        rows = np.array(sorted(labelled), dtype=int)
        model = train(
            np.concatenate([survey.labelled_flux[train_rows], survey.pool_flux[rows]]),
            np.concatenate([survey.labelled_labels[train_rows], survey.pool_labels[rows]]),
            survey.labelled_flux[eval_rows],
            survey.labelled_labels[eval_rows],
            seed=seed * 1000 + round_index,
            sizes=sizes,
        )
        cnn_probabilities, embedding = embed(model, all_flux)
        seeds = np.full(len(all_flux), UNLABELLED, np.int64)
        seeds[:n_lab] = survey.labelled_labels
        seeds[n_lab + rows] = survey.pool_labels[rows]
        distributions = {"cnn": cnn_probabilities}
        seconds = {}
        for scorer, vectors in (("ls_flux", all_flux), ("ls_embedding", embedding)):
            with Stopwatch() as clock:
                result = label_spreading(vectors, seeds, 3)
            distributions[scorer] = result.distributions
            seconds[scorer] = round(clock.seconds, 1)
        unlabelled = np.ones(n_pool, bool)
        unlabelled[rows] = False
        record = {"round": round_index, "pool_labels": len(rows), "ls_seconds": seconds}
        for scorer, p in distributions.items():
            positive = p.argmax(axis=1) > 0
            pool_positive = positive[pool_slice]
            record[scorer] = {
                **figures(pool_positive & unlabelled, truth & unlabelled, weak & unlabelled),
                "real_false_alarms": int(positive[real_slice].sum()),
            }
        rounds.append(record)
        print(f"  seed {seed} {json.dumps(record)}", flush=True)
        # The published query: the CNN's most uncertain unlabelled pool spectra.
        entropy = uncertainty.entropy(cnn_probabilities[pool_slice])
        entropy[~unlabelled] = -np.inf
        for row in np.argsort(-entropy, kind="stable")[:QUERY_SIZE]:
            labelled[int(row)] = int(survey.pool_labels[row])
    return rounds


def run(options: BenchOptions) -> dict:
    """Every seed's rounds; the mean figures per round and scorer; the record."""
    sizes = QUICK if options.quick else FULL
    report = Report(NAME, options, dataclasses.asdict(sizes))
    real_flux = real_lamost_flux()
    runs = {}
    with Stopwatch() as clock:
        for seed in sizes.seeds:
            runs[seed] = run_seed(load_survey(options, sizes, seed), sizes, seed, real_flux)
    report.figure("total_s", clock.seconds, "all seeds", "s")
    report.figure("real_stars", len(real_flux), "real LAMOST stars added to the pool")
    table = {}
    for round_index in range(sizes.rounds):
        for scorer in SCORERS:
            cells = [runs[seed][round_index][scorer] for seed in sizes.seeds]
            table[f"round{round_index}/{scorer}"] = {
                key: _mean([c[key] for c in cells])
                for key in ("precision", "recall", "weak_recall", "real_false_alarms")
            }
    print(f"{'round':>5} {'scorer':<13} {'precision':>9} {'recall':>7} {'weak':>6} {'real FP':>7}")
    for key, cell in table.items():
        round_name, scorer = key.split("/")
        print(
            f"{round_name[5:]:>5} {scorer:<13} {_fmt(cell['precision']):>9} "
            f"{_fmt(cell['recall']):>7} {_fmt(cell['weak_recall']):>6} "
            f"{_fmt(cell['real_false_alarms'], '.1f'):>7}"
        )
    report.figures["mean_by_round"] = table
    report.figures["rounds"] = {str(seed): runs[seed] for seed in runs}
    last = sizes.rounds - 1
    report.ratio(
        "final_recall_ls_embedding_vs_cnn",
        table[f"round{last}/ls_embedding"]["recall"] or 0.0,
        table[f"round{last}/cnn"]["recall"] or 0.0,
        "last round's recall, label spreading over the embedding / CNN",
    )
    return report.save()


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 3) if values else None


def _fmt(value, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    return benchmark_main(NAME, __doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
