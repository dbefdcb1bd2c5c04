"""Parameters of the UncertaintySampler component: names, validation, (de)serialisation."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from activespec.constants import (
    DEFAULT_CLASSES,
    DEFAULT_PERFORMANCE_SAMPLE_SIZE,
    DEFAULT_POSITIVE_CLASSES,
    DEFAULT_QUERY_SIZE,
    DEFAULT_RECALL_SAMPLE_SIZE,
    DEFAULT_RECALL_STRATA,
)
from activespec.errors import ConfigError
from activespec.recall import check_strata

SCORES_KEY = "scores"
LABELLED_EXAMPLES_KEY = "labelled_examples"
QUERY_KEY = "query"
PERFORMANCE_SAMPLE_KEY = "performance_sample"
RECALL_SAMPLE_KEY = "recall_sample"
CANDIDATES_KEY = "candidates"

STRATEGY_KEY = "strategy"
QUERY_SIZE_KEY = "query_size"
PERFORMANCE_SAMPLE_SIZE_KEY = "performance_sample_size"
RECALL_SAMPLE_SIZE_KEY = "recall_sample_size"
RECALL_STRATA_KEY = "recall_strata"
POSITIVE_CLASSES_KEY = "positive_classes"
CLASS_NAMES_KEY = "class_names"
SEED_KEY = "seed"
ROUND_INDEX_KEY = "round_index"

#: Uncertainty measures of the score records; see :mod:`components.score_features`.
STRATEGIES = ("entropy", "margin", "least_confidence")


@dataclasses.dataclass(frozen=True)
class SamplerParams:
    """Validated parameters of one sampling round.

    Attributes
    ----------
    strategy : {"entropy", "margin", "least_confidence"}
        Uncertainty measure ranking the query: highest entropy, smallest margin between
        the two most probable classes, or highest ``1 - max p``.
    query_size : int
        Spectra to query (>= 1).
    performance_sample_size : int
        Spectra drawn uniformly among the predicted positives (>= 0; 0 disables).
    recall_sample_size : int
        Spectra drawn among the predicted negatives, stratified by positive score
        (>= 0; 0 disables); see :mod:`activespec.recall`.
    recall_strata : tuple of float
        Inner bounds of the recall sample's strata on the positive score.
    positive_classes : tuple of str
        Classes counted as positive (candidates and the performance sample).
    class_names : tuple of str
        Class names in probability order.
    seed, round_index : int
        Together they fix the random samples; another round draws other samples.
    """

    strategy: str = "entropy"
    query_size: int = DEFAULT_QUERY_SIZE
    performance_sample_size: int = DEFAULT_PERFORMANCE_SAMPLE_SIZE
    recall_sample_size: int = DEFAULT_RECALL_SAMPLE_SIZE
    recall_strata: tuple[float, ...] = DEFAULT_RECALL_STRATA
    positive_classes: tuple[str, ...] = DEFAULT_POSITIVE_CLASSES
    class_names: tuple[str, ...] = DEFAULT_CLASSES
    seed: int = 0
    round_index: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`~activespec.errors.ConfigError` naming the first bad value."""
        if self.strategy not in STRATEGIES:
            raise ConfigError(
                f"UncertaintySampler: unknown strategy {self.strategy!r}; "
                f"use one of {', '.join(STRATEGIES)}"
            )
        integers = (
            QUERY_SIZE_KEY,
            PERFORMANCE_SAMPLE_SIZE_KEY,
            RECALL_SAMPLE_SIZE_KEY,
            SEED_KEY,
            ROUND_INDEX_KEY,
        )
        for name in integers:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"UncertaintySampler: {name} must be an integer, got {value!r}")
        if self.query_size < 1:
            raise ConfigError(f"UncertaintySampler: query_size must be >= 1, got {self.query_size}")
        for name in (PERFORMANCE_SAMPLE_SIZE_KEY, RECALL_SAMPLE_SIZE_KEY):
            if getattr(self, name) < 0:
                raise ConfigError(
                    f"UncertaintySampler: {name} must be >= 0, got {getattr(self, name)}"
                )
        check_strata(self.recall_strata, f"UncertaintySampler: {RECALL_STRATA_KEY}")
        if self.round_index < 0:
            raise ConfigError(
                f"UncertaintySampler: round_index must be >= 0, got {self.round_index}"
            )
        if len(self.class_names) < 2 or len(set(self.class_names)) != len(self.class_names):
            raise ConfigError(
                "UncertaintySampler: class_names needs at least two distinct names, "
                f"got {list(self.class_names)}"
            )
        if not self.positive_classes:
            raise ConfigError("UncertaintySampler: positive_classes must name at least one class")
        unknown = [name for name in self.positive_classes if name not in self.class_names]
        if unknown:
            raise ConfigError(
                f"UncertaintySampler: positive classes {unknown} are not among the class "
                f"names {list(self.class_names)}"
            )

    def to_exec_properties(self) -> dict[str, Any]:
        """Primitive execution properties (lists as JSON strings)."""
        return {
            STRATEGY_KEY: self.strategy,
            QUERY_SIZE_KEY: self.query_size,
            PERFORMANCE_SAMPLE_SIZE_KEY: self.performance_sample_size,
            RECALL_SAMPLE_SIZE_KEY: self.recall_sample_size,
            RECALL_STRATA_KEY: json.dumps(list(self.recall_strata)),
            POSITIVE_CLASSES_KEY: json.dumps(list(self.positive_classes)),
            CLASS_NAMES_KEY: json.dumps(list(self.class_names)),
            SEED_KEY: self.seed,
            ROUND_INDEX_KEY: self.round_index,
        }

    @classmethod
    def from_exec_properties(cls, props: Mapping[str, Any]) -> SamplerParams:
        """Rebuild the parameters from the execution properties TFX hands the executor."""
        defaults = cls()
        return cls(
            strategy=props.get(STRATEGY_KEY) or defaults.strategy,
            query_size=_integer(props, QUERY_SIZE_KEY, defaults.query_size),
            performance_sample_size=_integer(
                props, PERFORMANCE_SAMPLE_SIZE_KEY, defaults.performance_sample_size
            ),
            recall_sample_size=_integer(props, RECALL_SAMPLE_SIZE_KEY, defaults.recall_sample_size),
            recall_strata=tuple(_json_list(props, RECALL_STRATA_KEY, DEFAULT_RECALL_STRATA)),
            positive_classes=tuple(
                _json_list(props, POSITIVE_CLASSES_KEY, DEFAULT_POSITIVE_CLASSES)
            ),
            class_names=tuple(_json_list(props, CLASS_NAMES_KEY, DEFAULT_CLASSES)),
            seed=_integer(props, SEED_KEY, defaults.seed),
            round_index=_integer(props, ROUND_INDEX_KEY, defaults.round_index),
        )


def _integer(props: Mapping[str, Any], key: str, default: int) -> int:
    value = props.get(key)
    return default if value is None else value


def _json_list(props: Mapping[str, Any], key: str, default) -> list:
    raw = props.get(key)
    if raw is None or raw == "":
        return list(default)
    if not isinstance(raw, str):
        return list(raw)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ConfigError(f"UncertaintySampler: {key} is not JSON: {err}") from None
    if not isinstance(value, list):
        raise ConfigError(f"UncertaintySampler: {key} must be a JSON list, got {raw!r}")
    return value
