"""``activespec compile``: compile a round for Kubeflow Pipelines v2 or Vertex AI Pipelines."""

from __future__ import annotations

import argparse
import dataclasses
import os
import pathlib

# Light (no TensorFlow, TFX or Beam at import), so `activespec --help` stays fast.
from kubeflow.kubeflow_v2_runner import compile_pipeline
from pipeline.configs import BEAM_RUNNERS, BeamSection, load_config


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
    if args.beam_runner or args.beam_arg:
        beam = config.beam
        beam = BeamSection(
            runner=args.beam_runner or beam.runner,
            direct_running_mode=beam.direct_running_mode,
            direct_num_workers=beam.direct_num_workers,
            extra_args=(*beam.extra_args, *args.beam_arg),
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
