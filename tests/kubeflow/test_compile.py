"""Compiling a round for Kubeflow Pipelines v2 / Vertex AI, offline, and reading the spec
back: the same graph as the local runner, types KFP accepts and the container can resolve,
the image and its entrypoint everywhere, the Beam arguments and round inputs wired."""

import hashlib
import json
import pathlib
import re

import pytest
import yaml

from activespec.errors import ConfigError
from pipeline.configs import config_from_dict

IMAGE = "europe-west4-docker.pkg.dev/astro-lab/pipelines/activespec:0.1.0"
ROOT = "gs://astro-lab-pipelines/activespec/root"
SNAPSHOT = "gs://astro-lab-survey/labels/round-002.csv"
SNAPSHOT_DIGEST = hashlib.sha256(b"spectrum_id,label\n").hexdigest()
POOL_FINGERPRINT = "files:2,bytes:5760,max_mtime:1700000000,names:00000000deadbeef"
#: KFP v2's custom artifact schema titles: <namespace>.<Title>.
CUSTOM_TITLE = re.compile(r"^[a-z][a-z0-9_]*\.[A-Z][A-Za-z0-9]*$")
DATAFLOW_ARGS = [
    "--project=astro-lab",
    "--region=europe-west4",
    "--temp_location=gs://astro-lab-tmp/beam",
    "--machine_type=n1-standard-8",
    "--max_num_workers=16",
]


def round_raw(**data) -> dict:
    return {
        "pipeline": {"name": "activespec-lamost"},
        "data": {
            "labelled": ["gs://astro-lab-survey/ondrejov/*.fits"],
            "labels": "gs://astro-lab-survey/ondrejov/labels.csv",
            "pool": ["gs://astro-lab-survey/lamost/dr2/**.fits.gz"],
            "fingerprint_pool": False,
            **data,
        },
        "sampling": {"query_size": 40, "seed": 11},
        "beam": {"runner": "DataflowRunner", "extra_args": DATAFLOW_ARGS},
    }


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """(pipeline object, PipelineJob read back from the written JSON, config)."""
    from kubeflow.kubeflow_v2_runner import (
        build_pipeline,
        compile_pipeline_job,
        write_pipeline_file,
    )

    base = tmp_path_factory.mktemp("kfp")
    config = config_from_dict(round_raw(), base_dir=base)
    pipeline = build_pipeline(
        config,
        image=IMAGE,
        pipeline_root=ROOT,
        round_index=2,
        labels_snapshot=SNAPSHOT,
        labels_digest=SNAPSHOT_DIGEST,
        pool_fingerprint=POOL_FINGERPRINT,
    )
    job = compile_pipeline_job(pipeline, image=IMAGE)
    path = write_pipeline_file(job, base / "pipeline.json")
    return pipeline, json.loads(path.read_text()), config


@pytest.fixture
def registered_types():
    """The container entrypoint's registration, undone afterwards."""
    import activespec
    from kubeflow import entrypoint

    before = set(vars(activespec))
    yield entrypoint.register_artifact_types()
    for name in set(vars(activespec)) - before:
        delattr(activespec, name)


def tasks(spec: dict) -> dict:
    return spec["root"]["dag"]["tasks"]


def container(spec: dict, node_id: str) -> dict:
    component = spec["components"][tasks(spec)[node_id]["componentRef"]["name"]]
    return spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]


def constant(spec: dict, node_id: str, name: str):
    return tasks(spec)[node_id]["inputs"]["parameters"][name]["runtimeValue"]["constant"]


def node(pipeline, node_id: str):
    return next(n for n in pipeline.components if n.id == node_id)


def artifact_schemas(spec: dict) -> list[str]:
    """The instance schema (YAML) of every input and output artifact of every component."""
    return [
        artifact["artifactType"]["instanceSchema"]
        for component in spec["components"].values()
        for side in ("inputDefinitions", "outputDefinitions")
        for artifact in component.get(side, {}).get("artifacts", {}).values()
    ]


def test_every_component_is_a_task_with_its_upstream_dependencies(compiled):
    pipeline, job, _ = compiled
    spec = job["pipelineSpec"]
    assert set(tasks(spec)) == {n.id for n in pipeline.components}
    assert len(pipeline.components) == len(tasks(spec)) == len(spec["deploymentSpec"]["executors"])
    for component in pipeline.components:
        upstream = {n.id for n in component.upstream_nodes}
        assert set(tasks(spec)[component.id].get("dependentTasks", [])) == upstream, component.id
    # The gates hold back training and scoring, as in the local runner.
    assert any("ValidationGate" in n.id for n in node(pipeline, "Trainer").upstream_nodes)


