"""Labels needed to reach a target macro-F1: each query strategy against random sampling.

The campaign's loop, run in memory with the product's own pieces because full TFX
rounds are far too slow for a benchmark on two cores:

* a simulated survey (``activespec.simulator``): Ondřejov labelled spectra and a LAMOST
  pool with 5 % emission / double-peak objects;
* spectra read and preprocessed by ``activespec.io.read_spectrum`` and
  ``activespec.preprocessing.preprocess``, the labelled set degraded to LAMOST resolution
  (as the labelled SpectraIngest does);
* the pool split into a query pool and a held-out LAMOST test split by
  ``components.spectra_ingest.encoding.split_index`` (stable hash of the spectrum id);
* each round a fresh ``models.cnn.build_cnn`` (the published network) trained for a few
  epochs with the Trainer's balanced class weights, the pool's probabilities, the
  uncertainty measures of ``activespec.uncertainty``, the query selection of the
  UncertaintySampler (``query_sort_key``; ``bald`` from the exported signature's MC
  dropout computation, ``models.export.mc_dropout_predict``; ``diverse_entropy``: k-means
  in the embedding, ``models.export.embed`` and ``strategies.diverse_selection``; random:
  its reproducible ``strategies.random_query_key``), and the simulated oracle
  (``activespec.oracle.SimulatedOracle``) answering from ``truth/pool_truth.csv``.

Round 0 trains on the labelled set alone; then each round queries ``k`` spectra with the
strategy, the oracle labels them, and they join the training set. Every round the model
is scored on the held-out test split (macro-F1 over the three classes, as the
Evaluator's ``per_class_metrics``). Strategies share the round-0 model and the random
seed of every round (common random numbers), so their differences are not seed noise.

Baseline: random sampling, in the same run and with the same seeds. Figures: labels
needed to first reach the target macro-F1 (mean and spread over seeds; runs that never
reach it count as "not reached"), the mean macro-F1 over rounds (area under the learning
curve), the final macro-F1 and the emission-line objects found among the queries.
"""

from __future__ import annotations

import dataclasses
import heapq
import sys
from pathlib import Path

import numpy as np

from bench import datasets
from bench.harness import BenchOptions, Report, Stopwatch, benchmark_main

NAME = "active_learning"
STRATEGIES = ("entropy", "margin", "least_confidence", "bald", "diverse_entropy", "random")
BASELINE = "random"
SURVEY_SEED = 2020
#: Hash buckets of the query pool and the held-out test split (70 : 30).
SPLIT_BOUNDS = (7, 10)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of one benchmark run (see BENCHMARKS.md for the full-size choice)."""

    n_labelled: int
    n_pool: int
    emission_fraction: float
    rounds: int
    query_size: int
    epochs: int
    seeds: tuple[int, ...]
    target_macro_f1: float
    batch_size: int = 64


FULL = Settings(
    n_labelled=800,
    n_pool=4_000,
    emission_fraction=0.05,
    rounds=4,
    query_size=75,
    epochs=4,
    seeds=(0, 1, 2),
    target_macro_f1=0.8,
)
QUICK = Settings(
    n_labelled=150,
    n_pool=400,
    emission_fraction=0.05,
    rounds=2,
    query_size=10,
    epochs=1,
    seeds=(0,),
    target_macro_f1=0.8,
)


@dataclasses.dataclass
class Dataset:
    """Preprocessed spectra of one simulated survey, split for the loop."""

    train_flux: np.ndarray
    train_labels: np.ndarray
    pool_ids: list[str]
    pool_flux: np.ndarray
    test_flux: np.ndarray
    test_labels: np.ndarray


def load_dataset(options: BenchOptions, settings: Settings) -> tuple[Dataset, object]:
    """Simulate (or reuse) the survey, preprocess it and split the pool.

    Returns
    -------
    dataset : Dataset
    oracle : activespec.oracle.SimulatedOracle
    """
    from activespec.constants import DEFAULT_CLASSES
    from activespec.oracle import SimulatedOracle
    from components.spectra_ingest.encoding import split_index

    survey = datasets.simulated_survey(
        options,
        n_labelled=settings.n_labelled,
        n_pool=settings.n_pool,
        seed=SURVEY_SEED,
        emission_fraction=settings.emission_fraction,
    )
    labelled = datasets.cached_spectra(survey, "labelled")
    pool = datasets.cached_spectra(survey, "pool")
    labels = datasets.read_labels(survey / "labelled" / "labels.csv")
    oracle = SimulatedOracle.of_survey(survey, DEFAULT_CLASSES)
    class_index = {name: i for i, name in enumerate(DEFAULT_CLASSES)}

    in_test = np.array([split_index(i, SPLIT_BOUNDS) == 1 for i in pool.ids], dtype=bool)
    test_labels = np.array(
        [class_index[oracle.answer(i)] for i, test in zip(pool.ids, in_test, strict=True) if test],
        dtype=np.int64,
    )
    dataset = Dataset(
        train_flux=labelled.flux,
        train_labels=np.array([labels[i] for i in labelled.ids], dtype=np.int64),
        pool_ids=[i for i, test in zip(pool.ids, in_test, strict=True) if not test],
        pool_flux=pool.flux[~in_test],
        test_flux=pool.flux[in_test],
        test_labels=test_labels,
    )
    return dataset, oracle


def train_model(flux: np.ndarray, labels: np.ndarray, *, seed: int, settings: Settings):
    """A fresh published CNN trained for ``settings.epochs`` with balanced class weights."""
    import tf_keras

    from models.cnn import build_cnn
    from models.trainer_module import balanced_class_weights

    tf_keras.utils.set_random_seed(seed)
    model = build_cnn()
    model.fit(
        flux,
        labels,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        shuffle=True,
        verbose=0,
        class_weight=balanced_class_weights(np.bincount(labels, minlength=3)),
    )
    return model


def macro_f1(model, flux: np.ndarray, labels: np.ndarray) -> float:
    """Macro-F1 of the model's arg-max predictions, as the Evaluator reports it."""
    from activespec.constants import DEFAULT_CLASSES
    from pipeline.evaluation import per_class_metrics

    predicted = model.predict(flux, batch_size=1024, verbose=0).argmax(axis=1)
    n = len(DEFAULT_CLASSES)
    matrix = np.bincount(labels * n + predicted, minlength=n * n).reshape(n, n)
    return per_class_metrics(matrix, list(DEFAULT_CLASSES))[1]


