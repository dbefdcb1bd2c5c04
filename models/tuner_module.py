"""TFX Tuner module: a keras-tuner search over the CNN's filters, dense width, dropout and
learning rate, on the same input pipeline as the Trainer.

Use with the TFX Tuner component, and feed its result to the Trainer::

    tuner = Tuner(
        tuner_fn="models.tuner_module.tuner_fn",
        examples=training_examples,
        schema=schema,
        train_args=TrainArgs(splits=["train"]),
        eval_args=EvalArgs(splits=["eval"]),
        custom_config={**trainer_custom_config, "tuning": TuningConfig(...).to_dict()},
    )
    trainer = Trainer(..., hyperparameters=tuner.outputs["best_hyperparameters"])

``custom_config`` is the Trainer's (``class_names``, ``model``, ``distribution``, ...; see
:mod:`models.trainer_module`) plus ``tuning``, the fields of
:class:`models.tuning.TuningConfig`. The searched values replace fields of the ``model``
configuration (:func:`models.tuning.apply_hyperparameters`); everything else (batch size,
class weighting, early-stopping settings, distribution strategy) is the Trainer's.

Keras 2: keras-tuner 1.4.8 binds itself to Keras 3 whenever Keras 3 is installed, whatever
``TF_USE_LEGACY_KERAS`` says (keras-team/keras-tuner#1039), and its Keras ``Tuner`` then
refuses ``tf_keras`` models. :class:`CnnTuner` therefore derives from keras-tuner's
framework-neutral ``BaseTuner`` and builds, trains and checkpoints the ``tf_keras`` model
itself, while keras-tuner's oracles (random search, Bayesian optimisation, Hyperband)
choose the hyperparameters.
"""

import logging
import os
from collections.abc import Mapping
from typing import Any

import keras_tuner
import numpy as np
import tensorflow as tf
import tf_keras
from tfx import v1 as tfx

from activespec import errors
from models import cnn, trainer_module, tuning
from models.config import ModelConfig

__all__ = [
    "TUNING_KEY",
    "CnnHyperModel",
    "CnnTuner",
    "TuningFailedError",
    "declare_search_space",
    "make_oracle",
    "tuner_fn",
]

#: The ``custom_config`` key holding the :class:`models.tuning.TuningConfig` fields.
TUNING_KEY = "tuning"
#: keras-tuner project folder inside ``fn_args.working_dir``.
PROJECT_NAME = "activespec_tuning"
#: Hyperband keeps the best ``1 / factor`` of a bracket for the next, longer round.
HYPERBAND_FACTOR = 3
#: Trial weights inside keras-tuner's trial folder (TensorFlow checkpoint format).
_WEIGHTS_NAME = "weights"

_LOG = logging.getLogger(__name__)


class TuningFailedError(errors.ActivespecError):
    """No trial of the search completed, so there are no best hyperparameters."""

    code = "tuning-failed"


def _default_in(value: float, low: float, high: float) -> float:
    return value if low <= value <= high else low


def declare_search_space(
    hp: keras_tuner.HyperParameters, config: tuning.TuningConfig, base: ModelConfig
) -> dict[str, Any]:
    """Declare the searched hyperparameters in ``hp`` and return the values it holds.

    Defaults are the configured model's values where the space contains them.

    Parameters
    ----------
    hp : keras_tuner.HyperParameters
        The hyperparameters of a trial (or the empty space, to declare it).
    config : models.tuning.TuningConfig
        The search space.
    base : models.config.ModelConfig
        The configured model.

    Returns
    -------
    dict
        ``{filters: "64,128,256", dense_units: 512, dropout: ..., learning_rate: ...}``,
        the input of :func:`models.tuning.apply_hyperparameters`.
    """
    choices = [tuning.encode_filters(stack) for stack in config.filters]
    base_filters = tuning.encode_filters(base.filters)
    base_units = base.dense_units[0] if base.dense_units else None
    values = {
        tuning.HP_FILTERS: hp.Choice(
            tuning.HP_FILTERS,
            choices,
            default=base_filters if base_filters in choices else choices[0],
        ),
        tuning.HP_DENSE_UNITS: hp.Choice(
            tuning.HP_DENSE_UNITS,
            list(config.dense_units),
            default=base_units if base_units in config.dense_units else config.dense_units[0],
        ),
    }
    for name, (low, high), sampling, current in (
        (tuning.HP_DROPOUT, config.dropout, "linear", base.dropout),
        (tuning.HP_LEARNING_RATE, config.learning_rate, "log", base.learning_rate),
    ):
        if low == high:
            values[name] = hp.Fixed(name, low)
        else:
            values[name] = hp.Float(
                name, low, high, sampling=sampling, default=_default_in(current, low, high)
            )
    return values


