"""The pipeline definition: components, wiring and Beam arguments, without running it."""

import json

import pytest

from activespec.errors import ConfigError
from pipeline.configs import config_from_dict
from pipeline.pipeline import create_pipeline


def _pipeline(tmp_path, raw=None, input_counts=None):
    config = config_from_dict(raw or {}, base_dir=tmp_path)
    return create_pipeline(
        config=config,
        pipeline_root=str(tmp_path / "root"),
        serving_model_dir=str(tmp_path / "serving"),
        input_counts=input_counts,
    )


def _by_id(pipeline):
    return {c.id: c for c in pipeline.components}


def test_default_round_has_every_component_and_no_tuner(tmp_path):
    nodes = _by_id(_pipeline(tmp_path))
    assert set(nodes) == {
        "LabelledIngest", "PoolIngest", "LabelJoin", "LabelledSchema", "PoolSchema",
        "LabelledStatisticsGen", "PoolStatisticsGen", "LabelledExampleValidator",
        "PoolExampleValidator", "LabelledValidationGate", "PoolValidationGate",
        "Trainer", "Evaluator", "Pusher", "PoolScorer", "NoveltyScorer", "UncertaintySampler",
    }  # fmt: skip
    trainer = nodes["Trainer"]
    assert {n.id for n in trainer.upstream_nodes} >= {"LabelledValidationGate", "LabelJoin"}
    assert {n.id for n in nodes["PoolScorer"].upstream_nodes} >= {"PoolValidationGate", "Trainer"}
    custom = json.loads(trainer.exec_properties["custom_config"])
    assert custom["preprocessing"]["n_points"] == 140
    assert custom["model"]["filters"] == [64, 128, 256]


@pytest.mark.parametrize(
    ("strategy", "extra_scores"),
    [("entropy", []), ("random", []), ("bald", ["bald"]), ("diverse_entropy", ["embedding"])],
)
def test_the_scorer_computes_what_the_strategy_needs_and_nothing_more(
    tmp_path, strategy, extra_scores
):
    raw = {
        "sampling": {"strategy": strategy, "mc_passes": 6, "seed": 3, "diversity_factor": 4},
        "novelty": {"enabled": False},
    }
    nodes = _by_id(_pipeline(tmp_path, raw))
    assert "NoveltyScorer" not in nodes
    scorer = nodes["PoolScorer"].exec_properties
    assert json.loads(scorer["extra_scores"]) == extra_scores
    assert (scorer["mc_passes"], scorer["seed"]) == (6, 3)
    sampler = nodes["UncertaintySampler"].exec_properties
    assert (sampler["strategy"], sampler["diversity_factor"]) == (strategy, 4)


def test_heavy_components_run_multi_processing_light_ones_in_process(tmp_path):
    pipeline = _pipeline(tmp_path, {"beam": {"direct_num_workers": 2}})
    assert "--direct_running_mode=in_memory" in pipeline.beam_pipeline_args
    nodes = _by_id(pipeline)
    for heavy in ("LabelledIngest", "PoolIngest", "PoolScorer"):
        args = nodes[heavy].executor_spec.beam_pipeline_args
        assert args[-2:] == ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    light = nodes["LabelledStatisticsGen"].executor_spec.beam_pipeline_args
    assert "--direct_running_mode=multi_processing" not in light


def test_heavy_components_of_small_inputs_run_in_process(tmp_path):
    raw = {"beam": {"direct_num_workers": 2, "in_process_below": 5000}}
    counts = {"LabelledIngest": 3000, "PoolIngest": 5000}
    nodes = _by_id(_pipeline(tmp_path, raw, counts))
    in_process = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
    assert nodes["LabelledIngest"].executor_spec.beam_pipeline_args[-2:] == in_process
    args = nodes["PoolIngest"].executor_spec.beam_pipeline_args
    assert args[-2:] == ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    # the scorer has its own limit (default 50,000), by the pool's files
    assert nodes["PoolScorer"].executor_spec.beam_pipeline_args[-2:] == in_process
    raw["beam"]["score_in_process_below"] = 5000
    nodes = _by_id(_pipeline(tmp_path, raw, counts))
    assert nodes["PoolScorer"].executor_spec.beam_pipeline_args[-2:] != in_process
    nodes = _by_id(_pipeline(tmp_path, {"beam": {"in_process_below": 0}}, counts))
    args = nodes["LabelledIngest"].executor_spec.beam_pipeline_args
    assert args[-2:] != in_process
    for key in ("in_process_below", "score_in_process_below"):
        with pytest.raises(ConfigError, match=key):
            config_from_dict({"beam": {key: -1}}, base_dir=tmp_path)


@pytest.mark.parametrize("algorithm", ["random", "bayesian"])
def test_tuning_on_by_configuration_feeds_the_trainer(tmp_path, algorithm):
    nodes = _by_id(_pipeline(tmp_path, {"tuning": {"enabled": True, "algorithm": algorithm}}))
    assert "Tuner" in nodes
    trainer = nodes["Trainer"]
    assert trainer.inputs["hyperparameters"].producer_component_id == "Tuner"
    tuner_config = json.loads(nodes["Tuner"].exec_properties["custom_config"])
    assert tuner_config["tuning"]["algorithm"] == algorithm


