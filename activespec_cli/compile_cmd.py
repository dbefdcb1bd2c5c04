"""``activespec compile``: compile a round for Kubeflow Pipelines v2 or Vertex AI Pipelines."""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib

# Light (no TensorFlow, TFX or Beam at import), so `activespec --help` stays fast.
from kubeflow.kubeflow_v2_runner import compile_pipeline
from pipeline.beam_runners import ENVIRONMENT_TYPES
from pipeline.configs import BEAM_RUNNERS, load_config


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="compile a round into a Kubeflow Pipelines v2 / Vertex AI pipeline file",
        description=(
            "Compile the round's TFX pipeline (the one `activespec round` runs locally) for "
            "Kubeflow Pipelines v2 or Vertex AI Pipelines. OUTPUT ending in .json is a "
            "PipelineJob (submit it to Vertex AI); .yaml is a pipeline spec (upload it to "
            "open-source KFP v2). Every data path of the config must be a URI the cluster "
            "can read (gs://...). See kubeflow/README.md."
        ),
    )
    parser.add_argument("--config", required=True, type=pathlib.Path, help="TOML configuration")
    parser.add_argument(
        "--output", required=True, type=pathlib.Path, help="pipeline.json or pipeline.yaml"
    )
    parser.add_argument("--image", required=True, help="the pipeline image (kubeflow/Dockerfile)")
    parser.add_argument("--pipeline-root", required=True, help="artifact root, e.g. gs://b/root")
    parser.add_argument(
        "--serving-model-dir",
        default="",
        help="Pusher target (default PIPELINE_ROOT/serving_model)",
    )
    parser.add_argument("--round", dest="round_index", type=int, default=0, help="round number")
    parser.add_argument(
        "--labels-snapshot", default="", help="URI of the CSV of pool labels of earlier rounds"
    )
    parser.add_argument(
        "--labels-digest", help="digest of the snapshot (default: read and hashed now)"
    )
    parser.add_argument(
        "--pool-fingerprint", help="fingerprint of the pool (default: the pool is listed now)"
    )
    parser.add_argument(
        "--beam-runner", choices=BEAM_RUNNERS, help="override [beam] runner of the config"
    )
    parser.add_argument(
        "--beam-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra Beam argument, e.g. --beam-arg=--project=P (repeatable)",
    )
    flink = parser.add_argument_group(
        "FlinkRunner", "override the [beam] settings of the FlinkRunner (docs/cluster.md)"
    )
    flink.add_argument("--flink-master", help="Flink REST endpoint, e.g. flink-jobmanager:8081")
    flink.add_argument("--flink-parallelism", type=int, help="parallelism of every Beam job")
    flink.add_argument(
        "--flink-job-server-jar", help="Beam's Flink job-server jar, a path inside the image"
    )
    flink.add_argument(
        "--environment-type",
        choices=ENVIRONMENT_TYPES,
        help="how task managers start the SDK workers (EXTERNAL: a worker-pool sidecar)",
    )
    flink.add_argument(
        "--environment-config", help="worker pool host:port (EXTERNAL) or image (DOCKER)"
    )
    parser.add_argument(
        "--allow-local-paths",
        action="store_true",
        help="accept absolute local paths (volumes mounted in the pods)",
    )
    parser.add_argument("--spec-version", choices=("2.1", "2.0"), default="2.1")
    parser.add_argument("--display-name", default="", help="name shown in the UI")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Validate before TensorFlow/TFX are imported: a bad config fails in milliseconds.
    config = load_config(args.config)
    overrides = {
        key: value
        for key, value in (
            ("runner", args.beam_runner),
            ("flink_master", args.flink_master),
            ("flink_parallelism", args.flink_parallelism),
            ("flink_job_server_jar", args.flink_job_server_jar),
            ("environment_type", args.environment_type),
            ("environment_config", args.environment_config),
        )
        if value is not None
    }
    if overrides or args.beam_arg:
        beam = dataclasses.replace(
            config.beam, **overrides, extra_args=(*config.beam.extra_args, *args.beam_arg)
        )
        beam.validate()
        config = dataclasses.replace(config, beam=beam)
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    job = compile_pipeline(
        config,
        image=args.image,
        pipeline_root=args.pipeline_root,
        output_path=args.output,
        spec_version=args.spec_version,
        display_name=args.display_name,
        serving_model_dir=args.serving_model_dir,
        round_index=args.round_index,
        labels_snapshot=args.labels_snapshot,
        labels_digest=args.labels_digest,
        pool_fingerprint=args.pool_fingerprint,
        allow_local_paths=args.allow_local_paths,
    )
    spec = job["pipelineSpec"]
    print(
        f"wrote {args.output}: pipeline {spec['pipelineInfo']['name']!r}, "
        f"{len(spec['root']['dag']['tasks'])} tasks, image {args.image}, "
        f"root {spec['defaultPipelineRoot']}"
    )
    return 0
