"""Query strategies beyond entropy: BALD, batch-diverse entropy and random, as functions and
in real Beam runs of the UncertaintySampler on a synthetic scored pool."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from activespec.constants import DEFAULT_CLASSES
from activespec.errors import ConfigError
from activespec.settings import SAMPLING_STRATEGIES
from components import score_features as sf
from components.artifact_types import (
    Candidates,
    PerformanceSample,
    PoolScores,
    QueryBatch,
    RecallSample,
)
from components.uncertainty_sampler import strategies
from components.uncertainty_sampler.executor import Executor
from components.uncertainty_sampler.params import SamplerParams
from components.uncertainty_sampler.records import sample_sort_key

N_BLOBS = 6
PER_BLOB = 100
N_POOL = N_BLOBS * PER_BLOB
#: The few near-uniform (most uncertain) spectra of each blob.
UNSURE_PER_BLOB = 5
DIM = 8


def _blobs(rng, n_blobs, per_blob, dim=DIM, spread=0.05):
    """Well-separated Gaussian blobs in the embedding: (points, blob index of each)."""
    centres = rng.normal(0.0, 5.0, (n_blobs, dim))
    blob = np.repeat(np.arange(n_blobs), per_blob)
    return centres[blob] + rng.normal(0.0, spread, (len(blob), dim)), blob


def _records(ids, entropy, embedding):
    return [
        {sf.SPECTRUM_ID: i, sf.ENTROPY: float(h), sf.EMBEDDING: tuple(map(float, e))}
        for i, h, e in zip(ids, entropy, embedding, strict=True)
    ]


def test_diverse_selection_takes_the_most_uncertain_of_each_cluster():
    rng = np.random.default_rng(1)
    points, blob = _blobs(rng, 5, 30)
    entropy = rng.uniform(0.0, 1.0, len(blob))
    ids = [f"s{i:03d}" for i in range(len(blob))]
    chosen = strategies.diverse_selection(_records(ids, entropy, points), 5, seed=0, round_index=1)
    picked = [int(r[sf.SPECTRUM_ID][1:]) for r in chosen]
    # One spectrum per blob, and in each blob the most uncertain one.
    assert sorted(blob[picked]) == list(range(5))
    assert sorted(picked) == sorted(
        int(np.argmax(np.where(blob == b, entropy, -1))) for b in range(5)
    )
    # Ranked most uncertain first; clusters numbered in that order.
    assert [r[sf.ENTROPY] for r in chosen] == sorted((r[sf.ENTROPY] for r in chosen), reverse=True)
    assert [r[strategies.CLUSTER] for r in chosen] == [0, 1, 2, 3, 4]


def test_diverse_selection_is_deterministic_and_order_independent():
    rng = np.random.default_rng(2)
    # Overlapping blobs: k-means has real choices to make.
    points, _ = _blobs(rng, 12, 25, spread=3.0)
    entropy = rng.uniform(0.0, 1.0, len(points))
    records = _records([f"s{i:03d}" for i in range(len(points))], entropy, points)
    first = strategies.diverse_selection(records, 10, seed=3, round_index=2)
    assert strategies.diverse_selection(records, 10, seed=3, round_index=2) == first
    shuffled = [records[i] for i in rng.permutation(len(records))]
    assert strategies.diverse_selection(shuffled, 10, seed=3, round_index=2) == first
    assert len(first) == 10 and len({r[sf.SPECTRUM_ID] for r in first}) == 10
    assert len({r[strategies.CLUSTER] for r in first}) == 10


def test_diverse_selection_fills_up_when_embeddings_coincide():
    ids = [f"s{i}" for i in range(8)]
    entropy = np.linspace(1.0, 0.3, 8)
    # Two distinct embeddings only: two clusters, the rest by entropy.
    embedding = np.array([[0.0, 1.0] if i % 2 else [1.0, 0.0] for i in range(8)])
    chosen = strategies.diverse_selection(_records(ids, entropy, embedding), 4, 0, 0)
    assert [r[sf.SPECTRUM_ID] for r in chosen] == ["s0", "s1", "s2", "s3"]
    assert [r[strategies.CLUSTER] for r in chosen] == [0, 1, 0, 1]
    # Fewer candidates than the query: all of them.
    assert (
        len(strategies.diverse_selection(_records(ids[:3], entropy[:3], embedding[:3]), 5, 0, 0))
        == 3
    )
    assert strategies.diverse_selection([], 5, 0, 0) == []


def test_diverse_selection_needs_embeddings():
    records = [{sf.SPECTRUM_ID: "a", sf.ENTROPY: 0.5}, {sf.SPECTRUM_ID: "b", sf.ENTROPY: 0.4}]
    with pytest.raises(ConfigError, match="'a' has no embedding"):
        strategies.diverse_selection(records, 1, 0, 0)


def test_random_query_is_independent_of_the_performance_sample():
    records = [{sf.SPECTRUM_ID: f"id-{i}"} for i in range(500)]
    query = sorted(records, key=lambda r: strategies.random_query_key(r, 3, 1))[:50]
    performance = sorted(records, key=lambda r: sample_sort_key(r, 3, 1))[:50]
    assert len({r[sf.SPECTRUM_ID] for r in query} & {r[sf.SPECTRUM_ID] for r in performance}) < 15
    assert strategies.random_query_key(records[0], 3, 1) == strategies.random_query_key(
        {sf.SPECTRUM_ID: "id-0"}, 3, 1
    )


def test_what_each_strategy_needs_from_the_scorer():
    assert set(strategies.EXTRA_SCORES) <= set(SAMPLING_STRATEGIES)
    assert strategies.extra_scores_for("bald") == (sf.BALD,)
    assert strategies.extra_scores_for("diverse_entropy") == (sf.EMBEDDING,)
    for plain in ("entropy", "margin", "least_confidence", "random"):
        assert strategies.extra_scores_for(plain) == ()
    assert set(sum(strategies.EXTRA_SCORES.values(), ())) <= set(sf.EXTRA_SCORES)


# --------------------------------------------------------------------- Beam runs


def _feature(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def _text(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))


def _write_pool(folder, table, with_extras=True):
    for shard in range(2):
        path = os.path.join(folder, f"scores-{shard:05d}-of-00002.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for i in range(shard, len(table["id"]), 2):
                feature = {
                    sf.SPECTRUM_ID: _text(table["id"][i]),
                    sf.PROBABILITIES: _feature(table["probabilities"][i]),
                    sf.PREDICTED_LABEL: tf.train.Feature(
                        int64_list=tf.train.Int64List(value=[int(table["label"][i])])
                    ),
                    sf.PREDICTED_CLASS: _text(DEFAULT_CLASSES[table["label"][i]]),
                    sf.RA: _feature([1.0]),
                    sf.DEC: _feature([2.0]),
                    sf.SNR: _feature([30.0]),
                }
                for key in (sf.ENTROPY, sf.MARGIN, sf.LEAST_CONFIDENCE):
                    feature[key] = _feature([table[key][i]])
                if with_extras:
                    feature[sf.BALD] = _feature([table[sf.BALD][i]])
                    feature[sf.EMBEDDING] = _feature(table[sf.EMBEDDING][i])
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
    scores = PoolScores()
    scores.uri = folder
    return scores


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """Six blobs in the embedding; in each, five near-uniform (most uncertain) spectra."""
    rng = np.random.default_rng(88)
    embedding, blob = _blobs(rng, N_BLOBS, PER_BLOB)
    probabilities = rng.dirichlet([2.0, 0.3, 0.2], size=N_POOL)
    unsure = np.concatenate([np.flatnonzero(blob == b)[:UNSURE_PER_BLOB] for b in range(N_BLOBS)])
    probabilities[unsure] = rng.dirichlet([50.0, 50.0, 50.0], size=len(unsure))
    probabilities = probabilities.astype(np.float32)
    ordered = np.sort(probabilities, axis=1)
    table = {
        "id": np.array([f"{i:05d}-p" for i in rng.permutation(N_POOL)]),
        "probabilities": probabilities,
        "label": probabilities.argmax(axis=1),
        "blob": blob,
        sf.ENTROPY: (-(probabilities * np.log(probabilities)).sum(axis=1)).astype(np.float32),
        sf.MARGIN: (ordered[:, -1] - ordered[:, -2]).astype(np.float32),
        sf.LEAST_CONFIDENCE: (1.0 - ordered[:, -1]).astype(np.float32),
        sf.BALD: rng.uniform(0.0, 0.3, N_POOL).astype(np.float32),
        sf.EMBEDDING: embedding.astype(np.float32),
    }
    scores = _write_pool(str(tmp_path_factory.mktemp("scores")), table)
    plain = _write_pool(str(tmp_path_factory.mktemp("plain")), table, with_extras=False)
    return scores, plain, table


def _run(out_dir, scores, **params):
    outputs = {
        "query": QueryBatch(),
        "performance_sample": PerformanceSample(),
        "recall_sample": RecallSample(),
        "candidates": Candidates(),
    }
    for name, artifact in outputs.items():
        artifact.uri = os.path.join(out_dir, name)
    Executor().Do(
        {"scores": [scores]},
        {name: [artifact] for name, artifact in outputs.items()},
        SamplerParams(**params).to_exec_properties(),
    )
    with open(os.path.join(outputs["query"].uri, "query.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(os.path.join(outputs["query"].uri, "query.json")) as handle:
        payload = json.load(handle)
    assert [row["spectrum_id"] for row in payload] == [row["spectrum_id"] for row in rows]
    return outputs, rows


def _reference_top(table, key, size):
    values = table[key]
    primary = values if key == sf.MARGIN else -values
    return list(table["id"][np.lexsort((table["id"], primary))[:size]])


@pytest.mark.parametrize("strategy", SAMPLING_STRATEGIES)
def test_every_strategy_runs_in_beam_and_gives_its_query(strategy, pool, tmp_path):
    scores, _, table = pool
    size = N_BLOBS
    outputs, rows = _run(
        str(tmp_path), scores, strategy=strategy, query_size=size, seed=4, round_index=2
    )
    ids = [row["spectrum_id"] for row in rows]
    assert len(ids) == len(set(ids)) == size
    assert [row["rank"] for row in rows] == [str(i) for i in range(1, size + 1)]
    assert {row["role"] for row in rows} == {"query"}
    assert outputs["query"].get_string_custom_property("strategy") == strategy
    assert outputs["query"].get_int_custom_property("query_size") == size

    if strategy in strategies.RANKING_STRATEGIES:
        assert ids == _reference_top(table, strategy, size)
    elif strategy == "random":
        ranked = sorted(
            ({sf.SPECTRUM_ID: i} for i in table["id"]),
            key=lambda r: strategies.random_query_key(r, 4, 2),
        )
        assert ids == [r[sf.SPECTRUM_ID] for r in ranked[:size]]
    else:
        index = {spectrum_id: i for i, spectrum_id in enumerate(table["id"])}
        # One query per blob: the most uncertain spectrum of each.
        blobs = [table["blob"][index[i]] for i in ids]
        assert sorted(blobs) == list(range(N_BLOBS))
        entropy = table[sf.ENTROPY]
        expected = {
            table["id"][int(np.argmax(np.where(table["blob"] == b, entropy, -1.0)))]
            for b in range(N_BLOBS)
        }
        assert set(ids) == expected
        assert sorted(int(row["cluster"]) for row in rows) == list(range(N_BLOBS))
        # Plain entropy would have asked about fewer blobs.
        top = _reference_top(table, sf.ENTROPY, size)
        assert len({table["blob"][index[i]] for i in top}) < N_BLOBS
    if strategy == "bald":
        assert float(rows[0]["bald"]) == pytest.approx(float(table[sf.BALD].max()), rel=1e-6)


def test_random_and_diverse_queries_are_reproducible(pool, tmp_path):
    scores, _, _ = pool

    def query(name, **params):
        _, rows = _run(str(tmp_path / name), scores, query_size=8, **params)
        return [row["spectrum_id"] for row in rows]

    for strategy in ("random", "diverse_entropy"):
        first = query(f"{strategy}-a", strategy=strategy, seed=1, round_index=3)
        assert query(f"{strategy}-b", strategy=strategy, seed=1, round_index=3) == first
    random_first = query("random-c", strategy="random", seed=1, round_index=3)
    assert (
        len(set(query("random-d", strategy="random", seed=1, round_index=4)) & set(random_first))
        < 4
    )


@pytest.mark.parametrize(("strategy", "key"), [("bald", "bald"), ("diverse_entropy", "embedding")])
def test_strategies_refuse_scores_without_what_they_need(strategy, key, pool, tmp_path):
    _, plain, _ = pool
    with pytest.raises(Exception, match=rf"has no '{key}'.*PoolScorer\(extra_scores=\['{key}'\]\)"):
        _run(str(tmp_path), plain, strategy=strategy, query_size=3)
    # The plain strategies do not need them.
    _, rows = _run(str(tmp_path / "entropy"), plain, strategy="entropy", query_size=3)
    assert len(rows) == 3