def pool_scores(model, flux: np.ndarray, strategy: str, seed: int) -> dict[str, np.ndarray]:
    """What the PoolScorer writes for ``strategy``: the probabilities, plus ``bald`` or
    ``embedding`` when the strategy needs them (the exported signatures' computation)."""
    from activespec.constants import DEFAULT_MC_PASSES
    from components import score_features as sf
    from components.uncertainty_sampler.strategies import extra_scores_for
    from models import export

    needs = extra_scores_for(strategy)
    if sf.BALD in needs:
        probabilities, _, bald = export.mc_dropout_predict(
            model, flux, passes=DEFAULT_MC_PASSES, seed=seed
        )
        return {"probabilities": probabilities, sf.BALD: bald}
    if sf.EMBEDDING in needs:
        probabilities, embedding = export.embed(model, flux)
        return {"probabilities": probabilities, sf.EMBEDDING: embedding}
    return {"probabilities": model.predict(flux, batch_size=1024, verbose=0)}


def select_queries(
    scores: dict[str, np.ndarray],
    ids: list[str],
    candidates: np.ndarray,
    strategy: str,
    *,
    k: int,
    seed: int,
    round_index: int,
) -> np.ndarray:
    """Indices (into the pool) of the ``k`` spectra the strategy asks the oracle about.

    Parameters
    ----------
    scores : dict of numpy.ndarray
        :func:`pool_scores` of the ``candidates``: ``probabilities`` ``[M, C]`` and, for
        ``bald`` and ``diverse_entropy``, ``bald`` ``[M]`` or ``embedding`` ``[M, D]``.
    ids : list of str
        Spectrum ids of the whole pool.
    candidates : numpy.ndarray of int
        Pool indices not labelled yet.
    strategy : str
        One of :data:`STRATEGIES`.
    """
    from activespec import uncertainty
    from activespec.constants import DEFAULT_DIVERSITY_FACTOR
    from components import score_features as sf
    from components.uncertainty_sampler import strategies
    from components.uncertainty_sampler.records import query_sort_key

    probabilities = scores["probabilities"]
    measures = {
        sf.ENTROPY: uncertainty.entropy(probabilities),
        sf.MARGIN: uncertainty.margin(probabilities),
        sf.LEAST_CONFIDENCE: uncertainty.least_confidence(probabilities),
    }
    records = []
    for row, index in enumerate(candidates):
        record = {sf.SPECTRUM_ID: ids[index], "index": int(index)}
        record.update({name: float(values[row]) for name, values in measures.items()})
        if sf.BALD in scores:
            record[sf.BALD] = float(scores[sf.BALD][row])
        if sf.EMBEDDING in scores:
            record[sf.EMBEDDING] = scores[sf.EMBEDDING][row]
        records.append(record)

    if strategy == strategies.DIVERSE_ENTROPY:
        size = strategies.candidate_pool_size(k, DEFAULT_DIVERSITY_FACTOR)
        uncertain = heapq.nsmallest(size, records, key=strategies.entropy_key)
        chosen = strategies.diverse_selection(uncertain, k, seed, round_index)
        return np.array([record["index"] for record in chosen])
    if strategy == BASELINE:

        def key(record):
            return strategies.random_query_key(record, seed, round_index)
    else:

        def key(record):
            return query_sort_key(record, strategy)

    return np.array([record["index"] for record in heapq.nsmallest(k, records, key=key)])


