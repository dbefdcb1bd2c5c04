"""The FlinkRunner settings of ``[beam]`` and ``activespec compile``, and the one-line,
bounded errors when the job-server jar or the Flink cluster is missing (no cluster needed:
tests/pipeline/test_flink_cluster.py runs one)."""

from __future__ import annotations

import socket
import time

import pytest
from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    JobServerOptions,
    PipelineOptions,
    PortableOptions,
    SetupOptions,
    StandardOptions,
)

from activespec.errors import ConfigError
from pipeline import flink
from pipeline.beam_runners import FlinkRunnerArgs, cluster_pipeline_args
from pipeline.configs import config_from_dict

IMAGE = "europe-west4-docker.pkg.dev/astro-lab/pipelines/activespec:0.1.0"
FLINK_BEAM = {
    "runner": "FlinkRunner",
    "flink_master": "flink-jobmanager:8081",
    "flink_parallelism": 4,
    "environment_type": "EXTERNAL",
    "environment_config": "localhost:50000",
}


def beam_section(tmp_path, **beam):
    return config_from_dict({"beam": beam}, base_dir=tmp_path).beam


def parsed(args) -> PipelineOptions:
    return PipelineOptions(args)


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_flink_settings_become_the_beam_arguments_of_a_local_round(tmp_path, monkeypatch):
    monkeypatch.setenv(flink.MAVEN_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(flink.JOB_SERVER_JAR_ENV, raising=False)
    args = beam_section(tmp_path, **FLINK_BEAM).pipeline_args()
    options = parsed(args)
    runner = options.view_as(FlinkRunnerOptions)
    assert options.view_as(StandardOptions).runner == "FlinkRunner"
    assert runner.flink_master == "flink-jobmanager:8081"
    assert runner.parallelism == 4
    assert runner.flink_version == flink.FLINK_MINOR
    # Never Beam's own download: the jar tools/fetch-flink-job-server caches.
    assert runner.flink_job_server_jar == str(flink.cached_job_server_jar())
    assert str(tmp_path / "cache") in runner.flink_job_server_jar
    portable = options.view_as(PortableOptions)
    assert (portable.environment_type, portable.environment_config) == (
        "EXTERNAL",
        "localhost:50000",
    )
    assert options.view_as(SetupOptions).pickle_library == "cloudpickle"
    jvm = options.view_as(JobServerOptions).job_server_jvm_properties
    assert jvm == list(flink.JAVA17_OPTS)
    # A jar named by the environment wins over the cache.
    monkeypatch.setenv(flink.JOB_SERVER_JAR_ENV, "/srv/jars/job-server.jar")
    args = beam_section(tmp_path, **FLINK_BEAM).pipeline_args()
    jar = parsed(args).view_as(FlinkRunnerOptions).flink_job_server_jar
    assert jar == "/srv/jars/job-server.jar"


def test_a_configured_jar_is_used_as_given_and_extra_args_come_last(tmp_path):
    beam = beam_section(
        tmp_path,
        **FLINK_BEAM,
        flink_job_server_jar="/opt/beam/job-server.jar",
        extra_args=["--parallelism=8"],
    )
    runner = parsed(beam.pipeline_args()).view_as(FlinkRunnerOptions)
    assert runner.flink_job_server_jar == "/opt/beam/job-server.jar"
    assert runner.parallelism == 8


def test_cluster_arguments_keep_the_flink_settings_without_a_local_jar(tmp_path):
    args = cluster_pipeline_args(beam_section(tmp_path, **FLINK_BEAM), image=IMAGE)
    runner = parsed(args).view_as(FlinkRunnerOptions)
    assert runner.flink_master == "flink-jobmanager:8081" and runner.parallelism == 4
    # A path on the compiling machine means nothing in a pod.
    assert runner.flink_job_server_jar is None
    docker = dict(FLINK_BEAM, environment_type="DOCKER", environment_config="")
    portable = parsed(cluster_pipeline_args(beam_section(tmp_path, **docker), image=IMAGE))
    assert portable.view_as(PortableOptions).environment_config == IMAGE


@pytest.mark.parametrize(
    "beam, reason",
    [
        ({"runner": "DirectRunner", "flink_master": "jm:8081"}, "only for runner = FlinkRunner"),
        ({"runner": "DataflowRunner", "flink_parallelism": 2}, "only for runner = FlinkRunner"),
        ({"runner": "FlinkRunner", "flink_parallelism": -1}, "must be >= 0"),
        ({"runner": "FlinkRunner", "environment_type": "K8S"}, "is not one of"),
        ({"runner": "DirectRunner", "environment_type": "EXTERNAL"}, "only for FlinkRunner"),
    ],
)
def test_bad_flink_settings_are_refused_when_the_config_loads(tmp_path, beam, reason):
    with pytest.raises(ConfigError, match=reason):
        beam_section(tmp_path, **beam)


def test_a_missing_jar_is_one_line_naming_the_artifact_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(flink.MAVEN_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(flink.JOB_SERVER_JAR_ENV, raising=False)
    with pytest.raises(ConfigError) as error:
        flink.job_server_jar()
    message = str(error.value)
    assert "\n" not in message
    assert flink.JOB_SERVER_ARTIFACT in message and "tools/fetch-flink-job-server" in message
    monkeypatch.setenv(flink.JOB_SERVER_JAR_ENV, str(tmp_path / "absent.jar"))
    with pytest.raises(ConfigError, match="absent.jar does not exist"):
        flink.job_server_jar()
    jar = tmp_path / "job-server.jar"
    jar.write_bytes(b"PK")
    monkeypatch.setenv(flink.JOB_SERVER_JAR_ENV, str(jar))
    assert flink.job_server_jar() == str(jar)


def test_preflight_names_a_missing_jar_before_the_cluster(tmp_path):
    args = FlinkRunnerArgs(
        flink_master=f"127.0.0.1:{closed_port()}",
        environment_config="localhost:50000",
        job_server_jar=str(tmp_path / "absent.jar"),
    ).to_args()
    with pytest.raises(ConfigError, match="absent.jar does not exist"):
        flink.preflight(args)


def test_preflight_fails_in_seconds_without_a_cluster_or_worker_pool(tmp_path):
    jar = tmp_path / "job-server.jar"
    jar.write_bytes(b"PK")
    args = FlinkRunnerArgs(
        flink_master=f"127.0.0.1:{closed_port()}",
        environment_config=f"localhost:{closed_port()}",
        job_server_jar=str(jar),
    ).to_args()
    started = time.monotonic()
    with pytest.raises(ConfigError, match="no Flink cluster answers at http://127.0.0.1:") as error:
        flink.preflight(args, timeout=2)
    assert "\n" not in str(error.value)
    assert time.monotonic() - started < 10
    with pytest.raises(ConfigError, match="no Beam job server listens"):
        flink.preflight(
            FlinkRunnerArgs(
                job_endpoint=f"localhost:{closed_port()}", environment_config="localhost:1"
            ).to_args(),
            timeout=2,
        )


def test_preflight_ignores_other_runners():
    flink.preflight(["--runner=DirectRunner"])
    flink.preflight(["--runner=PrismRunner"])
    flink.preflight([])


def test_compile_takes_the_flink_settings(tmp_path, capsys):
    import yaml

    from activespec_cli import main
    from tests.kubeflow.test_compile import ROOT, container, round_raw, write_config

    raw = round_raw()
    raw["beam"] = {"runner": "DirectRunner"}
    output = tmp_path / "pipeline.yaml"
    code = main(
        [
            "compile",
            "--config",
            str(write_config(tmp_path, raw)),
            "--output",
            str(output),
            "--image",
            IMAGE,
            "--pipeline-root",
            ROOT,
            "--beam-runner",
            "FlinkRunner",
            "--flink-master",
            "flink-jobmanager:8081",
            "--flink-parallelism",
            "6",
            "--flink-job-server-jar",
            "/opt/activespec/job-server.jar",
            "--environment-type",
            "EXTERNAL",
            "--environment-config",
            "localhost:50000",
        ]
    )
    assert code == 0, capsys.readouterr()
    spec = yaml.safe_load(output.read_text())
    args = container(spec, "PoolIngest")["args"]
    for expected in (
        "--runner=FlinkRunner",
        "--flink_master=flink-jobmanager:8081",
        "--parallelism=6",
        "--flink_job_server_jar=/opt/activespec/job-server.jar",
        "--environment_type=EXTERNAL",
        "--environment_config=localhost:50000",
        "--pickle_library=cloudpickle",
    ):
        assert expected in args


def test_a_flink_round_without_its_cluster_stops_before_any_component(tmp_path):
    from pipeline.local_runner import run_round

    jar = tmp_path / "job-server.jar"
    jar.write_bytes(b"PK")
    beam = dict(
        FLINK_BEAM, flink_master=f"127.0.0.1:{closed_port()}", flink_job_server_jar=str(jar)
    )
    config = config_from_dict({"beam": beam}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="no Flink cluster answers"):
        run_round(tmp_path / "work", config)
    assert not (tmp_path / "work").exists()
