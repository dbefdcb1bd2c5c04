"""Does the keras-tuner search beat the published hyperparameters? Macro-F1 on a held-out split.

Simulates a labelled Ondřejov set with :func:`activespec.simulator.simulate_survey`, reads and
preprocesses every file as ingestion does (:func:`activespec.io.read_spectrum`, then
:func:`activespec.preprocessing.preprocess` with ``degrade=True``), splits the vectors into
train / eval / test, and then runs the real TFX executors:

1. the Trainer (``models.trainer_module.run_fn``) with the published model configuration;
2. the Tuner (``models.tuner_module.tuner_fn``) with the default search space, then the
   Trainer again with the best hyperparameters it wrote.

Both final models train with the same settings (max. 100 epochs, early stopping on the eval
loss), ``--repeats`` times with different seeds, and are scored on the test split, which
neither the search nor early stopping ever saw. Prints both macro-F1s and their ratio, and
writes ``result.json`` to the work directory.

Run from the repository root::

    TF_USE_LEGACY_KERAS=1 .venv/bin/python -m bench.tuner_vs_default --work /tmp/tuner_bench
"""

import os

# TFX's Trainer and the model code use Keras 2 (tf_keras): set before TensorFlow loads.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
from tfx.components.trainer import executor as trainer_executor  # noqa: E402
from tfx.components.tuner import executor as tuner_executor  # noqa: E402
from tfx.components.util import examples_utils  # noqa: E402
from tfx.dsl.components.base import base_executor  # noqa: E402
from tfx.proto import example_gen_pb2, trainer_pb2  # noqa: E402
from tfx.types import artifact_utils, standard_artifacts  # noqa: E402
from tfx.utils import proto_utils  # noqa: E402

from activespec import errors  # noqa: E402
from activespec.constants import DEFAULT_CLASSES  # noqa: E402
from activespec.io import read_spectrum  # noqa: E402
from activespec.preprocessing import preprocess  # noqa: E402
from activespec.simulator import simulate_survey  # noqa: E402
from models import features, serving, tuning  # noqa: E402

SPLIT_FRACTIONS = {"train": 0.6, "eval": 0.2, "test": 0.2}


