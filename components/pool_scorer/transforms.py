"""Beam transforms of the PoolScorer: class probabilities and uncertainty of every pool
spectrum.

Everything here runs on Beam workers, which import it to unpickle the scoring DoFn: it
imports TensorFlow but not TFX (the executor, in :mod:`.executor`, does).

Pipeline::

    ReadFromTFRecord(<split>/*, gzip) -> BatchElements -> score batch -> WriteToTFRecord(gzip)

The scoring step decodes a batch of serialized ``tf.Example`` records into an Arrow
RecordBatch (C++ decoder of tfx_bsl), runs the exported model's ``predict_flux`` signature
on the flux matrix, computes the uncertainty measures of :mod:`activespec.uncertainty` and
encodes the score records (keys in :mod:`components.score_features`) with the C++ encoder.
Nothing of the pool is collected in the driver; the model is loaded once per worker
process and shared between its threads.

``extra_scores`` adds what a sampling strategy beyond the plain measures needs: ``bald``
(the ``predict_flux_mc`` signature, ``mc_passes`` dropout passes with masks fixed by
``seed``) and ``embedding`` (the ``embed_flux`` signature). Those signatures also return
the inference-mode probabilities, so a batch still costs one model call per signature.
"""

import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.utils import shared
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx_bsl.coders import example_coder

from activespec import errors, uncertainty
from activespec.constants import DEFAULT_MC_PASSES
from components import score_features
from models import export, features, serving

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "METRICS_NAMESPACE",
    "SCORES_FILE_PREFIX",
    "ScorePool",
    "input_schema",
    "score_record_batch",
    "scores_file_pattern",
    "scores_record_batch",
    "usable_flux",
]

#: The signature each optional score comes from, and what needs it (for the error message).
_EXTRA_SCORE_SIGNATURES = {
    score_features.BALD: (export.PREDICT_FLUX_MC_SIGNATURE, "the 'bald' sampling strategy"),
    score_features.EMBEDDING: (
        export.EMBED_FLUX_SIGNATURE,
        "the 'diverse_entropy' sampling strategy",
    ),
}

#: Spectra per model call. Large enough to amortise the per-call overhead on CPU.
DEFAULT_BATCH_SIZE = 1024
#: Score files are ``<artifact uri>/scores-SSSSS-of-NNNNN.gz``.
SCORES_FILE_PREFIX = "scores"
METRICS_NAMESPACE = "activespec.pool_scorer"
SCORED_COUNTER = "scored_spectra"
REJECTED_COUNTER = "rejected_spectra"

_LOG = logging.getLogger(__name__)

#: Pass-through metadata: (key, schema type, value written when the input lacks it).
_PASSTHROUGH_TYPES = {
    score_features.SPECTRUM_ID: (schema_pb2.BYTES, b""),
    score_features.DESIGNATION: (schema_pb2.BYTES, b""),
    score_features.RA: (schema_pb2.FLOAT, np.nan),
    score_features.DEC: (schema_pb2.FLOAT, np.nan),
    score_features.SNR: (schema_pb2.FLOAT, np.nan),
    score_features.SURVEY: (schema_pb2.BYTES, b""),
    score_features.LAYOUT: (schema_pb2.BYTES, b""),
    score_features.SOURCE: (schema_pb2.BYTES, b""),
}


def scores_file_pattern(scores_uri: str) -> str:
    """Glob pattern of the score files inside a ``PoolScores`` artifact directory."""
    return os.path.join(scores_uri, f"{SCORES_FILE_PREFIX}-*.gz")


def input_schema() -> schema_pb2.Schema:
    """Schema the pool records are decoded with: flux plus the pass-through metadata."""
    schema = schema_pb2.Schema()
    schema.feature.add(name=features.FLUX, type=schema_pb2.FLOAT)
    for key, (kind, _) in _PASSTHROUGH_TYPES.items():
        schema.feature.add(name=key, type=kind)
    return schema


def _column(record_batch: pa.RecordBatch, name: str) -> pa.Array | None:
    index = record_batch.schema.get_field_index(name)
    return None if index < 0 else record_batch.column(index)


