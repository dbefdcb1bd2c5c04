"""UncertaintySampler executor on a synthetic scored pool of 2,000 spectra."""

from __future__ import annotations

import csv
import hashlib
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from tfx.types import artifact_utils, channel, standard_artifacts

from activespec.constants import DEFAULT_CLASSES, DEFAULT_RECALL_STRATA
from activespec.errors import ConfigError
from activespec.recall import allocate, stratum_index
from components import score_features as sf
from components.artifact_types import (
    Candidates,
    PerformanceSample,
    PoolScores,
    QueryBatch,
    RecallSample,
)
from components.uncertainty_sampler import UncertaintySampler
from components.uncertainty_sampler.executor import Executor
from components.uncertainty_sampler.params import SamplerParams
from models import features

N_POOL = 2_000
POSITIVE = ("emission", "double-peak")


def _float_feature(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def _bytes_feature(value: str):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))


def _score_example(spectrum_id, probabilities, entropy, margin, least_confidence, label):
    feature = {
        sf.SPECTRUM_ID: _bytes_feature(spectrum_id),
        sf.DESIGNATION: _bytes_feature(f"LAMOST J{spectrum_id}"),
        sf.RA: _float_feature([12.5]),
        sf.DEC: _float_feature([np.nan]),
        sf.SNR: _float_feature([25.0]),
        sf.SURVEY: _bytes_feature("LAMOST"),
        sf.LAYOUT: _bytes_feature("lamost-lrs-dr1"),
        sf.SOURCE: _bytes_feature(f"/pool/{spectrum_id}.fits"),
        sf.PROBABILITIES: _float_feature(probabilities),
        sf.PREDICTED_LABEL: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        sf.PREDICTED_CLASS: _bytes_feature(DEFAULT_CLASSES[label]),
        sf.ENTROPY: _float_feature([entropy]),
        sf.MARGIN: _float_feature([margin]),
        sf.LEAST_CONFIDENCE: _float_feature([least_confidence]),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature))


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """Dirichlet scores in two gzipped shards; measures stored as float32 like the scorer."""
    rng = np.random.default_rng(20200)
    probabilities = rng.dirichlet([0.6, 0.3, 0.2], size=N_POOL).astype(np.float32)
    # Exact ties at the maximum entropy: the tie-break by spectrum id must order these.
    probabilities[[10, 500, 1500, 1999]] = np.float32(1.0 / 3.0)
    ordered = np.sort(probabilities, axis=1)
    table = {
        "id": np.array([f"{i:06d}-x" for i in rng.permutation(N_POOL)]),
        "probabilities": probabilities,
        sf.ENTROPY: (-(probabilities * np.log(probabilities)).sum(axis=1)).astype(np.float32),
        sf.MARGIN: (ordered[:, -1] - ordered[:, -2]).astype(np.float32),
        sf.LEAST_CONFIDENCE: (1.0 - ordered[:, -1]).astype(np.float32),
        "label": probabilities.argmax(axis=1),
    }
    folder = tmp_path_factory.mktemp("scores")
    for shard in range(2):
        path = folder / f"scores-{shard:05d}-of-00002.gz"
        with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
            for i in range(shard, N_POOL, 2):
                writer.write(
                    _score_example(
                        table["id"][i],
                        probabilities[i],
                        table[sf.ENTROPY][i],
                        table[sf.MARGIN][i],
                        table[sf.LEAST_CONFIDENCE][i],
                        int(table["label"][i]),
                    ).SerializeToString()
                )
    scores = PoolScores()
    scores.uri = str(folder)
    return scores, table


