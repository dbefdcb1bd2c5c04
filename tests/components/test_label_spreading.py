"""LabelSpreading: the executor on small simulated labelled and pool sets, and its output
contract, PoolScorer's scores as the UncertaintySampler reads them."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from tfx import types
from tfx.types import standard_artifacts

from activespec import errors, uncertainty
from activespec import label_spreading as ls
from activespec.constants import DEFAULT_CLASSES
from components import score_features
from components.artifact_types import PoolScores
from components.label_spreading import LabelSpreading
from components.label_spreading import executor as spreading_executor
from components.label_spreading import spec as c
from components.pool_scorer import scores_file_pattern
from components.uncertainty_sampler.executor import Executor as SamplerExecutor
from components.uncertainty_sampler.params import SamplerParams
from components.uncertainty_sampler.records import parse_score_record
from models import export, features
from models.cnn import build_cnn
from tests.models import simulated

N_LABELLED = 300
N_POOL = 500
#: Pool spectra labelled in an earlier round (LabelJoin put them in ``train``).
N_POOL_LABELLED = 20


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Labelled splits (with some pool spectra among ``train``) and a pool with its truth."""
    rng = np.random.default_rng(10)
    flux, labels = simulated.simulate_labelled(N_LABELLED, rng)
    pool_truth = rng.choice(3, size=N_POOL, p=[0.7, 0.2, 0.1])
    pool_flux = simulated.simulate_flux(pool_truth, rng)
    pool_records = simulated.make_examples(pool_flux, prefix="pool", rng=rng)
    labelled_records = simulated.make_examples(flux, labels, prefix="lab", rng=rng)
    joined = [
        simulated.make_example(pool_flux[i], f"pool-{i:06d}", label=int(pool_truth[i]))
        for i in range(N_POOL_LABELLED)
    ]
    root = tmp_path_factory.mktemp("data")
    labelled = simulated.examples_artifact(
        str(root / "labelled"),
        {
            "train": labelled_records[:240] + joined,
            "eval": labelled_records[240:270],
            "test": labelled_records[270:],
        },
    )
    pool = simulated.examples_artifact(str(root / "pool"), {"pool": pool_records}, n_files=3)
    return labelled, pool, pool_truth, pool_records


def _run(labelled, pool, out_dir, model=None, **props):
    scores = PoolScores()
    scores.uri = str(out_dir / "scores")
    os.makedirs(scores.uri, exist_ok=True)
    exec_properties = {
        c.CLASS_NAMES_KEY: json.dumps(list(DEFAULT_CLASSES)),
        c.SPLIT_KEY: "pool",
        c.LABELLED_SPLITS_KEY: json.dumps([]),
        c.N_POINTS_KEY: 140,
        c.K_KEY: ls.DEFAULT_K,
        c.ALPHA_KEY: ls.DEFAULT_ALPHA,
        c.ITERATIONS_KEY: ls.DEFAULT_MAX_ITERATIONS,
        c.TOLERANCE_KEY: ls.DEFAULT_TOLERANCE,
        c.SPACE_KEY: ls.SPACE_FLUX,
        **props,
    }
    inputs = {c.LABELLED_EXAMPLES_KEY: [labelled], c.POOL_EXAMPLES_KEY: [pool]}
    if model is not None:
        inputs[c.MODEL_KEY] = [model]
    spreading_executor.Executor().Do(inputs, {c.SCORES_KEY: [scores]}, exec_properties)
    return scores


def _records(scores):
    files = tf.io.gfile.glob(scores_file_pattern(scores.uri))
    assert files, "no score files written"
    return [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]


@pytest.fixture(scope="module")
def spread(data, tmp_path_factory):
    labelled, pool, _, _ = data
    scores = _run(labelled, pool, tmp_path_factory.mktemp("run"))
    rows = {}
    for record in _records(scores):
        row = parse_score_record(record, len(DEFAULT_CLASSES))
        rows[row[score_features.SPECTRUM_ID]] = row
    return scores, rows


def test_every_pool_spectrum_is_scored_once_with_the_scorer_s_keys(spread, data):
    scores, rows = spread
    assert len(rows) == N_POOL == scores.get_int_custom_property(c.NUM_SCORED_PROPERTY)
    assert set(rows) == {f"pool-{i:06d}" for i in range(N_POOL)}
    assert scores.get_int_custom_property(c.NUM_REJECTED_PROPERTY) == 0
    # The keys PoolScorer writes without extra scores, no more, no fewer.
    example = tf.train.Example.FromString(_records(scores)[0])
    expected = {
        *score_features.PASSTHROUGH,
        score_features.PROBABILITIES,
        score_features.PREDICTED_LABEL,
        score_features.PREDICTED_CLASS,
        score_features.ENTROPY,
        score_features.MARGIN,
        score_features.LEAST_CONFIDENCE,
    }
    assert set(example.features.feature) == expected


