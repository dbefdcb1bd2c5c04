"""docs/cluster.md: every configuration it gives loads, compiles and means what it says.

No cluster or cloud here: the TOML blocks go through ``load_config`` and
``activespec compile``, their Beam arguments through Beam's own option classes, and the
Kubernetes manifest is checked against the round's configuration.
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml
from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PipelineOptions,
    PortableOptions,
    StandardOptions,
    WorkerOptions,
)

from pipeline import flink
from pipeline.beam_runners import cluster_pipeline_args
from pipeline.configs import config_from_dict

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "cluster.md"
IMAGE = "europe-west4-docker.pkg.dev/astro-lab/pipelines/activespec:0.1.0"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def configs(tmp_path) -> dict[str, object]:
    """The TOML blocks by runner; the local Flink one (no [data]) as "FlinkRunner-local"."""
    found = {}
    for text in blocks("toml"):
        raw = tomllib.loads(text)
        config = config_from_dict(raw, base_dir=tmp_path)
        key = config.beam.runner + ("" if "data" in raw else "-local")
        found[key] = config
    return found


def test_the_page_gives_a_local_flink_a_cluster_flink_a_dataflow_and_a_kfp_round(tmp_path):
    assert set(configs(tmp_path)) == {
        "FlinkRunner-local",
        "FlinkRunner",
        "DataflowRunner",
        "DirectRunner",
    }


def test_the_local_flink_section_uses_the_cached_jar_and_the_worker_pool(tmp_path, monkeypatch):
    monkeypatch.delenv(flink.JOB_SERVER_JAR_ENV, raising=False)
    config = configs(tmp_path)["FlinkRunner-local"]
    options = PipelineOptions(config.beam.pipeline_args())
    runner = options.view_as(FlinkRunnerOptions)
    assert runner.flink_job_server_jar == str(flink.cached_job_server_jar())
    assert runner.parallelism == 2
    assert options.view_as(PortableOptions).environment_type == "EXTERNAL"


def test_the_operator_manifest_matches_the_flink_round(tmp_path):
    config = configs(tmp_path)["FlinkRunner"]
    (manifest,) = [yaml.safe_load(text) for text in blocks("yaml")]
    spec = manifest["spec"]
    assert manifest["kind"] == "FlinkDeployment"
    assert spec["flinkVersion"] == "v" + flink.FLINK_MINOR.replace(".", "_")
    assert spec["image"].startswith(f"flink:{flink.FLINK_VERSION}")
    (sidecar,) = spec["taskManager"]["podTemplate"]["spec"]["containers"]
    assert sidecar["image"] == IMAGE and sidecar["args"] == ["--worker_pool"]
    # The worker pool the round names is the sidecar's port on the task manager's localhost.
    assert config.beam.environment_config == f"localhost:{sidecar['ports'][0]['containerPort']}"
    slots = int(spec["flinkConfiguration"]["taskmanager.numberOfTaskSlots"])
    assert config.beam.flink_parallelism == slots * spec["taskManager"]["replicas"]
    name, namespace = manifest["metadata"]["name"], manifest["metadata"]["namespace"]
    assert config.beam.flink_master == f"{name}-rest.{namespace}.svc:8081"
    # The jar the round names is the one the derived image copies: the cached jar's name.
    jar = pathlib.PurePosixPath(config.beam.flink_job_server_jar)
    assert jar.name == flink.cached_job_server_jar().name
    (dockerfile,) = blocks("dockerfile")
    assert f"COPY {jar.name} {jar.parent}/" in dockerfile


def test_the_cluster_rounds_give_the_pods_the_arguments_the_page_describes(tmp_path):
    found = configs(tmp_path)
    options = PipelineOptions(cluster_pipeline_args(found["FlinkRunner"].beam, image=IMAGE))
    runner = options.view_as(FlinkRunnerOptions)
    assert runner.flink_submit_uber_jar is True
    assert runner.flink_job_server_jar.startswith("/opt/activespec/jars/")
    assert runner.parallelism == 8
    assert options.view_as(StandardOptions).runner == "FlinkRunner"
    dataflow = PipelineOptions(cluster_pipeline_args(found["DataflowRunner"].beam, image=IMAGE))
    assert dataflow.view_as(GoogleCloudOptions).project == "astro-lab"
    assert dataflow.view_as(WorkerOptions).sdk_container_image == IMAGE


@pytest.mark.parametrize("runner", ["FlinkRunner", "DataflowRunner", "DirectRunner"])
def test_activespec_compile_compiles_each_round_of_the_page(tmp_path, runner, capsys):
    from activespec_cli import main
    from tests.kubeflow.test_compile import container

    text = next(
        block for block in blocks("toml") if f'runner = "{runner}"' in block and "[data]" in block
    )
    config_path = tmp_path / f"{runner}.toml"
    config_path.write_text(text, encoding="utf-8")
    output = tmp_path / "pipeline.yaml"
    code = main(
        [
            "compile",
            "--config",
            str(config_path),
            "--image",
            IMAGE,
            "--pipeline-root",
            "gs://astro-lab-pipelines/activespec/root",
            "--output",
            str(output),
            "--pool-fingerprint",
            "release:dr2",
        ]
    )
    assert code == 0, capsys.readouterr()
    args = container(yaml.safe_load(output.read_text()), "PoolIngest")["args"]
    assert f"--runner={runner}" in args