def _given_label(spectrum_id: str) -> int:
    """The label a labeller gave a spectrum of the ``labelled`` fixture (all classes occur)."""
    return int(hashlib.md5(spectrum_id.encode()).hexdigest(), 16) % len(DEFAULT_CLASSES)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, pool):
    """A labelled Examples artifact: 60 pool ids over two splits, plus ids not in the pool."""
    _, table = pool
    ids = list(table["id"][np.argsort(-table[sf.ENTROPY])[:40]]) + list(table["id"][-20:])
    folder = tmp_path_factory.mktemp("labelled")
    examples = standard_artifacts.Examples()
    examples.uri = str(folder)
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    for split, part in (("train", ids[::2] + ["ondrejov-1"]), ("eval", ids[1::2] + ["ondrejov-2"])):
        split_dir = folder / f"Split-{split}"
        split_dir.mkdir()
        with tf.io.TFRecordWriter(str(split_dir / "data_tfrecord-00000-of-00001.gz"), "GZIP") as w:
            for spectrum_id in part:
                example = tf.train.Example(
                    features=tf.train.Features(
                        feature={
                            features.SPECTRUM_ID: _bytes_feature(spectrum_id),
                            features.FLUX: _float_feature(np.zeros(140)),
                            features.LABEL: tf.train.Feature(
                                int64_list=tf.train.Int64List(value=[_given_label(spectrum_id)])
                            ),
                        }
                    )
                )
                w.write(example.SerializeToString())
    return examples, set(ids)


def _run(out_dir, scores, labelled_examples=None, **params):
    outputs = {"query": QueryBatch(), "performance_sample": PerformanceSample()}
    outputs["recall_sample"] = RecallSample()
    outputs["candidates"] = Candidates()
    for name, artifact in outputs.items():
        artifact.uri = os.path.join(out_dir, name)
    inputs = {"scores": [scores]}
    if labelled_examples is not None:
        inputs["labelled_examples"] = [labelled_examples]
    Executor().Do(
        inputs,
        {name: [artifact] for name, artifact in outputs.items()},
        SamplerParams(**params).to_exec_properties(),
    )
    return outputs


def _csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _json(path):
    with open(path) as handle:
        return json.load(handle)


def _reference_query(table, strategy, size, excluded):
    keep = ~np.isin(table["id"], list(excluded))
    ids, values = table["id"][keep], table[strategy][keep]
    primary = values if strategy == sf.MARGIN else -values
    return list(ids[np.lexsort((ids, primary))[:size]])


@pytest.fixture(scope="module")
def entropy_run(pool, labelled, tmp_path_factory):
    scores, _ = pool
    examples, _ = labelled
    out = str(tmp_path_factory.mktemp("entropy"))
    return _run(out, scores, examples, strategy="entropy", query_size=100, seed=3, round_index=1)


@pytest.mark.parametrize("strategy", ["margin", "least_confidence"])
def test_query_is_the_top_k_of_each_strategy(strategy, pool, labelled, tmp_path):
    scores, table = pool
    examples, labelled_ids = labelled
    outputs = _run(str(tmp_path), scores, examples, strategy=strategy, query_size=37)
    rows = _csv(os.path.join(outputs["query"].uri, "query.csv"))
    assert [row["spectrum_id"] for row in rows] == _reference_query(
        table, strategy, 37, labelled_ids
    )
    assert [row["rank"] for row in rows] == [str(i) for i in range(1, 38)]
    assert outputs["query"].get_string_custom_property("strategy") == strategy


