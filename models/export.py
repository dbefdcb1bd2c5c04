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

Two more signatures serve the query strategies beyond entropy (the pool scorer calls them
only when the configured strategy needs them); both return the outputs above as well, so
one call per batch gives everything:

``predict_flux_mc``
    inputs ``flux``, ``passes`` (int32 scalar, >= 1) and ``seed`` (int64 scalar). Monte
    Carlo dropout (Gal & Ghahramani 2016): the layers up to the first dropout run once in
    inference mode; the rest runs ``passes`` times with the dropout layers active and
    every other layer (BatchNormalization included) in inference mode. The masks are
    *consistent* (Kirsch et al. 2019): pass ``t`` uses the same masks for every spectrum,
    drawn by a stateless generator from ``(seed, t)``, so a spectrum's scores do not depend
    on the batch it is in and are reproducible for a seed. Extra outputs:
    ``mean_probabilities`` float32 ``[B, C]`` (the mean over passes) and ``bald`` float32
    ``[B]``, the mutual information between the prediction and the weights
    ``H(mean_t p_t) - mean_t H(p_t)`` in nats (Houlsby et al. 2011), clipped at 0.
``embed_flux``
    input ``flux``. Extra output ``embedding`` float32 ``[B, D]``: the input of the output
    layer (for the published CNN the 512 activations of the last dense layer), in
    inference mode.

Both need the network to be a chain of layers, each feeding the next (as
:func:`models.cnn.build_cnn` builds it) with only plain ``Dropout`` as stochastic layers;
another network is exported without them (logged), and the strategies needing them then
refuse it with a clear error.

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
import logging
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
from activespec.settings import check_class_names
from models import features

