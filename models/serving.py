"""Loading an exported classifier for batch prediction outside TF Serving.

:func:`load_model_dir` accepts what the pipeline and TF Serving leave behind:

* a SavedModel directory (contains ``saved_model.pb``);
* a TFX ``Model`` artifact directory (its ``Format-Serving`` sub-directory is used);
* a TF Serving base directory with numeric version sub-directories (the highest wins).

The model's metadata (``assets.extra/activespec_model.json``, see :mod:`models.export`)
gives the preprocessing settings the training vectors were made with; a model exported
before the metadata existed gets the default settings and a logged warning.
"""

import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from tensorflow.python.saved_model import loader_impl

from activespec import errors
from activespec.constants import DEFAULT_MC_PASSES
from activespec.model_metadata import TFX_SERVING_SUBDIR
from activespec.preprocessing import PreprocessConfig
from models import export, features

__all__ = [
    "DEFAULT_MC_PASSES",
    "ModelLoadError",
    "ServingModel",
    "load_model_dir",
    "read_model_metadata",
    "require_signatures",
    "resolve_saved_model_dir",
    "saved_model_signature_names",
]

_LOG = logging.getLogger(__name__)

_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


class ModelLoadError(errors.ConfigError):
    """No loadable SavedModel at the given location, or it lacks the expected signatures."""

    code = "model-load"


def _is_saved_model_dir(path: str) -> bool:
    return any(tf.io.gfile.exists(os.path.join(path, name)) for name in _SAVED_MODEL_FILES)


def resolve_saved_model_dir(model_dir: str) -> str:
    """Return the SavedModel directory that ``model_dir`` designates.

    Parameters
    ----------
    model_dir : str
        A SavedModel directory, a TFX Model artifact directory (with ``Format-Serving``)
        or a TF Serving base directory with numeric version sub-directories.

    Returns
    -------
    str
        Path of the directory containing ``saved_model.pb``.

    Raises
    ------
    ModelLoadError
        If the path does not exist or holds no SavedModel in any of these layouts.
    """
    model_dir = os.fspath(model_dir)
    if not tf.io.gfile.isdir(model_dir):
        raise ModelLoadError(f"model directory {model_dir!r} does not exist")
    if _is_saved_model_dir(model_dir):
        return model_dir
    tfx_serving = os.path.join(model_dir, TFX_SERVING_SUBDIR)
    if tf.io.gfile.isdir(tfx_serving):
        return resolve_saved_model_dir(tfx_serving)
    versions = [
        int(name.rstrip("/"))
        for name in tf.io.gfile.listdir(model_dir)
        if name.rstrip("/").isdigit()
        and _is_saved_model_dir(os.path.join(model_dir, name.rstrip("/")))
    ]
    if not versions:
        raise ModelLoadError(
            f"no SavedModel in {model_dir!r}: expected saved_model.pb, a {TFX_SERVING_SUBDIR} "
            "sub-directory or numeric version sub-directories"
        )
    return os.path.join(model_dir, str(max(versions)))


