"""TFX Trainer module: trains a fresh CNN on the labelled spectra each active-learning round.

Use with the generic Trainer executor, e.g.::

    Trainer(
        module_path="models.trainer_module",  # or module_file=<path of this file>
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        custom_config={
            "class_names": ["other", "emission", "double-peak"],
            "model": {"max_epochs": 100, "class_weighting": "balanced"},
            "distribution": {"kind": "auto"},
            "preprocessing": {"scaling": "minmax"},
        },
    )

``custom_config`` keys (all optional, unknown keys are refused):

``class_names``
    Class names in label-index order (default :data:`activespec.constants.DEFAULT_CLASSES`).
``model``
    Fields of :class:`models.cnn.ModelConfig` (architecture and training settings).
``distribution``
    Fields of :class:`models.strategy.StrategyConfig` (``kind``, ``tpu_address``,
    ``logical_cpus``).
``preprocessing``
    Fields of :class:`activespec.preprocessing.PreprocessConfig`: how ingestion made the
    training vectors. Recorded with the exported model so that scoring preprocesses the
    same way (default: the published settings).

With a Tuner upstream (``Trainer(hyperparameters=tuner.outputs["best_hyperparameters"])``,
see :mod:`models.tuner_module`), the best values it found replace the ``model`` fields
they tune (:func:`models.tuning.apply_hyperparameters`).

The Trainer reads only ``flux`` and ``label`` from the examples. Each epoch is one pass over
the ``train`` split (``TrainArgs.num_steps``, when set, caps the total number of steps);
early stopping watches the loss on the ``eval`` split and restores the best weights. The
model is exported with :func:`models.export.export_serving_model` to
``fn_args.serving_model_dir``; TensorBoard logs and ``training_summary.json`` go to
``fn_args.model_run_dir``.
"""

import dataclasses
import json
import logging
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
import tf_keras
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from activespec import errors
from activespec.constants import DEFAULT_CLASSES
from activespec.preprocessing import PreprocessConfig
from activespec.settings import check_class_names
from models import cnn, export, features, tuning
from models import strategy as strategy_lib

__all__ = [
    "CUSTOM_CONFIG_KEYS",
    "SUMMARY_FILE",
    "TrainerConfig",
    "TrainingData",
    "balanced_class_weights",
    "count_labels",
    "make_strategy",
    "run_fn",
    "training_data",
    "training_schema",
]

#: Keys the Trainer accepts in ``custom_config``.
CUSTOM_CONFIG_KEYS = ("class_names", "model", "distribution", "preprocessing")
#: Name of the JSON file with the outcome of a training run (in ``fn_args.model_run_dir``).
SUMMARY_FILE = "training_summary.json"
#: Batch size of the single pass that counts the training labels.
_COUNT_BATCH_SIZE = 4096

_LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    """The Trainer's ``custom_config``, parsed and validated.

    Attributes
    ----------
    class_names : tuple of str
        Class names in label-index order.
    model : models.cnn.ModelConfig
        Architecture and training settings.
    distribution : models.strategy.StrategyConfig
        Distribution settings.
    preprocessing : activespec.preprocessing.PreprocessConfig
        Preprocessing of the training vectors, recorded with the exported model.
    """

    class_names: tuple[str, ...] = DEFAULT_CLASSES
    model: cnn.ModelConfig = dataclasses.field(default_factory=cnn.ModelConfig)
    distribution: strategy_lib.StrategyConfig = dataclasses.field(
        default_factory=strategy_lib.StrategyConfig
    )
    preprocessing: PreprocessConfig = dataclasses.field(default_factory=PreprocessConfig)

    @classmethod
    def from_custom_config(cls, custom_config: Mapping[str, Any] | None) -> "TrainerConfig":
        """Parse the Trainer's ``custom_config``.

        Parameters
        ----------
        custom_config : mapping or None
            Keys ``class_names``, ``model``, ``distribution``, ``preprocessing``; ``None``
            gives all defaults.

        Returns
        -------
        TrainerConfig

        Raises
        ------
        activespec.errors.ConfigError
            On unknown keys or invalid values, at any level.
        """
        custom_config = dict(custom_config or {})
        unknown = sorted(set(custom_config) - set(CUSTOM_CONFIG_KEYS))
        if unknown:
            raise errors.ConfigError(
                f"unknown Trainer custom_config key(s) {unknown}; allowed: {list(CUSTOM_CONFIG_KEYS)}"
            )
        model = cnn.ModelConfig.from_dict(custom_config.get("model"))
        preprocessing = PreprocessConfig.from_dict(custom_config.get("preprocessing") or {})
        # Refuse before training what the export would refuse after it.
        if preprocessing.n_points != model.n_points:
            raise errors.ConfigError(
                f"preprocessing makes {preprocessing.n_points}-point vectors but the model "
                f"takes n_points={model.n_points}"
            )
        return cls(
            class_names=check_class_names(
                custom_config.get("class_names", DEFAULT_CLASSES), "custom_config class_names"
            ),
            model=model,
            distribution=strategy_lib.StrategyConfig.from_dict(custom_config.get("distribution")),
            preprocessing=preprocessing,
        )


