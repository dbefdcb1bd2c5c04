"""PoolScorer: the Beam executor on a small simulated pool with a really exported model."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from tfx import types
from tfx.types import standard_artifacts

from activespec import errors, uncertainty
from components import score_features
from components.artifact_types import PoolScores
from components.pool_scorer import PoolScorer, scores_file_pattern
from components.pool_scorer import executor as scorer_executor
from models import export, features, serving
from tests.isolation import loaded_by_import
from tests.models import simulated

N_POOL = 403  # not a multiple of the batch size
BATCH_SIZE = 64


@pytest.fixture(scope="module")
def model_artifact(tmp_path_factory):
    model, class_names = simulated.train_quick_model(n=600, epochs=2)
    artifact = standard_artifacts.Model()
    artifact.uri = str(tmp_path_factory.mktemp("model"))
    export.export_serving_model(
        model, os.path.join(artifact.uri, "Format-Serving"), class_names=class_names
    )
    return artifact


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """A pool of the three classes plus junk (noise, flat-ish spectra) the model is unsure of."""
    rng = np.random.default_rng(21)
    labels = rng.choice(3, size=N_POOL - 40, p=[0.8, 0.15, 0.05])
    flux = simulated.simulate_flux(labels, rng)
    junk = rng.uniform(-1, 1, (40, 140)).astype(np.float32)
    flux = np.concatenate([flux, junk])
    records = simulated.make_examples(flux, prefix="pool", rng=rng)
    root = str(tmp_path_factory.mktemp("pool"))
    artifact = simulated.examples_artifact(root, {"pool": records}, n_files=3)
    return artifact, flux, records


def _run(examples, model, tmp_path, class_names=("other", "emission", "double-peak"), **props):
    scores = PoolScores()
    scores.uri = str(tmp_path / "scores")
    exec_properties = {
        "class_names": json.dumps(list(class_names)),
        "split": "pool",
        "batch_size": BATCH_SIZE,
        **props,
    }
    scorer_executor.Executor().Do(
        {"examples": [examples], "model": [model]}, {"scores": [scores]}, exec_properties
    )
    return scores


def _read_scores(scores_uri):
    files = tf.io.gfile.glob(scores_file_pattern(scores_uri))
    assert files, "no score files written"
    rows = {}
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        spectrum_id = feature[score_features.SPECTRUM_ID].bytes_list.value[0].decode()
        rows[spectrum_id] = feature
    return rows


@pytest.fixture(scope="module")
def scored(pool, model_artifact, tmp_path_factory):
    examples, _, _ = pool
    scores = _run(examples, model_artifact, tmp_path_factory.mktemp("run"))
    return scores, _read_scores(scores.uri)


def test_every_pool_spectrum_is_scored_once(scored):
    scores, rows = scored
    assert len(rows) == N_POOL
    assert scores.get_int_custom_property("num_scored") == N_POOL
    assert scores.get_int_custom_property("num_rejected") == 0
    assert json.loads(scores.get_string_custom_property("class_names")) == [
        "other",
        "emission",
        "double-peak",
    ]


def test_scores_match_the_model_and_the_uncertainty_module(scored, pool, model_artifact):
    _, rows = scored
    _, flux, _ = pool
    model = serving.load_model_dir(model_artifact.uri)
    expected = model.predict_flux(flux)
    ids = [f"pool-{i:06d}" for i in range(N_POOL)]
    got = np.array([rows[i][score_features.PROBABILITIES].float_list.value for i in ids])
    np.testing.assert_allclose(got, expected, atol=1e-6)
    for key, measure in (
        (score_features.ENTROPY, uncertainty.entropy),
        (score_features.MARGIN, uncertainty.margin),
        (score_features.LEAST_CONFIDENCE, uncertainty.least_confidence),
    ):
        values = np.array([rows[i][key].float_list.value[0] for i in ids])
        np.testing.assert_allclose(values, measure(expected), atol=1e-5)
    labels = np.array([rows[i][score_features.PREDICTED_LABEL].int64_list.value[0] for i in ids])
    np.testing.assert_array_equal(labels, expected.argmax(axis=1))
    names = [rows[i][score_features.PREDICTED_CLASS].bytes_list.value[0].decode() for i in ids]
    assert names == [model.class_names[label] for label in labels]
    # The junk spectra are where the model hesitates most.
    entropy = np.array([rows[i][score_features.ENTROPY].float_list.value[0] for i in ids])
    assert np.median(entropy[-40:]) > np.median(entropy[:-40])


@pytest.fixture(scope="module")
def scored_with_extras(pool, model_artifact, tmp_path_factory):
    examples, _, _ = pool
    scores = _run(
        examples,
        model_artifact,
        tmp_path_factory.mktemp("extras"),
        extra_scores=json.dumps(["embedding", "bald"]),
        mc_passes=4,
        seed=5,
    )
    return scores, _read_scores(scores.uri)


def test_extra_scores_are_written_only_when_asked_for(scored, scored_with_extras):
    scores, rows = scored
    assert not {score_features.BALD, score_features.EMBEDDING} & set(next(iter(rows.values())))
    assert json.loads(scores.get_string_custom_property("extra_scores")) == []
    extra, extra_rows = scored_with_extras
    assert len(extra_rows) == N_POOL
    assert json.loads(extra.get_string_custom_property("extra_scores")) == ["bald", "embedding"]
    assert extra.get_int_custom_property("mc_passes") == 4


def test_bald_and_embedding_match_the_model(scored, scored_with_extras, pool, model_artifact):
    _, plain_rows = scored
    _, rows = scored_with_extras
    _, flux, _ = pool
    model = serving.load_model_dir(model_artifact.uri)
    _, _, bald = model.predict_flux_mc(flux, passes=4, seed=5)
    _, embedding = model.embed_flux(flux)
    ids = [f"pool-{i:06d}" for i in range(N_POOL)]
    got_bald = np.array([rows[i][score_features.BALD].float_list.value[0] for i in ids])
    np.testing.assert_allclose(got_bald, bald, atol=1e-6)
    got_embedding = np.array([rows[i][score_features.EMBEDDING].float_list.value for i in ids])
    assert got_embedding.shape == (N_POOL, 512)
    np.testing.assert_allclose(got_embedding, embedding, atol=1e-5)
    # The probabilities and measures do not depend on which signature scored them.
    for key in (score_features.PROBABILITIES, score_features.ENTROPY):
        np.testing.assert_allclose(
            [rows[i][key].float_list.value for i in ids],
            [plain_rows[i][key].float_list.value for i in ids],
            atol=1e-6,
        )


def test_a_model_without_the_signatures_is_refused_before_scoring(pool, tmp_path, monkeypatch):
    """A model exported before MC dropout existed cannot give the bald score."""
    examples, _, _ = pool
    model, class_names = simulated.train_quick_model(n=60, epochs=1)
    monkeypatch.setattr(export, "layer_chain", lambda _model: None)
    old = standard_artifacts.Model()
    old.uri = str(tmp_path / "old-model")
    export.export_serving_model(
        model, os.path.join(old.uri, "Format-Serving"), class_names=class_names
    )
    for extra, signature, strategy in (
        ("bald", "predict_flux_mc", "bald"),
        ("embedding", "embed_flux", "diverse_entropy"),
    ):
        with pytest.raises(serving.ModelLoadError) as error:
            _run(examples, old, tmp_path / extra, extra_scores=json.dumps([extra]))
        assert f"no '{signature}' signature" in str(error.value)
        assert f"'{strategy}' sampling strategy" in str(error.value)
        assert not os.path.exists(tmp_path / extra / "scores")


def test_metadata_passes_through_unchanged(scored, pool):
    _, rows = scored
    _, _, records = pool
    for record in records:
        source = record.features.feature
        spectrum_id = source[features.SPECTRUM_ID].bytes_list.value[0].decode()
        target = rows[spectrum_id]
        for key in (features.DESIGNATION, features.SURVEY, features.LAYOUT, features.SOURCE):
            assert target[key].bytes_list.value == source[key].bytes_list.value
        for key in (features.RA, features.DEC, features.SNR):
            np.testing.assert_array_equal(
                np.array(target[key].float_list.value), np.array(source[key].float_list.value)
            )
        assert features.FLUX not in target


def test_broken_records_are_rejected_and_counted(model_artifact, tmp_path):
    rng = np.random.default_rng(2)
    flux = simulated.simulate_flux(np.zeros(20, int), rng)
    records = simulated.make_examples(flux, prefix="ok", rng=rng)
    nan_flux = flux[0].copy()
    nan_flux[10] = np.nan
    records += [
        simulated.make_example(nan_flux, "bad-nan"),
        simulated.make_example(flux[0][:139], "bad-short"),
        simulated.make_example(flux[0], "bad-no-id", omit=(features.SPECTRUM_ID,)),
        simulated.make_example(flux[0], "no-metadata", omit=(features.RA, features.DESIGNATION)),
    ]
    examples = simulated.examples_artifact(str(tmp_path / "pool"), {"pool": records}, n_files=1)
    scores = _run(examples, model_artifact, tmp_path)
    rows = _read_scores(scores.uri)
    assert scores.get_int_custom_property("num_scored") == 21 == len(rows)
    assert scores.get_int_custom_property("num_rejected") == 3
    assert not {"bad-nan", "bad-short"} & set(rows)
    # Missing metadata becomes NaN / empty so every score record has every key.
    assert np.isnan(rows["no-metadata"][features.RA].float_list.value[0])
    assert rows["no-metadata"][features.DESIGNATION].bytes_list.value == [b""]


def test_class_names_must_match_the_model(pool, model_artifact, tmp_path):
    examples, _, _ = pool
    with pytest.raises(Exception, match="predicts classes"):
        _run(examples, model_artifact, tmp_path, class_names=("other", "emission", "shell"))


def test_missing_split_or_model_is_a_config_error(pool, model_artifact, tmp_path):
    examples, _, _ = pool
    with pytest.raises(errors.ConfigError, match="no split 'train'"):
        _run(examples, model_artifact, tmp_path, split="train")
    empty_model = standard_artifacts.Model()
    empty_model.uri = str(tmp_path / "no-model")
    os.makedirs(empty_model.uri)
    with pytest.raises(errors.ConfigError, match="no SavedModel"):
        _run(examples, empty_model, tmp_path)


def test_component_interface():
    examples = types.Channel(type=standard_artifacts.Examples)
    model = types.Channel(type=standard_artifacts.Model)
    scorer = PoolScorer(
        examples=examples, model=model, class_names=["other", "emission"], batch_size=512
    )
    assert scorer.outputs["scores"].type is PoolScores
    assert json.loads(scorer.exec_properties["class_names"]) == ["other", "emission"]
    assert scorer.exec_properties["split"] == "pool"
    assert scorer.exec_properties["batch_size"] == 512
    assert json.loads(scorer.exec_properties["extra_scores"]) == []
    assert scorer.exec_properties["mc_passes"] == 10
    with_bald = PoolScorer(
        examples=examples,
        model=model,
        class_names=["other", "emission"],
        extra_scores=["bald"],
        mc_passes=3,
        seed=7,
    )
    assert json.loads(with_bald.exec_properties["extra_scores"]) == ["bald"]
    assert (with_bald.exec_properties["mc_passes"], with_bald.exec_properties["seed"]) == (3, 7)
    for bad in (
        {"class_names": ["other"]},
        {"class_names": ["a", "a"]},
        {"batch_size": 0},
        {"split": ""},
        {"extra_scores": ["gradient"]},
        {"extra_scores": "bald"},
        {"mc_passes": 0},
    ):
        kwargs = {"class_names": ["other", "emission"], **bad}
        with pytest.raises(errors.ConfigError):
            PoolScorer(examples=examples, model=model, **kwargs)


def test_scoring_workers_do_not_import_tfx():
    # What a Beam worker imports to unpickle the scoring DoFn.
    heavy = {"tfx", "tensorflow_model_analysis"}
    assert loaded_by_import(["components.pool_scorer.transforms"], heavy) == set()