@dataclasses.dataclass
class ServingModel:
    """An exported classifier ready for batched prediction.

    Attributes
    ----------
    path : str
        The SavedModel directory it was loaded from.
    class_names : tuple of str
        Class names in the order of the probability columns.
    n_points : int
        Expected length of the flux vectors.
    preprocess_config : activespec.preprocessing.PreprocessConfig
        How a spectrum becomes the model's input: the settings recorded at export, or the
        defaults for a model exported without metadata.
    metadata : dict
        The content of ``assets.extra/activespec_model.json`` (empty when absent).
    """

    path: str
    class_names: tuple[str, ...]
    n_points: int
    _saved_model: Any = dataclasses.field(repr=False)
    preprocess_config: PreprocessConfig = dataclasses.field(default_factory=PreprocessConfig)
    metadata: dict = dataclasses.field(default_factory=dict, repr=False)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def _signature(self, name: str):
        return self._saved_model.signatures[name]

    def has_signature(self, name: str) -> bool:
        """Whether the SavedModel has the signature ``name`` (e.g. ``predict_flux_mc``)."""
        return name in self._saved_model.signatures

    def require_signatures(self, names: Sequence[str], purpose: str) -> None:
        """Raise :class:`ModelLoadError` naming the missing signatures and ``purpose``."""
        require_signatures(self.path, self._saved_model.signatures.keys(), names, purpose)

    def _checked_flux(self, flux: np.ndarray) -> np.ndarray:
        flux = np.asarray(flux, dtype=np.float32)
        if flux.ndim != 2 or flux.shape[1] != self.n_points:
            raise errors.WrongShapeError(
                f"flux must have shape [N, {self.n_points}], got {list(flux.shape)}"
            )
        bad_rows = np.flatnonzero(~np.isfinite(flux).all(axis=1))
        if bad_rows.size:
            raise errors.RejectedSpectrum(
                f"flux has NaN or infinite values in {bad_rows.size} row(s), first {bad_rows[:5].tolist()}",
                code="non-finite-flux",
            )
        return flux

    def _call_batched(self, name: str, flux: np.ndarray, batch_size: int, **scalars) -> dict:
        """Run signature ``name`` over ``flux`` in batches; outputs concatenated by key."""
        signature = self._signature(name)
        constants = {key: tf.constant(value) for key, value in scalars.items()}
        chunks: dict[str, list] = {}
        for start in range(0, flux.shape[0], batch_size):
            batch = tf.constant(flux[start : start + batch_size])
            for key, value in signature(**{features.FLUX: batch}, **constants).items():
                chunks.setdefault(key, []).append(value.numpy())
        return {key: np.concatenate(values, axis=0) for key, values in chunks.items()}

    def predict_flux(self, flux: np.ndarray, *, batch_size: int = 2048) -> np.ndarray:
        """Class probabilities of preprocessed spectra.

        Parameters
        ----------
        flux : numpy.ndarray, shape [N, n_points]
            Spectra on the common grid, scaled like the training data.
        batch_size : int
            Spectra per model call (bounds memory; larger is faster up to a point).

        Returns
        -------
        numpy.ndarray, shape [N, C], float32
            Softmax probabilities, columns in :attr:`class_names` order.

        Raises
        ------
        activespec.errors.WrongShapeError
            If ``flux`` is not ``[N, n_points]``.
        activespec.errors.RejectedSpectrum
            If ``flux`` contains NaN or infinite values.
        """
        flux = self._checked_flux(flux)
        if flux.shape[0] == 0:
            return np.zeros((0, self.n_classes), dtype=np.float32)
        signature = self._signature(export.PREDICT_FLUX_SIGNATURE)
        chunks = [
            signature(**{features.FLUX: tf.constant(flux[start : start + batch_size])})[
                export.PROBABILITIES_KEY
            ].numpy()
            for start in range(0, flux.shape[0], batch_size)
        ]
        return np.concatenate(chunks, axis=0)

    def predict_flux_mc(
        self,
        flux: np.ndarray,
        *,
        passes: int = DEFAULT_MC_PASSES,
        seed: int = 0,
        batch_size: int = 2048,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Monte Carlo dropout scores of preprocessed spectra (``predict_flux_mc``).

        Parameters
        ----------
        flux : numpy.ndarray, shape [N, n_points]
        passes : int
            Stochastic forward passes (>= 1); the cost of the dropout head grows with it.
        seed : int
            Fixes the dropout masks (the same for every spectrum in a pass).
        batch_size : int

        Returns
        -------
        probabilities : numpy.ndarray, shape [N, C], float32
            Inference-mode probabilities, as :meth:`predict_flux`.
        mean_probabilities : numpy.ndarray, shape [N, C], float32
            Mean over the passes.
        bald : numpy.ndarray, shape [N], float32
            Mutual information between prediction and weights, in nats.

        Raises
        ------
        ModelLoadError
            If the model was exported without the signature (older activespec, or a
            network that is not a chain of layers).
        activespec.errors.ConfigError
            If ``passes`` < 1.
        """
        self.require_signatures([export.PREDICT_FLUX_MC_SIGNATURE], "MC dropout (BALD)")
        if isinstance(passes, bool) or not isinstance(passes, (int, np.integer)) or passes < 1:
            raise errors.ConfigError(f"passes must be an integer >= 1, got {passes!r}")
        flux = self._checked_flux(flux)
        if flux.shape[0] == 0:
            empty = np.zeros((0, self.n_classes), dtype=np.float32)
            return empty, empty.copy(), np.zeros(0, np.float32)
        out = self._call_batched(
            export.PREDICT_FLUX_MC_SIGNATURE,
            flux,
            batch_size,
            **{
                export.MC_PASSES_INPUT: np.int32(passes),
                export.MC_SEED_INPUT: np.int64(seed),
            },
        )
        return (
            out[export.PROBABILITIES_KEY],
            out[export.MEAN_PROBABILITIES_KEY],
            out[export.BALD_KEY],
        )

    def embed_flux(
        self, flux: np.ndarray, *, batch_size: int = 2048
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and embeddings (the output layer's input) of preprocessed spectra.

        Returns
        -------
        probabilities : numpy.ndarray, shape [N, C], float32
        embedding : numpy.ndarray, shape [N, D], float32
            For the published CNN the 512 activations of the last dense layer.

        Raises
        ------
        ModelLoadError
            If the model was exported without the ``embed_flux`` signature.
        """
        self.require_signatures([export.EMBED_FLUX_SIGNATURE], "embeddings (diverse_entropy)")
        flux = self._checked_flux(flux)
        if flux.shape[0] == 0:
            dim = (
                self._signature(export.EMBED_FLUX_SIGNATURE)
                .structured_outputs[export.EMBEDDING_KEY]
                .shape[-1]
            )
            return (
                np.zeros((0, self.n_classes), dtype=np.float32),
                np.zeros((0, dim or 0), dtype=np.float32),
            )
        out = self._call_batched(export.EMBED_FLUX_SIGNATURE, flux, batch_size)
        return out[export.PROBABILITIES_KEY], out[export.EMBEDDING_KEY]

    def predict_examples(self, examples: Sequence[bytes], *, batch_size: int = 2048) -> np.ndarray:
        """Class probabilities of serialized ``tf.Example`` records (``flux`` parsed in-graph).

        Parameters
        ----------
        examples : sequence of bytes
            Serialized ``tf.Example`` protos carrying the ``flux`` feature.
        batch_size : int
            Records per model call.

        Returns
        -------
        numpy.ndarray, shape [N, C], float32
        """
        if len(examples) == 0:
            return np.zeros((0, self.n_classes), dtype=np.float32)
        signature = self._signature(export.SERVING_SIGNATURE)
        chunks = [
            signature(
                **{export.EXAMPLES_INPUT: tf.constant(list(examples[start : start + batch_size]))}
            )[export.PROBABILITIES_KEY].numpy()
            for start in range(0, len(examples), batch_size)
        ]
        return np.concatenate(chunks, axis=0)


def require_signatures(path: str, available, names: Sequence[str], purpose: str) -> None:
    """Raise :class:`ModelLoadError` when a SavedModel lacks signatures ``purpose`` needs.

    Parameters
    ----------
    path : str
        The SavedModel directory (for the message).
    available : iterable of str
        Its signature names.
    names : sequence of str
        The signatures needed.
    purpose : str
        What needs them, e.g. ``"the sampling strategy 'bald'"``.
    """
    missing = [name for name in names if name not in set(available)]
    if missing:
        raise ModelLoadError(
            f"the model at {path!r} has no {', '.join(repr(n) for n in missing)} signature, "
            f"which {purpose} needs: it was exported by an older activespec (or is not a "
            "chain of layers with plain Dropout). Train the round again to export it "
            "with these signatures (with [pipeline] enable_cache = true the pipeline may "
            "reuse an old Trainer run: turn the cache off for that round), or use a "
            "strategy that needs only the probabilities (entropy, margin, "
            "least_confidence, random)"
        )


def saved_model_signature_names(saved_model_dir: str) -> list[str]:
    """The signature names of a SavedModel, read from ``saved_model.pb`` without loading it.

    Parameters
    ----------
    saved_model_dir : str
        A directory holding ``saved_model.pb`` (see :func:`resolve_saved_model_dir`).

    Raises
    ------
    ModelLoadError
        If the file cannot be parsed.
    """
    try:
        saved_model = loader_impl.parse_saved_model(saved_model_dir)
    except (OSError, ValueError, tf.errors.OpError) as error:
        raise ModelLoadError(f"SavedModel at {saved_model_dir!r} is unreadable: {error}") from error
    names: set[str] = set()
    for meta_graph in saved_model.meta_graphs:
        names.update(meta_graph.signature_def.keys())
    # The init op is stored as a signature but is not one a client can call.
    return sorted(name for name in names if not name.startswith("__"))


def read_model_metadata(saved_model_dir: str) -> dict | None:
    """Read ``assets.extra/activespec_model.json`` of an exported SavedModel.

    Parameters
    ----------
    saved_model_dir : str
        The directory holding ``saved_model.pb``.

    Returns
    -------
    dict or None
        The metadata written by :func:`models.export.export_serving_model`; None when the
        model has none (exported by an older version).

    Raises
    ------
    ModelLoadError
        If the file exists but is not a JSON object.
    """
    path = os.path.join(saved_model_dir, export.ASSETS_EXTRA_DIR, export.METADATA_FILE)
    if not tf.io.gfile.exists(path):
        return None
    try:
        with tf.io.gfile.GFile(path, "r") as handle:
            metadata = json.load(handle)
    except (ValueError, tf.errors.OpError) as error:
        raise ModelLoadError(f"model metadata {path!r} is not valid JSON: {error}") from error
    if not isinstance(metadata, dict):
        raise ModelLoadError(f"model metadata {path!r} is not a JSON object")
    return metadata


def _preprocess_config_from(
    metadata: dict | None, path: str, class_names: tuple[str, ...], n_points: int
) -> PreprocessConfig:
    """The preprocessing settings recorded with the model, checked against its graph."""
    if metadata is None:
        _LOG.warning(
            "Model at %s has no %s/%s (exported before activespec recorded its "
            "preprocessing): assuming the default preprocessing settings",
            path,
            export.ASSETS_EXTRA_DIR,
            export.METADATA_FILE,
        )
        try:
            return PreprocessConfig(n_points=n_points)
        except errors.ConfigError as error:
            raise ModelLoadError(f"model at {path!r}: {error}") from error
    recorded_names = metadata.get("class_names")
    if recorded_names is not None and tuple(recorded_names) != class_names:
        raise ModelLoadError(
            f"model metadata at {path!r} lists classes {recorded_names} but the graph "
            f"outputs {list(class_names)}"
        )
    if "preprocessing" not in metadata:
        raise ModelLoadError(f"model metadata at {path!r} has no 'preprocessing' settings")
    try:
        config = PreprocessConfig.from_dict(metadata["preprocessing"])
    except errors.ConfigError as error:
        raise ModelLoadError(
            f"model metadata at {path!r} has invalid preprocessing settings: {error}"
        ) from error
    if config.n_points != n_points:
        raise ModelLoadError(
            f"model metadata at {path!r} gives {config.n_points}-point preprocessing but "
            f"the model takes {n_points} points"
        )
    return config


def load_model_dir(model_dir: str) -> ServingModel:
    """Load an exported classifier (see :func:`models.export.export_serving_model`).

    Parameters
    ----------
    model_dir : str
        A SavedModel directory, a TFX Model artifact directory or a TF Serving base
        directory with numeric versions (the highest version is loaded).

    Returns
    -------
    ServingModel
        With ``class_names``, ``n_points``, ``preprocess_config`` and batched
        ``predict_flux`` / ``predict_examples``.

    Raises
    ------
    ModelLoadError
        If nothing loadable is there, the SavedModel lacks the ``predict_flux`` signature
        or its metadata is unreadable or contradicts the graph.
    """
    path = resolve_saved_model_dir(model_dir)
    try:
        saved_model = tf.saved_model.load(path)
    except (OSError, ValueError, tf.errors.OpError) as error:
        raise ModelLoadError(f"SavedModel at {path!r} could not be loaded: {error}") from error
    missing = {export.SERVING_SIGNATURE, export.PREDICT_FLUX_SIGNATURE} - set(
        saved_model.signatures.keys()
    )
    if missing:
        raise ModelLoadError(
            f"SavedModel at {path!r} lacks signature(s) {sorted(missing)}; "
            "export it with models.export.export_serving_model"
        )
    signature = saved_model.signatures[export.PREDICT_FLUX_SIGNATURE]
    flux_spec = signature.structured_input_signature[1][features.FLUX]
    n_points = int(flux_spec.shape[1])
    # The class names travel inside the graph; one zero spectrum reads them out.
    probe = signature(**{features.FLUX: tf.zeros([1, n_points], tf.float32)})
    class_names = tuple(name.decode("utf-8") for name in probe[export.CLASS_NAMES_KEY].numpy()[0])
    metadata = read_model_metadata(path)
    return ServingModel(
        path=path,
        class_names=class_names,
        n_points=n_points,
        _saved_model=saved_model,
        preprocess_config=_preprocess_config_from(metadata, path, class_names, n_points),
        metadata=metadata or {},
    )
