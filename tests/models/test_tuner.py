"""The hyperparameter search: its configuration, the real TFX Tuner executor running
``models.tuner_module.tuner_fn`` on simulated spectra, and the Trainer consuming its result."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras
from tfx.components.trainer import executor as trainer_executor
from tfx.components.tuner import executor as tuner_executor
from tfx.dsl.components.base import base_executor
from tfx.proto import trainer_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from activespec import errors
from activespec.constants import DEFAULT_CLASSES
from models import trainer_module, tuner_module, tuning
from models.config import ModelConfig
from tests.models import simulated, trainer_harness

# A small search space on small networks, so that the whole search takes seconds.
FILTER_CHOICES = [[8, 16, 32], [16, 32, 64]]
DENSE_CHOICES = [16, 48]
DROPOUT_RANGE = [0.2, 0.6]
LEARNING_RATE_RANGE = [3e-4, 3e-3]
# The configured model lies outside the space, so a tuned model is recognisably different.
BASE_MODEL = {
    "filters": [4, 8, 16],
    "dense_units": [24, 24],
    "dropout": 0.1,
    "learning_rate": 1e-2,
    "max_epochs": 3,
    "patience": 2,
}
MAX_TRIALS = 3


def _tuning(**overrides) -> dict:
    values = {
        "enabled": True,
        "algorithm": "random",
        "max_trials": MAX_TRIALS,
        "epochs_per_trial": 2,
        "filters": FILTER_CHOICES,
        "dense_units": DENSE_CHOICES,
        "dropout": DROPOUT_RANGE,
        "learning_rate": LEARNING_RATE_RANGE,
        "objective": "val_loss",
        "seed": 3,
    }
    return {**values, **overrides}


def _custom_config(**tuning_overrides) -> dict:
    return {
        "class_names": list(DEFAULT_CLASSES),
        "model": BASE_MODEL,
        "distribution": {"kind": "default"},
        "tuning": _tuning(**tuning_overrides),
    }


def _args_json() -> dict:
    return {
        "train_args": proto_utils.proto_to_json(trainer_pb2.TrainArgs(splits=["train"])),
        "eval_args": proto_utils.proto_to_json(trainer_pb2.EvalArgs(splits=["eval"])),
    }


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """Examples and schema, and the Tuner executor's outputs on them."""
    root = str(tmp_path_factory.mktemp("tuner"))
    examples, schema, *_ = trainer_harness.write_labelled_inputs(
        root, n_train=300, n_eval=120, seed=5
    )
    best = standard_artifacts.HyperParameters()
    best.uri = os.path.join(root, "best_hyperparameters")
    results = standard_artifacts.TunerResults()
    results.uri = os.path.join(root, "tuner_results")
    context = base_executor.BaseExecutor.Context(
        tmp_dir=os.path.join(root, "tmp"), unique_id="tuner"
    )
    tuner_executor.Executor(context).Do(
        {"examples": [examples], "schema": [schema]},
        {"best_hyperparameters": [best], "tuner_results": [results]},
        {
            **_args_json(),
            "custom_config": json.dumps(_custom_config()),
            "tuner_fn": "models.tuner_module.tuner_fn",
        },
    )
    with open(os.path.join(best.uri, "best_hyperparameters.txt")) as handle:
        best_config = json.load(handle)
    with open(os.path.join(results.uri, "tuner_results.json")) as handle:
        trials = json.load(handle)
    return {
        "root": root,
        "examples": examples,
        "schema": schema,
        "best": best,
        "best_config": best_config,
        "trials": trials,
    }


def test_best_hyperparameters_are_written_and_lie_in_the_space(searched):
    values = searched["best_config"]["values"]
    assert set(values) == {"filters", "dense_units", "dropout", "learning_rate"}
    assert [int(v) for v in values["filters"].split(",")] in FILTER_CHOICES
    assert values["dense_units"] in DENSE_CHOICES
    assert DROPOUT_RANGE[0] <= values["dropout"] <= DROPOUT_RANGE[1]
    assert LEARNING_RATE_RANGE[0] <= values["learning_rate"] <= LEARNING_RATE_RANGE[1]
    # The space the Tuner declared is recorded alongside (keras-tuner's config format).
    names = {entry["config"]["name"] for entry in searched["best_config"]["space"]}
    assert names == set(values)


