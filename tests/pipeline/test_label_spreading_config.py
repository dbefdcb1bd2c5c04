"""``[model] kind`` and ``[label_spreading]``: defaults, overrides and refusals."""

import pytest

from activespec import label_spreading as ls
from activespec.errors import ConfigError
from pipeline.configs import MODEL_KINDS, config_from_dict


def test_defaults_are_the_cnn_and_the_2016_label_spreading(tmp_path):
    config = config_from_dict({}, base_dir=tmp_path)
    assert config.model_kind == "cnn"
    section = config.label_spreading
    assert (section.k, section.alpha, section.iterations, section.tolerance, section.space) == (
        ls.DEFAULT_K,
        ls.DEFAULT_ALPHA,
        ls.DEFAULT_MAX_ITERATIONS,
        ls.DEFAULT_TOLERANCE,
        ls.SPACE_FLUX,
    )
    assert config.to_dict()["model"]["kind"] == "cnn"
    assert config.to_dict()["label_spreading"]["k"] == 5


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_model_kind_is_accepted_beside_the_network_s_keys(tmp_path, kind):
    raw = {"model": {"kind": kind, "dropout": 0.3}, "label_spreading": {"k": 7, "alpha": 0.5}}
    config = config_from_dict(raw, base_dir=tmp_path)
    assert config.model_kind == kind
    # kind is not a hyperparameter of the network.
    assert config.model_config().dropout == 0.3
    assert (config.label_spreading.k, config.label_spreading.alpha) == (7, 0.5)
    # The dict form loads again to the same configuration.
    again = config_from_dict(config.to_dict(), base_dir=tmp_path)
    assert again.model_kind == kind and again.label_spreading == config.label_spreading


def test_embedding_space_with_the_network_trained_beside_it(tmp_path):
    raw = {"model": {"kind": "both"}, "label_spreading": {"space": "embedding"}}
    assert config_from_dict(raw, base_dir=tmp_path).label_spreading.space == "embedding"


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"model": {"kind": "svm"}}, "model.kind: 'svm' is not one of"),
        ({"model": {"kind": 2}}, "model.kind"),
        ({"label_spreading": {"k": 0}}, "label_spreading.k"),
        ({"label_spreading": {"k": 2.5}}, "label_spreading.k: expected an integer"),
        ({"label_spreading": {"alpha": 1.0}}, "label_spreading: alpha"),
        ({"label_spreading": {"iterations": 0}}, "label_spreading: iterations"),
        ({"label_spreading": {"tolerance": -0.1}}, "label_spreading: tolerance"),
        ({"label_spreading": {"space": "pca"}}, "label_spreading.space"),
        ({"label_spreading": {"neighbours": 5}}, "unknown key label_spreading.neighbours"),
        (
            {"model": {"kind": "label_spreading"}, "label_spreading": {"space": "embedding"}},
            'kind = "both"',
        ),
    ],
)
def test_bad_values_fail_with_a_message_naming_the_key(tmp_path, raw, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw, base_dir=tmp_path)
    assert message in str(err.value)