def test_entropy_query_excludes_labelled_and_matches_numpy(entropy_run, pool, labelled):
    _, table = pool
    _, labelled_ids = labelled
    rows = _json(os.path.join(entropy_run["query"].uri, "query.json"))
    query_ids = [row["spectrum_id"] for row in rows]
    assert query_ids == _reference_query(table, sf.ENTROPY, 100, labelled_ids)
    assert not set(query_ids) & labelled_ids
    # The 40 most uncertain spectra are labelled, so the query starts after them,
    # and the tied records come out in spectrum-id order.
    unlabelled_ref = _reference_query(table, sf.ENTROPY, 100, set())
    assert query_ids[0] != unlabelled_ref[0]

    first = rows[0]
    assert first["role"] == "query" and first["rank"] == 1
    assert set(first["probabilities"]) == set(DEFAULT_CLASSES)
    assert sum(first["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert first["dec"] is None and first["ra"] == 12.5
    i = int(np.flatnonzero(table["id"] == first["spectrum_id"])[0])
    assert first["entropy"] == pytest.approx(float(table[sf.ENTROPY][i]), rel=1e-6)


def test_ties_are_broken_by_spectrum_id(pool, tmp_path):
    scores, table = pool
    tied = sorted(table["id"][[10, 500, 1500, 1999]])
    # The tied rows have the highest entropy of all (uniform probabilities).
    outputs = _run(str(tmp_path), scores, strategy="entropy", query_size=4)
    rows = _csv(os.path.join(outputs["query"].uri, "query.csv"))
    assert [row["spectrum_id"] for row in rows] == tied


def test_performance_sample_is_reproducible_and_among_positives(entropy_run, pool, labelled):
    _, table = pool
    _, labelled_ids = labelled
    rows = _csv(os.path.join(entropy_run["performance_sample"].uri, "performance_sample.csv"))
    assert len(rows) == 30
    assert {row["role"] for row in rows} == {"performance"}
    positives = {
        i
        for i, label in zip(table["id"], table["label"], strict=True)
        if DEFAULT_CLASSES[label] in POSITIVE
    }
    ids = [row["spectrum_id"] for row in rows]
    assert len(set(ids)) == 30
    assert set(ids) <= positives - labelled_ids
    assert all(row["predicted_class"] in POSITIVE for row in rows)


def test_performance_sample_depends_on_seed_and_round_only(pool, labelled, tmp_path):
    scores, _ = pool
    examples, _ = labelled

    def sample(name, **params):
        outputs = _run(str(tmp_path / name), scores, examples, query_size=1, **params)
        path = os.path.join(outputs["performance_sample"].uri, "performance_sample.json")
        return [row["spectrum_id"] for row in _json(path)]

    first = sample("a", seed=3, round_index=1)
    assert sample("b", seed=3, round_index=1, strategy="margin") == first
    other_round = sample("c", seed=3, round_index=2)
    assert len(other_round) == 30 and len(set(first) & set(other_round)) < 10
    assert sample("d", seed=4, round_index=1) != first


def test_performance_sample_is_capped_by_the_number_of_positives(pool, tmp_path):
    scores, table = pool
    n_double_peak = int(np.sum(table["label"] == 2))
    outputs = _run(
        str(tmp_path),
        scores,
        query_size=5,
        performance_sample_size=N_POOL,
        positive_classes=("double-peak",),
    )
    rows = _csv(os.path.join(outputs["performance_sample"].uri, "performance_sample.csv"))
    assert len(rows) == n_double_peak
    assert outputs["performance_sample"].get_int_custom_property("performance_sample_size") == (
        n_double_peak
    )
    candidates = _csv(os.path.join(outputs["candidates"].uri, "candidates.csv"))
    assert len(candidates) == n_double_peak


def test_candidates_are_the_unlabelled_predicted_positives_and_the_confirmed_finds(
    entropy_run, pool, labelled
):
    _, table = pool
    _, labelled_ids = labelled
    rows = _csv(os.path.join(entropy_run["candidates"].uri, "candidates.csv"))
    predicted = {
        i
        for i, label in zip(table["id"], table["label"], strict=True)
        if DEFAULT_CLASSES[label] in POSITIVE and i not in labelled_ids
    }
    # Labelled pool spectra whose label is positive stay in the list, whatever the model
    # now predicts; labelled ids outside the pool (the Ondřejov set) never appear.
    confirmed = {
        i: DEFAULT_CLASSES[_given_label(i)]
        for i in labelled_ids
        if DEFAULT_CLASSES[_given_label(i)] in POSITIVE
    }
    assert confirmed and predicted
    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], {})[row["spectrum_id"]] = row["confirmed_label"]
    assert set(by_status["predicted"]) == predicted
    assert set(by_status["predicted"].values()) == {""}
    assert by_status["confirmed"] == confirmed
    assert len(rows) == len(predicted) + len(confirmed)
    assert list(rows[0])[:3] == ["spectrum_id", "designation", "ra"]
    assert {f"p_{name}" for name in DEFAULT_CLASSES} <= set(rows[0])

    for artifact in entropy_run.values():
        assert artifact.get_int_custom_property("num_candidates") == len(predicted)
        assert artifact.get_int_custom_property("num_confirmed") == len(confirmed)
        assert artifact.get_int_custom_property("query_size") == 100
        assert artifact.get_int_custom_property("performance_sample_size") == 30
        assert artifact.get_int_custom_property("num_scored") == N_POOL
        assert artifact.get_int_custom_property("num_excluded_labelled") == len(labelled_ids)
        assert artifact.get_string_custom_property("strategy") == "entropy"
    assert not os.path.exists(os.path.join(entropy_run["candidates"].uri, "_counts"))


