"""The Trainer module run through the real TFX generic Trainer executor."""

import glob
import os

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.trainer import fn_args_utils

from activespec import errors
from activespec.constants import DEFAULT_CLASSES
from models import export, features, serving, trainer_module
from tests.models import simulated, trainer_harness

MAX_EPOCHS = 8


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trainer")
    return trainer_harness.run_trainer(
        str(root),
        {
            "class_names": list(DEFAULT_CLASSES),
            "model": {"max_epochs": MAX_EPOCHS, "patience": 2},
            "distribution": {"kind": "default"},
        },
        n_train=600,
        n_eval=200,
        seed=11,
    )


def test_trained_model_is_clearly_better_than_chance(trained):
    model = serving.load_model_dir(trained.serving_model_dir)
    assert model.class_names == DEFAULT_CLASSES
    predicted = model.predict_flux(trained.eval_flux).argmax(axis=1)
    accuracy = np.mean(predicted == trained.eval_labels)
    assert accuracy > 0.8, accuracy  # chance is 1/3 (0.45 for always "other")


def test_exported_weights_are_the_best_epoch(trained):
    # EarlyStopping(restore_best_weights=True): the exported model's eval loss is the best
    # epoch's validation loss, not the last epoch's.
    model = serving.load_model_dir(trained.serving_model_dir)
    p = model.predict_flux(trained.eval_flux).astype(np.float64)
    p_true = np.clip(p[np.arange(len(p)), trained.eval_labels], 1e-7, 1 - 1e-7)  # as Keras
    loss = -np.mean(np.log(p_true))
    assert loss == pytest.approx(trained.summary["best_val_loss"], rel=1e-4, abs=1e-5)


def test_both_signatures_give_identical_probabilities(trained):
    loaded = tf.saved_model.load(trained.serving_model_dir)
    serialized = tf.constant([record.SerializeToString() for record in trained.eval_records])
    from_examples = loaded.signatures[export.SERVING_SIGNATURE](examples=serialized)
    from_flux = loaded.signatures[export.PREDICT_FLUX_SIGNATURE](
        flux=tf.constant(trained.eval_flux)
    )
    np.testing.assert_allclose(
        from_examples["probabilities"].numpy(), from_flux["probabilities"].numpy(), atol=1e-6
    )
    np.testing.assert_array_equal(
        from_examples["predicted_class"].numpy(), from_flux["predicted_class"].numpy()
    )


def test_training_summary_and_tensorboard_logs(trained):
    summary = trained.summary
    counts = np.array(summary["class_counts"])
    assert counts.sum() == summary["n_train"] == 600
    expected = trainer_module.balanced_class_weights(counts)
    assert summary["class_weights"] == {
        name: pytest.approx(expected[i]) for i, name in enumerate(DEFAULT_CLASSES)
    }
    assert 1 <= summary["epochs_run"] <= MAX_EPOCHS
    assert len(summary["history"]["val_loss"]) == summary["epochs_run"]
    val_loss = summary["history"]["val_loss"]
    assert summary["best_val_loss"] == val_loss[summary["best_epoch"] - 1]
    assert summary["best_val_loss"] <= min(val_loss) + 1e-3  # min_delta
    assert summary["best_val_accuracy"] > 0.8
    assert summary["strategy"] == "_DefaultDistributionStrategy"
    assert summary["replicas"] == 1 and summary["global_batch_size"] == 64
    assert summary["model_config"]["filters"] == [64, 128, 256]
    events = glob.glob(
        os.path.join(trained.model_run_dir, "**", "events.out.tfevents.*"), recursive=True
    )
    assert events, "TensorBoard wrote no event files"


def test_train_steps_cap_the_number_of_epochs(tmp_path):
    run = trainer_harness.run_trainer(
        str(tmp_path),
        {"model": {"filters": [8, 16, 32], "dense_units": [16], "max_epochs": 50}},
        n_train=128,
        n_eval=32,
        train_steps=3,  # 2 steps per epoch at batch 64 -> 2 epochs
    )
    assert run.summary["max_epochs"] == 2
    assert run.summary["epochs_run"] == 2
    assert run.summary["model_config"]["filters"] == [8, 16, 32]


