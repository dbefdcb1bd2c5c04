"""Hyperparameter search settings (the ``[tuning]`` section) and how its results apply.

Free of TensorFlow so that configurations validate in milliseconds, before anything runs.
The search itself is :mod:`models.tuner_module` (the TFX Tuner's ``tuner_fn``); the Trainer
applies the best values it finds with :func:`apply_hyperparameters`.

Four hyperparameters are searched, under these names in keras-tuner and in the Tuner's
``best_hyperparameters`` artifact:

``filters``
    One of the configured filter stacks, as a string such as ``"64,128,256"`` (keras-tuner
    choices are scalars); :func:`decode_filters` turns it back into a tuple.
``dense_units``
    The width of every dense layer (the number of dense layers stays that of the model
    configuration).
``dropout``
    The dropout rate after every dense layer, uniform in the configured range.
``learning_rate``
    The Adam learning rate, log-uniform in the configured range.
"""

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from activespec import errors
from models.config import ModelConfig

__all__ = [
    "ALGORITHMS",
    "HP_DENSE_UNITS",
    "HP_DROPOUT",
    "HP_FILTERS",
    "HP_LEARNING_RATE",
    "OBJECTIVES",
    "TuningConfig",
    "apply_hyperparameters",
    "decode_filters",
    "encode_filters",
    "macro_f1",
    "searched_values",
]

#: Search algorithms (keras-tuner oracles) accepted by :attr:`TuningConfig.algorithm`.
ALGORITHMS = ("random", "bayesian", "hyperband")
#: Objectives on the ``eval`` split and whether they are minimised or maximised.
OBJECTIVES = {"val_loss": "min", "val_accuracy": "max", "val_macro_f1": "max"}

HP_FILTERS = "filters"
HP_DENSE_UNITS = "dense_units"
HP_DROPOUT = "dropout"
HP_LEARNING_RATE = "learning_rate"
_SEARCHED = (HP_FILTERS, HP_DENSE_UNITS, HP_DROPOUT, HP_LEARNING_RATE)
#: keras-tuner's Hyperband bookkeeping values (``tuner/epochs`` ...), not hyperparameters.
_TUNER_PREFIX = "tuner/"


def encode_filters(filters: Sequence[int]) -> str:
    """The keras-tuner choice value of a filter stack, e.g. ``(64, 128, 256) -> "64,128,256"``."""
    return ",".join(str(int(value)) for value in filters)