def test_wrong_number_of_probabilities_fails_with_a_clear_error(pool, tmp_path):
    scores, _ = pool
    with pytest.raises(Exception, match="3 probabilities but 4 class names"):
        _run(str(tmp_path), scores, class_names=("a", "b", "emission", "double-peak"))


def test_missing_scores_is_a_config_error(tmp_path):
    scores = PoolScores()
    scores.uri = str(tmp_path)
    with pytest.raises(ConfigError, match="no score files"):
        _run(str(tmp_path / "out"), scores)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"strategy": "diverse-entropy"}, "unknown strategy 'diverse-entropy'"),
        ({"mc_passes": 0}, "mc_passes must be >= 1"),
        ({"diversity_factor": 0}, "diversity_factor must be >= 1"),
        ({"query_size": 0}, "query_size must be >= 1"),
        ({"performance_sample_size": -1}, "performance_sample_size must be >= 0"),
        ({"recall_sample_size": -1}, "recall_sample_size must be >= 0"),
        ({"recall_strata": [0.5, 0.2]}, "recall_strata: bounds must increase"),
        ({"positive_classes": ["be-star"]}, r"positive classes \['be-star'\]"),
    ],
)
def test_component_validates_parameters(params, message):
    scores = channel.Channel(type=PoolScores)
    with pytest.raises(ConfigError, match=message):
        UncertaintySampler(scores=scores, **params)


def test_component_wires_inputs_and_outputs():
    sampler = UncertaintySampler(
        scores=channel.Channel(type=PoolScores),
        labelled_examples=channel.Channel(type=standard_artifacts.Examples),
        strategy="margin",
        round_index=2,
    )
    assert set(sampler.outputs) == {"query", "performance_sample", "recall_sample", "candidates"}
    assert sampler.exec_properties["strategy"] == "margin"
    assert sampler.exec_properties["diversity_factor"] == 5
    assert sampler.exec_properties["mc_passes"] == 10
    assert json.loads(sampler.exec_properties["positive_classes"]) == list(POSITIVE)


def _negatives(table, excluded):
    """Unlabelled predicted negatives: id -> positive score (float32 sums, as the scorer)."""
    positive = [DEFAULT_CLASSES.index(name) for name in POSITIVE]
    return {
        spectrum_id: float(sum(float(p[i]) for i in positive))
        for spectrum_id, p, label in zip(
            table["id"], table["probabilities"], table["label"], strict=True
        )
        if DEFAULT_CLASSES[label] not in POSITIVE and spectrum_id not in excluded
    }


def test_recall_sample_is_stratified_among_unlabelled_negatives(entropy_run, pool, labelled):
    _, table = pool
    _, labelled_ids = labelled
    negatives = _negatives(table, labelled_ids)
    strata = {sid: stratum_index(score, DEFAULT_RECALL_STRATA) for sid, score in negatives.items()}
    n_strata = len(DEFAULT_RECALL_STRATA) + 1
    populations = [sum(1 for h in strata.values() if h == k) for k in range(n_strata)]
    means = [
        float(np.mean([negatives[s] for s, h in strata.items() if h == k])) if populations[k] else 0
        for k in range(n_strata)
    ]
    expected_sizes = allocate(30, populations, means)

    folder = entropy_run["recall_sample"].uri
    rows = _csv(os.path.join(folder, "recall_sample.csv"))
    assert (
        len(rows)
        == 30
        == entropy_run["recall_sample"].get_int_custom_property("recall_sample_size")
    )
    assert {row["role"] for row in rows} == {"recall"}
    assert [row["rank"] for row in rows] == [str(i) for i in range(1, 31)]
    ids = [row["spectrum_id"] for row in rows]
    assert len(set(ids)) == 30 and set(ids) <= set(negatives)
    for row in rows:
        h = int(row["stratum"])
        assert h == strata[row["spectrum_id"]]
        assert float(row["stratum_lower"]) <= float(row["positive_score"])
        assert float(row["positive_score"]) == pytest.approx(negatives[row["spectrum_id"]], 1e-5)
        assert int(row["stratum_population"]) == populations[h]
        assert int(row["stratum_sample_size"]) == expected_sizes[h]
    # Highest stratum first; each stratum's rows match its sample size.
    assert [int(row["stratum"]) for row in rows] == sorted(
        (int(row["stratum"]) for row in rows), reverse=True
    )
    assert [sum(int(r["stratum"]) == h for r in rows) for h in range(n_strata)] == expected_sizes

    table_of_strata = _json(os.path.join(folder, "recall_strata.json"))
    assert [entry["stratum_population"] for entry in table_of_strata] == populations
    assert [entry["stratum_sample_size"] for entry in table_of_strata] == expected_sizes
    assert table_of_strata[-1]["stratum_upper"] == 1.0
    payload = _json(os.path.join(folder, "recall_sample.json"))
    assert [row["spectrum_id"] for row in payload] == ids
    assert payload[0]["stratum_population"] == int(rows[0]["stratum_population"])
    assert entropy_run["candidates"].get_int_custom_property("num_predicted_negative") == len(
        negatives
    )


