"""StatisticsGen's in-memory path against TFX's own Beam executor, on ingested real spectra."""

import glob
import os

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.components.statistics_gen import executor as tfx_executor
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs

from bench.ingestion import run_ingest_executor
from components.statistics_gen import executor as ours
from models import features
from pipeline.pipeline import POOL_SCHEMA


@pytest.fixture(scope="module")
def pool_examples(tmp_path_factory, real_dir):
    """The 50 real LAMOST and Ondřejov files, ingested as a pool (split ``pool``)."""
    out = tmp_path_factory.mktemp("ingest")
    paths = sorted(glob.glob(str(real_dir / "*" / "*.fits*")))
    count, _ = run_ingest_executor(paths, out, ["--runner=DirectRunner"])
    assert count > 40
    examples = standard_artifacts.Examples()
    examples.uri = str(out / "examples")
    examples.split_names = artifact_utils.encode_split_names(["pool"])
    return examples


def _without_feature(source, uri, name, every):
    """A copy of ``source`` where every ``every``-th example lacks feature ``name``."""
    examples = standard_artifacts.Examples()
    examples.uri = str(uri)
    examples.split_names = source.split_names
    split_dir = os.path.join(uri, "Split-pool")
    os.makedirs(split_dir)
    files = glob.glob(os.path.join(source.uri, "Split-pool", "*"))
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(os.path.join(split_dir, "data.gz"), options) as writer:
        for index, record in enumerate(tf.data.TFRecordDataset(files, compression_type="GZIP")):
            example = tf.train.Example.FromString(record.numpy())
            if index % every == 0:
                del example.features.feature[name]
            writer.write(example.SerializeToString())
    return examples


def _run(executor_class, examples, out_dir, exec_properties=None):
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = str(out_dir)
    executor_class().Do(
        {standard_component_specs.EXAMPLES_KEY: [examples]},
        {standard_component_specs.STATISTICS_KEY: [statistics]},
        exec_properties or {},
    )
    return statistics


def _statistics(artifact, split):
    path = os.path.join(artifact.uri, f"Split-{split}", tfx_executor.DEFAULT_FILE_NAME)
    with open(path, "rb") as handle:
        return statistics_pb2.DatasetFeatureStatisticsList.FromString(handle.read())


def _anomalies(stats):
    schema = tfdv.load_schema_text(str(POOL_SCHEMA))
    found = tfdv.validate_statistics(stats, schema)
    return {
        name: (a.severity, sorted(r.type for r in a.reason))
        for name, a in found.anomaly_info.items()
    }


def _comparable(stats):
    """Per feature: what the validator reads, floats rounded (sums may differ in the last bit)."""
    out = {}
    for feature in stats.datasets[0].features:
        kind = feature.WhichOneof("stats")
        part = getattr(feature, kind)
        common = part.common_stats
        entry = {
            "type": feature.type,
            "non_missing": common.num_non_missing,
            "missing": common.num_missing,
            "values": (
                common.min_num_values,
                common.max_num_values,
                round(common.avg_num_values, 9),
            ),
        }
        if kind == "num_stats":
            entry["range"] = (part.min, part.max, round(part.mean, 6), part.num_zeros)
        else:
            entry["unique"] = part.unique
        out[feature.path.step[0]] = entry
    return stats.datasets[0].num_examples, out


def test_in_memory_statistics_equal_tfxs_beam_statistics(pool_examples, tmp_path):
    assert ours.in_memory_eligible({"examples": [pool_examples]}, {})
    reference = _run(tfx_executor.Executor, pool_examples, tmp_path / "beam")
    fast = _run(ours.Executor, pool_examples, tmp_path / "memory")
    assert fast.split_names == reference.split_names
    assert fast.span == reference.span
    for key in (tfx_executor.SAMPLE_RATE_BY_SPLIT_PROPERTY_NAME, tfx_executor.STATS_DASHBOARD_LINK):
        assert fast.get_custom_property(key) == reference.get_custom_property(key)
    expected, got = _statistics(reference, "pool"), _statistics(fast, "pool")
    assert _comparable(got) == _comparable(expected)
    assert {features.FLUX, features.SPECTRUM_ID} <= set(_comparable(got)[1])
    assert _anomalies(got) == _anomalies(expected) == {}


def test_a_missing_feature_is_the_same_anomaly_on_both_paths(pool_examples, tmp_path):
    broken = _without_feature(pool_examples, tmp_path / "broken", features.FLUX, every=7)
    expected = _statistics(_run(tfx_executor.Executor, broken, tmp_path / "beam"), "pool")
    got = _statistics(_run(ours.Executor, broken, tmp_path / "memory"), "pool")
    assert _comparable(got) == _comparable(expected)
    anomalies = _anomalies(got)
    assert features.FLUX in anomalies and anomalies == _anomalies(expected)


def test_large_sets_and_unimplemented_options_take_tfxs_path(pool_examples, tmp_path):
    inputs = {"examples": [pool_examples]}
    assert not ours.in_memory_eligible(inputs, {}, max_bytes=1_000)
    options = tfdv.StatsOptions(num_top_values=3).to_json()
    assert not ours.in_memory_eligible(
        inputs, {standard_component_specs.STATS_OPTIONS_JSON_KEY: options}
    )
    # Run through the executor: TFX's path honours the option.
    statistics = _run(
        ours.Executor,
        pool_examples,
        tmp_path / "options",
        {standard_component_specs.STATS_OPTIONS_JSON_KEY: options},
    )
    strings = [
        f.string_stats
        for f in _statistics(statistics, "pool").datasets[0].features
        if f.WhichOneof("stats") == "string_stats"
    ]
    assert strings and all(len(s.top_values) <= 3 for s in strings)


def test_excluding_every_split_leaves_nothing_to_compute_in_memory(pool_examples):
    properties = {standard_component_specs.EXCLUDE_SPLITS_KEY: '["pool"]'}
    assert not ours.in_memory_eligible({"examples": [pool_examples]}, properties)