def decode_filters(value: str | Sequence[int]) -> tuple[int, ...]:
    """Inverse of :func:`encode_filters`; a list of integers passes through as a tuple.

    Raises
    ------
    activespec.errors.ConfigError
        If ``value`` is not a comma-separated list of integers.
    """
    if isinstance(value, str):
        try:
            return tuple(int(part) for part in value.split(","))
        except ValueError:
            raise errors.ConfigError(
                f"filters hyperparameter {value!r} is not a comma-separated list of integers"
            ) from None
    if isinstance(value, Sequence) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    raise errors.ConfigError(f"filters hyperparameter must be a list of integers, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _range(name: str, value: Any) -> tuple[float, float]:
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise errors.ConfigError(f"tuning.{name} must be a [low, high] pair, got {value!r}")
    low, high = value
    if not (_is_number(low) and _is_number(high)) or low > high:
        raise errors.ConfigError(f"tuning.{name} must be numbers with low <= high, got {value!r}")
    return float(low), float(high)


@dataclasses.dataclass(frozen=True)
class TuningConfig:
    """Settings of the hyperparameter search (the ``[tuning]`` configuration section).

    Attributes
    ----------
    enabled : bool
        Add the Tuner to the pipeline and train with the best values it finds. Off by
        default: the published hyperparameters are used as they are.
    algorithm : {"random", "bayesian", "hyperband"}
        keras-tuner oracle. ``hyperband`` runs trials of growing length up to
        ``epochs_per_trial`` epochs, resuming promising ones, and stops after ``max_trials``
        trials.
    max_trials : int
        Number of hyperparameter combinations tried (the search budget).
    epochs_per_trial : int
        Training epochs of a trial (a pass over the ``train`` split each); the score of a
        trial is that of its best epoch on the ``eval`` split.
    filters : tuple of tuple of int
        Candidate filter stacks (one max-pooling block per entry).
    dense_units : tuple of int
        Candidate widths of the dense layers.
    dropout : (float, float)
        Range of the dropout rate, sampled uniformly; equal bounds fix the value.
    learning_rate : (float, float)
        Range of the Adam learning rate, sampled log-uniformly; equal bounds fix the value.
    objective : {"val_loss", "val_accuracy", "val_macro_f1"}
        What ranks the trials, measured on the ``eval`` split.
    seed : int
        Seed of the oracle and of the weight initialisation of every trial.
    """

    enabled: bool = False
    algorithm: str = "random"
    max_trials: int = 10
    epochs_per_trial: int = 10
    filters: tuple[tuple[int, ...], ...] = ((32, 64, 128), (64, 128, 256))
    dense_units: tuple[int, ...] = (256, 512, 1024)
    dropout: tuple[float, float] = (0.2, 0.6)
    learning_rate: tuple[float, float] = (1e-4, 3e-3)
    objective: str = "val_loss"
    seed: int = 0

    def __post_init__(self):
        if not isinstance(self.enabled, bool):
            raise errors.ConfigError(f"tuning.enabled must be true or false, got {self.enabled!r}")
        if self.algorithm not in ALGORITHMS:
            raise errors.ConfigError(
                f"tuning.algorithm must be one of {list(ALGORITHMS)}, got {self.algorithm!r}"
            )
        for name in ("max_trials", "epochs_per_trial"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise errors.ConfigError(f"tuning.{name} must be a positive integer, got {value!r}")
        if not _is_int(self.seed) or self.seed < 0:
            raise errors.ConfigError(f"tuning.seed must be an integer >= 0, got {self.seed!r}")
        if self.objective not in OBJECTIVES:
            raise errors.ConfigError(
                f"tuning.objective must be one of {list(OBJECTIVES)}, got {self.objective!r}"
            )
        object.__setattr__(self, "filters", self._check_filters(self.filters))
        object.__setattr__(self, "dense_units", self._check_dense_units(self.dense_units))
        dropout = _range("dropout", self.dropout)
        if not (dropout[0] >= 0.0 and dropout[1] < 1.0):
            raise errors.ConfigError(f"tuning.dropout must lie in [0, 1), got {list(dropout)}")
        learning_rate = _range("learning_rate", self.learning_rate)
        if learning_rate[0] <= 0.0:
            raise errors.ConfigError(
                f"tuning.learning_rate must be positive, got {list(learning_rate)}"
            )
        object.__setattr__(self, "dropout", dropout)
        object.__setattr__(self, "learning_rate", learning_rate)

    @staticmethod
    def _check_filters(value: Any) -> tuple[tuple[int, ...], ...]:
        message = f"tuning.filters must be a non-empty list of filter lists, got {value!r}"
        if isinstance(value, str) or not isinstance(value, Sequence) or not value:
            raise errors.ConfigError(message)
        stacks = []
        for stack in value:
            if isinstance(stack, str) or not isinstance(stack, Sequence) or not stack:
                raise errors.ConfigError(message)
            if not all(_is_int(v) and v >= 1 for v in stack):
                raise errors.ConfigError(
                    f"tuning.filters: every filter count must be a positive integer, got {stack!r}"
                )
            stacks.append(tuple(stack))
        if len(set(stacks)) != len(stacks):
            raise errors.ConfigError(f"tuning.filters must be distinct, got {value!r}")
        return tuple(stacks)

    @staticmethod
    def _check_dense_units(value: Any) -> tuple[int, ...]:
        if isinstance(value, str) or not isinstance(value, Sequence) or not value:
            raise errors.ConfigError(
                f"tuning.dense_units must be a non-empty list of widths, got {value!r}"
            )
        if not all(_is_int(v) and v >= 1 for v in value) or len(set(value)) != len(value):
            raise errors.ConfigError(
                f"tuning.dense_units must be distinct positive integers, got {value!r}"
            )
        return tuple(value)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> "TuningConfig":
        """Build the settings from a mapping, e.g. the parsed ``[tuning]`` TOML table.

        Parameters
        ----------
        values : mapping or None
            Field names and values; missing fields keep their defaults, ``None`` gives all
            defaults (tuning off).

        Returns
        -------
        TuningConfig

        Raises
        ------
        activespec.errors.ConfigError
            On an unknown key (typos must not be ignored silently) or an invalid value.
        """
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise errors.ConfigError(
                f"tuning config must be a mapping, got {type(values).__name__}"
            )
        known = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise errors.ConfigError(f"unknown tuning config key(s) {unknown}; allowed: {known}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON/TOML-serialisable dict (tuples become lists)."""
        out = dataclasses.asdict(self)
        out["filters"] = [list(stack) for stack in self.filters]
        for name in ("dense_units", "dropout", "learning_rate"):
            out[name] = list(out[name])
        return out

    def check_compatible(self, base: ModelConfig) -> None:
        """Check that every candidate architecture can be built on top of ``base``.

        Parameters
        ----------
        base : models.config.ModelConfig
            The model configuration the searched values replace fields of.

        Raises
        ------
        activespec.errors.ConfigError
            If a filter stack is too deep for ``base.n_points`` (or any other candidate
            is unusable), naming the candidate.
        """
        for stack in self.filters:
            for units in self.dense_units:
                try:
                    apply_hyperparameters(
                        base,
                        {
                            HP_FILTERS: encode_filters(stack),
                            HP_DENSE_UNITS: units,
                            HP_DROPOUT: self.dropout[0],
                            HP_LEARNING_RATE: self.learning_rate[0],
                        },
                    )
                except errors.ConfigError as error:
                    raise errors.ConfigError(
                        f"tuning candidate filters={list(stack)}, dense_units={units}: {error}"
                    ) from None


def searched_values(hyperparameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The searched hyperparameter values in the Tuner's output or a plain mapping.

    Parameters
    ----------
    hyperparameters : mapping or None
        Either the values themselves (``{"filters": "64,128,256", "dense_units": 512,
        "dropout": 0.4, "learning_rate": 1e-3}``, any subset) or keras-tuner's
        ``HyperParameters.get_config()`` (``{"space": [...], "values": {...}}``), which is
        what the Tuner writes and the Trainer hands over as ``fn_args.hyperparameters``.

    Returns
    -------
    dict
        The values, without keras-tuner's ``tuner/...`` bookkeeping; empty for ``None``.

    Raises
    ------
    activespec.errors.ConfigError
        On an unknown hyperparameter name or a malformed keras-tuner config.
    """
    if not hyperparameters:
        return {}
    if not isinstance(hyperparameters, Mapping):
        raise errors.ConfigError(
            f"hyperparameters must be a mapping, got {type(hyperparameters).__name__}"
        )
    values = hyperparameters
    if "space" in hyperparameters or "values" in hyperparameters:
        values = hyperparameters.get("values")
        if not isinstance(values, Mapping):
            raise errors.ConfigError(
                "keras-tuner hyperparameters config without a 'values' mapping"
            )
    values = {key: value for key, value in values.items() if not key.startswith(_TUNER_PREFIX)}
    unknown = sorted(set(values) - set(_SEARCHED))
    if unknown:
        raise errors.ConfigError(
            f"unknown hyperparameter(s) {unknown}; the search tunes {list(_SEARCHED)}"
        )
    return values


def apply_hyperparameters(
    base: ModelConfig, hyperparameters: Mapping[str, Any] | None
) -> ModelConfig:
    """The model configuration with searched hyperparameters replacing its fields.

    Parameters
    ----------
    base : models.config.ModelConfig
        The configured model (its other fields, e.g. ``batch_size``, stay).
    hyperparameters : mapping or None
        The values or keras-tuner's config of them, see :func:`searched_values`.
        ``None`` or empty returns ``base``.

    Returns
    -------
    models.config.ModelConfig
        ``dense_units`` becomes the searched width repeated for as many dense layers as
        ``base`` has (or the given list, when a list is given).

    Raises
    ------
    activespec.errors.ConfigError
        On an unknown hyperparameter name or a value the model cannot use.
    """
    values = searched_values(hyperparameters)
    overrides: dict[str, Any] = {}
    if HP_FILTERS in values:
        overrides["filters"] = decode_filters(values[HP_FILTERS])
    if HP_DENSE_UNITS in values:
        units = values[HP_DENSE_UNITS]
        if _is_int(units):
            # The search tunes the width; the depth is the configured one.
            overrides["dense_units"] = (units,) * len(base.dense_units)
        else:
            overrides["dense_units"] = units
    for name in (HP_DROPOUT, HP_LEARNING_RATE):
        if name in values:
            if not _is_number(values[name]):
                raise errors.ConfigError(
                    f"{name} hyperparameter must be a number, got {values[name]!r}"
                )
            overrides[name] = float(values[name])
    return dataclasses.replace(base, **overrides) if overrides else base


def macro_f1(labels: Sequence[int], predicted: Sequence[int], n_classes: int) -> float:
    """Unweighted mean of the per-class F1 scores.

    Classes that occur neither among the labels nor among the predictions are left out
    (as scikit-learn does); a class with no correct prediction scores 0.

    Parameters
    ----------
    labels, predicted : sequence of int
        True and predicted class indices, in ``[0, n_classes)``.
    n_classes : int
        Number of classes.

    Returns
    -------
    float
        In [0, 1]; NaN when there are no examples.

    Raises
    ------
    activespec.errors.ConfigError
        If the two sequences differ in length or hold an index outside ``[0, n_classes)``.
    """
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    predicted = np.asarray(predicted, dtype=np.int64).reshape(-1)
    if labels.shape != predicted.shape:
        raise errors.ConfigError(
            f"{labels.size} labels but {predicted.size} predictions for the macro-F1"
        )
    if labels.size == 0:
        return float("nan")
    for name, values in (("label", labels), ("prediction", predicted)):
        if values.min() < 0 or values.max() >= n_classes:
            raise errors.ConfigError(f"a {name} is outside [0, {n_classes})")
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    true_positive = np.diag(confusion).astype(np.float64)
    # F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (support + predicted count).
    denominator = confusion.sum(axis=1) + confusion.sum(axis=0)
    present = denominator > 0
    return float(np.mean(2.0 * true_positive[present] / denominator[present]))
