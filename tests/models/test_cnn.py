"""The published CNN architecture and its configuration."""

import numpy as np
import pytest
import tf_keras

from activespec import errors
from models import cnn


@pytest.fixture(scope="module")
def published():
    return cnn.build_cnn()


def test_published_architecture_has_2_48_million_parameters(published):
    # 382,016 convolution + 2,099,715 dense parameters (Škoda et al. 2020: about 2.48 M).
    assert published.count_params() == 2_481_731
    assert published.get_layer("flatten").output_shape == (None, 3584)


def test_layer_stack_follows_the_paper(published):
    convs = [layer for layer in published.layers if isinstance(layer, tf_keras.layers.Conv1D)]
    assert [layer.filters for layer in convs] == [64, 64, 128, 128, 256, 256]
    assert {layer.kernel_size for layer in convs} == {(3,)}
    assert {layer.padding for layer in convs} == {"valid"}
    pools = [layer for layer in published.layers if isinstance(layer, tf_keras.layers.MaxPooling1D)]
    assert len(pools) == 3
    dense = [layer for layer in published.layers if isinstance(layer, tf_keras.layers.Dense)]
    assert [layer.units for layer in dense] == [512, 512, 3]
    dropouts = [
        layer.rate for layer in published.layers if isinstance(layer, tf_keras.layers.Dropout)
    ]
    assert dropouts == [0.5, 0.5]
    assert published.input_names == ["flux"]
    assert published.input_shape == (None, 140)
    assert isinstance(published.optimizer, tf_keras.optimizers.Adam)
    assert isinstance(published.loss, tf_keras.losses.SparseCategoricalCrossentropy)


def test_output_is_a_probability_distribution(published):
    flux = np.random.default_rng(0).uniform(-1, 1, (8, 140)).astype("float32")
    p = published.predict(flux, verbose=0)
    assert p.shape == (8, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(p >= 0)


def test_other_sizes_build():
    model = cnn.build_cnn(n_points=64, n_classes=5, filters=(8, 16), dense_units=(32,), dropout=0.1)
    assert model.output_shape == (None, 5)
    assert model.input_shape == (None, 64)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_classes": 1},
        {"dropout": 1.0},
        {"learning_rate": 0.0},
        {"filters": ()},
        {"kernel_size": 0},
        {"n_points": 20},  # too short for three blocks of two valid convolutions
    ],
)
def test_bad_hyperparameters_raise_config_error(kwargs):
    with pytest.raises(errors.ConfigError):
        cnn.build_cnn(**kwargs)


def test_conv_output_length():
    assert cnn.conv_output_length(140, (64, 128, 256), 2, 3) == 14
    assert cnn.conv_output_length(20, (64, 128, 256), 2, 3) == 0


def test_model_config_defaults_are_the_published_settings():
    config = cnn.ModelConfig()
    assert (config.batch_size, config.patience, config.min_delta) == (64, 10, 1e-3)
    assert config.max_epochs == 100 and config.class_weighting == "balanced"
    assert cnn.build_from_config(config, 3).count_params() == 2_481_731


def test_model_config_round_trips_through_a_dict():
    config = cnn.ModelConfig.from_dict({"filters": [8, 16, 32], "dense_units": [64], "patience": 3})
    assert config.filters == (8, 16, 32) and config.dense_units == (64,)
    assert cnn.ModelConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["filters"] == [8, 16, 32]
    assert cnn.ModelConfig.from_dict(None) == cnn.ModelConfig()


def test_model_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(errors.ConfigError, match="unknown model config key"):
        cnn.ModelConfig.from_dict({"learnig_rate": 0.01})
    with pytest.raises(errors.ConfigError, match="class_weighting"):
        cnn.ModelConfig.from_dict({"class_weighting": "smote"})
    with pytest.raises(errors.ConfigError, match="batch_size"):
        cnn.ModelConfig.from_dict({"batch_size": 0})
    with pytest.raises(errors.ConfigError, match="filters"):
        cnn.ModelConfig.from_dict({"filters": 64})
    with pytest.raises(errors.ConfigError):
        cnn.ModelConfig.from_dict(["batch_size", 64])