def test_every_trial_completed_and_the_best_has_the_lowest_loss(searched):
    trials = searched["trials"]
    assert len(trials) == MAX_TRIALS  # only completed trials are listed
    scores = [trial["score"] for trial in trials]
    assert all(np.isfinite(scores)) and scores == sorted(scores)  # val_loss: ascending
    # Distinct combinations were tried, and the first-ranked one is the one written out.
    assert len({(t["filters"], t["dense_units"], t["dropout"]) for t in trials}) == MAX_TRIALS
    best_values = searched["best_config"]["values"]
    assert {key: trials[0][key] for key in best_values} == best_values


def test_the_trainer_trains_the_architecture_the_tuner_chose(searched, tmp_path):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    model_run = standard_artifacts.ModelRun()
    model_run.uri = str(tmp_path / "model_run")
    trainer_config = {key: v for key, v in _custom_config().items() if key != "tuning"}
    trainer_executor.GenericExecutor().Do(
        {
            "examples": [searched["examples"]],
            "schema": [searched["schema"]],
            "hyperparameters": [searched["best"]],
        },
        {"model": [model], "model_run": [model_run]},
        {
            **_args_json(),
            "custom_config": json.dumps(trainer_config),
            "run_fn": "models.trainer_module.run_fn",
        },
    )
    values = searched["best_config"]["values"]
    filters = [int(v) for v in values["filters"].split(",")]
    with open(os.path.join(model_run.uri, trainer_module.SUMMARY_FILE)) as handle:
        summary = json.load(handle)
    assert summary["tuned_hyperparameters"] == values
    assert summary["model_config"]["filters"] == filters
    assert summary["model_config"]["dense_units"] == [values["dense_units"]] * 2
    assert summary["model_config"]["dropout"] == pytest.approx(values["dropout"])
    assert summary["model_config"]["learning_rate"] == pytest.approx(values["learning_rate"])
    assert summary["model_config"]["max_epochs"] == BASE_MODEL["max_epochs"]  # not tuned

    # The exported network itself has the chosen layers.
    exported = tf_keras.models.load_model(os.path.join(model.uri, "Format-Serving"))
    conv_filters = [
        exported.get_layer(f"block{block}_conv1").filters for block in range(1, len(filters) + 1)
    ]
    assert conv_filters == filters
    assert [exported.get_layer(f"dense{i}").units for i in (1, 2)] == [values["dense_units"]] * 2
    assert exported.get_layer("dropout1").rate == pytest.approx(values["dropout"])


# Hyperband with 3 epochs (factor 3): three 1-epoch trials, then the best one resumed to 3.
@pytest.mark.parametrize(("algorithm", "max_trials"), [("bayesian", 3), ("hyperband", 4)])
def test_other_algorithms_search_with_tf_keras_models(algorithm, max_trials, tmp_path):
    """Bayesian optimisation and Hyperband (whose later rounds resume earlier trials'
    weights) on in-memory data, through the same tuner class."""
    rng = np.random.default_rng(2)
    flux, labels = simulated.simulate_labelled(192, rng)
    train = tf.data.Dataset.from_tensor_slices(({"flux": flux[:128]}, labels[:128])).batch(64)
    evaluation = tf.data.Dataset.from_tensor_slices(({"flux": flux[128:]}, labels[128:])).batch(64)
    config = tuning.TuningConfig.from_dict(
        _tuning(
            algorithm=algorithm,
            epochs_per_trial=3,
            max_trials=max_trials,
            objective="val_macro_f1",
        )
    )
    base = ModelConfig.from_dict(BASE_MODEL)
    tuner = tuner_module.CnnTuner(
        tuner_module.make_oracle(config, max_epochs=3),
        tuner_module.CnnHyperModel(config, base, n_classes=3),
        directory=str(tmp_path),
        seed=config.seed,
    )
    tuner.search(train_dataset=train, eval_dataset=evaluation, epochs=3)

    completed = tuner.oracle.get_best_trials(config.max_trials)
    assert len(completed) == config.max_trials
    assert all(trial.status == "COMPLETED" for trial in completed)
    assert tuner.oracle.objective.direction == "max"
    for trial in completed:
        assert 0.0 <= trial.metrics.get_best_value("val_macro_f1") <= 1.0
    best = tuner.get_best_models(1)[0]
    assert isinstance(best, tf_keras.Model)
    best_values = tuner.get_best_hyperparameters(1)[0].values
    assert best.get_layer("dense1").units == best_values["dense_units"]
    if algorithm == "hyperband":
        resumed = [t for t in completed if t.hyperparameters.values.get("tuner/trial_id")]
        assert resumed, "no Hyperband round continued an earlier trial"