def run_campaigns(dataset: Dataset, oracle, settings: Settings, seed: int) -> dict[str, dict]:
    """Every strategy's learning curve for one seed (the round-0 model is shared)."""
    from activespec.constants import DEFAULT_CLASSES

    class_index = {name: i for i, name in enumerate(DEFAULT_CLASSES)}
    round_seed = [seed * 1000 + r for r in range(settings.rounds + 1)]
    first = train_model(
        dataset.train_flux, dataset.train_labels, seed=round_seed[0], settings=settings
    )
    first_f1 = macro_f1(first, dataset.test_flux, dataset.test_labels)
    curves = {}
    for strategy in STRATEGIES:
        labelled = np.zeros(len(dataset.pool_ids), dtype=bool)
        queried: list[int] = []
        answers: list[int] = []
        f1_by_round = [first_f1]
        scores = pool_scores(first, dataset.pool_flux, strategy, seed)
        for round_index in range(1, settings.rounds + 1):
            candidates = np.flatnonzero(~labelled)
            chosen = select_queries(
                {name: values[candidates] for name, values in scores.items()},
                dataset.pool_ids,
                candidates,
                strategy,
                k=settings.query_size,
                seed=seed,
                round_index=round_index,
            )
            labelled[chosen] = True
            queried += chosen.tolist()
            answers += [class_index[oracle.answer(dataset.pool_ids[i])] for i in chosen]
            model = train_model(
                np.concatenate([dataset.train_flux, dataset.pool_flux[queried]]),
                np.concatenate([dataset.train_labels, np.array(answers, np.int64)]),
                seed=round_seed[round_index],
                settings=settings,
            )
            f1_by_round.append(macro_f1(model, dataset.test_flux, dataset.test_labels))
            if round_index < settings.rounds:
                scores = pool_scores(model, dataset.pool_flux, strategy, seed)
        curves[strategy] = {
            "labels": [r * settings.query_size for r in range(settings.rounds + 1)],
            "macro_f1": [round(value, 4) for value in f1_by_round],
            "positives_found": int(np.sum(np.array(answers) > 0)),
        }
        print(f"    seed {seed} {strategy:<17} macro-F1 {curves[strategy]['macro_f1']}", flush=True)
    return curves


def labels_to_reach(curve: dict, target: float) -> int | None:
    """Labels of the first round whose macro-F1 reaches ``target`` (None: never)."""
    for labels, value in zip(curve["labels"], curve["macro_f1"], strict=True):
        if value >= target:
            return labels
    return None


