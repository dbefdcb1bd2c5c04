"""NoveltyScorer executor on synthetic score records: the novelty beside the class scores,
the list of the most unusual spectra and the pool's map."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from tfx.types import artifact_utils, standard_artifacts

from activespec.constants import DEFAULT_CLASSES
from activespec.errors import ConfigError
from components import score_features as sf
from components.artifact_types import PoolMap, PoolScores
from components.novelty_scorer import NoveltyScorer
from components.novelty_scorer.executor import MAP_COLUMNS, NOVEL_COLUMNS, Executor
from components.uncertainty_sampler.records import parse_score_record
from models import features

N_POOL = 600
N_OUTLIERS = 12
WIDTH = 16
POSITIVE = ["emission", "double-peak"]


def _example(spectrum_id, probabilities, embedding):
    p = np.asarray(probabilities, np.float32)
    feature = {
        sf.SPECTRUM_ID: tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[spectrum_id.encode()])
        ),
        sf.SOURCE: tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[f"/pool/{spectrum_id}.fits".encode()])
        ),
        sf.RA: tf.train.Feature(float_list=tf.train.FloatList(value=[10.0])),
        sf.PROBABILITIES: tf.train.Feature(float_list=tf.train.FloatList(value=p)),
        sf.PREDICTED_LABEL: tf.train.Feature(
            int64_list=tf.train.Int64List(value=[int(p.argmax())])
        ),
        sf.PREDICTED_CLASS: tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[DEFAULT_CLASSES[int(p.argmax())].encode()])
        ),
        sf.ENTROPY: tf.train.Feature(float_list=tf.train.FloatList(value=[0.5])),
        sf.MARGIN: tf.train.Feature(float_list=tf.train.FloatList(value=[0.5])),
        sf.LEAST_CONFIDENCE: tf.train.Feature(float_list=tf.train.FloatList(value=[0.5])),
        sf.EMBEDDING: tf.train.Feature(float_list=tf.train.FloatList(value=embedding)),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """Two dense clusters and a dozen scattered outliers (ids ``out-*``), in two shards.

    The outliers' predictions are uncertain ``other`` (eligible for the novelty list),
    except two: one predicted ``emission`` (a candidate) and one labelled."""
    rng = np.random.default_rng(3)
    centres = rng.normal(scale=5.0, size=(2, WIDTH))
    ids, embeddings, probabilities = [], [], []
    for i in range(N_POOL - N_OUTLIERS):
        ids.append(f"n-{i:04d}")
        embeddings.append(centres[i % 2] + rng.normal(scale=0.3, size=WIDTH))
        confident = i % 3 != 0
        probabilities.append([0.97, 0.02, 0.01] if confident else [0.6, 0.3, 0.1])
    for i in range(N_OUTLIERS):
        ids.append(f"out-{i:02d}")
        embeddings.append(rng.normal(scale=20.0, size=WIDTH))
        probabilities.append([0.2, 0.7, 0.1] if i == 0 else [0.6, 0.3, 0.1])
    folder = tmp_path_factory.mktemp("scores")
    for shard in range(2):
        path = folder / f"scores-{shard:05d}-of-00002.gz"
        with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
            for i in range(shard, N_POOL, 2):
                writer.write(_example(ids[i], probabilities[i], embeddings[i]).SerializeToString())
    scores = PoolScores()
    scores.uri = str(folder)
    labelled = _labelled(tmp_path_factory.mktemp("labelled"), ["out-01", "n-0003", "ondrejov-1"])
    return scores, labelled, ids


def _labelled(folder, ids):
    examples = standard_artifacts.Examples()
    examples.uri = str(folder)
    examples.split_names = artifact_utils.encode_split_names(["train"])
    (folder / "Split-train").mkdir()
    path = folder / "Split-train" / "data_tfrecord-00000-of-00001.gz"
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for spectrum_id in ids:
            example = tf.train.Example(
                features=tf.train.Features(
                    feature={
                        features.SPECTRUM_ID: tf.train.Feature(
                            bytes_list=tf.train.BytesList(value=[spectrum_id.encode()])
                        ),
                        features.LABEL: tf.train.Feature(int64_list=tf.train.Int64List(value=[2])),
                    }
                )
            )
            writer.write(example.SerializeToString())
    return examples


def _run(out_dir, scores, labelled, pool_examples=None, **params):
    outputs = {"scores": PoolScores(), "pool_map": PoolMap()}
    for name, artifact in outputs.items():
        artifact.uri = os.path.join(out_dir, name)
        os.makedirs(artifact.uri)
    exec_properties = {
        "class_names": json.dumps(list(DEFAULT_CLASSES)),
        "positive_classes": json.dumps(POSITIVE),
        "split": "pool",
        "k": 5,
        "map_size": 100,
        "map_method": "none",
        "novel_list_size": 8,
        "confident_other": 0.9,
        "keep_embedding": 0,
        "seed": 0,
        "novelty_space": "embedding",
        **params,
    }
    inputs = {"pool_scores": [scores], "labelled_examples": [labelled]}
    if pool_examples is not None:
        inputs["pool_examples"] = [pool_examples]
    Executor().Do(inputs, {k: [v] for k, v in outputs.items()}, exec_properties)
    return outputs


def _csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _records(uri, extra=()):
    dataset = tf.data.TFRecordDataset(tf.io.gfile.glob(os.path.join(uri, "*.gz")), "GZIP")
    return [parse_score_record(r, 3, extra) for r in dataset.as_numpy_iterator()]


@pytest.fixture(scope="module")
def run(pool, tmp_path_factory):
    scores, labelled, _ = pool
    return _run(str(tmp_path_factory.mktemp("run")), scores, labelled)


def test_every_record_gets_a_novelty_and_the_outliers_rank_first(run, pool):
    _, _, ids = pool
    records = _records(run["scores"].uri, (sf.NOVELTY,))
    assert sorted(r[sf.SPECTRUM_ID] for r in records) == sorted(ids)
    ranked = sorted(records, key=lambda r: -r[sf.NOVELTY])
    assert {r[sf.SPECTRUM_ID] for r in ranked[:N_OUTLIERS]} == {
        f"out-{i:02d}" for i in range(N_OUTLIERS)
    }
    # The class scores are untouched; the embedding is dropped unless kept.
    assert all(r[sf.PREDICTED_CLASS] in DEFAULT_CLASSES for r in records)
    with pytest.raises(Exception, match="embedding"):
        _records(run["scores"].uri, (sf.EMBEDDING,))
    assert run["scores"].get_int_custom_property("num_scored") == N_POOL
    assert run["scores"].get_string_custom_property("space") == "embedding"


def test_the_novel_list_leaves_out_candidates_labelled_and_confident_negatives(run):
    rows = _csv(os.path.join(run["pool_map"].uri, "novel.csv"))
    assert list(rows[0]) == list(NOVEL_COLUMNS)
    listed = [row["spectrum_id"] for row in rows]
    # out-00 is a candidate, out-01 labelled: the other ten outliers, most novel first.
    assert len(listed) == 8
    assert set(listed) <= {f"out-{i:02d}" for i in range(2, N_OUTLIERS)}
    novelty = [float(row["novelty"]) for row in rows]
    assert novelty == sorted(novelty, reverse=True)
    assert [int(row["rank"]) for row in rows] == list(range(1, 9))
    assert all(float(row["novelty_percentile"]) > 95 for row in rows)


def test_keep_embedding_keeps_it(pool, tmp_path):
    scores, labelled, _ = pool
    outputs = _run(str(tmp_path), scores, labelled, keep_embedding=1)
    records = _records(outputs["scores"].uri, (sf.EMBEDDING, sf.NOVELTY))
    assert all(len(r[sf.EMBEDDING]) == WIDTH for r in records)


def test_the_map_holds_a_sample_plus_every_labelled_candidate_and_novel(pool, tmp_path):
    pytest.importorskip("openTSNE")
    scores, labelled, ids = pool
    outputs = _run(str(tmp_path), scores, labelled, map_method="tsne", map_size=100)
    rows = _csv(os.path.join(outputs["pool_map"].uri, "pool_map.csv"))
    assert list(rows[0]) == list(MAP_COLUMNS)
    by_id = {row["spectrum_id"]: row for row in rows}
    candidates = {row["spectrum_id"] for row in rows if row["status"] == "candidate"}
    assert "out-00" in candidates
    assert by_id["out-01"]["status"] == "labelled" and by_id["out-01"]["label"] == "double-peak"
    assert by_id["n-0003"]["status"] == "labelled"
    novel = _csv(os.path.join(outputs["pool_map"].uri, "novel.csv"))
    assert all(by_id[row["spectrum_id"]]["status"] == "novel" for row in novel)
    n_special = sum(row["status"] != "pool" for row in rows)
    assert len(rows) == n_special + 100
    xy = np.array([[float(row["x"]), float(row["y"])] for row in rows])
    assert np.isfinite(xy).all() and xy.std(axis=0).min() > 0
    meta = json.loads((tmp_path / "pool_map" / "pool_map.json").read_text())
    assert meta["method"] == "tsne" and meta["num_points"] == len(rows)


def test_without_embedding_or_pool_examples_it_says_what_to_do(tmp_path):
    folder = tmp_path / "scores"
    folder.mkdir()
    example = _example("a", [0.5, 0.3, 0.2], [0.0])
    del example.features.feature[sf.EMBEDDING]
    with tf.io.TFRecordWriter(str(folder / "scores-00000-of-00001.gz"), options="GZIP") as writer:
        writer.write(example.SerializeToString())
    scores = PoolScores()
    scores.uri = str(folder)
    outputs = {"scores": PoolScores(), "pool_map": PoolMap()}
    for name, artifact in outputs.items():
        artifact.uri = str(tmp_path / name)
    with pytest.raises(ConfigError, match="no pool examples"):
        Executor().Do(
            {"pool_scores": [scores]},
            {k: [v] for k, v in outputs.items()},
            {"class_names": json.dumps(list(DEFAULT_CLASSES)), "positive_classes": "[]"},
        )


@pytest.mark.parametrize(
    "params, message",
    [
        ({"k": 0}, "k"),
        ({"map_method": "umap"}, "map_method"),
        ({"confident_other": 0.0}, "confident_other"),
        ({"positive_classes": ["quasar"]}, "positive_classes"),
    ],
)
def test_component_validates_parameters(params, message):
    from tfx.types import channel

    arguments = {
        "scores": channel.Channel(type=PoolScores),
        "class_names": list(DEFAULT_CLASSES),
        "positive_classes": POSITIVE,
        **params,
    }
    with pytest.raises(ConfigError, match=message):
        NoveltyScorer(**arguments)


def _pool_examples(folder, ids, flux):
    """A pool Examples artifact (split ``pool``) with each spectrum's 140-point flux."""
    examples = standard_artifacts.Examples()
    examples.uri = str(folder)
    examples.split_names = artifact_utils.encode_split_names(["pool"])
    (folder / "Split-pool").mkdir(parents=True)
    path = folder / "Split-pool" / "data_tfrecord-00000-of-00001.gz"
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for spectrum_id, vector in zip(ids, flux, strict=True):
            feature = {
                features.SPECTRUM_ID: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[spectrum_id.encode()])
                ),
                features.FLUX: tf.train.Feature(float_list=tf.train.FloatList(value=vector)),
            }
            writer.write(
                tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
            )
    return examples


