"""Export of a trained classifier as a SavedModel for TF Serving, TFMA and the pool scorer.

The SavedModel has two signatures with the same outputs:

``serving_default``
    input ``examples``: string ``[None]``, serialized ``tf.Example`` records carrying the
    ``flux`` feature (parsed in-graph). TF Serving's Predict/Classify APIs and TFMA (with
    ``prediction_key="probabilities"``, ``label_key="label"``) use this one.
``predict_flux``
    input ``flux``: float32 ``[None, n_points]``, already preprocessed spectra.

Outputs: ``probabilities`` float32 ``[B, C]``, ``class_names`` string ``[B, C]`` (the class
names repeated per row, so a Serving client needs no side file) and ``predicted_class``
string ``[B]``.

Next to the graph, ``assets.extra/`` (copied by the Pusher, ignored by the graph) holds

``activespec_model.json``
    The class names, the grid length, the preprocessing settings the training data were
    made with and the activespec version, so that ``activespec score`` turns a FITS file
    into exactly the vector the model was trained on.
``tf_serving_warmup_requests``
    A TFRecord file of ``PredictionLog`` records (Predict requests on a few synthetic
    H-alpha profiles, for both signatures) that TF Serving replays when it loads the model,
    so that the first real request does not pay for graph initialisation.

The model is written with Keras' ``model.save`` so that ``tf_keras.models.load_model`` (used
by TFMA to detect Keras models) works as well as ``tf.saved_model.load``.
"""

import json
import os
from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf
import tf_keras
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

import activespec
from activespec import errors
from activespec.constants import GRID_POINTS, H_ALPHA_VACUUM
from activespec.model_metadata import ASSETS_EXTRA_DIR, METADATA_FILE
from activespec.preprocessing import PreprocessConfig, common_grid, scale_minmax, scale_robust
from models import features

__all__ = [
    "ASSETS_EXTRA_DIR",
    "CLASS_NAMES_KEY",
    "EXAMPLES_INPUT",
    "METADATA_FILE",
    "METADATA_FORMAT_VERSION",
    "PREDICTED_CLASS_KEY",
    "PREDICT_FLUX_SIGNATURE",
    "PROBABILITIES_KEY",
    "SERVING_SIGNATURE",
    "WARMUP_FILE",
    "WARMUP_MODEL_NAME",
    "export_serving_model",
    "model_metadata",
    "warmup_flux",
    "warmup_prediction_logs",
]

SERVING_SIGNATURE = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
PREDICT_FLUX_SIGNATURE = "predict_flux"
EXAMPLES_INPUT = "examples"
PROBABILITIES_KEY = "probabilities"
CLASS_NAMES_KEY = "class_names"
PREDICTED_CLASS_KEY = "predicted_class"

# ASSETS_EXTRA_DIR and METADATA_FILE are defined in activespec.model_metadata (read there
# without TensorFlow by the labelling page).
#: Version of the layout of :data:`METADATA_FILE`.
METADATA_FORMAT_VERSION = 1
#: Name TF Serving looks for in ``assets.extra`` and replays when it loads the model.
WARMUP_FILE = "tf_serving_warmup_requests"
#: ``model_spec.name`` of the warm-up requests (TF Serving ignores it during warm-up).
WARMUP_MODEL_NAME = "activespec"


def _check_model(model: tf_keras.Model, class_names: Sequence[str], n_points: int) -> None:
    """Raise ConfigError when the model does not match the class names or the grid."""
    if len(class_names) < 2 or len(set(class_names)) != len(class_names):
        raise errors.ConfigError(
            f"class_names must be at least two distinct names, got {list(class_names)}"
        )
    if not all(isinstance(name, str) and name for name in class_names):
        raise errors.ConfigError(f"class_names must be non-empty strings, got {class_names!r}")
    input_shape = tuple(model.input_shape)
    if input_shape[1:] != (n_points,):
        raise errors.ConfigError(
            f"model input shape {input_shape} does not match n_points={n_points}"
        )
    n_outputs = model.output_shape[-1]
    if n_outputs != len(class_names):
        raise errors.ConfigError(
            f"model has {n_outputs} outputs but {len(class_names)} class names were given"
        )