def plot_curves(runs: dict[int, dict], settings: Settings, path: Path) -> None:
    """Macro-F1 against LAMOST labels, mean line and min-max band over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for strategy in STRATEGIES:
        values = np.array([runs[seed][strategy]["macro_f1"] for seed in runs])
        labels = runs[next(iter(runs))][strategy]["labels"]
        style = "--" if strategy == BASELINE else "-"
        (line,) = ax.plot(labels, values.mean(axis=0), style, marker="o", label=strategy)
        ax.fill_between(
            labels, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.15
        )
    ax.axhline(settings.target_macro_f1, color="grey", lw=0.8, ls=":", label="target")
    ax.set_xlabel("LAMOST labels queried (oracle answers)")
    ax.set_ylabel("macro-F1 on held-out LAMOST test split")
    ax.set_title(
        f"Query strategies vs random: {len(runs)} seed(s), k={settings.query_size}/round, "
        f"{settings.epochs} epochs\nline: mean, band: min-max over seeds",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(options: BenchOptions) -> dict:
    """Run the campaigns, print, plot and record the labels needed; returns the record."""
    settings = QUICK if options.quick else FULL
    with Stopwatch() as prep:
        dataset, oracle = load_dataset(options, settings)
    report = Report(
        NAME,
        options,
        {
            **dataclasses.asdict(settings),
            "labelled_spectra": len(dataset.train_labels),
            "query_pool": len(dataset.pool_ids),
            "test_split": len(dataset.test_labels),
            "test_class_counts": np.bincount(dataset.test_labels, minlength=3).tolist(),
        },
    )
    report.figure("data_preparation_s", prep.seconds, "simulate + preprocess (cached later)", "s")
    runs: dict[int, dict] = {}
    with Stopwatch() as loop:
        for seed in settings.seeds:
            runs[seed] = run_campaigns(dataset, oracle, settings, seed)
    report.figure("campaigns_s", loop.seconds, "all campaigns", "s")

    target = settings.target_macro_f1
    max_labels = settings.rounds * settings.query_size
    needed: dict[str, list[int | None]] = {}
    for strategy in STRATEGIES:
        needed[strategy] = [labels_to_reach(runs[s][strategy], target) for s in runs]
        reached = [n for n in needed[strategy] if n is not None]
        mean_f1 = [float(np.mean(runs[s][strategy]["macro_f1"])) for s in runs]
        final_f1 = [runs[s][strategy]["macro_f1"][-1] for s in runs]
        found = [runs[s][strategy]["positives_found"] for s in runs]
        summary = {
            "labels_needed": needed[strategy],
            "reached": f"{len(reached)}/{len(runs)}",
            "labels_needed_mean": float(np.mean(reached)) if reached else None,
            "labels_needed_std": float(np.std(reached)) if reached else None,
            "mean_macro_f1": round(float(np.mean(mean_f1)), 4),
            "mean_macro_f1_std": round(float(np.std(mean_f1)), 4),
            "final_macro_f1": round(float(np.mean(final_f1)), 4),
            "final_macro_f1_std": round(float(np.std(final_f1)), 4),
            "positives_found_mean": float(np.mean(found)),
        }
        report.figures[strategy] = summary
        shown = ", ".join("-" if n is None else str(n) for n in needed[strategy])
        mean_text = (
            f"{summary['labels_needed_mean']:.0f} ± {summary['labels_needed_std']:.0f}"
            f" ({summary['reached']} reached)"
            if reached
            else f"not reached (> {max_labels})"
        )
        print(
            f"  {strategy:<17} labels to macro-F1 {target}: {mean_text:<30} per seed [{shown}]"
            f"  mean F1 {summary['mean_macro_f1']:.3f} ± {summary['mean_macro_f1_std']:.3f}"
            f"  final {summary['final_macro_f1']:.3f}  emission-line found "
            f"{summary['positives_found_mean']:.0f}",
            flush=True,
        )
    report.figures["curves"] = {str(seed): runs[seed] for seed in runs}

    def censored_mean(strategy: str) -> float:
        # A run that never reaches the target counts as one more round than was run.
        return float(
            np.mean(
                [max_labels + settings.query_size if n is None else n for n in needed[strategy]]
            )
        )

    for strategy in STRATEGIES:
        if strategy == BASELINE:
            continue
        report.ratio(
            f"{strategy}_labels_vs_random",
            censored_mean(strategy),
            censored_mean(BASELINE),
            f"labels needed, {strategy} / random",
        )
        report.ratio(
            f"{strategy}_mean_f1_vs_random",
            report.figures[strategy]["mean_macro_f1"],
            report.figures[BASELINE]["mean_macro_f1"],
            f"mean macro-F1, {strategy} / random",
        )
    if any(n is None for values in needed.values() for n in values):
        report.note(
            f"runs that never reached {target} count as {max_labels + settings.query_size} "
            "labels in the ratios"
        )
    report.plot(lambda path: plot_curves(runs, settings, path))
    return report.save()


def main(argv: list[str] | None = None) -> int:
    return benchmark_main(NAME, __doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