def test_custom_artifact_types_have_kfp_titles_that_the_container_resolves(
    compiled, registered_types
):
    from kfp.pipeline_spec import pipeline_spec_pb2
    from tfx.orchestration.kubeflow.v2 import compiler_utils
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
    from tfx.utils import import_utils

    _, job, _ = compiled
    schemas = artifact_schemas(job["pipelineSpec"])
    titles = {yaml.safe_load(schema)["title"] for schema in schemas}
    custom = {title for title in titles if not title.startswith("tfx.")}
    assert (
        custom
        == set(registered_types)
        == {
            "activespec.RejectedFiles",
            "activespec.PoolScores",
            "activespec.QueryBatch",
            "activespec.PerformanceSample",
            "activespec.RecallSample",
            "activespec.Candidates",
            "activespec.PoolMap",
        }
    )
    assert all(CUSTOM_TITLE.fullmatch(title) for title in custom)
    assert titles - custom <= set(compiler_utils.TITLE_TO_CLASS_PATH)
    # What the TFX entry point does with each artifact type in the pod.
    for schema in schemas:
        title = yaml.safe_load(schema)["title"]
        path = kubeflow_v2_entrypoint_utils._retrieve_class_path(
            pipeline_spec_pb2.ArtifactTypeSchema(instance_schema=schema)
        )
        cls = import_utils.import_class_by_path(path)
        if title in custom:
            assert cls is registered_types[title]
        else:
            assert f"tfx.{cls.TYPE_NAME}" == title


def test_every_executor_runs_the_image_through_the_entrypoint(compiled):
    from kubeflow import entrypoint

    _, job, _ = compiled
    executors = job["pipelineSpec"]["deploymentSpec"]["executors"]
    assert {e["container"]["image"] for e in executors.values()} == {IMAGE}
    assert {tuple(e["container"]["command"]) for e in executors.values()} == {entrypoint.COMMAND}


def test_beam_components_receive_the_cluster_beam_arguments(compiled):
    from tfx.dsl.components.base.executor_spec import BeamExecutorSpec

    from pipeline.beam_runners import cluster_pipeline_args

    pipeline, job, config = compiled
    expected = cluster_pipeline_args(config.beam, image=IMAGE)
    assert f"--sdk_container_image={IMAGE}" in expected
    assert expected[1 : 1 + len(DATAFLOW_ARGS)] == DATAFLOW_ARGS
    beam_nodes = [
        n.id for n in pipeline.components if isinstance(n.executor_spec, BeamExecutorSpec)
    ]
    assert {"LabelledIngest", "PoolIngest", "Evaluator"} <= set(beam_nodes)
    for node_id in beam_nodes:
        args = container(job["pipelineSpec"], node_id)["args"]
        assert args[-len(expected) :] == expected, node_id


def test_trainer_gets_its_run_fn_and_custom_config(compiled):
    from pipeline.pipeline import TRAINER_RUN_FN

    _, job, config = compiled
    spec = job["pipelineSpec"]
    assert constant(spec, "Trainer", "run_fn") == TRAINER_RUN_FN
    custom_config = json.loads(constant(spec, "Trainer", "custom_config"))
    assert custom_config["class_names"] == list(config.data.classes)
    assert custom_config["model"] == config.model_config().to_dict()
    assert custom_config["distribution"]["kind"] == config.distribution.strategy
    assert json.loads(constant(spec, "Trainer", "train_args")) == {"splits": ["train"]}
    args = container(spec, "Trainer")["args"]
    assert args[args.index("--executor_class_path") + 1].startswith("tfx.components.trainer.")


def test_round_inputs_reach_their_components(compiled):
    _, job, config = compiled
    spec = job["pipelineSpec"]
    assert constant(spec, "LabelJoin", "labels") == SNAPSHOT
    assert constant(spec, "LabelJoin", "labels_digest") == SNAPSHOT_DIGEST
    assert constant(spec, "PoolIngest", "input_fingerprint") == POOL_FINGERPRINT
    assert json.loads(constant(spec, "PoolIngest", "file_patterns")) == config.pool_patterns
    assert constant(spec, "LabelledIngest", "labels") == config.data.labels
    assert constant(spec, "UncertaintySampler", "round_index") == 2
    assert constant(spec, "UncertaintySampler", "query_size") == 40
    push = json.loads(constant(spec, "Pusher", "push_destination"))
    assert push["filesystem"]["base_directory"] == f"{ROOT}/serving_model"
    # The function component runs from the installed package, not from __main__.
    args = container(spec, "LabelledValidationGate")["args"]
    executor_class = args[args.index("--executor_class_path") + 1]
    assert executor_class.startswith("components.validation_gate.")