def test_recall_sample_is_reproducible_and_independent_of_the_performance_sample(
    pool, labelled, tmp_path, entropy_run
):
    scores, _ = pool
    examples, _ = labelled

    def samples(name, **params):
        outputs = _run(str(tmp_path / name), scores, examples, query_size=1, **params)
        recall_rows = _json(os.path.join(outputs["recall_sample"].uri, "recall_sample.json"))
        perf = _json(os.path.join(outputs["performance_sample"].uri, "performance_sample.json"))
        return [r["spectrum_id"] for r in recall_rows], [r["spectrum_id"] for r in perf]

    first_recall, first_perf = samples("a", seed=3, round_index=1)
    again_recall, again_perf = samples("b", seed=3, round_index=1, strategy="margin")
    assert (again_recall, again_perf) == (first_recall, first_perf)
    reference = _json(os.path.join(entropy_run["recall_sample"].uri, "recall_sample.json"))
    assert [r["spectrum_id"] for r in reference] == first_recall
    other_round, _ = samples("c", seed=3, round_index=2)
    assert len(other_round) == 30 and len(set(first_recall) & set(other_round)) < 15
    # Switching the recall sample off leaves the performance sample as it was.
    off_recall, off_perf = samples("d", seed=3, round_index=1, recall_sample_size=0)
    assert off_recall == [] and off_perf == first_perf


def test_recall_sample_of_zero_still_counts_the_strata(pool, tmp_path):
    scores, table = pool
    outputs = _run(str(tmp_path), scores, query_size=1, recall_sample_size=0)
    folder = outputs["recall_sample"].uri
    assert _csv(os.path.join(folder, "recall_sample.csv")) == []
    strata = _json(os.path.join(folder, "recall_strata.json"))
    assert sum(entry["stratum_population"] for entry in strata) == len(_negatives(table, set()))
    assert all(entry["stratum_sample_size"] == 0 for entry in strata)


def test_lost_candidates_are_queried_first_then_the_strategy_fills_the_query(
    pool, labelled, tmp_path
):
    scores, table = pool
    examples, labelled_ids = labelled
    positive = [DEFAULT_CLASSES.index(name) for name in POSITIVE]
    score = table["probabilities"][:, positive].sum(axis=1)
    negative = np.array([DEFAULT_CLASSES[label] not in POSITIVE for label in table["label"]])
    # The previous round listed 30 spectra now predicted negative (some labelled since),
    # 20 still predicted positive, and an id that left the pool.
    rng = np.random.default_rng(7)
    lost_pool = rng.choice(np.flatnonzero(negative), size=30, replace=False)
    still = rng.choice(np.flatnonzero(~negative), size=20, replace=False)
    previous = tmp_path / "previous_candidates.csv"
    with previous.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["spectrum_id", "predicted_class"])
        for i in [*lost_pool, *still]:
            writer.writerow([table["id"][i], "emission"])
        writer.writerow(["gone-from-the-pool", "emission"])

    outputs = _run(
        str(tmp_path / "out"),
        scores,
        examples,
        strategy="entropy",
        query_size=40,
        reexamine_size=8,
        previous_candidates=str(previous),
    )
    rows = _csv(os.path.join(outputs["query"].uri, "query.csv"))
    lost = [i for i in lost_pool if table["id"][i] not in labelled_ids]
    expected_lost = [
        table["id"][i] for i in sorted(lost, key=lambda i: (-score[i], table["id"][i]))
    ][:8]
    assert len(rows) == 40
    assert [row["spectrum_id"] for row in rows[:8]] == expected_lost
    assert {row["query_reason"] for row in rows[:8]} == {"lost-candidate"}
    assert {row["query_reason"] for row in rows[8:]} == {"entropy"}
    # The rest is the entropy query without the lost candidates it already holds.
    reference = [i for i in _reference_query(table, sf.ENTROPY, 40, labelled_ids)]
    assert [row["spectrum_id"] for row in rows[8:]] == [
        i for i in reference if i not in expected_lost
    ][:32]
    assert outputs["candidates"].get_int_custom_property("num_reexamined") == 8


