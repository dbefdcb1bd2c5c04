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

The model is written with Keras' ``model.save`` so that ``tf_keras.models.load_model`` (used
by TFMA to detect Keras models) works as well as ``tf.saved_model.load``.
"""

from collections.abc import Sequence

import tensorflow as tf
import tf_keras

from activespec import errors
from activespec.constants import GRID_POINTS
from models import features

__all__ = [
    "CLASS_NAMES_KEY",
    "EXAMPLES_INPUT",
    "PREDICTED_CLASS_KEY",
    "PREDICT_FLUX_SIGNATURE",
    "PROBABILITIES_KEY",
    "SERVING_SIGNATURE",
    "export_serving_model",
]

SERVING_SIGNATURE = tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
PREDICT_FLUX_SIGNATURE = "predict_flux"
EXAMPLES_INPUT = "examples"
PROBABILITIES_KEY = "probabilities"
CLASS_NAMES_KEY = "class_names"
PREDICTED_CLASS_KEY = "predicted_class"


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


def export_serving_model(
    model: tf_keras.Model,
    export_dir: str,
    *,
    class_names: Sequence[str],
    n_points: int = GRID_POINTS,
) -> str:
    """Write ``model`` as a SavedModel with the ``serving_default`` and ``predict_flux``
    signatures.

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

    Returns
    -------
    str
        ``export_dir``.

    Raises
    ------
    activespec.errors.ConfigError
        If the model's input length or number of outputs does not match ``n_points`` and
        ``class_names``.
    """
    class_names = [str(name) for name in class_names]
    _check_model(model, class_names, n_points)
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
    return export_dir