def test_project_files_are_addressed_inside_the_image(compiled):
    from tfx import v1 as tfx

    from kubeflow.kubeflow_v2_runner import IMAGE_PROJECT_ROOT, PROJECT_ROOT

    pipeline, job, _ = compiled
    schema_nodes = [
        n.id for n in pipeline.components if isinstance(n, tfx.components.ImportSchemaGen)
    ]
    assert len(schema_nodes) == 2
    for node_id in schema_nodes:
        path = constant(job["pipelineSpec"], node_id, "schema_file")
        relative = pathlib.PurePosixPath(path).relative_to(IMAGE_PROJECT_ROOT)
        assert (PROJECT_ROOT / relative).is_file(), path


def test_the_job_is_a_valid_pipeline_job_rooted_at_the_pipeline_root(compiled):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    _, job, _ = compiled
    json_format.ParseDict(job, pipeline_spec_pb2.PipelineJob())
    json_format.ParseDict(job["pipelineSpec"], pipeline_spec_pb2.PipelineSpec())
    assert job["runtimeConfig"]["gcsOutputDirectory"] == ROOT
    assert job["pipelineSpec"]["defaultPipelineRoot"] == ROOT
    assert job["pipelineSpec"]["schemaVersion"] == "2.1.0"
    assert job["pipelineSpec"]["pipelineInfo"]["name"] == "activespec-lamost"


def write_config(tmp_path, raw: dict) -> pathlib.Path:
    lines = []
    for section, table in raw.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    path = tmp_path / "round.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cli_compiles_a_kfp_yaml_spec_end_to_end(tmp_path, capsys):
    from activespec_cli import main

    raw = round_raw()
    raw["beam"] = {"runner": "DirectRunner", "direct_num_workers": 4}
    snapshot = tmp_path / "labels.csv"
    snapshot.write_text("spectrum_id,label\nspec-55859-B5585906_sp04-097,emission\n")
    output = tmp_path / "out" / "pipeline.yaml"
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
            ROOT + "/",
            "--serving-model-dir",
            "gs://astro-lab-models/activespec",
            "--round",
            "5",
            "--labels-snapshot",
            str(snapshot),
            "--allow-local-paths",
            "--beam-runner",
            "DataflowRunner",
            *(f"--beam-arg={arg}" for arg in DATAFLOW_ARGS),
        ]
    )
    assert code == 0
    assert f"wrote {output}" in capsys.readouterr().out
    spec = yaml.safe_load(output.read_text())
    assert spec["defaultPipelineRoot"] == ROOT
    # Read as kfp.Client (2.5) reads an uploaded or submitted package.
    from kfp.client.client import _extract_pipeline_yaml

    uploaded = _extract_pipeline_yaml(str(output)).pipeline_spec
    assert set(uploaded.root.dag.tasks) == set(tasks(spec))
    assert constant(spec, "UncertaintySampler", "round_index") == 5
    # The snapshot digest is computed from the file, as snapshot_labels computes it.
    digest = hashlib.sha256(snapshot.read_bytes()).hexdigest()
    assert constant(spec, "LabelJoin", "labels_digest") == digest
    push = json.loads(constant(spec, "Pusher", "push_destination"))
    assert push["filesystem"]["base_directory"] == "gs://astro-lab-models/activespec"
    # --beam-runner and --beam-arg replaced the configured DirectRunner.
    args = container(spec, "PoolStatisticsGen")["args"]
    assert "--runner=DataflowRunner" in args and f"--sdk_container_image={IMAGE}" in args
    assert "--direct_num_workers=4" not in args


def test_cli_refuses_paths_the_cluster_cannot_read(tmp_path, capsys):
    from activespec_cli import main

    raw = round_raw(pool=["lamost/*.fits.gz"])
    code = main(
        [
            "compile",
            "--config",
            str(write_config(tmp_path, raw)),
            "--output",
            str(tmp_path / "pipeline.json"),
            "--image",
            IMAGE,
            "--pipeline-root",
            ROOT,
        ]
    )
    assert code == 2
    assert "data.pool" in capsys.readouterr().err
    assert not (tmp_path / "pipeline.json").exists()