class CnnHyperModel(keras_tuner.HyperModel):
    """The search space of the spectrum classifier: builds the ``tf_keras`` CNN of a trial.

    Parameters
    ----------
    config : models.tuning.TuningConfig
        The search space.
    base : models.config.ModelConfig
        The configured model; the searched values replace its fields.
    n_classes : int
        Number of classes.
    strategy : tf.distribute.Strategy, optional
        Variables are created in its scope (default: the current strategy).
    """

    def __init__(
        self,
        config: tuning.TuningConfig,
        base: ModelConfig,
        n_classes: int,
        strategy: tf.distribute.Strategy | None = None,
    ):
        super().__init__(name="activespec_cnn")
        config.check_compatible(base)
        self.config = config
        self.base = base
        self.n_classes = n_classes
        self.strategy = strategy or tf.distribute.get_strategy()

    def model_config(self, hp: keras_tuner.HyperParameters) -> ModelConfig:
        """The model configuration of a trial's hyperparameters."""
        return tuning.apply_hyperparameters(
            self.base, declare_search_space(hp, self.config, self.base)
        )

    def build(self, hp: keras_tuner.HyperParameters) -> tf_keras.Model:
        """Build and compile the trial's network (see :func:`models.cnn.build_cnn`)."""
        with self.strategy.scope():
            return cnn.build_from_config(self.model_config(hp), self.n_classes)


def make_oracle(config: tuning.TuningConfig, max_epochs: int) -> keras_tuner.Oracle:
    """The keras-tuner oracle of the configured algorithm.

    Parameters
    ----------
    config : models.tuning.TuningConfig
        Algorithm, budget, objective and seed.
    max_epochs : int
        Epochs of a full trial (Hyperband's longest round).

    Returns
    -------
    keras_tuner.Oracle
        With ``max_trials`` set for every algorithm (for Hyperband it caps the number of
        trials of its brackets, and the TFX Tuner needs it to list the results).
    """
    objective = keras_tuner.Objective(config.objective, tuning.OBJECTIVES[config.objective])
    if config.algorithm == "random":
        return keras_tuner.oracles.RandomSearchOracle(
            objective=objective, max_trials=config.max_trials, seed=config.seed
        )
    if config.algorithm == "bayesian":
        return keras_tuner.oracles.BayesianOptimizationOracle(
            objective=objective, max_trials=config.max_trials, seed=config.seed
        )
    oracle = keras_tuner.oracles.HyperbandOracle(
        objective=objective,
        max_epochs=max(max_epochs, 2),  # Hyperband needs at least two epochs
        factor=HYPERBAND_FACTOR,
        seed=config.seed,
    )
    oracle.max_trials = config.max_trials
    return oracle