def test_the_seed_makes_training_reproducible(tmp_path):
    """Same training files and seed: the same epochs, losses and model; another seed:
    other initial weights."""

    def train(name: str, seed: int):
        model = {"filters": [8, 16, 32], "dense_units": [16], "max_epochs": 4, "seed": seed}
        run = trainer_harness.run_trainer(
            str(tmp_path / name), {"model": model}, n_train=256, n_eval=64
        )
        flux = run.eval_flux
        return run.summary, serving.load_model_dir(run.serving_model_dir).predict_flux(flux)

    first, first_p = train("a", 3)
    again, again_p = train("b", 3)
    other, other_p = train("c", 4)
    history = ("epochs_run", "best_epoch", "best_val_loss")
    assert [first[key] for key in history] == [again[key] for key in history]
    np.testing.assert_array_equal(first_p, again_p)
    assert np.abs(first_p - other_p).max() > 1e-3


def test_balanced_class_weights():
    weights = trainer_module.balanced_class_weights([60, 30, 10])
    assert weights == pytest.approx({0: 100 / 180, 1: 100 / 90, 2: 100 / 30})
    # Each class then carries the same total weight.
    assert 60 * weights[0] == pytest.approx(10 * weights[2])
    # An absent class is ignored (k = classes present).
    assert trainer_module.balanced_class_weights([50, 0, 50]) == pytest.approx(
        {0: 1.0, 1: 1.0, 2: 1.0}
    )


def _fn_args_for(examples) -> fn_args_utils.FnArgs:
    """FnArgs as the Trainer builds them (train/eval file patterns, data accessor)."""
    return fn_args_utils.get_common_fn_args(
        {"examples": [examples]}, {"train_args": "{}", "eval_args": "{}"}
    )


def test_count_labels_reads_every_example(tmp_path):
    labels = np.array([0] * 7 + [1] * 5 + [2] * 3)
    flux = simulated.simulate_flux(labels, np.random.default_rng(0))
    examples = simulated.examples_artifact(
        str(tmp_path),
        {
            "train": simulated.make_examples(flux, labels),
            "eval": simulated.make_examples(flux, labels),
        },
    )
    fn_args = _fn_args_for(examples)
    counts = trainer_module.count_labels(fn_args.train_files, fn_args.data_accessor, 3)
    np.testing.assert_array_equal(counts, [7, 5, 3])
    with pytest.raises(errors.ConfigError, match="outside"):
        trainer_module.count_labels(fn_args.train_files, fn_args.data_accessor, 2)


def test_trainer_config_validation():
    config = trainer_module.TrainerConfig.from_custom_config(None)
    assert config.class_names == DEFAULT_CLASSES and config.distribution.kind == "auto"
    with pytest.raises(errors.ConfigError, match="unknown Trainer custom_config key"):
        trainer_module.TrainerConfig.from_custom_config({"strategy": {"kind": "auto"}})
    with pytest.raises(errors.ConfigError, match="unknown model config key"):
        trainer_module.TrainerConfig.from_custom_config({"model": {"epochs": 3}})
    with pytest.raises(errors.ConfigError, match="distinct"):
        trainer_module.TrainerConfig.from_custom_config({"class_names": ["a", "a"]})
    with pytest.raises(errors.ConfigError):
        trainer_module.TrainerConfig.from_custom_config({"class_names": "other"})


def test_training_schema_checks_the_pipeline_schema():
    projected = trainer_module.training_schema(simulated.contract_schema(), 140)
    by_name = {feature.name: feature for feature in projected.feature}
    assert set(by_name) == {features.FLUX, features.LABEL}
    assert [dim.size for dim in by_name[features.FLUX].shape.dim] == [140]
    assert list(by_name[features.LABEL].shape.dim) == []

    with pytest.raises(errors.ConfigError, match="no 'label' feature"):
        trainer_module.training_schema(simulated.contract_schema(labelled=False), 140)
    wrong_type = simulated.contract_schema()
    next(f for f in wrong_type.feature if f.name == features.LABEL).type = schema_pb2.BYTES
    with pytest.raises(errors.ConfigError, match="expected INT"):
        trainer_module.training_schema(wrong_type, 140)
    shaped = simulated.contract_schema()
    next(f for f in shaped.feature if f.name == features.FLUX).shape.dim.add(size=150)
    with pytest.raises(errors.ConfigError, match="flux shape"):
        trainer_module.training_schema(shaped, 140)