def test_scores_are_the_spread_distributions_and_their_uncertainty(spread, data):
    _, rows = spread
    _, _, truth, _ = data
    ids = sorted(rows)
    p = np.array([rows[i][score_features.PROBABILITIES] for i in ids])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    for key, measure in (
        (score_features.ENTROPY, uncertainty.entropy),
        (score_features.MARGIN, uncertainty.margin),
        (score_features.LEAST_CONFIDENCE, uncertainty.least_confidence),
    ):
        np.testing.assert_allclose([rows[i][key] for i in ids], measure(p), atol=1e-5)
    predicted = np.array([rows[i][score_features.PREDICTED_LABEL] for i in ids])
    np.testing.assert_array_equal(predicted, p.argmax(axis=1))
    assert [rows[i][score_features.PREDICTED_CLASS] for i in ids[:3]] == [
        DEFAULT_CLASSES[k] for k in predicted[:3]
    ]
    # The simulated classes are well separated: the labels reach them.
    pool_truth = np.array([truth[int(i.split("-")[1])] for i in ids])
    assert (predicted == pool_truth).mean() > 0.9


def test_a_labelled_pool_spectrum_is_one_node_carrying_its_label(spread, data):
    scores, rows = spread
    _, _, truth, _ = data
    # 300 labelled instrument spectra + 20 pool spectra labelled earlier, not 320 + 20.
    assert scores.get_int_custom_property(c.NUM_LABELLED_NODES_PROPERTY) == N_LABELLED + 20
    kept = [
        rows[f"pool-{i:06d}"][score_features.PREDICTED_LABEL] == truth[i]
        for i in range(N_POOL_LABELLED)
    ]
    # Soft clamping (alpha = 0.99) lets a label yield to a neighbourhood that disagrees.
    assert np.mean(kept) >= 0.9


def test_metadata_passes_through_unchanged(spread, data):
    _, rows = spread
    _, _, _, records = data
    for record in records[:8]:
        feature = record.features.feature
        spectrum_id = feature[features.SPECTRUM_ID].bytes_list.value[0].decode()
        row = rows[spectrum_id]
        ra = feature[features.RA].float_list.value[0]
        assert row[score_features.RA] == pytest.approx(ra, nan_ok=True)
        designation = feature[features.DESIGNATION].bytes_list.value[0].decode()
        assert row[score_features.DESIGNATION] == designation


def test_run_properties_are_recorded(spread):
    scores, _ = spread
    assert json.loads(scores.get_string_custom_property(c.CLASS_NAMES_KEY)) == list(DEFAULT_CLASSES)
    assert scores.get_string_custom_property(c.SPLIT_KEY) == "pool"
    assert scores.get_string_custom_property(c.SPACE_KEY) == "flux"
    assert json.loads(scores.get_string_custom_property(c.EXTRA_SCORES_KEY)) == []
    iterations = scores.get_int_custom_property(c.ITERATIONS_DONE_PROPERTY)
    assert 1 <= iterations <= ls.DEFAULT_MAX_ITERATIONS
    assert scores.get_int_custom_property(c.CONVERGED_PROPERTY) == 1
    assert scores.get_float_custom_property(c.FINAL_CHANGE_PROPERTY) <= ls.DEFAULT_TOLERANCE
    assert scores.get_int_custom_property(c.GRAPH_EDGES_PROPERTY) >= (N_POOL + N_LABELLED) * 5 / 2


def test_the_uncertainty_sampler_reads_the_scores_unchanged(spread, data, tmp_path):
    scores, rows = spread
    labelled, _, _, _ = data
    from components.artifact_types import Candidates, PerformanceSample, QueryBatch, RecallSample

    outputs = {
        "query": QueryBatch(),
        "performance_sample": PerformanceSample(),
        "recall_sample": RecallSample(),
        "candidates": Candidates(),
    }
    for name, artifact in outputs.items():
        artifact.uri = str(tmp_path / name)
    SamplerExecutor().Do(
        {"scores": [scores], "labelled_examples": [labelled]},
        {name: [artifact] for name, artifact in outputs.items()},
        SamplerParams(query_size=10, round_index=0).to_exec_properties(),
    )
    with open(os.path.join(outputs["query"].uri, "query.json")) as handle:
        query = json.load(handle)
    query_ids = [row[score_features.SPECTRUM_ID] for row in query]
    assert len(query_ids) == 10
    # Entropy ranking of the spread distributions; labelled pool spectra are not queried.
    assert not {f"pool-{i:06d}" for i in range(N_POOL_LABELLED)} & set(query_ids)
    entropies = sorted((row[score_features.ENTROPY] for row in rows.values()), reverse=True)
    assert min(rows[i][score_features.ENTROPY] for i in query_ids) >= entropies[40] - 1e-6


def test_labelled_splits_select_the_seeds(data, tmp_path):
    labelled, pool, _, _ = data
    scores = _run(labelled, pool, tmp_path, **{c.LABELLED_SPLITS_KEY: json.dumps(["eval"])})
    assert scores.get_int_custom_property(c.NUM_LABELLED_NODES_PROPERTY) == 30