def _list_layout(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Start offset into ``column.values`` and number of values of every row (0 for null)."""
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    starts = column.offsets.to_numpy(zero_copy_only=False)[:-1]
    return starts.astype(np.int64), lengths.astype(np.int64)


def _first_values(column: pa.Array | None, n_rows: int, default: Any, kind: int) -> np.ndarray:
    """First value of every row of a list column, ``default`` where a row has none."""
    dtype = object if kind == schema_pb2.BYTES else np.float32
    result = np.full(n_rows, default, dtype=dtype)
    if column is None:
        return result
    starts, lengths = _list_layout(column)
    present = lengths > 0
    values = column.values.to_numpy(zero_copy_only=False)
    result[present] = values[starts[present]]
    return result


def _flux_matrix(column: pa.Array | None, n_rows: int, n_points: int):
    """Flux of the rows that carry exactly ``n_points`` finite values, and their mask."""
    if column is None:
        return np.zeros((0, n_points), np.float32), np.zeros(n_rows, bool)
    starts, lengths = _list_layout(column)
    usable = lengths == n_points
    values = column.values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    flux = values[starts[usable, np.newaxis] + np.arange(n_points)]
    finite = np.isfinite(flux).all(axis=1)
    usable[np.flatnonzero(usable)[~finite]] = False
    return flux[finite], usable


def _one_per_row(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """A list column with exactly one value per row."""
    offsets = pa.array(np.arange(len(values) + 1, dtype=np.int64))
    return pa.LargeListArray.from_arrays(offsets, pa.array(values, type=arrow_type))


def check_extra_scores(extra_scores: Sequence[str]) -> tuple[str, ...]:
    """The optional scores as a tuple in :data:`score_features.EXTRA_SCORES` order.

    Raises
    ------
    activespec.errors.ConfigError
        On an unknown name.
    """
    if isinstance(extra_scores, str):
        raise errors.ConfigError(f"extra_scores must be a list of names, got {extra_scores!r}")
    unknown = sorted(set(extra_scores) - set(score_features.EXTRA_SCORES))
    if unknown:
        raise errors.ConfigError(
            f"extra_scores: unknown score(s) {unknown}; "
            f"choose among {list(score_features.EXTRA_SCORES)}"
        )
    return tuple(name for name in score_features.EXTRA_SCORES if name in extra_scores)


def required_signatures(extra_scores: Sequence[str]) -> dict[str, str]:
    """Signature name -> what needs it, for the optional scores asked for."""
    return dict(_EXTRA_SCORE_SIGNATURES[name] for name in check_extra_scores(extra_scores))


def check_model_signatures(model_dir: str, available, extra_scores: Sequence[str]) -> None:
    """Fail with a clear error unless the model has the signatures ``extra_scores`` need."""
    for signature, purpose in required_signatures(extra_scores).items():
        serving.require_signatures(model_dir, available, [signature], purpose)


def _model_outputs(
    model: serving.ServingModel,
    flux: np.ndarray,
    n_classes: int,
    extra_scores: Sequence[str],
    mc_passes: int,
    seed: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Inference probabilities and the optional scores, one signature call per kind."""
    extras: dict[str, np.ndarray] = {}
    probabilities = None
    if not len(flux):
        probabilities = np.zeros((0, n_classes), np.float32)
        extras = {name: np.zeros((0,), np.float32) for name in extra_scores}
        if score_features.EMBEDDING in extras:
            extras[score_features.EMBEDDING] = np.zeros((0, 0), np.float32)
        return probabilities, extras
    if score_features.BALD in extra_scores:
        probabilities, _, extras[score_features.BALD] = model.predict_flux_mc(
            flux, passes=mc_passes, seed=seed, batch_size=max(len(flux), 1)
        )
    if score_features.EMBEDDING in extra_scores:
        embedded, extras[score_features.EMBEDDING] = model.embed_flux(
            flux, batch_size=max(len(flux), 1)
        )
        probabilities = embedded if probabilities is None else probabilities
    if probabilities is None:
        probabilities = model.predict_flux(flux)
    return probabilities, extras


def score_record_batch(
    record_batch: pa.RecordBatch,
    model: serving.ServingModel,
    class_names: Sequence[str],
    extra_scores: Sequence[str] = (),
    mc_passes: int = DEFAULT_MC_PASSES,
    seed: int = 0,
) -> tuple[pa.RecordBatch, int]:
    """Score the spectra of one decoded batch of pool records.

    Parameters
    ----------
    record_batch : pyarrow.RecordBatch
        Pool records decoded with the flux and pass-through schema (list columns).
    model : models.serving.ServingModel
        The exported classifier.
    class_names : sequence of str
        Class names in probability-column order.
    extra_scores : sequence of str
        Optional scores to add (:data:`score_features.EXTRA_SCORES`): ``bald`` and/or
        ``embedding``.
    mc_passes : int
        Monte Carlo dropout passes of ``bald``.
    seed : int
        Fixes the dropout masks of ``bald``.

    Returns
    -------
    scores : pyarrow.RecordBatch
        One row per usable spectrum with the keys of :mod:`components.score_features`;
        missing pass-through values become NaN (numbers) or empty strings.
    n_rejected : int
        Records left out: no spectrum id, or flux missing, of the wrong length or not finite.

    Raises
    ------
    models.serving.ModelLoadError
        If ``extra_scores`` needs a signature the model was exported without.
    """
    flux, usable = usable_flux(record_batch, model.n_points)
    extra_scores = check_extra_scores(extra_scores)
    probabilities, extras = _model_outputs(
        model, flux, len(class_names), extra_scores, mc_passes, seed
    )
    scores = scores_record_batch(record_batch, usable, probabilities, class_names, extras)
    return scores, record_batch.num_rows - scores.num_rows


def usable_flux(record_batch: pa.RecordBatch, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """The flux matrix of the records that can be scored, and which records those are.

    Parameters
    ----------
    record_batch : pyarrow.RecordBatch
        Records decoded with :func:`input_schema` (list columns).
    n_points : int
        Values a flux vector must have.

    Returns
    -------
    flux : numpy.ndarray of float32, shape [n_usable, n_points]
    usable : numpy.ndarray of bool, shape [n_rows]
        Records with a spectrum id and exactly ``n_points`` finite flux values.
    """
    n_rows = record_batch.num_rows
    flux, usable = _flux_matrix(_column(record_batch, features.FLUX), n_rows, n_points)
    spectrum_ids = _first_values(
        _column(record_batch, score_features.SPECTRUM_ID), n_rows, b"", schema_pb2.BYTES
    )
    has_id = spectrum_ids != b""
    flux = flux[has_id[usable]]
    usable &= has_id
    return flux, usable


def scores_record_batch(
    record_batch: pa.RecordBatch,
    usable: np.ndarray,
    probabilities: np.ndarray,
    class_names: Sequence[str],
    extras: dict[str, np.ndarray] | None = None,
) -> pa.RecordBatch:
    """Score records (keys of :mod:`components.score_features`) of the usable records.

    Parameters
    ----------
    record_batch : pyarrow.RecordBatch
        The decoded records, for the pass-through metadata.
    usable : numpy.ndarray of bool, shape [n_rows]
        The records scored (:func:`usable_flux`).
    probabilities : numpy.ndarray, shape [n_usable, C]
        Class probabilities of the usable records, in their order; the predicted class
        and the uncertainty measures are computed from them.
    class_names : sequence of str
        Class names in probability-column order.
    extras : dict, optional
        Optional scores by :data:`score_features.EXTRA_SCORES` name.

    Returns
    -------
    pyarrow.RecordBatch
        One row per usable record; missing pass-through values become NaN (numbers) or
        empty strings.
    """
    extras = extras or {}
    n_rows = record_batch.num_rows
    n_usable = int(usable.sum())
    probabilities = probabilities.astype(np.float32, copy=False)
    predicted = probabilities.argmax(axis=1) if n_usable else np.zeros(0, np.int64)
    names = np.array([name.encode("utf-8") for name in class_names], dtype=object)

    columns: dict[str, pa.Array] = {}
    for key, (kind, default) in _PASSTHROUGH_TYPES.items():
        values = _first_values(_column(record_batch, key), n_rows, default, kind)[usable]
        columns[key] = _one_per_row(
            values, pa.large_binary() if kind == schema_pb2.BYTES else pa.float32()
        )
    columns[score_features.PROBABILITIES] = pa.LargeListArray.from_arrays(
        pa.array(np.arange(0, probabilities.size + 1, len(class_names), dtype=np.int64)),
        pa.array(probabilities.reshape(-1), type=pa.float32()),
    )
    columns[score_features.PREDICTED_LABEL] = _one_per_row(predicted.astype(np.int64), pa.int64())
    columns[score_features.PREDICTED_CLASS] = _one_per_row(names[predicted], pa.large_binary())
    for key, measure in (
        (score_features.ENTROPY, uncertainty.entropy),
        (score_features.MARGIN, uncertainty.margin),
        (score_features.LEAST_CONFIDENCE, uncertainty.least_confidence),
    ):
        values = measure(probabilities) if n_usable else np.zeros(0)
        columns[key] = _one_per_row(np.asarray(values, np.float32), pa.float32())
    if score_features.BALD in extras:
        bald = np.asarray(extras[score_features.BALD], np.float32)
        columns[score_features.BALD] = _one_per_row(bald, pa.float32())
    if score_features.EMBEDDING in extras:
        embedding = np.asarray(extras[score_features.EMBEDDING], np.float32)
        width = embedding.shape[1] if embedding.ndim == 2 else 0
        columns[score_features.EMBEDDING] = pa.LargeListArray.from_arrays(
            pa.array(np.arange(n_usable + 1, dtype=np.int64) * width),
            pa.array(embedding.reshape(-1), type=pa.float32()),
        )
    return pa.RecordBatch.from_arrays(list(columns.values()), list(columns.keys()))


class _ScoreBatchFn(beam.DoFn):
    """Serialized pool records (a batch) -> serialized score records."""

    def __init__(
        self,
        model_dir: str,
        class_names: Sequence[str],
        shared_handle: shared.Shared,
        extra_scores: Sequence[str] = (),
        mc_passes: int = DEFAULT_MC_PASSES,
        seed: int = 0,
    ):
        self._model_dir = model_dir
        self._class_names = tuple(class_names)
        self._shared_handle = shared_handle
        self._extra_scores = check_extra_scores(extra_scores)
        self._mc_passes = mc_passes
        self._seed = seed
        self._scored = beam.metrics.Metrics.counter(METRICS_NAMESPACE, SCORED_COUNTER)
        self._rejected = beam.metrics.Metrics.counter(METRICS_NAMESPACE, REJECTED_COUNTER)

    def setup(self):
        # One SavedModel per worker process, shared by its threads.
        self._model = self._shared_handle.acquire(
            lambda: serving.load_model_dir(self._model_dir), tag=self._model_dir
        )
        if tuple(self._model.class_names) != self._class_names:
            raise errors.ConfigError(
                f"the model at {self._model_dir} predicts classes {list(self._model.class_names)}"
                f" but the component was configured with {list(self._class_names)}"
            )
        for signature, purpose in required_signatures(self._extra_scores).items():
            self._model.require_signatures([signature], purpose)
        self._decoder = example_coder.ExamplesToRecordBatchDecoder(
            input_schema().SerializeToString()
        )
        self._encoder = example_coder.RecordBatchToExamplesEncoder()

    def process(self, batch: list[bytes]) -> Iterable[bytes]:
        record_batch = self._decoder.DecodeBatch(list(batch))
        scores, n_rejected = score_record_batch(
            record_batch,
            self._model,
            self._class_names,
            self._extra_scores,
            self._mc_passes,
            self._seed,
        )
        self._scored.inc(scores.num_rows)
        if n_rejected:
            self._rejected.inc(n_rejected)
        if scores.num_rows:
            yield from self._encoder.encode(scores)


@beam.ptransform_fn
def ScorePool(  # noqa: N802 -- Beam PTransform naming convention
    serialized_examples: beam.PCollection,
    model_dir: str,
    class_names: Sequence[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
    extra_scores: Sequence[str] = (),
    mc_passes: int = DEFAULT_MC_PASSES,
    seed: int = 0,
) -> beam.PCollection:
    """Score serialized pool ``tf.Example`` records with an exported model.

    Parameters
    ----------
    serialized_examples : apache_beam.PCollection of bytes
        Pool records with ``flux`` and the pass-through metadata.
    model_dir : str
        SavedModel, TFX Model artifact or TF Serving base directory.
    class_names : sequence of str
        Expected class names of the model, in output order.
    batch_size : int
        Records per model call.
    extra_scores : sequence of str
        Optional scores (``bald``, ``embedding``), see :func:`score_record_batch`.
    mc_passes, seed : int
        Monte Carlo dropout passes of ``bald`` and the seed of their masks.

    Returns
    -------
    apache_beam.PCollection of bytes
        Serialized score records (keys in :mod:`components.score_features`).
    """
    return (
        serialized_examples
        | "Batch" >> beam.BatchElements(min_batch_size=batch_size, max_batch_size=batch_size)
        | "Score"
        >> beam.ParDo(
            _ScoreBatchFn(model_dir, class_names, shared.Shared(), extra_scores, mc_passes, seed)
        )
    )