@pytest.mark.parametrize(
    ("raw", "target", "reason"),
    [
        (round_raw(), {"pipeline_root": "minio://mlpipeline/v2/artifacts"}, "minio"),
        (round_raw(), {"pipeline_root": "/tmp/pipeline-root"}, "pods cannot read"),
        (round_raw(), {"serving_model_dir": "s3://models/activespec"}, "s3://"),
        (round_raw(), {"image": "not an image"}, "image"),
        (round_raw(), {"labels_snapshot": "minio://labels.csv"}, "labels snapshot"),
        ({**round_raw(), "pipeline": {"name": "Activespec_LAMOST"}}, {}, "pipeline name"),
        (
            {**round_raw(), "beam": {"runner": "FlinkRunner", "extra_args": ["--flink_master=jm"]}},
            {},
            "environment_type",
        ),
    ],
)
def test_targets_kubeflow_cannot_run_are_refused_before_compiling(tmp_path, raw, target, reason):
    from kubeflow.kubeflow_v2_runner import build_pipeline

    options = {"image": IMAGE, "pipeline_root": ROOT, **target}
    with pytest.raises(ConfigError, match=reason):
        build_pipeline(config_from_dict(raw, base_dir=tmp_path), **options)


def test_output_must_be_json_or_yaml(tmp_path):
    from kubeflow.kubeflow_v2_runner import write_pipeline_file

    with pytest.raises(ConfigError, match=r"\.json"):
        write_pipeline_file({"pipelineSpec": {}}, tmp_path / "pipeline.txt")


def test_the_pool_fingerprint_is_computed_from_the_listing(tmp_path):
    from components.spectra_ingest import fingerprint_inputs
    from kubeflow.kubeflow_v2_runner import build_pipeline

    pool = tmp_path / "pool"
    pool.mkdir()
    for name, size in (("spec-1.fits.gz", 2880), ("spec-2.fits.gz", 5760)):
        (pool / name).write_bytes(b"\0" * size)
    raw = round_raw(pool=[str(pool / "*.fits.gz")], fingerprint_pool=True)
    config = config_from_dict(raw, base_dir=tmp_path)
    pipeline = build_pipeline(config, image=IMAGE, pipeline_root=ROOT, allow_local_paths=True)
    fingerprint = node(pipeline, "PoolIngest").exec_properties["input_fingerprint"]
    assert fingerprint == fingerprint_inputs(config.pool_patterns)
    assert fingerprint.startswith("files:2,bytes:8640,")


def test_file_digest_matches_the_campaign_snapshot_digest(tmp_path):
    from kubeflow.kubeflow_v2_runner import file_digest

    snapshot = tmp_path / "labels.csv"
    snapshot.write_bytes(b"spectrum_id,label\nspec-55859-B5585906_sp04-097,emission\n")
    assert file_digest(str(snapshot)) == hashlib.sha256(snapshot.read_bytes()).hexdigest()
    with pytest.raises(ConfigError, match="labels snapshot"):
        file_digest(str(tmp_path / "missing.csv"))


def gate_invocation(spec: dict, node_id: str, tmp_path, anomalies) -> list[str]:
    """The container arguments of a ValidationGate task, with the executor input KFP's
    driver would substitute for ``{{$}}``."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    uri = tmp_path / "anomalies"
    (uri / "Split-train").mkdir(parents=True)
    report = anomalies_pb2.Anomalies()
    for feature, description in anomalies.items():
        report.anomaly_info[feature].short_description = description
        report.anomaly_info[feature].description = description
    (uri / "Split-train" / "SchemaDiff.pb").write_bytes(report.SerializeToString())
    component = spec["components"][tasks(spec)[node_id]["componentRef"]["name"]]
    artifact_type = component["inputDefinitions"]["artifacts"]["anomalies"]["artifactType"]
    executor_input = {
        "inputs": {
            "artifacts": {
                "anomalies": {
                    "artifacts": [
                        {
                            "name": "anomalies-1",
                            "type": artifact_type,
                            "uri": str(uri),
                            "metadata": {"split_names": '["train"]'},
                        }
                    ]
                }
            },
            "parameterValues": {"what": constant(spec, node_id, "what")},
        },
        "outputs": {"outputFile": str(tmp_path / "task" / "executor_output.json")},
    }
    args = container(spec, node_id)["args"]
    return [json.dumps(executor_input) if arg == "{{$}}" else arg for arg in args]


def test_the_entrypoint_runs_a_task_as_its_pod_would(compiled, tmp_path):
    from kubeflow import entrypoint

    _, job, _ = compiled
    spec = job["pipelineSpec"]
    passing = gate_invocation(spec, "LabelledValidationGate", tmp_path / "ok", {})
    with pytest.raises(SystemExit) as done:
        entrypoint.main(passing)
    assert not done.value.code
    output = json.loads((tmp_path / "ok" / "task" / "executor_output.json").read_text())
    assert output == {}

    failing = gate_invocation(
        spec, "PoolValidationGate", tmp_path / "bad", {"flux": "Unexpected NaN values"}
    )
    with pytest.raises(RuntimeError, match="data validation failed for the pool examples"):
        entrypoint.main(failing)