def test_broken_pool_records_are_rejected_and_counted(data, tmp_path):
    labelled, _, _, _ = data
    rng = np.random.default_rng(3)
    flux = simulated.simulate_flux(np.zeros(30, int), rng)
    records = simulated.make_examples(flux, prefix="ok", rng=rng)
    nan_flux = flux[0].copy()
    nan_flux[5] = np.nan
    records += [
        simulated.make_example(nan_flux, "bad-nan"),
        simulated.make_example(flux[0][:139], "bad-short"),
        simulated.make_example(flux[0], "bad-no-id", omit=(features.SPECTRUM_ID,)),
    ]
    pool = simulated.examples_artifact(str(tmp_path / "pool"), {"pool": records}, n_files=1)
    scores = _run(labelled, pool, tmp_path)
    assert scores.get_int_custom_property(c.NUM_SCORED_PROPERTY) == 30 == len(_records(scores))
    assert scores.get_int_custom_property(c.NUM_REJECTED_PROPERTY) == 3


def test_bad_configuration_fails_with_a_message(data, tmp_path):
    labelled, pool, _, _ = data
    with pytest.raises(errors.ConfigError, match="needs a trained model"):
        _run(labelled, pool, tmp_path, **{c.SPACE_KEY: "embedding"})
    with pytest.raises(errors.ConfigError, match="space must be one of"):
        _run(labelled, pool, tmp_path, **{c.SPACE_KEY: "pca"})
    with pytest.raises(errors.ConfigError, match="no split 'train'"):
        _run(labelled, pool, tmp_path, **{c.SPLIT_KEY: "train"})
    with pytest.raises(errors.ConfigError, match="no split 'holdout'"):
        _run(labelled, pool, tmp_path, **{c.LABELLED_SPLITS_KEY: json.dumps(["holdout"])})


def test_no_labelled_example_is_refused_before_the_graph(data, tmp_path):
    _, pool, _, _ = data
    rng = np.random.default_rng(4)
    flux = simulated.simulate_flux(np.zeros(10, int), rng)
    unlabelled = simulated.examples_artifact(
        str(tmp_path / "lab"), {"train": simulated.make_examples(flux, prefix="u", rng=rng)}
    )
    with pytest.raises(ls.LabelSpreadingInputError, match="no usable labelled example"):
        _run(unlabelled, pool, tmp_path)


def test_component_interface():
    examples = types.Channel(type=standard_artifacts.Examples)
    model = types.Channel(type=standard_artifacts.Model)
    component = LabelSpreading(
        labelled_examples=examples, pool_examples=examples, class_names=["other", "emission"]
    )
    assert component.outputs["scores"].type is PoolScores
    props = component.exec_properties
    assert json.loads(props["class_names"]) == ["other", "emission"]
    assert (props["k"], props["alpha"], props["iterations"], props["tolerance"]) == (
        ls.DEFAULT_K,
        ls.DEFAULT_ALPHA,
        ls.DEFAULT_MAX_ITERATIONS,
        ls.DEFAULT_TOLERANCE,
    )
    assert props["space"] == "flux" and json.loads(props["labelled_splits"]) == []
    with_model = LabelSpreading(
        labelled_examples=examples,
        pool_examples=examples,
        class_names=["other", "emission"],
        model=model,
        space="embedding",
        k=10,
    )
    assert with_model.exec_properties["k"] == 10
    for bad, message in (
        ({"space": "embedding"}, "needs a trained model"),
        ({"k": 0}, "k must be"),
        ({"alpha": 1.5}, "alpha"),
        ({"iterations": 0}, "max_iterations"),
        ({"tolerance": -1.0}, "tolerance"),
        ({"labelled_splits": "train"}, "labelled_splits"),
    ):
        with pytest.raises(errors.ConfigError, match=message):
            LabelSpreading(
                labelled_examples=examples,
                pool_examples=examples,
                class_names=["other", "emission"],
                **bad,
            )


def test_embedding_space_builds_the_graph_on_the_model_s_embedding(data, tmp_path):
    labelled, pool, truth, _ = data
    # A small network of the published shape: the graph needs an embedding, not accuracy.
    rng = np.random.default_rng(1)
    flux, labels = simulated.simulate_labelled(300, rng)
    network = build_cnn(filters=(8, 16), dense_units=(32, 32))
    network.fit(flux, labels, batch_size=64, epochs=2, verbose=0)
    class_names = DEFAULT_CLASSES
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "model")
    export.export_serving_model(
        network, os.path.join(model.uri, "Format-Serving"), class_names=class_names
    )
    scores = _run(labelled, pool, tmp_path, model=model, **{c.SPACE_KEY: "embedding"})
    assert scores.get_string_custom_property(c.SPACE_KEY) == "embedding"
    assert scores.get_string_custom_property(c.MODEL_DIR_PROPERTY)
    rows = [parse_score_record(r, 3) for r in _records(scores)]
    assert len(rows) == N_POOL
    predicted = np.array([row[score_features.PREDICTED_LABEL] for row in rows])
    pool_truth = np.array([truth[int(row[score_features.SPECTRUM_ID][5:])] for row in rows])
    assert (predicted == pool_truth).mean() > 0.8