def _as_preprocess_config(
    preprocessing: PreprocessConfig | Mapping | None, n_points: int
) -> PreprocessConfig:
    """The preprocessing settings as a validated config whose grid fits the model."""
    if preprocessing is None:
        config = PreprocessConfig()
    elif isinstance(preprocessing, PreprocessConfig):
        config = preprocessing
    else:
        config = PreprocessConfig.from_dict(preprocessing)
    if config.n_points != n_points:
        raise errors.ConfigError(
            f"preprocessing makes {config.n_points}-point vectors but the model takes "
            f"n_points={n_points}"
        )
    return config


def model_metadata(class_names: Sequence[str], preprocessing: PreprocessConfig) -> dict:
    """The content of ``assets.extra/activespec_model.json``.

    Parameters
    ----------
    class_names : sequence of str
        Class names in output order.
    preprocessing : activespec.preprocessing.PreprocessConfig
        Settings the training vectors were made with.

    Returns
    -------
    dict
        ``format_version``, ``activespec_version``, ``class_names``, ``n_points``,
        ``preprocessing`` (:meth:`PreprocessConfig.to_dict`), ``preprocessing_fingerprint``
        and the signature names.
    """
    return {
        "format_version": METADATA_FORMAT_VERSION,
        "activespec_version": activespec.__version__,
        "class_names": [str(name) for name in class_names],
        "n_points": preprocessing.n_points,
        "preprocessing": preprocessing.to_dict(),
        "preprocessing_fingerprint": preprocessing.fingerprint(),
        "signatures": {
            SERVING_SIGNATURE: {"input": EXAMPLES_INPUT},
            PREDICT_FLUX_SIGNATURE: {"input": features.FLUX},
        },
    }


def warmup_flux(preprocessing: PreprocessConfig) -> np.ndarray:
    """Three synthetic preprocessed spectra: H-alpha in absorption, in single-peaked
    emission and in double-peaked (disk) emission.

    The profiles sit on a flat continuum sampled on the configured grid and are scaled
    with the configured scaling, so they look like what ingestion produces.

    Parameters
    ----------
    preprocessing : activespec.preprocessing.PreprocessConfig
        Grid and scaling of the model's input.

    Returns
    -------
    numpy.ndarray of float32, shape [3, preprocessing.n_points]
    """
    grid = common_grid(preprocessing.grid_start, preprocessing.grid_stop, preprocessing.n_points)
    # H-alpha when the window holds it (the published one does); else the window centre.
    centre = (
        H_ALPHA_VACUUM
        if grid[0] < H_ALPHA_VACUUM < grid[-1]
        else 0.5 * (preprocessing.grid_start + preprocessing.grid_stop)
    )

    def line(offset: float, sigma: float) -> np.ndarray:
        return np.exp(-0.5 * ((grid - centre - offset) / sigma) ** 2)

    profiles = np.stack(
        [
            1.0 - 0.45 * line(0.0, 5.0),
            1.0 - 0.1 * line(0.0, 5.0) + 1.6 * line(0.0, 2.2),
            1.0 + 0.8 * line(-4.5, 2.0) + 0.9 * line(4.5, 2.0) - 0.15 * line(0.0, 1.5),
        ]
    )
    if preprocessing.scaling == "minmax":
        profiles = np.stack([scale_minmax(row) for row in profiles])
    elif preprocessing.scaling == "robust":
        profiles = np.stack([scale_robust(row) for row in profiles])
    return profiles.astype(np.float32)


def _flux_example(flux: np.ndarray) -> bytes:
    """A serialized ``tf.Example`` with only the feature the serving signature parses."""
    feature = {features.FLUX: tf.train.Feature(float_list=tf.train.FloatList(value=flux))}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _predict_log(signature_name: str, input_name: str, tensor: tf.Tensor):
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(name=WARMUP_MODEL_NAME, signature_name=signature_name)
    )
    request.inputs[input_name].CopyFrom(tf.make_tensor_proto(tensor))
    return prediction_log_pb2.PredictionLog(
        predict_log=prediction_log_pb2.PredictLog(request=request)
    )