def simulate_vectors(
    out_dir: pathlib.Path, n_labelled: int, seed: int, label_noise: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Preprocessed flux vectors and label indices of a simulated labelled set.

    Returns the vectors ``[N, 140]``, the labels (as written in ``labels.csv``) and the
    number of files ingestion would have rejected.
    """
    simulate_survey(
        out_dir,
        n_labelled=n_labelled,
        n_pool=0,
        seed=seed,
        label_noise=label_noise,
        progress=False,
    )
    index = {name: i for i, name in enumerate(DEFAULT_CLASSES)}
    vectors, labels, rejected = [], [], 0
    with open(out_dir / "labelled" / "labels.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                spectrum = read_spectrum(out_dir / "labelled" / row["file"])
                vectors.append(preprocess(spectrum, degrade=True))
            except (errors.SpectrumReadError, errors.RejectedSpectrum):
                rejected += 1
                continue
            labels.append(index[row["label"]])
    return np.stack(vectors).astype(np.float32), np.asarray(labels, np.int64), rejected


def split(n: int, seed: int) -> dict[str, np.ndarray]:
    """Random train / eval / test indices in the proportions of :data:`SPLIT_FRACTIONS`."""
    order = np.random.default_rng(seed).permutation(n)
    n_train = int(round(SPLIT_FRACTIONS["train"] * n))
    n_eval = int(round(SPLIT_FRACTIONS["eval"] * n))
    return {
        "train": order[:n_train],
        "eval": order[n_train : n_train + n_eval],
        "test": order[n_train + n_eval :],
    }


def write_examples(root: pathlib.Path, splits: dict[str, tuple[np.ndarray, np.ndarray]]):
    """An Examples artifact laid out as ExampleGen writes it (``Split-<name>/*.gz``)."""
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = artifact_utils.encode_split_names(list(splits))
    examples_utils.set_payload_format(artifact, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
    for name, (flux, labels) in splits.items():
        (root / f"Split-{name}").mkdir(parents=True, exist_ok=True)
        path = root / f"Split-{name}" / "data_tfrecord-00000-of-00001.gz"
        with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
            for vector, label in zip(flux, labels, strict=True):
                example = tf.train.Example(
                    features=tf.train.Features(
                        feature={
                            features.FLUX: tf.train.Feature(
                                float_list=tf.train.FloatList(value=vector)
                            ),
                            features.LABEL: tf.train.Feature(
                                int64_list=tf.train.Int64List(value=[int(label)])
                            ),
                        }
                    )
                )
                writer.write(example.SerializeToString())
    return artifact


def _split_args() -> dict:
    return {
        "train_args": proto_utils.proto_to_json(trainer_pb2.TrainArgs(splits=["train"])),
        "eval_args": proto_utils.proto_to_json(trainer_pb2.EvalArgs(splits=["eval"])),
    }


def _trainer_config() -> dict:
    # The published model and training settings; one device so runs are comparable.
    return {"class_names": list(DEFAULT_CLASSES), "distribution": {"kind": "default"}}


def run_tuner(examples, root: pathlib.Path, tuning_config: tuning.TuningConfig):
    """Run the TFX Tuner executor; returns the best-hyperparameters artifact and the trials."""
    best = standard_artifacts.HyperParameters()
    best.uri = str(root / "best_hyperparameters")
    results = standard_artifacts.TunerResults()
    results.uri = str(root / "tuner_results")
    context = base_executor.BaseExecutor.Context(tmp_dir=str(root / "tmp"), unique_id="tuner")
    tuner_executor.Executor(context).Do(
        {"examples": [examples]},
        {"best_hyperparameters": [best], "tuner_results": [results]},
        {
            **_split_args(),
            "custom_config": json.dumps({**_trainer_config(), "tuning": tuning_config.to_dict()}),
            "tuner_fn": "models.tuner_module.tuner_fn",
        },
    )
    trials = json.loads((pathlib.Path(results.uri) / "tuner_results.json").read_text())
    return best, trials


def run_trainer(examples, root: pathlib.Path, seed: int, hyperparameters=None) -> str:
    """Run the TFX Trainer executor; returns the serving model directory."""
    tf_keras.utils.set_random_seed(seed)
    model = standard_artifacts.Model()
    model.uri = str(root / "model")
    model_run = standard_artifacts.ModelRun()
    model_run.uri = str(root / "model_run")
    inputs = {"examples": [examples]}
    if hyperparameters is not None:
        inputs["hyperparameters"] = [hyperparameters]
    trainer_executor.GenericExecutor().Do(
        inputs,
        {"model": [model], "model_run": [model_run]},
        {
            **_split_args(),
            "custom_config": json.dumps(_trainer_config()),
            "run_fn": "models.trainer_module.run_fn",
        },
    )
    return str(root / "model" / "Format-Serving")


def held_out_macro_f1(model_dir: str, flux: np.ndarray, labels: np.ndarray) -> float:
    model = serving.load_model_dir(model_dir)
    predicted = model.predict_flux(flux).argmax(axis=1)
    return tuning.macro_f1(labels, predicted, len(DEFAULT_CLASSES))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="tuner_bench", help="work directory (replaced)")
    parser.add_argument("--n-labelled", type=int, default=1500)
    parser.add_argument("--label-noise", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="final trainings per model")
    parser.add_argument("--algorithm", default="random", choices=tuning.ALGORITHMS)
    parser.add_argument("--max-trials", type=int, default=tuning.TuningConfig.max_trials)
    parser.add_argument(
        "--epochs-per-trial", type=int, default=tuning.TuningConfig.epochs_per_trial
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    tf.get_logger().setLevel(logging.ERROR)

    work = pathlib.Path(args.work).resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    started = time.perf_counter()
    flux, labels, rejected = simulate_vectors(
        work / "survey", args.n_labelled, args.seed, args.label_noise
    )
    indices = split(len(labels), args.seed)
    test_flux, test_labels = flux[indices["test"]], labels[indices["test"]]
    examples = write_examples(
        work / "examples",
        {name: (flux[indices[name]], labels[indices[name]]) for name in ("train", "eval")},
    )
    print(
        f"{len(labels)} spectra ({rejected} rejected), per class {np.bincount(labels).tolist()}; "
        f"train {len(indices['train'])}, eval {len(indices['eval'])}, test {len(test_labels)} "
        f"[{time.perf_counter() - started:.0f} s]",
        flush=True,
    )

    started = time.perf_counter()
    tuning_config = tuning.TuningConfig(
        enabled=True,
        algorithm=args.algorithm,
        max_trials=args.max_trials,
        epochs_per_trial=args.epochs_per_trial,
        seed=args.seed,
    )
    best, trials = run_tuner(examples, work / "tuner", tuning_config)
    best_values = tuning.searched_values(
        json.loads((pathlib.Path(best.uri) / "best_hyperparameters.txt").read_text())
    )
    tuning_seconds = time.perf_counter() - started
    print(f"search: {len(trials)} trials in {tuning_seconds:.0f} s; best {best_values}", flush=True)

    scores: dict[str, list[float]] = {"default": [], "tuned": []}
    for repeat in range(args.repeats):
        seed = args.seed + repeat
        for name, hyperparameters in (("default", None), ("tuned", best)):
            model_dir = run_trainer(
                examples, work / f"{name}-{repeat}", seed, hyperparameters=hyperparameters
            )
            scores[name].append(held_out_macro_f1(model_dir, test_flux, test_labels))
            print(f"{name} (seed {seed}): test macro-F1 {scores[name][-1]:.4f}", flush=True)

    default, tuned = np.mean(scores["default"]), np.mean(scores["tuned"])
    result = {
        "command": " ".join([sys.executable, "-m", "bench.tuner_vs_default", *sys.argv[1:]]),
        "n_spectra": int(len(labels)),
        "n_test": int(len(test_labels)),
        "tuning": tuning_config.to_dict(),
        "tuning_seconds": tuning_seconds,
        "trials": trials,
        "best_hyperparameters": best_values,
        "default_macro_f1": scores["default"],
        "tuned_macro_f1": scores["tuned"],
        "default_mean": float(default),
        "tuned_mean": float(tuned),
        "ratio_tuned_over_default": float(tuned / default),
    }
    (work / "result.json").write_text(json.dumps(result, indent=2))
    print(
        f"default macro-F1 {default:.4f} +- {np.std(scores['default']):.4f}\n"
        f"tuned   macro-F1 {tuned:.4f} +- {np.std(scores['tuned']):.4f}\n"
        f"ratio tuned / default {tuned / default:.4f}  (over {args.repeats} seed(s), "
        f"{len(test_labels)} test spectra)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