def _predicted_classes(
    model: tf_keras.Model, dataset: tf.data.Dataset, steps: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted classes of one pass over ``dataset`` (``steps`` batches if set)."""
    if steps:
        dataset = dataset.take(steps)
    labels, predicted = [], []
    for features_batch, label_batch in dataset:
        probabilities = model(features_batch, training=False)
        labels.append(np.asarray(label_batch).reshape(-1))
        predicted.append(np.argmax(np.asarray(probabilities), axis=-1))
    if not labels:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(labels), np.concatenate(predicted)


class CnnTuner(keras_tuner.engine.base_tuner.BaseTuner):
    """Runs the trials of a search: trains each trial's ``tf_keras`` CNN as the Trainer does.

    A trial trains for ``epochs`` epochs (Hyperband: the epochs its round asks for,
    resuming from the weights of the trial it continues) with the Trainer's early stopping
    on the ``eval`` loss, keeps the weights of its best epoch, and reports ``val_loss``,
    ``val_accuracy`` and ``val_macro_f1`` of that epoch.

    Parameters
    ----------
    oracle : keras_tuner.Oracle
        See :func:`make_oracle`.
    hypermodel : CnnHyperModel
        The search space.
    directory : str
        Working directory; trials are kept in ``directory/project_name``.
    project_name : str
        Name of the project folder.
    seed : int
        Every trial starts from the same random state, so that trials differ by their
        hyperparameters rather than by their luck.
    overwrite : bool
        Start afresh instead of resuming a search found in the project folder.
    """

    def __init__(
        self,
        oracle: keras_tuner.Oracle,
        hypermodel: CnnHyperModel,
        *,
        directory: str,
        project_name: str = PROJECT_NAME,
        seed: int = 0,
        overwrite: bool = True,
    ):
        self.seed = seed
        super().__init__(
            oracle=oracle,
            hypermodel=hypermodel,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
        )

    def _weights_path(self, trial_id: str) -> str:
        return os.path.join(self.get_trial_dir(trial_id), _WEIGHTS_NAME)

    def run_trial(
        self,
        trial,
        *,
        train_dataset: tf.data.Dataset,
        eval_dataset: tf.data.Dataset,
        epochs: int,
        class_weight: Mapping[int, float] | None = None,
        eval_steps: int | None = None,
    ) -> dict[str, float]:
        """Train and score one trial (called by ``search`` with the TunerFnResult's
        ``fit_kwargs``).

        Returns
        -------
        dict
            ``val_loss``, ``val_accuracy`` and ``val_macro_f1`` of the best epoch.
        """
        hp = trial.hyperparameters
        # Free the previous trial's graph state; same initial random state for every trial.
        tf_keras.backend.clear_session()
        tf_keras.utils.set_random_seed(self.seed)
        model = self.hypermodel.build(hp)
        initial_epoch = 0
        if "tuner/epochs" in hp.values:  # a Hyperband round
            epochs = hp.values["tuner/epochs"]
            initial_epoch = hp.values["tuner/initial_epoch"]
            if hp.values.get("tuner/trial_id"):
                model.load_weights(self._weights_path(hp.values["tuner/trial_id"]))
        base = self.hypermodel.base
        early_stopping = tf_keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=base.patience,
            min_delta=base.min_delta,
            restore_best_weights=True,
        )
        history = model.fit(
            train_dataset,
            validation_data=eval_dataset,
            validation_steps=eval_steps,
            epochs=epochs,
            initial_epoch=initial_epoch,
            class_weight=dict(class_weight) if class_weight else None,
            callbacks=[early_stopping],
            verbose=0,
        )
        best = history.epoch.index(early_stopping.best_epoch)
        labels, predicted = _predicted_classes(model, eval_dataset, eval_steps)
        metrics = {
            "val_loss": float(history.history["val_loss"][best]),
            "val_accuracy": float(history.history["val_accuracy"][best]),
            "val_macro_f1": tuning.macro_f1(labels, predicted, self.hypermodel.n_classes),
        }
        self.save_model(trial.trial_id, model)
        _LOG.info(
            "Trial %s %s: best epoch %d, %s",
            trial.trial_id,
            {k: v for k, v in hp.values.items() if not k.startswith("tuner/")},
            early_stopping.best_epoch + 1,
            metrics,
        )
        return metrics

    def save_model(self, trial_id: str, model: tf_keras.Model, step: int = 0) -> None:
        """Save a trial's (best-epoch) weights in its trial folder."""
        model.save_weights(self._weights_path(trial_id))

    def load_model(self, trial) -> tf_keras.Model:
        """Rebuild a trial's network and load its saved weights."""
        model = self.hypermodel.build(trial.hyperparameters)
        model.load_weights(self._weights_path(trial.trial_id)).expect_partial()
        return model

    def on_search_end(self) -> None:
        """Refuse to end a search in which no trial completed (its "best" would be a
        failed trial's values).

        Raises
        ------
        TuningFailedError
            With the message of the last failed trial.
        """
        completed = [
            trial
            for trial in self.oracle.trials.values()
            if trial.status == keras_tuner.engine.trial.TrialStatus.COMPLETED
        ]
        if not completed:
            messages = [trial.message for trial in self.oracle.trials.values() if trial.message]
            last = messages[-1].strip().splitlines()[-1] if messages else "no trial ran"
            raise TuningFailedError(f"no tuning trial completed; last error: {last}")


def tuner_fn(fn_args: tfx.components.FnArgs) -> tfx.components.TunerFnResult:
    """Set up the hyperparameter search for the TFX Tuner component.

    Parameters
    ----------
    fn_args : tfx.components.FnArgs
        Provided by the Tuner executor: ``train_files``, ``eval_files``, ``data_accessor``,
        ``schema_path``, ``working_dir``, ``custom_config`` (the Trainer's keys plus
        ``tuning``) and optionally ``train_steps`` / ``eval_steps``.

    Returns
    -------
    tfx.components.TunerFnResult
        A :class:`CnnTuner` and the ``fit_kwargs`` of its trials (datasets, epochs per
        trial, class weights).

    Raises
    ------
    activespec.errors.ConfigError
        On an invalid ``custom_config`` (either part), a candidate architecture the input
        cannot feed, a schema without ``flux`` or ``label``, labels outside the classes or
        an empty training split.
    """
    custom_config = dict(fn_args.custom_config or {})
    tuning_config = tuning.TuningConfig.from_dict(custom_config.pop(TUNING_KEY, None))
    config = trainer_module.TrainerConfig.from_custom_config(custom_config)
    if not tuning_config.enabled:
        _LOG.warning("tuning.enabled is false, but the Tuner runs: searching anyway")

    strategy, _ = trainer_module.make_strategy(config.distribution)
    global_batch_size = config.model.batch_size * strategy.num_replicas_in_sync
    tf_keras.utils.set_random_seed(config.model.seed)  # the trials' weights and dropout
    data = trainer_module.training_data(
        fn_args, config.class_names, config.model, global_batch_size
    )
    epochs = data.epoch_limit(tuning_config.epochs_per_trial, fn_args.train_steps)

    hypermodel = CnnHyperModel(tuning_config, config.model, len(config.class_names), strategy)
    tuner = CnnTuner(
        make_oracle(tuning_config, epochs),
        hypermodel,
        directory=fn_args.working_dir,
        project_name=PROJECT_NAME,
        seed=tuning_config.seed,
    )
    _LOG.info(
        "Tuning: %s search, %d trials of <= %d epochs on %d spectra (%s per class), objective %s",
        tuning_config.algorithm,
        tuning_config.max_trials,
        epochs,
        data.n_train,
        data.counts.tolist(),
        tuning_config.objective,
    )
    return tfx.components.TunerFnResult(
        tuner=tuner,
        fit_kwargs={
            "train_dataset": data.train_dataset,
            "eval_dataset": data.eval_dataset,
            "epochs": epochs,
            "class_weight": data.class_weight,
            "eval_steps": fn_args.eval_steps or None,
        },
    )