def training_schema(schema: schema_pb2.Schema | None, n_points: int) -> schema_pb2.Schema:
    """The part of the data schema the Trainer reads: ``flux`` and ``label`` with fixed shapes.

    SchemaGen does not always infer shapes, and the model needs a dense ``[n_points]`` flux
    vector and a scalar label, so the shapes come from the data contract; the pipeline's
    schema (when given) is checked for the presence and type of both features.

    Parameters
    ----------
    schema : tensorflow_metadata Schema or None
        The pipeline's schema (e.g. from SchemaGen or a curated ``schema.pbtxt``).
    n_points : int
        Length of the flux vectors.

    Returns
    -------
    tensorflow_metadata Schema
        A schema with exactly the two features.

    Raises
    ------
    activespec.errors.ConfigError
        If ``schema`` lacks ``flux`` (FLOAT) or ``label`` (INT), or declares them with
        another type or a different flux length.
    """
    if schema is not None:
        declared = {feature.name: feature for feature in schema.feature}
        for name, kind in ((features.FLUX, schema_pb2.FLOAT), (features.LABEL, schema_pb2.INT)):
            if name not in declared:
                raise errors.ConfigError(f"schema has no {name!r} feature")
            if declared[name].type != kind:
                raise errors.ConfigError(
                    f"schema declares {name!r} as {schema_pb2.FeatureType.Name(declared[name].type)}, "
                    f"expected {schema_pb2.FeatureType.Name(kind)}"
                )
        flux = declared[features.FLUX]
        if flux.HasField("shape") and [dim.size for dim in flux.shape.dim] != [n_points]:
            raise errors.ConfigError(
                f"schema gives flux shape {[dim.size for dim in flux.shape.dim]}, "
                f"the model expects [{n_points}]"
            )
    projected = schema_pb2.Schema()
    _add_dense_feature(projected, features.FLUX, schema_pb2.FLOAT, [n_points])
    _add_dense_feature(projected, features.LABEL, schema_pb2.INT, [])
    return projected


def _add_dense_feature(schema: schema_pb2.Schema, name: str, kind: int, shape: list[int]):
    """A required feature of fixed shape (``[]``: one scalar per example)."""
    feature = schema.feature.add(name=name, type=kind)
    feature.shape.SetInParent()
    for size in shape:
        feature.shape.dim.add(size=size)
    # TFXIO builds dense tensors only for features every example carries.
    feature.presence.min_fraction = 1.0


def _label_schema() -> schema_pb2.Schema:
    schema = schema_pb2.Schema()
    _add_dense_feature(schema, features.LABEL, schema_pb2.INT, [])
    return schema


