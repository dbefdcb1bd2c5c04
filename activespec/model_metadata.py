"""A trained model's metadata file, found and read without TensorFlow.

:func:`models.export.export_serving_model` writes ``assets.extra/activespec_model.json``
next to the SavedModel: the class names and the preprocessing settings the training
vectors were made with. The labelling page reads it to show the vector the round's model
scored; ``summary.json`` of a round records that model (``model_uri``, the Trainer's
``Model`` artifact that the PoolScorer used, blessed or not).
"""

from __future__ import annotations

import json
import os
import pathlib

from activespec.errors import ConfigError
from activespec.preprocessing import PreprocessConfig
from activespec.workdir import WorkDir

#: Sub-directory of a TFX Model artifact that holds the serving SavedModel.
TFX_SERVING_SUBDIR = "Format-Serving"
#: Directory of a SavedModel for files that are not part of the graph (TF Serving convention).
ASSETS_EXTRA_DIR = "assets.extra"
#: The model's metadata (class names, grid, preprocessing, version) inside ``assets.extra``.
METADATA_FILE = "activespec_model.json"
#: Key of a round's ``summary.json`` giving the URI of the model that scored its pool
#: (written by :func:`pipeline.local_runner.summarise_round`).
ROUND_MODEL_KEY = "model_uri"


def metadata_path(model_dir: str | os.PathLike) -> pathlib.Path | None:
    """The metadata file of a SavedModel directory or a TFX Model artifact directory.

    Returns None when neither ``model_dir/assets.extra/activespec_model.json`` nor
    ``model_dir/Format-Serving/assets.extra/activespec_model.json`` exists.
    """
    root = pathlib.Path(model_dir)
    for candidate in (root, root / TFX_SERVING_SUBDIR):
        path = candidate / ASSETS_EXTRA_DIR / METADATA_FILE
        if path.is_file():
            return path
    return None


def read_metadata(path: str | os.PathLike) -> dict:
    """Read a model's metadata file.

    Raises
    ------
    activespec.errors.ConfigError
        If the file cannot be read or is not a JSON object.
    """
    try:
        metadata = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"model metadata {path} is not readable JSON: {err}") from None
    if not isinstance(metadata, dict):
        raise ConfigError(f"model metadata {path} is not a JSON object")
    return metadata


def model_preprocess_config(path: str | os.PathLike):
    """The :class:`~activespec.preprocessing.PreprocessConfig` recorded in a metadata file.

    Raises
    ------
    activespec.errors.ConfigError
        If the file is unreadable or has no valid ``preprocessing`` settings.
    """
    metadata = read_metadata(path)
    if not isinstance(metadata.get("preprocessing"), dict):
        raise ConfigError(f"model metadata {path} has no 'preprocessing' settings")
    try:
        return PreprocessConfig.from_dict(metadata["preprocessing"])
    except ConfigError as err:
        raise ConfigError(f"model metadata {path}: {err}") from None


def round_model_metadata_path(workdir: str | os.PathLike, round_index: int) -> pathlib.Path | None:
    """The metadata file of the model that scored round ``round_index`` of ``workdir``.

    None when the round's ``summary.json`` names no model, or the model (a local
    directory) has no metadata file.

    Raises
    ------
    activespec.errors.ConfigError
        If ``summary.json`` exists but is not a JSON object.
    """
    summary_path = WorkDir(workdir).summary_path(round_index)
    if not summary_path.is_file():
        return None
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{summary_path} is not readable JSON: {err}") from None
    if not isinstance(summary, dict):
        raise ConfigError(f"{summary_path} is not a JSON object")
    model_uri = summary.get(ROUND_MODEL_KEY)
    if not isinstance(model_uri, str) or not model_uri or "://" in model_uri:
        return None
    return metadata_path(model_uri)