def test_the_novelty_in_the_flux_space_uses_the_pool_examples(pool, tmp_path):
    """By default the novelty is measured in the flux (here other spectra stand out than
    in the embedding) while the map stays in the embedding."""
    scores, labelled, ids = pool
    rng = np.random.default_rng(5)
    flux = rng.normal(scale=0.01, size=(len(ids), 140)) + np.linspace(0, 1, 140)
    odd = [i for i, sid in enumerate(ids) if sid.startswith("n-")][:5]
    flux[odd] += rng.normal(scale=0.5, size=(5, 140))
    examples = _pool_examples(tmp_path / "pool", ids, flux)
    outputs = _run(
        str(tmp_path / "out"),
        scores,
        labelled,
        pool_examples=examples,
        novelty_space="flux",
        map_method="tsne",
        map_size=50,
    )
    records = _records(outputs["scores"].uri, (sf.NOVELTY,))
    ranked = sorted(records, key=lambda r: -r[sf.NOVELTY])
    assert {r[sf.SPECTRUM_ID] for r in ranked[:5]} == {ids[i] for i in odd}
    assert outputs["scores"].get_string_custom_property("space") == "flux"
    assert outputs["pool_map"].get_string_custom_property("map_space") == "embedding"
    meta = json.loads((tmp_path / "out" / "pool_map" / "pool_map.json").read_text())
    assert (meta["space"], meta["novelty_space"]) == ("embedding", "flux")