__all__ = [
    "ASSETS_EXTRA_DIR",
    "CLASS_NAMES_KEY",
    "EXAMPLES_INPUT",
    "METADATA_FILE",
    "METADATA_FORMAT_VERSION",
    "BALD_KEY",
    "EMBEDDING_KEY",
    "EMBED_FLUX_SIGNATURE",
    "MC_PASSES_INPUT",
    "MC_SEED_INPUT",
    "MEAN_PROBABILITIES_KEY",
    "PREDICTED_CLASS_KEY",
    "PREDICT_FLUX_MC_SIGNATURE",
    "PREDICT_FLUX_SIGNATURE",
    "PROBABILITIES_KEY",
    "SERVING_SIGNATURE",
    "WARMUP_FILE",
    "WARMUP_MODEL_NAME",
    "embed",
    "export_serving_model",
    "layer_chain",
    "mc_dropout_predict",
    "mc_dropout_keep_mask",
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
#: Monte Carlo dropout signature, its extra inputs and outputs.
PREDICT_FLUX_MC_SIGNATURE = "predict_flux_mc"
MC_PASSES_INPUT = "passes"
MC_SEED_INPUT = "seed"
MEAN_PROBABILITIES_KEY = "mean_probabilities"
BALD_KEY = "bald"
#: Embedding signature and its extra output.
EMBED_FLUX_SIGNATURE = "embed_flux"
EMBEDDING_KEY = "embedding"

# ASSETS_EXTRA_DIR and METADATA_FILE are defined in activespec.model_metadata (read there
# without TensorFlow by the labelling page).
#: Version of the layout of :data:`METADATA_FILE`.
METADATA_FORMAT_VERSION = 1
#: Name TF Serving looks for in ``assets.extra`` and replays when it loads the model.
WARMUP_FILE = "tf_serving_warmup_requests"
#: ``model_spec.name`` of the warm-up requests (TF Serving ignores it during warm-up).
WARMUP_MODEL_NAME = "activespec"

_LOG = logging.getLogger(__name__)


def _check_model(model: tf_keras.Model, class_names: Sequence[str], n_points: int) -> None:
    """Raise ConfigError when the model does not match the class names or the grid."""
    check_class_names(class_names)
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


def _signature_inputs(uncertainty_signatures: bool) -> dict:
    """The ``signatures`` entry of the metadata: each signature's input name(s)."""
    signatures = {
        SERVING_SIGNATURE: {"input": EXAMPLES_INPUT},
        PREDICT_FLUX_SIGNATURE: {"input": features.FLUX},
    }
    if uncertainty_signatures:
        signatures[PREDICT_FLUX_MC_SIGNATURE] = {
            "input": features.FLUX,
            "scalar_inputs": [MC_PASSES_INPUT, MC_SEED_INPUT],
        }
        signatures[EMBED_FLUX_SIGNATURE] = {"input": features.FLUX}
    return signatures


def model_metadata(
    class_names: Sequence[str],
    preprocessing: PreprocessConfig,
    *,
    uncertainty_signatures: bool = True,
) -> dict:
    """The content of ``assets.extra/activespec_model.json``.

    Parameters
    ----------
    class_names : sequence of str
        Class names in output order.
    preprocessing : activespec.preprocessing.PreprocessConfig
        Settings the training vectors were made with.
    uncertainty_signatures : bool
        Whether the model has the ``predict_flux_mc`` and ``embed_flux`` signatures.

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
        "signatures": _signature_inputs(uncertainty_signatures),
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


#: Stochastic layers the MC dropout signature cannot reproduce (only plain Dropout is).
_UNSUPPORTED_STOCHASTIC = (
    tf_keras.layers.SpatialDropout1D,
    tf_keras.layers.SpatialDropout2D,
    tf_keras.layers.SpatialDropout3D,
    tf_keras.layers.GaussianDropout,
    tf_keras.layers.GaussianNoise,
    tf_keras.layers.AlphaDropout,
)


def layer_chain(model: tf_keras.Model) -> list[tf_keras.layers.Layer] | None:
    """The model's layers in call order, when each feeds exactly the next one.

    Parameters
    ----------
    model : tf_keras.Model
        A functional model with one input and one output.

    Returns
    -------
    list of tf_keras.layers.Layer or None
        The layers after the input layer, the last one producing the output; None when
        the model is not such a chain, or holds a stochastic layer other than a plain
        ``Dropout`` without ``noise_shape`` (the uncertainty signatures then are not
        exported).
    """
    try:
        inputs, outputs = model.inputs, model.outputs
    except AttributeError:  # a subclassed model has no graph of layers
        return None
    if not inputs or not outputs or len(inputs) != 1 or len(outputs) != 1:
        return None
    chain = [layer for layer in model.layers if not isinstance(layer, tf_keras.layers.InputLayer)]
    previous = inputs[0]
    for layer in chain:
        if isinstance(layer, _UNSUPPORTED_STOCHASTIC):
            return None
        if isinstance(layer, tf_keras.layers.Dropout) and layer.noise_shape is not None:
            return None
        if len(layer.inbound_nodes) != 1 or layer.input is not previous:
            return None
        previous = layer.output
    if not chain or previous is not outputs[0]:
        return None
    return chain


def _is_dropout(layer) -> bool:
    return isinstance(layer, tf_keras.layers.Dropout)


def _inference(layers, x: tf.Tensor) -> tf.Tensor:
    """Apply ``layers`` in order, every one in inference mode."""
    for layer in layers:
        x = layer(x, training=False)
    return x


def mc_dropout_keep_mask(shape, rate: float, seed, pass_index, dropout_index) -> tf.Tensor:
    """The keep mask of one dropout layer in one Monte Carlo pass (float32, 0 or 1).

    The same for every spectrum of every batch (consistent MC dropout): a stateless
    uniform draw of ``shape`` (the layer's input shape without the batch axis) with the
    seed ``(seed, pass_index * 1000 + dropout_index)``, kept where it is >= ``rate``.

    Parameters
    ----------
    shape : sequence of int or 1-D int tensor
    rate : float
        The layer's dropout rate.
    seed, pass_index, dropout_index : int or scalar int tensor
        The signature's seed, the pass (0-based) and the dropout layer's position among
        the dropout layers (0-based).
    """
    stateless_seed = tf.stack(
        [
            tf.cast(seed, tf.int64),
            tf.cast(pass_index, tf.int64) * 1000 + tf.cast(dropout_index, tf.int64),
        ]
    )
    uniform = tf.random.stateless_uniform(shape, seed=stateless_seed, dtype=tf.float32)
    return tf.cast(uniform >= rate, tf.float32)


def _entropy(probabilities: tf.Tensor) -> tf.Tensor:
    """Shannon entropy in nats of each row (0 log 0 = 0)."""
    return -tf.reduce_sum(tf.math.xlogy(probabilities, probabilities), axis=-1)


def _split_at_first_dropout(chain: list) -> tuple[list, list]:
    """(layers run once, layers run every pass): the head starts at the first dropout."""
    for index, layer in enumerate(chain):
        if _is_dropout(layer):
            return chain[:index], chain[index:]
    return chain[:-1], chain[-1:]


def _mc_dropout(chain: list, flux: tf.Tensor, passes: tf.Tensor, seed: tf.Tensor):
    """Inference probabilities, MC mean probabilities and BALD of a batch (see the module doc)."""
    trunk, head = _split_at_first_dropout(chain)
    hidden = _inference(trunk, flux)
    probabilities = tf.cast(_inference(head, hidden), tf.float32)

    def one_pass(pass_index):
        x = hidden
        dropout_index = 0
        for layer in head:
            if _is_dropout(layer):
                if layer.rate > 0.0:
                    mask = mc_dropout_keep_mask(
                        tf.shape(x)[1:], layer.rate, seed, pass_index, dropout_index
                    )
                    x = x * tf.cast(mask, x.dtype) / tf.cast(1.0 - layer.rate, x.dtype)
                dropout_index += 1
            else:
                x = layer(x, training=False)
        return tf.cast(x, tf.float32)

    def body(pass_index, sum_p, sum_entropy):
        p = one_pass(pass_index)
        return pass_index + 1, sum_p + p, sum_entropy + _entropy(p)

    check = tf.debugging.assert_positive(passes, message="passes must be >= 1")
    with tf.control_dependencies([check]):
        passes = tf.identity(passes)
    _, sum_p, sum_entropy = tf.while_loop(
        lambda pass_index, *_: pass_index < passes,
        body,
        (
            tf.constant(0, tf.int32),
            tf.zeros_like(probabilities),
            tf.zeros_like(probabilities[:, 0]),
        ),
    )
    n = tf.cast(passes, tf.float32)
    mean_p = sum_p / n
    bald = tf.maximum(_entropy(mean_p) - sum_entropy / n, 0.0)
    return probabilities, mean_p, bald


def _embedding(chain: list, flux: tf.Tensor):
    """Inference probabilities and the output layer's input, flattened to ``[B, D]``."""
    hidden = _inference(chain[:-1], flux)
    probabilities = tf.cast(chain[-1](hidden, training=False), tf.float32)
    width = int(np.prod(hidden.shape[1:]))  # static: the layers' shapes are known
    embedding = tf.reshape(hidden, [-1, width])
    return probabilities, tf.cast(embedding, tf.float32)


def _chain_or_error(model: tf_keras.Model, what: str) -> list:
    chain = layer_chain(model)
    if chain is None:
        raise errors.ConfigError(
            f"{what} needs a chain of layers with plain Dropout only (as models.cnn.build_cnn "
            f"builds); model {model.name!r} is not one"
        )
    return chain


def mc_dropout_predict(
    model: tf_keras.Model,
    flux: np.ndarray,
    *,
    passes: int,
    seed: int = 0,
    batch_size: int = 1024,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the ``predict_flux_mc`` signature computes, on an in-memory Keras model.

    For in-memory loops (the active-learning benchmark) that train models without
    exporting them; the same masks and reductions as the exported signature.

    Parameters
    ----------
    model : tf_keras.Model
        A chain of layers (see :func:`layer_chain`).
    flux : numpy.ndarray, shape [N, n_points]
    passes : int
        Monte Carlo dropout passes (>= 1).
    seed : int
        Fixes the masks.
    batch_size : int

    Returns
    -------
    probabilities, mean_probabilities : numpy.ndarray, shape [N, C], float32
    bald : numpy.ndarray, shape [N], float32

    Raises
    ------
    activespec.errors.ConfigError
        If the model is not a chain of layers or ``passes`` < 1.
    """
    chain = _chain_or_error(model, "MC dropout")
    if isinstance(passes, bool) or not isinstance(passes, (int, np.integer)) or passes < 1:
        raise errors.ConfigError(f"passes must be an integer >= 1, got {passes!r}")

    @tf.function(autograph=False)  # plain graph code: tf.while_loop, no tensor branches
    def compute(flux_batch, n_passes, mask_seed):
        return _mc_dropout(chain, flux_batch, n_passes, mask_seed)

    flux = np.asarray(flux, dtype=np.float32)
    parts = [
        compute(
            tf.constant(flux[start : start + batch_size]),
            tf.constant(passes, tf.int32),
            tf.constant(seed, tf.int64),
        )
        for start in range(0, len(flux), batch_size)
    ]
    if not parts:
        n_classes = model.output_shape[-1]
        empty = np.zeros((0, n_classes), np.float32)
        return empty, empty.copy(), np.zeros(0, np.float32)
    return tuple(np.concatenate([part[i].numpy() for part in parts]) for i in range(3))


def embed(
    model: tf_keras.Model, flux: np.ndarray, *, batch_size: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """What the ``embed_flux`` signature computes, on an in-memory Keras model.

    Returns
    -------
    probabilities : numpy.ndarray, shape [N, C], float32
    embedding : numpy.ndarray, shape [N, D], float32

    Raises
    ------
    activespec.errors.ConfigError
        If the model is not a chain of layers.
    """
    chain = _chain_or_error(model, "The embedding")

    @tf.function(autograph=False)
    def compute(flux_batch):
        return _embedding(chain, flux_batch)

    flux = np.asarray(flux, dtype=np.float32)
    parts = [
        compute(tf.constant(flux[start : start + batch_size]))
        for start in range(0, max(len(flux), 1), batch_size)
    ]
    return tuple(np.concatenate([part[i].numpy() for part in parts]) for i in range(2))


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
    signatures (and ``predict_flux_mc`` and ``embed_flux`` for a chain of layers, see the
    module doc), its metadata and TF Serving warm-up requests.

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

    def named(probabilities: tf.Tensor) -> dict[str, tf.Tensor]:
        batch = tf.shape(probabilities)[0]
        return {
            PROBABILITIES_KEY: tf.cast(probabilities, tf.float32),
            CLASS_NAMES_KEY: tf.tile(names[tf.newaxis, :], tf.stack([batch, 1])),
            PREDICTED_CLASS_KEY: tf.gather(names, tf.argmax(probabilities, axis=-1)),
        }

    def outputs(flux: tf.Tensor) -> dict[str, tf.Tensor]:
        return named(model(flux, training=False))

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
    chain = layer_chain(model)
    if chain is None:
        _LOG.warning(
            "Model %s is not a chain of layers with plain Dropout only: exporting it without "
            "the %s and %s signatures (the bald and diverse_entropy strategies need them)",
            model.name,
            PREDICT_FLUX_MC_SIGNATURE,
            EMBED_FLUX_SIGNATURE,
        )
    else:

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, n_points], tf.float32, name=features.FLUX),
                tf.TensorSpec([], tf.int32, name=MC_PASSES_INPUT),
                tf.TensorSpec([], tf.int64, name=MC_SEED_INPUT),
            ]
        )
        def predict_flux_mc(flux, passes, seed):
            probabilities, mean_p, bald = _mc_dropout(chain, flux, passes, seed)
            return {**named(probabilities), MEAN_PROBABILITIES_KEY: mean_p, BALD_KEY: bald}

        @tf.function(
            input_signature=[tf.TensorSpec([None, n_points], tf.float32, name=features.FLUX)]
        )
        def embed_flux(flux):
            probabilities, embedding = _embedding(chain, flux)
            return {**named(probabilities), EMBEDDING_KEY: embedding}

        signatures[PREDICT_FLUX_MC_SIGNATURE] = predict_flux_mc.get_concrete_function()
        signatures[EMBED_FLUX_SIGNATURE] = embed_flux.get_concrete_function()
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
        model_metadata(class_names, preprocess_config, uncertainty_signatures=chain is not None),
        warmup_flux(preprocess_config),
    )
    return export_dir
