"""Projected time for the published 4.1 M-spectrum LAMOST DR2 pool on this machine.

Takes the ingestion and scoring rates measured by ``bench.ingestion`` and
``bench.scoring`` (their latest records; in a suite run, the records that run has just
written) and projects:

* ingestion of the 4,136,482 pool spectra, once per campaign (TFX caches it);
* scoring of the whole pool, every round;
* scoring over the published production campaign of 17 rounds.

Baseline: the published figure of 94 s to score the pool on a GeForce GTX 980 (Škoda,
Podsztavek & Tvrdík 2020). The ratio is CPU time / GPU time. Start-up costs (measured by
the start-up runs) are added once to the marginal rates.
"""

from __future__ import annotations

import sys

from bench.harness import BenchOptions, Report, benchmark_main, latest_record

NAME = "projection"
PUBLISHED_POOL = 4_136_482
PUBLISHED_GPU_SCORING_S = 94.0
PUBLISHED_ROUNDS = 17


def _source(options: BenchOptions, name: str) -> dict:
    """The latest record of ``name`` of the same kind (full or quick); measured if none."""
    record = latest_record(options.results_dir, name, quick=options.quick)
    if record is not None:
        return record
    if name == "ingestion":
        from bench import ingestion as module
    else:
        from bench import scoring as module
    return module.run(options)


def _seconds(n: int, rate: float, startup_s: float = 0.0) -> float:
    return startup_s + n / rate


def _executor_seconds(figures: dict, label: str) -> float:
    """Start-up plus the marginal rate; the end-to-end rate when no marginal rate was
    measurable (then the start-up is already inside it)."""
    marginal = figures.get(f"executor_{label}_marginal_spectra_per_s")
    if marginal:
        return _seconds(PUBLISHED_POOL, marginal, figures[f"executor_{label}_startup_s"])
    return _seconds(PUBLISHED_POOL, figures[f"executor_{label}_spectra_per_s"])


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h"


def run(options: BenchOptions) -> dict:
    """Project, print and record the time for the published pool; returns the record."""
    ingestion = _source(options, "ingestion")
    scoring = _source(options, "scoring")
    ingest_fig, score_fig = ingestion["figures"], scoring["figures"]
    report = Report(
        NAME,
        options,
        {
            "pool_spectra": PUBLISHED_POOL,
            "rounds": PUBLISHED_ROUNDS,
            "ingestion_record_date": ingestion["date"],
            "ingestion_record_files": ingestion["sizes"].get("files"),
            "scoring_record_date": scoring["date"],
            "scoring_record_spectra": scoring["sizes"].get("spectra"),
        },
    )
    report.note(
        f"rates from ingestion run of {ingestion['date']} (load {ingestion['load_average_start']})"
        f" and scoring run of {scoring['date']} (load {scoring['load_average_start']})"
    )

    ingest = {
        "executor_mp2": _executor_seconds(ingest_fig, "multi_processing2"),
        "loop_nproc": _seconds(PUBLISHED_POOL, ingest_fig["loop_nproc_spectra_per_s"]),
        "loop_1proc": _seconds(PUBLISHED_POOL, ingest_fig["loop_1proc_spectra_per_s"]),
    }
    for key, label in (
        ("executor_mp2", "ingestion, SpectraIngest mp2 (once)"),
        ("loop_nproc", "ingestion, bare loop in 2 processes"),
        ("loop_1proc", "ingestion, bare loop in 1 process"),
    ):
        report.figure(f"ingestion_{key}_hours", round(ingest[key] / 3600, 2), label, "h")

    score = {
        "executor_in_memory": _executor_seconds(score_fig, "in_memory"),
        "executor_mp2": _executor_seconds(score_fig, "multi_processing2"),
        "keras_predict": _seconds(PUBLISHED_POOL, score_fig["keras_predict_spectra_per_s"]),
    }
    best = min(("executor_in_memory", "executor_mp2"), key=score.get)
    for key, label in (
        ("executor_in_memory", "scoring per round, PoolScorer in_memory"),
        ("executor_mp2", "scoring per round, PoolScorer mp2"),
        ("keras_predict", "scoring per round, Keras predict in memory"),
    ):
        report.figure(f"scoring_{key}_s", round(score[key], 1), label, "s")
    report.figure("published_gpu_scoring_s", PUBLISHED_GPU_SCORING_S, "published: GTX 980", "s")
    report.figure(
        "campaign_scoring_hours",
        round(PUBLISHED_ROUNDS * score[best] / 3600, 2),
        f"scoring over {PUBLISHED_ROUNDS} rounds ({best})",
        "h",
    )
    report.figure(
        "campaign_total_hours",
        round((ingest["executor_mp2"] + PUBLISHED_ROUNDS * score[best]) / 3600, 2),
        f"ingestion once + scoring {PUBLISHED_ROUNDS} rounds",
        "h",
    )
    report.ratio("scoring_best_vs_gpu", score[best], PUBLISHED_GPU_SCORING_S, f"{best} / GTX 980")
    report.ratio(
        "keras_predict_vs_gpu",
        score["keras_predict"],
        PUBLISHED_GPU_SCORING_S,
        "Keras predict / GTX 980",
    )
    print(
        f"  => one round's scoring here: {_hours(score[best])}; "
        f"ingestion once: {_hours(ingest['executor_mp2'])}",
        flush=True,
    )
    return report.save()


def main(argv: list[str] | None = None) -> int:
    return benchmark_main(NAME, __doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