def test_a_search_without_a_completed_trial_is_an_error(tmp_path):
    empty = tf.data.Dataset.from_tensor_slices(
        ({"flux": np.zeros((0, 140), np.float32)}, np.zeros(0, np.int64))
    ).batch(8)
    config = tuning.TuningConfig.from_dict(_tuning(max_trials=2, epochs_per_trial=1))
    tuner = tuner_module.CnnTuner(
        tuner_module.make_oracle(config, max_epochs=1),
        tuner_module.CnnHyperModel(config, ModelConfig.from_dict(BASE_MODEL), n_classes=3),
        directory=str(tmp_path),
    )
    with pytest.raises(tuner_module.TuningFailedError, match="no tuning trial completed"):
        tuner.search(train_dataset=empty, eval_dataset=empty, epochs=1)


def test_tuner_fn_refuses_a_bad_tuning_section(tmp_path):
    examples, schema, *_ = trainer_harness.write_labelled_inputs(
        str(tmp_path), n_train=20, n_eval=10, seed=1
    )
    for tuning_section, match in (
        ({"max_trail": 3}, "unknown tuning config key"),
        ({"filters": [[64] * 7]}, "too short"),  # seven pooling blocks do not fit 140 points
    ):
        custom_config = {**_custom_config(), "tuning": tuning_section}
        context = base_executor.BaseExecutor.Context(tmp_dir=str(tmp_path), unique_id="t")
        with pytest.raises(errors.ConfigError, match=match):
            tuner_executor.Executor(context).Do(
                {"examples": [examples], "schema": [schema]},
                {
                    "best_hyperparameters": [standard_artifacts.HyperParameters()],
                    "tuner_results": [standard_artifacts.TunerResults()],
                },
                {
                    **_args_json(),
                    "custom_config": json.dumps(custom_config),
                    "tuner_fn": "models.tuner_module.tuner_fn",
                },
            )


# --- The configuration and the hand-over (no TensorFlow needed) --------------------------


def test_tuning_config_defaults_round_trip_and_validation():
    default = tuning.TuningConfig()
    assert not default.enabled and default.algorithm == "random"
    assert default.filters == ((32, 64, 128), (64, 128, 256))
    assert tuning.TuningConfig.from_dict(default.to_dict()) == default
    assert tuning.TuningConfig.from_dict(None) == default
    custom = tuning.TuningConfig.from_dict(_tuning(algorithm="hyperband"))
    assert custom.to_dict()["filters"] == FILTER_CHOICES
    assert json.loads(json.dumps(custom.to_dict())) == custom.to_dict()

    for bad, match in (
        ({"trials": 3}, "unknown tuning config key"),
        ({"algorithm": "grid"}, "algorithm"),
        ({"max_trials": 0}, "max_trials"),
        ({"epochs_per_trial": 2.5}, "epochs_per_trial"),
        ({"enabled": "yes"}, "enabled"),
        ({"filters": []}, "filters"),
        ({"filters": [[64, 0]]}, "positive"),
        ({"filters": [[8, 16], [8, 16]]}, "distinct"),
        ({"dense_units": [256, -1]}, "dense_units"),
        ({"dropout": [0.5, 0.2]}, "low <= high"),
        ({"dropout": [0.2, 1.0]}, r"\[0, 1\)"),
        ({"learning_rate": [0.0, 1e-3]}, "positive"),
        ({"learning_rate": [1e-3]}, "pair"),
        ({"objective": "accuracy"}, "objective"),
        ({"seed": -1}, "seed"),
    ):
        with pytest.raises(errors.ConfigError, match=match):
            tuning.TuningConfig.from_dict(bad)
    with pytest.raises(errors.ConfigError, match="mapping"):
        tuning.TuningConfig.from_dict([("enabled", True)])