def test_without_a_previous_round_the_query_is_the_strategy_s_alone(entropy_run, pool, labelled):
    rows = _csv(os.path.join(entropy_run["query"].uri, "query.csv"))
    assert {row["query_reason"] for row in rows} == {"entropy"}
    assert entropy_run["candidates"].get_int_custom_property("num_reexamined") == 0


def test_reexamine_size_cannot_be_negative():
    with pytest.raises(ConfigError, match="reexamine_size"):
        SamplerParams(reexamine_size=-1)


@pytest.fixture(scope="module")
def novel_pool(pool, tmp_path_factory):
    """The ``pool`` fixture's records with a ``novelty`` score (as the NoveltyScorer writes)."""
    scores, table = pool
    novelty = np.random.default_rng(11).gamma(2.0, size=N_POOL).astype(np.float32)
    folder = tmp_path_factory.mktemp("novel_scores")
    with tf.io.TFRecordWriter(str(folder / "scores-00000-of-00001.gz"), options="GZIP") as writer:
        for i in range(N_POOL):
            example = _score_example(
                table["id"][i],
                table["probabilities"][i],
                table[sf.ENTROPY][i],
                table[sf.MARGIN][i],
                table[sf.LEAST_CONFIDENCE][i],
                int(table["label"][i]),
            )
            example.features.feature[sf.NOVELTY].float_list.value.append(novelty[i])
            writer.write(example.SerializeToString())
    novel_scores = PoolScores()
    novel_scores.uri = str(folder)
    return novel_scores, {**table, sf.NOVELTY: novelty}


def test_novelty_fraction_gives_its_share_of_the_query_to_the_most_novel(
    novel_pool, labelled, tmp_path
):
    scores, table = novel_pool
    examples, labelled_ids = labelled
    outputs = _run(
        str(tmp_path / "out"),
        scores,
        examples,
        strategy="entropy",
        query_size=40,
        novelty_fraction=0.25,
    )
    rows = _csv(os.path.join(outputs["query"].uri, "query.csv"))
    assert len(rows) == 40
    keep = ~np.isin(table["id"], list(labelled_ids))
    ids, novelty = table["id"][keep], table[sf.NOVELTY][keep]
    most_novel = list(ids[np.lexsort((ids, -novelty))[:10]])
    assert [row["spectrum_id"] for row in rows[:10]] == most_novel
    assert {row["query_reason"] for row in rows[:10]} == {"novelty"}
    assert {row["query_reason"] for row in rows[10:]} == {"entropy"}
    assert [float(row["novelty"]) for row in rows[:10]] == pytest.approx(
        sorted(novelty, reverse=True)[:10]
    )
    reference = _reference_query(table, sf.ENTROPY, 40, labelled_ids)
    assert [row["spectrum_id"] for row in rows[10:]] == [
        i for i in reference if i not in most_novel
    ][:30]
    assert outputs["query"].get_int_custom_property("num_novel") == 10


def test_novelty_fraction_needs_novelty_scores(pool, tmp_path):
    scores, _ = pool
    with pytest.raises(Exception, match="novelty_fraction"):
        _run(str(tmp_path / "out"), scores, strategy="entropy", query_size=10, novelty_fraction=0.5)


@pytest.mark.parametrize("fraction", [-0.1, 1.5, True])
def test_novelty_fraction_is_a_share(fraction):
    with pytest.raises(ConfigError, match="novelty_fraction"):
        SamplerParams(novelty_fraction=fraction)
