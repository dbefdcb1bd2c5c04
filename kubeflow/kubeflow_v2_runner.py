"""Compile a round of activespec for Kubeflow Pipelines v2 or Vertex AI Pipelines.

The pipeline is the one :func:`pipeline.pipeline.create_pipeline` defines for the local
runner; TFX's ``KubeflowV2DagRunner`` compiles it into a KFP v2 pipeline: a
``PipelineJob`` JSON (``.json``, what Vertex AI Pipelines submits) or the bare
``PipelineSpec`` YAML (``.yaml``, what the open-source KFP v2 UI and ``kfp.Client`` upload).
Every task runs the pipeline image (``kubeflow/Dockerfile``) through
:mod:`kubeflow.entrypoint`; ML Metadata is KFP's own, so no metadata connection is given.

What differs from a local round is checked before compiling: every path must be readable
from the cluster's pods (a ``gs://`` URI, not a path of this machine), the pool
fingerprint and the labels digest are computed here from those URIs, and the files the
pipeline ships inside the project (the curated schemas) are addressed where the image
installs the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re

import yaml

from activespec.errors import ConfigError
from kubeflow import entrypoint
from pipeline.beam_runners import cluster_pipeline_args

#: Where kubeflow/Dockerfile installs the project inside the image.
IMAGE_PROJECT_ROOT = "/opt/activespec"
#: The project root of this checkout (compiled paths under it are moved to the image's).
PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[1]
#: KFP v2 and Vertex AI pipeline names (TFX's KubeflowV2DagRunner enforces the same).
PIPELINE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,127}")
SPEC_VERSIONS = ("2.0", "2.1")
_YAML_SUFFIXES = (".yaml", ".yml")


def build_pipeline(
    config,
    *,
    image: str,
    pipeline_root: str,
    serving_model_dir: str = "",
    round_index: int = 0,
    labels_snapshot: str = "",
    labels_digest: str | None = None,
    pool_fingerprint: str | None = None,
    beam_pipeline_args: list[str] | None = None,
    allow_local_paths: bool = False,
    image_project_root: str = IMAGE_PROJECT_ROOT,
):
    """The round's TFX pipeline, configured to run in cluster pods.

    Parameters
    ----------
    config : pipeline.configs.RoundConfig
        The validated round configuration; its data paths must be URIs the pods can read.
    image : str
        The pipeline image every task runs (``kubeflow/Dockerfile``).
    pipeline_root : str
        Root of the artifacts (``gs://bucket/path``), also the KFP pipeline root.
    serving_model_dir : str, optional
        Where the Pusher writes blessed models; defaults to ``<pipeline_root>/serving_model``.
    round_index : int
        The round number; seeds the random samples.
    labels_snapshot : str, optional
        CSV (``spectrum_id,label``) of the pool spectra labelled in earlier rounds, as a
        URI the pods can read (see :func:`pipeline.campaign.snapshot_labels`).
    labels_digest : str, optional
        Digest of ``labels_snapshot``; computed by reading the snapshot when not given.
    pool_fingerprint : str, optional
        Fingerprint of the pool's files; computed by listing the pool URIs when not given
        and ``data.fingerprint_pool`` is true.
    beam_pipeline_args : list of str, optional
        Overrides the arguments derived from ``config.beam``
        (:func:`pipeline.beam_runners.cluster_pipeline_args`).
    allow_local_paths : bool
        Accept absolute local paths (volumes mounted in the pods, files inside the image).
    image_project_root : str
        Where the image installs the project.

    Returns
    -------
    tfx.dsl.Pipeline

    Raises
    ------
    activespec.errors.ConfigError
        On a path the pods cannot read, a pipeline name KFP refuses, an unreadable labels
        snapshot or pool, or invalid Beam arguments.
    """
    # TFX: only when compiling (the runner's checks load without it)
    from pipeline.pipeline import create_pipeline

    _check_image(image)
    if not PIPELINE_NAME.fullmatch(config.pipeline.name):
        raise ConfigError(
            f"pipeline.name: {config.pipeline.name!r} is not a valid Kubeflow pipeline name "
            "(lowercase letters, digits and hyphens, starting with a letter or digit)"
        )
    pipeline_root = pipeline_root.rstrip("/")
    serving_model_dir = serving_model_dir or f"{pipeline_root}/serving_model"
    for name, value in (("pipeline root", pipeline_root), ("serving model dir", serving_model_dir)):
        check_output_location(name, value, allow_local_paths=allow_local_paths)
    for name, value in data_locations(config, labels_snapshot):
        check_input_location(name, value, allow_local_paths=allow_local_paths)

    if labels_snapshot and labels_digest is None:
        labels_digest = file_digest(labels_snapshot)
    if pool_fingerprint is None:
        pool_fingerprint = compute_pool_fingerprint(config)
    if beam_pipeline_args is None:
        beam_pipeline_args = cluster_pipeline_args(config.beam, image=image)

    pipeline = create_pipeline(
        config=config,
        pipeline_root=pipeline_root,
        serving_model_dir=serving_model_dir,
        round_index=round_index,
        pool_fingerprint=pool_fingerprint,
        labels_snapshot=labels_snapshot,
        labels_digest=labels_digest or "",
        metadata_connection_config=None,
        beam_pipeline_args=beam_pipeline_args,
    )
    relocate_project_paths(pipeline, str(PROJECT_ROOT), image_project_root)
    return pipeline


def compile_pipeline_job(
    pipeline, *, image: str, spec_version: str = "2.1", display_name: str = ""
) -> dict:
    """Compile a TFX pipeline into a KFP v2 ``PipelineJob`` (as a JSON-ready dict).

    Parameters
    ----------
    pipeline : tfx.dsl.Pipeline
        From :func:`build_pipeline`.
    image : str
        The image of every executor container.
    spec_version : {"2.1", "2.0"}
        ``PipelineSpec`` schema version: 2.1 is what the KFP 2 SDK emits and Vertex AI
        accepts; 2.0 is TFX's legacy default.
    display_name : str, optional
        Shown in the KFP / Vertex AI UI; defaults to the pipeline name.

    Returns
    -------
    dict
        The ``PipelineJob``; ``pipelineSpec.defaultPipelineRoot`` and
        ``runtimeConfig.gcsOutputDirectory`` are the pipeline root.
    """
    # TFX: only when compiling (the runner's checks load without it)
    from tfx import v1 as tfx

    _check_image(image)
    if spec_version not in SPEC_VERSIONS:
        raise ConfigError(f"spec version {spec_version!r} is not one of {', '.join(SPEC_VERSIONS)}")
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
            display_name=display_name or None,
            default_image=image,
            default_commands=list(entrypoint.COMMAND),
            use_pipeline_spec_2_1=spec_version == "2.1",
        )
    )
    try:
        job = runner.run(pipeline, write_out=False)
    except ValueError as err:  # TFX reports unsupported names and types this way
        raise ConfigError(f"cannot compile for Kubeflow: {err}") from None
    # Open-source KFP reads the root from the spec (a YAML file has no runtimeConfig).
    job["pipelineSpec"]["defaultPipelineRoot"] = pipeline.pipeline_info.pipeline_root
    return job


def write_pipeline_file(job: dict, output_path: str | os.PathLike) -> pathlib.Path:
    """Write a compiled ``PipelineJob``: ``.json`` whole, ``.yaml``/``.yml`` its spec only.

    Returns
    -------
    pathlib.Path
        The file written (parent folders are created).
    """
    path = pathlib.Path(output_path)
    if path.suffix not in (".json", *_YAML_SUFFIXES):
        raise ConfigError(
            f"{path}: the output must end in .json (a Vertex AI PipelineJob) or .yaml "
            "(a KFP v2 pipeline spec)"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(job, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    else:
        spec = job["pipelineSpec"]
        header = f"# PIPELINE DEFINITION\n# Name: {spec['pipelineInfo']['name']}\n"
        path.write_text(header + yaml.safe_dump(spec, sort_keys=True), encoding="utf-8")
    return path


def compile_pipeline(
    config,
    *,
    image: str,
    pipeline_root: str,
    output_path: str | os.PathLike,
    spec_version: str = "2.1",
    display_name: str = "",
    **pipeline_options,
) -> dict:
    """Build, compile and write one round for Kubeflow Pipelines v2 or Vertex AI.

    Parameters
    ----------
    config : pipeline.configs.RoundConfig
    image, pipeline_root : str
        See :func:`build_pipeline`.
    output_path : path-like
        ``pipeline.json`` (Vertex AI PipelineJob) or ``pipeline.yaml`` (KFP v2 spec).
    spec_version, display_name : str
        See :func:`compile_pipeline_job`.
    **pipeline_options
        Further keywords of :func:`build_pipeline` (``serving_model_dir``,
        ``round_index``, ``labels_snapshot``, ``beam_pipeline_args``...).

    Returns
    -------
    dict
        The compiled ``PipelineJob``.
    """
    pipeline = build_pipeline(config, image=image, pipeline_root=pipeline_root, **pipeline_options)
    job = compile_pipeline_job(
        pipeline, image=image, spec_version=spec_version, display_name=display_name
    )
    write_pipeline_file(job, output_path)
    return job


def data_locations(config, labels_snapshot: str = "") -> list[tuple[str, str]]:
    """(name, path) of every input the pods read: data globs, labels, file list, snapshot."""
    locations = [("data.labelled", p) for p in config.labelled_patterns]
    locations += [("data.pool", p) for p in config.pool_patterns]
    if config.data.labels:
        locations.append(("data.labels", config.resolve(config.data.labels)))
    if config.data.pool_file_list:
        locations.append(("data.pool_file_list", config.resolve(config.data.pool_file_list)))
    if labels_snapshot:
        locations.append(("labels snapshot", labels_snapshot))
    return locations


def check_input_location(name: str, path: str, *, allow_local_paths: bool = False) -> None:
    """Check that pods can read ``path`` with Beam's filesystems (gs://, s3://...).

    Raises
    ------
    activespec.errors.ConfigError
        On a local path (unless allowed and absolute) or a scheme Beam cannot read.
    """
    # Beam: only to check a URI (the runner loads without it)
    from apache_beam.io.filesystems import FileSystems

    if "://" not in path:
        _check_local(name, path, allow_local_paths)
        return
    try:
        FileSystems.get_filesystem(path)
    except ValueError:
        raise ConfigError(
            f"{name}: {path!r}: Beam has no filesystem for this scheme in the pipeline image"
        ) from None


def check_output_location(name: str, path: str, *, allow_local_paths: bool = False) -> None:
    """Check that TFX can write artifacts at ``path`` from the pods (TensorFlow's gfile).

    KFP's default ``minio://`` root, for example, is no filesystem TensorFlow knows.

    Raises
    ------
    activespec.errors.ConfigError
    """
    # TensorFlow: only to read a file (the runner loads without it)
    import tensorflow as tf

    scheme, sep, _ = path.partition("://")
    if not sep:
        _check_local(name, path, allow_local_paths)
        return
    remote = set(tf.io.gfile.get_registered_schemes()) - {"", "file", "ram"}
    if scheme not in remote:
        raise ConfigError(
            f"{name}: {path!r}: TensorFlow cannot write {scheme}:// paths; use one of "
            f"{', '.join(f'{s}://' for s in sorted(remote))}"
        )


def file_digest(uri: str) -> str:
    """SHA-256 of a file's bytes (the digest :func:`pipeline.campaign.snapshot_labels` gives).

    Raises
    ------
    activespec.errors.ConfigError
        When the file cannot be read.
    """
    # Beam: only to read a file (the runner loads without it)
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    digest = hashlib.sha256()
    try:
        with FileSystems.open(uri, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except Exception as err:  # Beam wraps filesystem errors variously
        raise ConfigError(
            f"cannot read the labels snapshot {uri}: {' '.join(str(err).split())}"
        ) from None
    return digest.hexdigest()


def compute_pool_fingerprint(config) -> str:
    """The pool fingerprint a local round would use, or "" when disabled in the config."""
    if not config.data.fingerprint_pool:
        return ""
    # TFX (the components): only when the pool is fingerprinted
    from components.spectra_ingest import fingerprint_inputs

    extra = [config.resolve(config.data.pool_file_list)] if config.data.pool_file_list else []
    try:
        return fingerprint_inputs(config.pool_patterns, extra_files=extra)
    except ConfigError as err:
        raise ConfigError(
            f"{err} (compiling fingerprints the pool: give credentials to read it, pass the "
            "fingerprint explicitly, or set data.fingerprint_pool = false)"
        ) from None


def relocate_project_paths(pipeline, local_root: str, image_root: str) -> list[str]:
    """Point execution properties at files of this checkout to the same files in the image.

    ``create_pipeline`` addresses the files shipped with the project (the curated
    schemas of ``ImportSchemaGen``) by their absolute path on the compiling machine; the
    pods find them under ``image_root``.

    Returns
    -------
    list of str
        ``"<node id>.<property>"`` of every property changed.
    """
    local_prefix, image_prefix = local_root.rstrip("/") + "/", image_root.rstrip("/") + "/"
    changed = []
    if local_prefix == image_prefix:
        return changed
    for node in pipeline.components:
        for key, value in node.exec_properties.items():
            if isinstance(value, str) and local_prefix in value:
                node.exec_properties[key] = value.replace(local_prefix, image_prefix)
                changed.append(f"{node.id}.{key}")
    return changed


def _check_local(name: str, path: str, allow_local_paths: bool) -> None:
    if not allow_local_paths:
        raise ConfigError(
            f"{name}: {path!r} is a path of this machine, which Kubeflow pods cannot read; "
            "use a gs:// URI (or allow local paths for volumes mounted in the pods)"
        )
    if not os.path.isabs(path):
        raise ConfigError(f"{name}: {path!r}: local paths for the pods must be absolute")


def _check_image(image: str) -> None:
    if not image or any(c.isspace() for c in image):
        raise ConfigError(f"image: {image!r} is not a container image reference")