def _input_fn(
    file_pattern: list[str],
    data_accessor: tfx.components.DataAccessor,
    schema: schema_pb2.Schema,
    *,
    batch_size: int,
    shuffle: bool,
    num_epochs: int | None,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Batches of ``({"flux": [B, n_points]}, label [B])`` from gzipped tf.Example files."""
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size,
            label_key=features.LABEL,
            shuffle=shuffle,
            shuffle_seed=seed,
            num_epochs=num_epochs,
        ),
        schema,
    )


def count_labels(
    file_pattern: list[str], data_accessor: tfx.components.DataAccessor, n_classes: int
) -> np.ndarray:
    """Count the examples of each class in one pass over the files.

    Parameters
    ----------
    file_pattern : list of str
        File patterns of the split (``fn_args.train_files``).
    data_accessor : tfx.components.DataAccessor
        ``fn_args.data_accessor``.
    n_classes : int
        Number of configured classes.

    Returns
    -------
    numpy.ndarray of int, shape [n_classes]

    Raises
    ------
    activespec.errors.ConfigError
        If a label is outside ``[0, n_classes)``, i.e. the data and the configured class
        names disagree.
    """
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=_COUNT_BATCH_SIZE, shuffle=False, num_epochs=1),
        _label_schema(),
    )
    counts = np.zeros(n_classes, dtype=np.int64)
    for batch in dataset.as_numpy_iterator():
        labels = np.asarray(batch[features.LABEL]).reshape(-1)
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise errors.ConfigError(
                f"label values {sorted(set(labels[(labels < 0) | (labels >= n_classes)]))} "
                f"outside [0, {n_classes}): do the class names match the data?"
            )
        counts += np.bincount(labels, minlength=n_classes)
    return counts


def balanced_class_weights(counts: Sequence[int]) -> dict[int, float]:
    """Class weights ``n / (k * n_c)`` that make every class contribute equally.

    Parameters
    ----------
    counts : sequence of int
        Examples per class.

    Returns
    -------
    dict of int to float
        One weight per class index. ``k`` is the number of classes present, so the weighted
        number of examples stays ``n``; absent classes get weight 1 (never used).
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    n_total, k_present = counts.sum(), int(present.sum())
    weights = np.where(present, n_total / (k_present * np.where(present, counts, 1.0)), 1.0)
    return {index: float(weight) for index, weight in enumerate(weights)}


def _read_schema(fn_args: tfx.components.FnArgs) -> schema_pb2.Schema | None:
    path = fn_args.schema_path or fn_args.schema_file
    if not path:
        _LOG.info("No schema artifact: using the data contract for flux and label only")
        return None
    return tfx.utils.parse_pbtxt_file(path, schema_pb2.Schema())


def make_strategy(config: strategy_lib.StrategyConfig) -> tuple[tf.distribute.Strategy, str]:
    """Create the configured strategy; if the CPU can no longer be split (TensorFlow was
    initialised earlier in this process, e.g. by another component of a local run), mirror
    over the devices that exist and say so."""
    try:
        return config.make(), ""
    except strategy_lib.DevicesInitialisedError as error:
        note = f"{error}; mirroring over the existing logical CPU devices instead"
        _LOG.warning(note)
        devices = [device.name for device in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(
            devices, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
        return strategy, note


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """The input pipeline of a training run, shared by :func:`run_fn` and the Tuner.

    Attributes
    ----------
    train_dataset : tf.data.Dataset
        Shuffled batches ``({"flux": [B, n_points]}, label [B])``; one pass is one epoch.
    eval_dataset : tf.data.Dataset
        Batches of the ``eval`` split in file order (repeated when ``eval_steps`` is set).
    counts : numpy.ndarray of int
        Training examples per class.
    class_weight : dict of int to float or None
        Balanced class weights, or None when the model configuration asks for none.
    steps_per_epoch : int
        Batches in one pass over the training split.
    """

    train_dataset: tf.data.Dataset
    eval_dataset: tf.data.Dataset
    counts: np.ndarray
    class_weight: dict[int, float] | None
    steps_per_epoch: int

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.counts.sum())

    def epoch_limit(self, max_epochs: int, train_steps: int | None) -> int:
        """``max_epochs``, capped by ``train_steps`` (``TrainArgs.num_steps``, rounded up to
        whole epochs); 0 or None caps nothing."""
        if not train_steps:
            return max_epochs
        return max(1, min(max_epochs, math.ceil(train_steps / self.steps_per_epoch)))


def training_data(
    fn_args: tfx.components.FnArgs,
    class_names: Sequence[str],
    model_config: cnn.ModelConfig,
    global_batch_size: int,
) -> TrainingData:
    """Read the schema, count the training labels and build the train and eval datasets.

    Parameters
    ----------
    fn_args : tfx.components.FnArgs
        ``train_files``, ``eval_files``, ``data_accessor``, ``schema_path`` and
        ``eval_steps`` are used.
    class_names : sequence of str
        Class names in label-index order.
    model_config : models.config.ModelConfig
        ``n_points`` and ``class_weighting`` are used.
    global_batch_size : int
        Batch size over all replicas.

    Returns
    -------
    TrainingData

    Raises
    ------
    activespec.errors.ConfigError
        If the schema lacks ``flux`` or ``label``, a label is outside the classes or the
        training split is empty.
    """
    schema = training_schema(_read_schema(fn_args), model_config.n_points)
    counts = count_labels(fn_args.train_files, fn_args.data_accessor, len(class_names))
    n_train = int(counts.sum())
    if n_train == 0:
        raise errors.ConfigError(f"the training split {fn_args.train_files} has no examples")
    for index in np.flatnonzero(counts == 0):
        _LOG.warning("No training example of class %r", class_names[index])
    class_weight = (
        balanced_class_weights(counts) if model_config.class_weighting == "balanced" else None
    )
    train_dataset = _input_fn(
        fn_args.train_files,
        fn_args.data_accessor,
        schema,
        batch_size=global_batch_size,
        shuffle=True,
        num_epochs=1,
        seed=model_config.seed,
    )
    eval_dataset = _input_fn(
        fn_args.eval_files,
        fn_args.data_accessor,
        schema,
        batch_size=global_batch_size,
        shuffle=False,
        num_epochs=None if fn_args.eval_steps else 1,
    )
    return TrainingData(
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        counts=counts,
        class_weight=class_weight,
        steps_per_epoch=math.ceil(n_train / global_batch_size),
    )


def _write_json(path: str, content: Mapping[str, Any]) -> None:
    with tf.io.gfile.GFile(path, "w") as handle:
        json.dump(content, handle, indent=2, sort_keys=True)


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Train a fresh CNN on the ``train`` split and export it for serving.

    Parameters
    ----------
    fn_args : tfx.components.FnArgs
        Provided by the TFX Trainer (generic executor): ``train_files``, ``eval_files``,
        ``data_accessor``, ``schema_path``, ``custom_config``, ``serving_model_dir``,
        ``model_run_dir`` and optionally ``train_steps`` / ``eval_steps`` and
        ``hyperparameters`` (the Tuner's best, which override the ``model`` config).

    Raises
    ------
    activespec.errors.ConfigError
        On an invalid ``custom_config`` or ``hyperparameters``, a schema that lacks
        ``flux`` or ``label``, labels outside the configured classes or an empty training
        split.
    """
    config = TrainerConfig.from_custom_config(fn_args.custom_config)
    # The Tuner's best values (when it ran) replace the configured ones they tune.
    tuned = tuning.searched_values(fn_args.hyperparameters)
    model_config = tuning.apply_hyperparameters(config.model, tuned)
    n_classes = len(config.class_names)
    strategy, strategy_note = make_strategy(config.distribution)
    replicas = strategy.num_replicas_in_sync
    global_batch_size = model_config.batch_size * replicas

    # Python's, NumPy's and TensorFlow's generators: initial weights and dropout.
    tf_keras.utils.set_random_seed(model_config.seed)
    data = training_data(fn_args, config.class_names, model_config, global_batch_size)
    counts, n_train, class_weight = data.counts, data.n_train, data.class_weight
    train_dataset, eval_dataset = data.train_dataset, data.eval_dataset
    # An epoch is one pass over the training data; TrainArgs.num_steps caps the total.
    epochs = data.epoch_limit(model_config.max_epochs, fn_args.train_steps)

    with strategy.scope():
        model = cnn.build_from_config(model_config, n_classes)
    early_stopping = tf_keras.callbacks.EarlyStopping(
        monitor="val_loss",
        patience=model_config.patience,
        min_delta=model_config.min_delta,
        restore_best_weights=True,
    )
    tensorboard = tf_keras.callbacks.TensorBoard(
        log_dir=fn_args.model_run_dir, update_freq="epoch", profile_batch=0
    )
    _LOG.info(
        "Training on %d spectra (%s per class), %d replica(s), global batch %d, <= %d epochs",
        n_train,
        counts.tolist(),
        replicas,
        global_batch_size,
        epochs,
    )
    history = model.fit(
        train_dataset,
        validation_data=eval_dataset,
        validation_steps=fn_args.eval_steps or None,
        epochs=epochs,
        class_weight=class_weight,
        callbacks=[early_stopping, tensorboard],
        verbose=2,
    )

    export.export_serving_model(
        model,
        fn_args.serving_model_dir,
        class_names=config.class_names,
        n_points=model_config.n_points,
        preprocessing=config.preprocessing,
    )

    # The exported weights are those EarlyStopping restored (improvements below min_delta
    # do not count), which is not always the arg-min of the validation loss.
    best_epoch = early_stopping.best_epoch if history.epoch else None
    summary = {
        "class_names": list(config.class_names),
        "class_counts": counts.tolist(),
        "class_weights": (
            {config.class_names[i]: w for i, w in class_weight.items()} if class_weight else None
        ),
        "n_train": n_train,
        "epochs_run": len(history.epoch),
        "max_epochs": epochs,
        "stopped_early": len(history.epoch) < epochs,
        "best_epoch": None if best_epoch is None else best_epoch + 1,
        "best_val_loss": (
            None if best_epoch is None else float(history.history["val_loss"][best_epoch])
        ),
        "best_val_accuracy": (
            float(history.history["val_accuracy"][best_epoch])
            if best_epoch is not None and "val_accuracy" in history.history
            else None
        ),
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
        "strategy": type(strategy).__name__,
        "strategy_note": strategy_note,
        "replicas": replicas,
        "global_batch_size": global_batch_size,
        "model_config": model_config.to_dict(),
        "tuned_hyperparameters": tuned or None,
        "serving_model_dir": fn_args.serving_model_dir,
    }
    tf.io.gfile.makedirs(fn_args.model_run_dir)
    _write_json(os.path.join(fn_args.model_run_dir, SUMMARY_FILE), summary)
