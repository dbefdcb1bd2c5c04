"""SpectraIngest and PoolScorer on a real Apache Flink cluster, compared with the DirectRunner.

The session starts a standalone Flink session cluster on 127.0.0.1 (a JobManager and two
TaskManagers with one slot each, from Flink's own Maven artefacts) and a Beam worker pool
(``EXTERNAL`` environment, no Docker), and tears them down afterwards; their logs are
printed when a test fails. A small Java job (``tests/data/flink/SubtaskCount.java``)
checks that jobs submitted over REST run on both TaskManagers. The Beam jobs go through
Beam's Flink job server (``tools/fetch-flink-job-server``); without the jar those tests
skip with the fetch's one-line reason, and the cluster tests still run.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest
import tensorflow as tf
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.types import artifact_utils, standard_artifacts

from activespec.constants import DEFAULT_CLASSES
from activespec.errors import ConfigError
from activespec.simulator import simulate_survey
from components.artifact_types import PoolScores, RejectedFiles
from components.pool_scorer import executor as scorer_executor
from components.pool_scorer import scores_file_pattern
from components.pool_scorer.spec import NUM_SCORED_PROPERTY
from components.spectra_ingest.executor import REJECTED_CSV, SUMMARY_JSON
from components.spectra_ingest.executor import Executor as IngestExecutor
from components.spectra_ingest.params import make_params
from components.spectra_ingest.spec import NUM_INGESTED_PROPERTY
from models import export, features
from pipeline import flink
from pipeline.beam_runners import DirectRunnerArgs
from pipeline.configs import config_from_dict
from tests.models import simulated

pytestmark = pytest.mark.slow

TASK_MANAGERS = 2
#: A few files: the comparison, not the throughput, is tested (bench flink measures that).
SURVEY = {"n_labelled": 24, "n_pool": 30, "seed": 17, "emission_fraction": 0.2}
#: Real files the readers reject: an all-zero LAMOST spectrum; a truncated copy is added.
ZERO_FLUX = "lamost/spec-55862-B6212_sp06-145.fits"
SPLITS = {"train": 4, "eval": 1, "test": 1}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, request):
    """The running cluster; its logs are shown if any test of the session failed."""
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"a local Flink cluster needs {' and '.join(missing)} (a JDK and Maven)")
    workdir = tmp_path_factory.mktemp("flink")
    local = flink.LocalFlinkCluster(workdir, task_managers=TASK_MANAGERS, slots=1)
    local.start()
    yield local
    failed = request.session.testsfailed
    if failed:
        print(f"\nFlink cluster logs ({workdir / 'logs'}):\n{local.log_tail(10)}")
    local.stop()


@pytest.fixture(scope="session")
def job_server_jar():
    try:
        return flink.job_server_jar(fetch=True)
    except ConfigError as err:
        pytest.skip(str(err))


def flink_args(cluster, jar, parallelism=TASK_MANAGERS) -> list[str]:
    args = cluster.pipeline_args(jar, parallelism)
    flink.preflight(args)
    return args


DIRECT_ARGS = DirectRunnerArgs(num_workers=1, running_mode="in_memory").to_args()


def test_the_cluster_runs_every_task_manager_from_flinks_own_jars(cluster):
    overview = flink.check_flink_master(cluster.flink_master)
    assert overview["flink-version"] == flink.FLINK_VERSION
    assert overview["taskmanagers"] == TASK_MANAGERS
    assert overview["slots-total"] == TASK_MANAGERS
    flink.check_listening(cluster.worker_pool, "Beam worker pool")
    assert cluster.alive()
    # A missing job-server jar is named before any job would be submitted.
    with pytest.raises(ConfigError, match="job-server jar"):
        flink.preflight(cluster.pipeline_args("/nonexistent/job-server.jar"))


def test_the_cluster_runs_a_flink_job_on_both_task_managers(cluster, tmp_path):
    """Flink's client submits over REST as Beam's job server does; with one slot per
    TaskManager, parallelism 2 runs a subtask on each."""
    missing = [tool for tool in ("javac", "jar") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"compiling the test job needs {' and '.join(missing)} (a JDK)")
    source = pathlib.Path(__file__).resolve().parents[1] / "data" / "flink" / "SubtaskCount.java"
    classes = tmp_path / "classes"
    classpath = str(flink.cluster_lib_dir() / "*")
    for command in (
        ["javac", "-nowarn", "-cp", classpath, "-d", str(classes), str(source)],
        ["jar", "cfe", str(tmp_path / "job.jar"), "SubtaskCount", "-C", str(classes), "."],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    output = tmp_path / "counts"
    printed = cluster.submit_jar(
        tmp_path / "job.jar", "1000", str(output), parallelism=TASK_MANAGERS
    )
    assert "has finished" in printed
    lines = [line for path in sorted(output.iterdir()) for line in path.read_text().splitlines()]
    assert sorted(lines) == ["0,500", "1,500"]
    assert flink.check_flink_master(cluster.flink_master)["jobs-finished"] >= 1


# ---------------------------------------------------------------------------- ingestion


@pytest.fixture(scope="session")
def labelled_inputs(tmp_path_factory, real_dir):
    """A simulated labelled set plus a duplicate, an unreadable and a truncated file."""
    out = tmp_path_factory.mktemp("flink-survey") / "survey"
    simulate_survey(out, workers=1, progress=False, **SURVEY)
    folder = out / "labelled"
    first = sorted(folder.glob("*.fits*"))[0]
    shutil.copy(first, folder / f"zz-copy-{first.name}")  # duplicate-id
    shutil.copy(real_dir / ZERO_FLUX, folder / "zero-flux.fits")
    (folder / "truncated.fits").write_bytes(first.read_bytes()[:4000])
    with open(folder / "labels.csv", "a", encoding="utf-8") as handle:
        handle.write("no-such-spectrum,none.fits,other\n")  # a label without a file
    return out


def run_ingest(out_dir, inputs, beam_args):
    params = make_params(
        file_patterns=[str(inputs / "labelled" / "*.fits*")],
        file_list=None,
        labels=str(inputs / "labelled" / "labels.csv"),
        class_names=DEFAULT_CLASSES,
        preprocessing=None,
        degrade_resolution=True,
        splits=SPLITS,
        input_fingerprint="flink-test",
    )
    examples = standard_artifacts.Examples()
    examples.uri = os.path.join(out_dir, "examples")
    rejections = RejectedFiles()
    rejections.uri = os.path.join(out_dir, "rejections")
    context = BaseBeamExecutor.Context(
        beam_pipeline_args=beam_args, tmp_dir=os.path.join(out_dir, "tmp")
    )
    IngestExecutor(context).Do(
        {}, {"examples": [examples], "rejections": [rejections]}, params.to_exec_properties()
    )
    return examples, rejections


def read_split(examples, split) -> dict[str, bytes]:
    """{spectrum_id: example} of one split, re-serialized deterministically: the map order
    of a serialized example varies between processes, and NaN (unknown SNR) != NaN."""
    split_dir = artifact_utils.get_split_uri([examples], split)
    files = sorted(glob.glob(os.path.join(split_dir, "data_tfrecord-*.gz")))
    records = {}
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy())
        spectrum_id = example.features.feature[features.SPECTRUM_ID].bytes_list.value[0]
        records[spectrum_id.decode()] = example.SerializeToString(deterministic=True)
    return records


def rejected_rows(rejections) -> set[tuple[str, str, str]]:
    with open(os.path.join(rejections.uri, REJECTED_CSV), newline="", encoding="utf-8") as f:
        return {(row["path"], row["code"], row["reason"]) for row in csv.DictReader(f)}


def summary(rejections) -> dict:
    with open(os.path.join(rejections.uri, SUMMARY_JSON), encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="session")
def ingested(tmp_path_factory, job_server_jar, labelled_inputs, cluster):
    """(DirectRunner run, Flink run) of the same labelled ingestion."""
    root = tmp_path_factory.mktemp("flink-ingest")
    direct = run_ingest(root / "direct", labelled_inputs, DIRECT_ARGS)
    on_flink = run_ingest(root / "flink", labelled_inputs, flink_args(cluster, job_server_jar))
    return direct, on_flink


def test_spectra_ingest_on_flink_writes_what_the_direct_runner_writes(ingested):
    (direct_examples, direct_rejections), (flink_examples, flink_rejections) = ingested
    for split in SPLITS:
        expected = read_split(direct_examples, split)
        got = read_split(flink_examples, split)
        # The same example ids and equal examples (flux to the bit, metadata, label).
        assert got == expected, split
    assert sum(len(read_split(direct_examples, s)) for s in SPLITS) == (
        flink_examples.get_int_custom_property(NUM_INGESTED_PROPERTY)
    )
    assert rejected_rows(flink_rejections) == rejected_rows(direct_rejections)
    codes = {code for _, code, _ in rejected_rows(flink_rejections)}
    assert {"duplicate-id", "truncated"} <= codes
    assert summary(flink_rejections) == summary(direct_rejections)
    assert summary(flink_rejections)["labels"]["ids_without_file"]["first"] == ["no-such-spectrum"]


# ---------------------------------------------------------------------------- scoring


@pytest.fixture(scope="session")
def model_artifact(tmp_path_factory):
    model, class_names = simulated.train_quick_model(n=300, epochs=1)
    artifact = standard_artifacts.Model()
    artifact.uri = str(tmp_path_factory.mktemp("flink-model"))
    export.export_serving_model(
        model, os.path.join(artifact.uri, "Format-Serving"), class_names=class_names
    )
    return artifact


def run_scorer(out_dir, examples, model, beam_args, split):
    scores = PoolScores()
    scores.uri = os.path.join(out_dir, "scores")
    context = BaseBeamExecutor.Context(
        beam_pipeline_args=beam_args, tmp_dir=os.path.join(out_dir, "tmp")
    )
    scorer_executor.Executor(context).Do(
        {"examples": [examples], "model": [model]},
        {"scores": [scores]},
        {
            "class_names": json.dumps(list(DEFAULT_CLASSES)),
            "split": split,
            "batch_size": 8,  # several batches over two workers
            "extra_scores": json.dumps(["bald"]),
            "mc_passes": 3,
            "seed": 4,
        },
    )
    return scores


def read_scores(scores) -> dict[str, tf.train.Example]:
    rows = {}
    for record in tf.data.TFRecordDataset(
        tf.io.gfile.glob(scores_file_pattern(scores.uri)), compression_type="GZIP"
    ):
        example = tf.train.Example.FromString(record.numpy())
        spectrum_id = example.features.feature[features.SPECTRUM_ID].bytes_list.value[0]
        rows[spectrum_id.decode()] = example
    return rows


def test_pool_scorer_on_flink_scores_as_the_direct_runner_does(
    tmp_path, ingested, model_artifact, cluster, job_server_jar
):
    (_, _), (flink_examples, _) = ingested
    direct = run_scorer(tmp_path / "direct", flink_examples, model_artifact, DIRECT_ARGS, "train")
    on_flink = run_scorer(
        tmp_path / "flink",
        flink_examples,
        model_artifact,
        flink_args(cluster, job_server_jar),
        "train",
    )
    expected, got = read_scores(direct), read_scores(on_flink)
    assert got.keys() == expected.keys() and len(got) > 8
    assert on_flink.get_int_custom_property(NUM_SCORED_PROPERTY) == len(got)
    for spectrum_id, example in expected.items():
        want, have = example.features.feature, got[spectrum_id].features.feature
        assert set(have) == set(want)
        for key in want:
            if want[key].HasField("float_list"):
                # Same model, same batch-independent scores; float32 arithmetic may differ
                # in the last bit between batch compositions.
                np.testing.assert_allclose(
                    have[key].float_list.value, want[key].float_list.value, rtol=1e-5, atol=1e-6
                )
            else:
                assert have[key] == want[key], (spectrum_id, key)


# ---------------------------------------------------------------------------- a round

ROUND_SURVEY = {"n_labelled": 120, "n_pool": 60, "seed": 23, "emission_fraction": 0.1}


def run_small_round(root, survey, beam: dict) -> dict:
    from pipeline.local_runner import run_round

    config = config_from_dict(
        {
            "data": {
                "labelled": [str(survey / "labelled" / "*.fits*")],
                "labels": str(survey / "labelled" / "labels.csv"),
                "pool": [str(survey / "pool" / "*.fits*")],
            },
            "model": {"max_epochs": 2, "patience": 1, "batch_size": 32},
            "evaluation": {"min_macro_f1": 0.0},
            "sampling": {"query_size": 10},
            "beam": beam,
        },
        base_dir=root,
    )
    return run_round(root / "work", config)


def test_a_whole_round_runs_on_flink(tmp_path_factory, job_server_jar, cluster):
    """Every component of a round on Flink; what does not depend on the trained model
    (which follows the order the Trainer reads its shards in) equals the DirectRunner's."""
    root = tmp_path_factory.mktemp("flink-round")
    simulate_survey(root / "survey", workers=1, progress=False, **ROUND_SURVEY)
    direct = run_small_round(root / "direct", root / "survey", {"direct_num_workers": 1})
    on_flink = run_small_round(
        root / "flink",
        root / "survey",
        {
            "runner": "FlinkRunner",
            "flink_master": cluster.flink_master,
            "flink_parallelism": TASK_MANAGERS,
            "flink_job_server_jar": job_server_jar,
            "environment_type": "EXTERNAL",
            "environment_config": cluster.worker_pool,
        },
    )
    assert set(on_flink["nodes"].values()) == {"COMPLETE"}, on_flink["nodes"]
    for node, counts in direct["ingestion"].items():
        got = on_flink["ingestion"][node]
        for key in ("num_ingested", "num_examples", "num_rejected", "rejections_by_code"):
            assert got[key] == counts[key], (node, key)
    pool_size = direct["ingestion"]["PoolIngest"]["num_ingested"]
    assert on_flink["num_scored"] == direct["num_scored"] == pool_size > 0
    assert on_flink["sampling"]["query_size"] == direct["sampling"]["query_size"] == 10
