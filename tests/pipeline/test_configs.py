"""Configuration: published defaults, strict validation before anything runs."""

import pytest

from activespec.errors import ConfigError
from pipeline.configs import config_from_dict, load_config


def test_defaults_reproduce_the_published_setting(tmp_path):
    config = load_config(None, base_dir=tmp_path)
    assert config.data.classes == ("other", "emission", "double-peak")
    assert config.sampling.strategy == "entropy"
    # The published 130 labels per round, 30 of the query's spent on a recall sample.
    assert config.sampling.query_size == 70
    assert config.sampling.performance_sample_size == 30
    assert config.sampling.recall_sample_size == 30
    assert config.sampling.recall_strata == (0.01, 0.05, 0.2, 0.5)
    pre = config.preprocess_config()
    assert (pre.grid_start, pre.grid_stop, pre.n_points) == (6519.0, 6732.0, 140)
    assert pre.scaling == "minmax"
    model = config.model_config()
    assert model.batch_size == 64 and model.patience == 10
    # Relative data paths resolve against the work directory.
    assert config.labelled_patterns == [str(tmp_path.resolve() / "survey/labelled/*.fits*")]


def test_toml_file_overrides_and_resolves_paths_against_its_directory(tmp_path):
    cfg = tmp_path / "conf" / "round.toml"
    cfg.parent.mkdir()
    cfg.write_text(
        '[data]\npool = ["../lamost/*.fits.gz"]\n'
        '[sampling]\nstrategy = "margin"\nquery_size = 7\nrecall_strata = [0.1, 0.5]\n'
        "[model]\nmax_epochs = 3\n"
        '[beam]\ndirect_num_workers = 3\nextra_args = ["--foo=bar"]\n'
    )
    config = load_config(cfg)
    assert config.pool_patterns == [str(cfg.parent.resolve() / "../lamost/*.fits.gz")]
    assert config.sampling.strategy == "margin" and config.sampling.query_size == 7
    assert config.sampling.recall_strata == (0.1, 0.5)
    assert config.model_config().max_epochs == 3
    args = config.beam.pipeline_args()
    assert "--direct_running_mode=in_memory" in args and args[-1] == "--foo=bar"
    assert "--direct_num_workers=3" in config.beam.heavy_component_args()


def test_tfx_builds_no_package_of_itself_for_the_direct_runner(tmp_path, monkeypatch):
    from tfx.utils import dependency_utils

    def build_ephemeral_package():
        raise AssertionError("TFX packed itself for a DirectRunner component")

    monkeypatch.setattr(dependency_utils, "build_ephemeral_package", build_ephemeral_package)
    args = config_from_dict({}, base_dir=tmp_path).beam.pipeline_args()
    assert dependency_utils.make_beam_dependency_flags(args) == args


@pytest.mark.parametrize(
    "strategy", ["entropy", "margin", "least_confidence", "bald", "diverse_entropy", "random"]
)
def test_every_query_strategy_is_accepted(tmp_path, strategy):
    config = config_from_dict(
        {"sampling": {"strategy": strategy, "mc_passes": 4, "diversity_factor": 3}},
        base_dir=tmp_path,
    )
    assert config.sampling.strategy == strategy
    assert (config.sampling.mc_passes, config.sampling.diversity_factor) == (4, 3)
    assert config.to_dict()["sampling"]["strategy"] == strategy


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"sampling": {"strategy": "random-ish"}}, "sampling.strategy"),
        ({"sampling": {"strategy": "diverse-entropy"}}, "sampling.strategy"),
        ({"sampling": {"strategy": "BALD"}}, "sampling.strategy"),
        ({"sampling": {"mc_passes": 0}}, "sampling.mc_passes"),
        ({"sampling": {"diversity_factor": 0}}, "sampling.diversity_factor"),
        ({"sampling": {"mc_passes": 2.5}}, "sampling.mc_passes"),
        ({"sampling": {"query_size": 0}}, "sampling.query_size"),
        ({"sampling": {"qurey_size": 10}}, "unknown key sampling.qurey_size"),
        ({"samplng": {}}, "unknown section [samplng]"),
        ({"data": {"classes": ["a"]}}, "data.classes"),
        ({"data": {"pool": "pool/*.fits"}}, "data.pool: expected a list"),
        ({"data": {"splits": {"train": 3, "eval": 1}}}, "data.splits"),
        ({"evaluation": {"min_macro_f1": 1.5}}, "evaluation.min_macro_f1"),
        ({"distribution": {"strategy": "gpu-please"}}, "distribution.strategy"),
        ({"beam": {"direct_num_workers": "two"}}, "beam.direct_num_workers: expected an integer"),
        ({"pipeline": {"enable_cache": "yes"}}, "pipeline.enable_cache: expected true or false"),
        ({"sampling": {"positive_classes": ["be-star"]}}, "sampling.positive_classes"),
        ({"sampling": {"recall_sample_size": -1}}, "sampling.recall_sample_size"),
        ({"sampling": {"recall_strata": [0.3, 0.1]}}, "sampling.recall_strata: bounds"),
        ({"sampling": {"recall_strata": ["low"]}}, "sampling.recall_strata: every item"),
        ({"preprocessing": {"n_pointz": 140}}, "n_pointz"),
        ({"model": {"dropout": "half"}}, "dropout"),
        ({"model": {"seed": -1}}, "seed must be an integer >= 0"),
    ],
)
def test_bad_values_fail_with_a_message_naming_the_key(tmp_path, raw, message):
    with pytest.raises(ConfigError) as err:
        config_from_dict(raw, base_dir=tmp_path)
    assert message in str(err.value)


def test_unreadable_files_fail_clearly(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sampling\nstrategy = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_round_cli_rejects_bad_config_before_running(tmp_path, capsys):
    from activespec_cli import main

    cfg = tmp_path / "bad.toml"
    cfg.write_text('[sampling]\nstrategy = "most-interesting"\n')
    assert main(["round", "--workdir", str(tmp_path / "w"), "--config", str(cfg)]) == 2
    assert "sampling.strategy" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()