def test_check_compatible_names_the_unusable_candidate():
    config = tuning.TuningConfig(filters=((8, 16), (8, 16, 32, 64, 128, 256)))
    with pytest.raises(errors.ConfigError, match=r"filters=\[8, 16, 32, 64, 128, 256\]"):
        config.check_compatible(ModelConfig())
    tuning.TuningConfig().check_compatible(ModelConfig())  # the defaults fit the grid


def test_apply_hyperparameters_from_the_tuner_output():
    base = ModelConfig(dense_units=(512, 512, 512), batch_size=32)
    tuner_output = {
        "space": [],
        "values": {
            "filters": "32,64,128",
            "dense_units": 256,
            "dropout": 0.3,
            "learning_rate": 5e-4,
            "tuner/epochs": 4,
            "tuner/initial_epoch": 2,
            "tuner/bracket": 1,
            "tuner/round": 1,
        },
    }
    tuned = tuning.apply_hyperparameters(base, tuner_output)
    assert tuned.filters == (32, 64, 128)
    assert tuned.dense_units == (256, 256, 256)  # the width is tuned, the depth kept
    assert tuned.dropout == 0.3 and tuned.learning_rate == 5e-4
    assert tuned.batch_size == 32 and tuned.max_epochs == base.max_epochs
    assert tuning.apply_hyperparameters(base, None) is base
    assert tuning.apply_hyperparameters(base, {"dropout": 0.2}).filters == base.filters
    assert tuning.searched_values(tuner_output) == {
        key: value for key, value in tuner_output["values"].items() if "/" not in key
    }

    with pytest.raises(errors.ConfigError, match="unknown hyperparameter"):
        tuning.apply_hyperparameters(base, {"kernel_size": 5})
    with pytest.raises(errors.ConfigError, match="comma-separated"):
        tuning.apply_hyperparameters(base, {"filters": "wide"})
    with pytest.raises(errors.ConfigError, match="dropout"):
        tuning.apply_hyperparameters(base, {"dropout": 1.5})
    with pytest.raises(errors.ConfigError, match="values"):
        tuning.apply_hyperparameters(base, {"space": [], "values": None})


def test_filters_encoding_round_trips():
    assert tuning.encode_filters((64, 128, 256)) == "64,128,256"
    assert tuning.decode_filters("64,128,256") == (64, 128, 256)
    assert tuning.decode_filters([8, 16]) == (8, 16)
    with pytest.raises(errors.ConfigError):
        tuning.decode_filters([8.5])


def test_macro_f1():
    labels = [0, 0, 0, 1, 1, 2]
    predicted = [0, 0, 1, 1, 1, 0]
    # Class 0: TP 2, support 3, predicted 3 -> 2/3; class 1: TP 2, 2, 3 -> 4/5; class 2: 0.
    expected = (2 / 3 + 4 / 5 + 0.0) / 3
    assert tuning.macro_f1(labels, predicted, 3) == pytest.approx(expected)
    # A class absent from both labels and predictions does not count.
    assert tuning.macro_f1([0, 1], [0, 1], 3) == 1.0
    assert np.isnan(tuning.macro_f1([], [], 3))
    with pytest.raises(errors.ConfigError, match="outside"):
        tuning.macro_f1([0, 3], [0, 1], 3)
    with pytest.raises(errors.ConfigError, match="predictions"):
        tuning.macro_f1([0, 1], [0], 3)
