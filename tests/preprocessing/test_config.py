"""PreprocessConfig defaults, (de)serialisation and validation."""

import dataclasses
import json

import pytest

from activespec.errors import ConfigError
from activespec.preprocessing import PreprocessConfig


def test_defaults_reproduce_the_published_pipeline():
    config = PreprocessConfig()
    assert (config.grid_start, config.grid_stop, config.n_points) == (6519.0, 6732.0, 140)
    assert round(config.grid_step, 3) == 1.532
    assert config.target_resolving_power == 1800.0
    assert config.source_resolving_power is None
    assert config.sigma_pixels is None
    assert config.max_gap_pixels == 5
    assert config.max_bad_fraction == 0.2
    assert config.scaling == "minmax"
    assert config.continuum is False


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PreprocessConfig().n_points = 100


def test_dict_round_trip_through_json():
    config = PreprocessConfig(sigma_pixels=7.0, scaling="robust", continuum=True)
    restored = PreprocessConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config
    assert restored.fingerprint() == config.fingerprint()
    assert PreprocessConfig().fingerprint() != config.fingerprint()


def test_partial_dict_keeps_defaults_and_integers_become_floats():
    config = PreprocessConfig.from_dict({"grid_start": 6520, "n_points": 100.0})
    assert config.grid_start == 6520.0 and isinstance(config.grid_start, float)
    assert config.n_points == 100 and isinstance(config.n_points, int)
    assert config.grid_stop == 6732.0


def test_unknown_keys_are_named_in_the_error():
    with pytest.raises(ConfigError, match="n_point") as info:
        PreprocessConfig.from_dict({"n_point": 140, "grid_start": 6519.0})
    assert "known options" in str(info.value)


def test_from_dict_needs_a_mapping():
    with pytest.raises(ConfigError, match="mapping"):
        PreprocessConfig.from_dict([("n_points", 140)])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("grid_stop", 6519.0, "grid_stop"),
        ("grid_start", -1.0, "grid_start"),
        ("grid_start", float("nan"), "finite"),
        ("grid_start", "6519", "number"),
        ("n_points", 7, "n_points"),
        ("n_points", 140.5, "integer"),
        ("n_points", True, "integer"),
        ("target_resolving_power", 0.0, "target_resolving_power"),
        ("source_resolving_power", -13000.0, "source_resolving_power"),
        ("sigma_pixels", -7.0, "sigma_pixels"),
        ("max_gap_pixels", -1, "max_gap_pixels"),
        ("max_bad_fraction", 0.0, "max_bad_fraction"),
        ("max_bad_fraction", 1.5, "max_bad_fraction"),
        ("scaling", "zscore", "scaling"),
        ("continuum", "yes", "continuum"),
        ("min_constant_run", 1, "min_constant_run"),
    ],
)
def test_invalid_values_raise_config_error(field, value, message):
    with pytest.raises(ConfigError, match=message):
        PreprocessConfig.from_dict({field: value})


def test_max_bad_fraction_of_one_is_allowed():
    assert PreprocessConfig(max_bad_fraction=1).max_bad_fraction == 1.0