def warmup_prediction_logs(flux: np.ndarray) -> list[prediction_log_pb2.PredictionLog]:
    """TF Serving warm-up records: Predict requests on ``flux`` for both signatures.

    Each signature gets one request with the first spectrum alone and one with all of
    them, so that both a single-spectrum and a batched call are initialised.

    Parameters
    ----------
    flux : numpy.ndarray, shape [N, n_points]
        Preprocessed spectra (e.g. :func:`warmup_flux`).

    Returns
    -------
    list of tensorflow_serving.apis.prediction_log_pb2.PredictionLog
    """
    flux = np.asarray(flux, dtype=np.float32)
    logs = []
    for batch in (flux[:1], flux):
        examples = np.array([_flux_example(row) for row in batch], dtype=object)
        logs.append(
            _predict_log(SERVING_SIGNATURE, EXAMPLES_INPUT, tf.constant(examples, tf.string))
        )
        logs.append(
            _predict_log(PREDICT_FLUX_SIGNATURE, features.FLUX, tf.constant(batch, tf.float32))
        )
    return logs


def _write_assets_extra(export_dir: str, metadata: dict, warmup_spectra: np.ndarray) -> None:
    assets_extra = os.path.join(export_dir, ASSETS_EXTRA_DIR)
    tf.io.gfile.makedirs(assets_extra)
    with tf.io.gfile.GFile(os.path.join(assets_extra, METADATA_FILE), "w") as handle:
        json.dump(metadata, handle, indent=2, sort_keys=True)
    with tf.io.TFRecordWriter(os.path.join(assets_extra, WARMUP_FILE)) as writer:
        for log in warmup_prediction_logs(warmup_spectra):
            writer.write(log.SerializeToString())


def export_serving_model(
    model: tf_keras.Model,
    export_dir: str,
    *,
    class_names: Sequence[str],
    n_points: int = GRID_POINTS,
    preprocessing: PreprocessConfig | Mapping | None = None,
) -> str:
    """Write ``model`` as a SavedModel with the ``serving_default`` and ``predict_flux``
    signatures, its metadata and TF Serving warm-up requests.

    Parameters
    ----------
    model : tf_keras.Model
        Trained classifier: input ``flux`` ``[None, n_points]``, softmax output ``[None, C]``.
    export_dir : str
        Target directory (local path or any filesystem TensorFlow supports, e.g. ``gs://``).
        For TF Serving pass a numbered version directory such as ``.../my_model/1``.
    class_names : sequence of str
        Names of the ``C`` classes in output order.
    n_points : int
        Length of the flux vectors.
    preprocessing : activespec.preprocessing.PreprocessConfig or mapping, optional
        Settings the training vectors were made with (a mapping is read with
        :meth:`PreprocessConfig.from_dict`); default: the published defaults. Recorded in
        ``assets.extra/activespec_model.json`` so that scoring preprocesses the same way.

    Returns
    -------
    str
        ``export_dir``.

    Raises
    ------
    activespec.errors.ConfigError
        If the model's input length or number of outputs does not match ``n_points`` and
        ``class_names``, or ``preprocessing`` is invalid or makes vectors of another length.
    """
    class_names = [str(name) for name in class_names]
    _check_model(model, class_names, n_points)
    preprocess_config = _as_preprocess_config(preprocessing, n_points)
    names = tf.constant(class_names, dtype=tf.string)
    flux_spec = {features.FLUX: tf.io.FixedLenFeature([n_points], tf.float32)}

    def outputs(flux: tf.Tensor) -> dict[str, tf.Tensor]:
        probabilities = model(flux, training=False)
        batch = tf.shape(probabilities)[0]
        return {
            PROBABILITIES_KEY: tf.cast(probabilities, tf.float32),
            CLASS_NAMES_KEY: tf.tile(names[tf.newaxis, :], tf.stack([batch, 1])),
            PREDICTED_CLASS_KEY: tf.gather(names, tf.argmax(probabilities, axis=-1)),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
    def serve_examples(examples):
        parsed = tf.io.parse_example(examples, flux_spec)
        return outputs(parsed[features.FLUX])

    @tf.function(input_signature=[tf.TensorSpec([None, n_points], tf.float32, name=features.FLUX)])
    def predict_flux(flux):
        return outputs(flux)

    signatures = {
        SERVING_SIGNATURE: serve_examples.get_concrete_function(),
        PREDICT_FLUX_SIGNATURE: predict_flux.get_concrete_function(),
    }
    # Optimizer slots double the size and are useless for serving.
    model.save(
        export_dir,
        save_format="tf",
        signatures=signatures,
        include_optimizer=False,
        save_traces=False,
    )
    _write_assets_extra(
        export_dir,
        model_metadata(class_names, preprocess_config),
        warmup_flux(preprocess_config),
    )
    return export_dir
