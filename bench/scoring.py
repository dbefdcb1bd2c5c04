"""Scoring throughput: the PoolScorer executor against Keras ``predict`` of the same model.

Subject
    ``components.pool_scorer.executor.Executor.Do`` on a pool split of gzipped
    ``tf.Example`` TFRecords (read, decode, ``predict_flux`` signature, uncertainty
    measures, encode, write), DirectRunner ``in_memory`` and ``multi_processing`` with 2
    workers, batch 1,024.
Baseline, measured in the same run
    ``model.predict(flux, batch_size=1024)`` of the same Keras model on the same spectra
    held in memory as one float32 array: the model's cost alone. The exported
    ``predict_flux`` signature on that array (``models.serving``) is shown in between.

The model is the published CNN (``models.cnn.build_cnn`` defaults, 2.48 M parameters),
exported with ``models.export``; its weights are not trained because throughput does not
depend on them. The pool repeats preprocessed simulated LAMOST spectra (see
``bench.datasets.synthetic_pool``). A start-up run on a small pool gives the executor's
marginal rate (used by ``bench.projection``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from bench import datasets
from bench.harness import BenchOptions, Report, Stopwatch, benchmark_main, marginal_rate

NAME = "scoring"
FULL_SPECTRA = 30_000
QUICK_SPECTRA = 2_000
STARTUP_SPECTRA = 1_024
BATCH_SIZE = 1_024
FULL_SURVEY_FILES = 4_000
QUICK_SURVEY_FILES = 300
SURVEY_SEED = 20160


def pool_base(options: BenchOptions) -> datasets.EncodedSpectra:
    """Preprocessed simulated pool spectra shared by the scoring and memory benchmarks."""
    n_files = QUICK_SURVEY_FILES if options.quick else FULL_SURVEY_FILES
    survey = datasets.simulated_survey(options, n_labelled=0, n_pool=n_files, seed=SURVEY_SEED)
    return datasets.cached_spectra(survey, "pool")


def run_scorer(examples, model_artifact, scores_uri: Path, mode: str, workers: int) -> int:
    """``PoolScorer`` executor on the ``pool`` split; returns the number of spectra scored."""
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

    from activespec.constants import DEFAULT_CLASSES
    from components.artifact_types import PoolScores
    from components.pool_scorer import executor as scorer
    from components.pool_scorer import spec
    from pipeline.beam_runners import direct_args

    scores = PoolScores()
    scores.uri = str(scores_uri)
    context = BaseBeamExecutor.Context(
        beam_pipeline_args=["--runner=DirectRunner", *direct_args(mode, workers)],
        tmp_dir=str(Path(scores_uri).parent / f"{Path(scores_uri).name}-tmp"),
    )
    scorer.Executor(context).Do(
        {spec.EXAMPLES_KEY: [examples], spec.MODEL_KEY: [model_artifact]},
        {spec.SCORES_KEY: [scores]},
        {
            spec.CLASS_NAMES_KEY: json.dumps(list(DEFAULT_CLASSES)),
            spec.SPLIT_KEY: "pool",
            spec.BATCH_SIZE_KEY: BATCH_SIZE,
        },
    )
    return scores.get_int_custom_property(spec.NUM_SCORED_PROPERTY)


def _read_flux(examples) -> np.ndarray:
    """The flux of every record of the ``pool`` split as one array."""
    import tensorflow as tf
    from tfx.types import artifact_utils

    from activespec.constants import GRID_POINTS
    from models import features

    split_dir = artifact_utils.get_split_uri([examples], "pool")
    files = sorted(tf.io.gfile.glob(f"{split_dir}/*.gz"))
    spec = {features.FLUX: tf.io.FixedLenFeature([GRID_POINTS], tf.float32)}
    dataset = (
        tf.data.TFRecordDataset(files, compression_type="GZIP")
        .batch(4096)
        .map(lambda batch: tf.io.parse_example(batch, spec)[features.FLUX])
    )
    return np.concatenate([chunk.numpy() for chunk in dataset])


def run(options: BenchOptions) -> dict:
    """Measure, print and record scoring throughput; returns the record."""
    import shutil

    from models import serving

    n_spectra = QUICK_SPECTRA if options.quick else FULL_SPECTRA
    base = pool_base(options)
    examples = datasets.pool_examples_artifact(options, base, n_spectra)
    startup_examples = datasets.pool_examples_artifact(options, base, STARTUP_SPECTRA)
    model, model_artifact = datasets.exported_published_model(options)
    scratch = options.scratch("runs", NAME)
    shutil.rmtree(scratch, ignore_errors=True)

    report = Report(
        NAME,
        options,
        {
            "spectra": n_spectra,
            "distinct_simulated_spectra": len(base),
            "startup_spectra": STARTUP_SPECTRA,
            "batch_size": BATCH_SIZE,
            "model_parameters": int(model.count_params()),
        },
    )
    flux = _read_flux(examples)
    model.predict(flux[:BATCH_SIZE], batch_size=BATCH_SIZE, verbose=0)  # build the predict fn
    with Stopwatch() as clock:
        model.predict(flux, batch_size=BATCH_SIZE, verbose=0)
    keras_rate = len(flux) / clock.seconds
    report.figure(
        "keras_predict_spectra_per_s", keras_rate, "Keras predict, in memory (baseline)", "sp/s"
    )

    exported = serving.load_model_dir(model_artifact.uri)
    exported.predict_flux(flux[:BATCH_SIZE], batch_size=BATCH_SIZE)
    with Stopwatch() as clock:
        exported.predict_flux(flux, batch_size=BATCH_SIZE)
    signature_rate = len(flux) / clock.seconds
    report.figure(
        "predict_flux_spectra_per_s", signature_rate, "predict_flux signature, in memory", "sp/s"
    )

    # One untimed run pays this process's one-time imports of Beam and TFX.
    run_scorer(startup_examples, model_artifact, scratch / "warm-up", "in_memory", 1)
    rates: dict[str, float | None] = {}
    for mode, workers in (("in_memory", 1), ("multi_processing", 2)):
        label = f"{mode}{workers}" if mode == "multi_processing" else mode
        with Stopwatch() as clock:
            scored = run_scorer(examples, model_artifact, scratch / label, mode, workers)
        if scored != n_spectra:
            raise RuntimeError(f"executor ({label}) scored {scored} of {n_spectra} spectra")
        with Stopwatch() as startup:
            run_scorer(
                startup_examples, model_artifact, scratch / f"startup-{label}", mode, workers
            )
        rate = n_spectra / clock.seconds
        marginal = marginal_rate(n_spectra, clock.seconds, STARTUP_SPECTRA, startup.seconds)
        rates[label], rates[f"{label}_marginal"] = rate, marginal
        report.figure(
            f"executor_{label}_spectra_per_s", rate, f"PoolScorer executor {label}", "sp/s"
        )
        report.figure(f"executor_{label}_seconds", clock.seconds, "  wall time", "s")
        report.figure(
            f"executor_{label}_startup_s",
            startup.seconds,
            f"  start-up run ({STARTUP_SPECTRA:,} spectra)",
            "s",
        )
        report.figure(
            f"executor_{label}_marginal_spectra_per_s",
            marginal,
            "  marginal rate (start-up run subtracted)",
            "sp/s",
        )

    report.ratio(
        "predict_flux_vs_keras", signature_rate, keras_rate, "predict_flux / Keras predict"
    )
    for label in ("in_memory", "multi_processing2"):
        report.ratio(
            f"executor_{label}_vs_keras", rates[label], keras_rate, f"executor {label} / Keras"
        )
        report.ratio(
            f"executor_{label}_marginal_vs_keras",
            rates[f"{label}_marginal"],
            keras_rate,
            f"executor {label} marginal / Keras",
        )
    record = report.save()
    shutil.rmtree(scratch, ignore_errors=True)
    return record


def main(argv: list[str] | None = None) -> int:
    return benchmark_main(NAME, __doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    sys.exit(main())
