"""Parameters of the UncertaintySampler component: validation and (de)serialisation.

Their names are :mod:`components.uncertainty_sampler.spec`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from activespec.constants import DEFAULT_CLASSES
from activespec.errors import ConfigError
from activespec.settings import SAMPLING_STRATEGIES, SamplingSettings, check_class_names

from .spec import (
    CLASS_NAMES_KEY,
    DIVERSITY_FACTOR_KEY,
    MC_PASSES_KEY,
    NOVELTY_FRACTION_KEY,
    PERFORMANCE_SAMPLE_SIZE_KEY,
    POSITIVE_CLASSES_KEY,
    PREVIOUS_CANDIDATES_KEY,
    QUERY_SIZE_KEY,
    RECALL_SAMPLE_SIZE_KEY,
    RECALL_STRATA_KEY,
    REEXAMINE_SIZE_KEY,
    ROUND_INDEX_KEY,
    SEED_KEY,
    STRATEGY_KEY,
)

#: The strategies the sampler knows (defined in :mod:`activespec.settings`).
STRATEGIES = SAMPLING_STRATEGIES
_WHERE = "UncertaintySampler: "


@dataclasses.dataclass(frozen=True)
class SamplerParams(SamplingSettings):
    """Validated parameters of one sampling round: the sampling settings
    (:class:`activespec.settings.SamplingSettings`, whose defaults the component takes)
    and the round's classes and index.

    Attributes
    ----------
    class_names : tuple of str
        Class names in probability order.
    round_index : int
        With ``seed``, fixes the random samples; another round draws other samples.
    previous_candidates : str
        The previous round's ``candidates.csv`` ("" for none): its spectra that are now
        unlabelled and predicted negative are the lost candidates ``reexamine_size`` shows
        again.
    """

    class_names: tuple[str, ...] = DEFAULT_CLASSES
    round_index: int = 0
    previous_candidates: str = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, where: str = _WHERE) -> None:
        """Raise :class:`~activespec.errors.ConfigError` naming the first bad value."""
        super().validate(where)
        if self.round_index < 0:
            raise ConfigError(f"{where}round_index must be >= 0, got {self.round_index}")
        check_class_names(self.class_names, f"{where}class_names")
        self.check_positive_classes(self.class_names, where)

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
            MC_PASSES_KEY: self.mc_passes,
            DIVERSITY_FACTOR_KEY: self.diversity_factor,
            REEXAMINE_SIZE_KEY: self.reexamine_size,
            PREVIOUS_CANDIDATES_KEY: self.previous_candidates,
            NOVELTY_FRACTION_KEY: float(self.novelty_fraction),
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
            recall_strata=tuple(_json_list(props, RECALL_STRATA_KEY, defaults.recall_strata)),
            positive_classes=tuple(
                _json_list(props, POSITIVE_CLASSES_KEY, defaults.positive_classes)
            ),
            class_names=tuple(_json_list(props, CLASS_NAMES_KEY, defaults.class_names)),
            seed=_integer(props, SEED_KEY, defaults.seed),
            round_index=_integer(props, ROUND_INDEX_KEY, defaults.round_index),
            mc_passes=_integer(props, MC_PASSES_KEY, defaults.mc_passes),
            diversity_factor=_integer(props, DIVERSITY_FACTOR_KEY, defaults.diversity_factor),
            reexamine_size=_integer(props, REEXAMINE_SIZE_KEY, defaults.reexamine_size),
            previous_candidates=props.get(PREVIOUS_CANDIDATES_KEY) or "",
            novelty_fraction=float(props.get(NOVELTY_FRACTION_KEY) or 0.0),
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