_CNN_NODES = {"Trainer", "Evaluator", "Pusher", "PoolScorer"}


def test_label_spreading_replaces_the_network(tmp_path):
    raw = {"model": {"kind": "label_spreading"}, "label_spreading": {"k": 7, "alpha": 0.9}}
    nodes = _by_id(_pipeline(tmp_path, raw))
    assert "LabelSpreading" in nodes and not _CNN_NODES & set(nodes)
    spreading = nodes["LabelSpreading"]
    assert {n.id for n in spreading.upstream_nodes} >= {
        "LabelJoin", "PoolIngest", "LabelledValidationGate", "PoolValidationGate",
    }  # fmt: skip
    props = spreading.exec_properties
    assert (props["k"], props["alpha"], props["space"]) == (7, 0.9, "flux")
    sampler = nodes["UncertaintySampler"]
    assert sampler.inputs["scores"].producer_component_id == "NoveltyScorer"
    # No network, no embedding: the novelty is measured in the pool's flux.
    novelty = nodes["NoveltyScorer"]
    assert novelty.inputs["pool_scores"].producer_component_id == "LabelSpreading"
    assert novelty.inputs["pool_examples"].producer_component_id == "PoolIngest"


@pytest.mark.parametrize("space", ["flux", "embedding"])
def test_both_scores_by_the_network_and_spreads_beside_it(tmp_path, space):
    raw = {"model": {"kind": "both"}, "label_spreading": {"space": space}}
    nodes = _by_id(_pipeline(tmp_path, raw))
    assert _CNN_NODES | {"LabelSpreading"} <= set(nodes)
    # The network's scores drive the queries; the spreading is compared in the summary.
    assert nodes["UncertaintySampler"].inputs["scores"].producer_component_id == "NoveltyScorer"
    assert nodes["NoveltyScorer"].inputs["pool_scores"].producer_component_id == "PoolScorer"
    upstream = {n.id for n in nodes["LabelSpreading"].upstream_nodes}
    assert ("Trainer" in upstream) == (space == "embedding")


def test_label_spreading_refuses_strategies_that_need_the_network(tmp_path):
    from activespec.errors import ConfigError

    raw = {"model": {"kind": "label_spreading"}, "sampling": {"strategy": "bald"}}
    with pytest.raises(ConfigError, match="'bald' needs the network's bald"):
        config_from_dict(raw, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("strategy", "extra_scores", "kept"),
    [("entropy", ["embedding"], 0), ("bald", ["bald", "embedding"], 0),
     ("diverse_entropy", ["embedding"], 1)],
)  # fmt: skip
def test_the_novelty_scorer_sits_between_the_scorer_and_the_sampler(
    tmp_path, strategy, extra_scores, kept
):
    raw = {
        "sampling": {"strategy": strategy, "seed": 5, "novelty_fraction": 0.2},
        "novelty": {"k": 7, "map_size": 1000, "novel_list_size": 9, "confident_other": 0.8},
    }
    nodes = _by_id(_pipeline(tmp_path, raw))
    # The scorer adds the embedding the novelty is measured in.
    assert json.loads(nodes["PoolScorer"].exec_properties["extra_scores"]) == extra_scores
    novelty = nodes["NoveltyScorer"]
    assert novelty.inputs["pool_scores"].producer_component_id == "PoolScorer"
    assert novelty.inputs["labelled_examples"].producer_component_id == "LabelJoin"
    props = novelty.exec_properties
    assert (props["k"], props["map_size"], props["novel_list_size"]) == (7, 1000, 9)
    assert (props["confident_other"], props["seed"], props["map_method"]) == (0.8, 5, "tsne")
    assert props["novelty_space"] == "flux"
    # The embedding stays in the records only for the strategy that clusters by it.
    assert props["keep_embedding"] == kept
    sampler = nodes["UncertaintySampler"]
    assert sampler.inputs["scores"].producer_component_id == "NoveltyScorer"
    assert sampler.exec_properties["novelty_fraction"] == 0.2


def test_novelty_fraction_needs_the_novelty_scorer(tmp_path):
    from activespec.errors import ConfigError

    raw = {"sampling": {"novelty_fraction": 0.1}, "novelty": {"enabled": False}}
    with pytest.raises(ConfigError, match="novelty_fraction"):
        config_from_dict(raw, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="novelty.map_method"):
        config_from_dict({"novelty": {"map_method": "umap"}}, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("novelty", "extra_scores"),
    [({"map_method": "none"}, []), ({"map_method": "none", "space": "embedding"}, ["embedding"])],
)
def test_the_scorer_writes_the_embedding_only_for_the_map_or_an_embedding_novelty(
    tmp_path, novelty, extra_scores
):
    nodes = _by_id(_pipeline(tmp_path, {"novelty": novelty}))
    assert json.loads(nodes["PoolScorer"].exec_properties["extra_scores"]) == extra_scores
    assert nodes["NoveltyScorer"].exec_properties["novelty_space"] == novelty.get("space", "flux")
