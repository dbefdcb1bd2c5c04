"""Settings defined once: the sampling settings and the class-name check."""

from __future__ import annotations

import dataclasses

import pytest

from activespec.errors import ConfigError
from activespec.settings import DISTRIBUTION_STRATEGIES, SamplingSettings, check_class_names
from components.uncertainty_sampler.params import SamplerParams
from pipeline.configs import DataSection, DistributionSection, SamplingSection


def test_the_sampler_parameters_extend_the_configured_sampling_settings():
    assert SamplingSection is SamplingSettings
    settings = {f.name for f in dataclasses.fields(SamplingSettings)}
    params = SamplerParams()
    assert settings <= {f.name for f in dataclasses.fields(SamplerParams)}
    assert {name: getattr(params, name) for name in settings} == dataclasses.asdict(
        SamplingSettings()
    )


def test_the_labelled_split_default_has_the_evaluators_test_split():
    assert set(DataSection().splits) == {"train", "eval", "test"}


@pytest.mark.parametrize(
    "names", [["only"], ["a", "a"], ["a", ""], "ab", ["a", 3], [["a"], "b"], {"a": 0, "b": 1}, 2]
)
def test_class_names_need_two_distinct_non_empty_names(names):
    with pytest.raises(ConfigError, match="data.classes"):
        check_class_names(names, "data.classes")


def test_class_names_come_back_as_a_tuple():
    assert check_class_names(["a", "b"]) == ("a", "b")


@pytest.mark.parametrize("kind", DISTRIBUTION_STRATEGIES)
def test_every_distribution_strategy_is_configurable(kind):
    DistributionSection(strategy=kind).validate()


def test_the_trainer_builds_the_configured_strategies():
    # models.strategy imports TensorFlow; the configuration's list must not.
    from models import strategy

    assert strategy.STRATEGY_KINDS is DISTRIBUTION_STRATEGIES
    for kind in DISTRIBUTION_STRATEGIES:
        assert strategy.StrategyConfig(kind=kind).kind == kind
