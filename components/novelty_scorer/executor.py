"""Executor of the NoveltyScorer: a novelty score beside the class scores of every pool
spectrum, the list of the most unusual ones and the 2-D map of the pool.

Steps::

    read the score records (PoolScorer's or LabelSpreading's)
      -> vectors: their ``embedding``, or the pool's flux (joined by spectrum id)
      -> PCA to at most 64 dimensions (fitted on the first 20,000 rows)
      -> novelty = distance to the k-th nearest pool spectrum   (activespec.novelty)
      -> score records + ``novelty`` (without ``embedding`` unless kept)
      -> novel.csv: the most novel spectra neither labelled, candidates nor confident
         negatives;  map.csv: a t-SNE map of a sample of the pool plus every labelled
         spectrum, candidate and listed novel spectrum

The neighbour search needs every vector at once, so the executor runs in one process
(as LabelSpreading does); at 4 million spectra the reduced vectors take 1 GB.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx_bsl.coders import example_coder

from activespec import errors
from activespec import novelty as nv
from activespec.constants import GRID_POINTS
from activespec.settings import check_class_names
from components import score_features as sf
from components.novelty_scorer import spec as c
from components.pool_scorer.transforms import SCORES_FILE_PREFIX, input_schema, usable_flux
from models import features

__all__ = ["Executor", "MAP_COLUMNS", "NOVEL_COLUMNS", "SPACE_EMBEDDING", "SPACE_FLUX"]

_LOG = logging.getLogger(__name__)

SPACE_EMBEDDING = "embedding"
SPACE_FLUX = "flux"
#: ``status`` of a spectrum on the map.
STATUS_LABELLED = "labelled"
STATUS_CANDIDATE = "candidate"
STATUS_NOVEL = "novel"
STATUS_POOL = "pool"
#: Columns of ``pool_map.csv`` and ``novel.csv``.
MAP_COLUMNS = (
    "spectrum_id",
    "designation",
    "x",
    "y",
    "predicted_class",
    "probability",
    "status",
    "label",
    "novelty",
    "source",
)
NOVEL_COLUMNS = (
    "rank",
    "spectrum_id",
    "designation",
    "ra",
    "dec",
    "snr",
    "predicted_class",
    "probability",
    "novelty",
    "novelty_percentile",
    "source",
)


def _json_list(value: Any, key: str) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise errors.ConfigError(f"NoveltyScorer: {key} is not a JSON list") from error
    if not isinstance(value, (list, tuple)):
        raise errors.ConfigError(f"NoveltyScorer: {key} must be a list, got {value!r}")
    return list(value)


def _first(record_batch: pa.RecordBatch, name: str, default) -> list:
    index = record_batch.schema.get_field_index(name)
    if index < 0:
        return [default] * record_batch.num_rows
    return [v[0] if v else default for v in record_batch.column(index).to_pylist()]


def _text(values) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]


def _score_files(uri: str) -> list[str]:
    files = sorted(tf.io.gfile.glob(os.path.join(uri, "*.gz")))
    if not files:
        raise errors.ConfigError(f"NoveltyScorer: no score files (*.gz) under {uri}")
    return files


def _read_scores(uri: str, batch_size: int = 4096):
    """Decoded record batches of the score records (types inferred, every key kept)."""
    decoder = example_coder.ExamplesToRecordBatchDecoder()
    dataset = tf.data.TFRecordDataset(_score_files(uri), compression_type="GZIP")
    for batch in dataset.batch(batch_size).as_numpy_iterator():
        yield decoder.DecodeBatch(list(batch))


def _embedding_matrix(record_batch: pa.RecordBatch) -> np.ndarray | None:
    index = record_batch.schema.get_field_index(sf.EMBEDDING)
    if index < 0:
        return None
    column = record_batch.column(index)
    values = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    n = record_batch.num_rows
    if n == 0:
        return np.zeros((0, 0), np.float32)
    if len(values) % n:
        raise errors.ConfigError("NoveltyScorer: score records with embeddings of different sizes")
    return values.reshape(n, -1)


def _pool_flux(pool_examples, split: str, n_points: int) -> dict[str, np.ndarray]:
    """Spectrum id -> flux of the pool examples (the scores carry no embedding)."""
    # The reader of the label-spreading executor: the same decoder and split handling.
    from components.label_spreading.executor import read_split

    flux_by_id: dict[str, np.ndarray] = {}
    for record_batch in read_split(pool_examples, split, input_schema()):
        flux, usable = usable_flux(record_batch, n_points)
        ids = np.asarray(_first(record_batch, sf.SPECTRUM_ID, b""), object)[usable]
        for spectrum_id, vector in zip(_text(ids), flux, strict=True):
            flux_by_id[spectrum_id] = vector
    return flux_by_id


def _labelled(labelled_examples) -> dict[str, int]:
    """Spectrum id -> label index of every labelled example (all splits)."""
    if labelled_examples is None:
        return {}
    from components.label_spreading.executor import read_split

    schema = schema_pb2.Schema()
    schema.feature.add(name=features.SPECTRUM_ID, type=schema_pb2.BYTES)
    schema.feature.add(name=features.LABEL, type=schema_pb2.INT)
    labels: dict[str, int] = {}
    for split in artifact_utils.decode_split_names(labelled_examples.split_names):
        for record_batch in read_split(labelled_examples, split, schema):
            ids = _text(_first(record_batch, features.SPECTRUM_ID, b""))
            for spectrum_id, label in zip(
                ids, _first(record_batch, features.LABEL, -1), strict=True
            ):
                if spectrum_id:
                    labels[spectrum_id] = int(label)
    return labels


class _Reducer:
    """Projects vectors onto the principal axes fitted on the first rows seen."""

    def __init__(self, fit_rows: int = nv.PCA_FIT_ROWS):
        self._fit_rows = fit_rows
        self._pending: list[np.ndarray] = []
        self._basis = None
        self.reduced: list[np.ndarray] = []

    def add(self, vectors: np.ndarray) -> None:
        if self._basis is None:
            self._pending.append(vectors)
            if sum(len(v) for v in self._pending) >= self._fit_rows:
                self._fit()
            return
        self.reduced.append(self._project(vectors))

    def _fit(self) -> None:
        stacked = np.concatenate(self._pending) if self._pending else np.zeros((0, 1))
        self._basis = nv.pca_basis(stacked, nv.PCA_DIMS, self._fit_rows)
        self.reduced = [self._project(v) for v in self._pending] + self.reduced
        self._pending = []

    def _project(self, vectors: np.ndarray) -> np.ndarray:
        mean, axes = self._basis
        return ((vectors - mean) @ axes.T).astype(np.float32)

    def result(self) -> np.ndarray:
        if self._basis is None:
            self._fit()
        return np.concatenate(self.reduced) if self.reduced else np.zeros((0, 1), np.float32)


def _without(record_batch: pa.RecordBatch, dropped: str) -> pa.RecordBatch:
    keep = [i for i, name in enumerate(record_batch.schema.names) if name != dropped]
    return pa.RecordBatch.from_arrays(
        [record_batch.column(i) for i in keep], [record_batch.schema.names[i] for i in keep]
    )


def _with_novelty(record_batch: pa.RecordBatch, novelty: np.ndarray) -> pa.RecordBatch:
    arrays, names = list(record_batch.columns), list(record_batch.schema.names)
    offsets = pa.array(np.arange(len(novelty) + 1, dtype=np.int64))
    arrays.append(pa.LargeListArray.from_arrays(offsets, pa.array(novelty, type=pa.float32())))
    names.append(sf.NOVELTY)
    return pa.RecordBatch.from_arrays(arrays, names)


def _write_csv(path: str, columns: Sequence[str], rows: list[list]) -> None:
    with tf.io.gfile.GFile(path, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def _number(value: float, digits: int = 6) -> str:
    return "" if value is None or not np.isfinite(value) else f"{float(value):.{digits}g}"


class Executor(base_executor.BaseExecutor):
    """Novelty scores, the novelty list and the pool's map (see the README)."""

    def Do(  # noqa: N802 -- TFX executor interface
        self,
        input_dict: dict[str, list],
        output_dict: dict[str, list],
        exec_properties: dict[str, Any],
    ) -> None:
        """Read the scores, measure the novelty, write the scores, the list and the map.

        Raises
        ------
        activespec.errors.ConfigError
            If there are no score files, the records carry no embedding and no pool
            examples are given, or a parameter is invalid.
        """
        self._log_startup(input_dict, output_dict, exec_properties)
        scores_in = artifact_utils.get_single_instance(input_dict[c.POOL_SCORES_KEY])
        pool = (input_dict.get(c.POOL_EXAMPLES_KEY) or [None])[0]
        labelled = (input_dict.get(c.LABELLED_EXAMPLES_KEY) or [None])[0]
        scores_out = artifact_utils.get_single_instance(output_dict[c.SCORES_KEY])
        pool_map = artifact_utils.get_single_instance(output_dict[c.MAP_KEY])
        class_names = list(
            check_class_names(
                _json_list(exec_properties.get(c.CLASS_NAMES_KEY), c.CLASS_NAMES_KEY),
                "NoveltyScorer: class_names",
            )
        )
        positive = set(_json_list(exec_properties.get(c.POSITIVE_CLASSES_KEY) or "[]", "positive"))
        split = exec_properties.get(c.SPLIT_KEY) or "pool"
        k = int(exec_properties.get(c.K_KEY) or nv.DEFAULT_K)
        map_size = exec_properties.get(c.MAP_SIZE_KEY)
        map_size = nv.DEFAULT_MAP_SIZE if map_size is None else int(map_size)
        map_method = exec_properties.get(c.MAP_METHOD_KEY) or nv.MAP_METHODS[0]
        if map_method not in nv.MAP_METHODS:
            raise errors.ConfigError(
                f"NoveltyScorer: map_method must be one of {nv.MAP_METHODS}, got {map_method!r}"
            )
        list_size = exec_properties.get(c.NOVEL_LIST_SIZE_KEY)
        list_size = nv.DEFAULT_NOVEL_LIST_SIZE if list_size is None else int(list_size)
        confident = exec_properties.get(c.CONFIDENT_OTHER_KEY)
        confident = nv.DEFAULT_CONFIDENT_OTHER if confident is None else float(confident)
        keep_embedding = bool(exec_properties.get(c.KEEP_EMBEDDING_KEY) or 0)
        seed = int(exec_properties.get(c.SEED_KEY) or 0)

        novelty_space = exec_properties.get(c.NOVELTY_SPACE_KEY) or SPACE_FLUX
        if novelty_space not in (SPACE_FLUX, SPACE_EMBEDDING):
            raise errors.ConfigError(
                f"NoveltyScorer: novelty_space must be flux or embedding, got {novelty_space!r}"
            )

        batches = list(_read_scores(scores_in.uri))
        has_embedding = bool(batches) and batches[0].schema.get_field_index(sf.EMBEDDING) >= 0
        # Without an embedding (label spreading's scores) both are in the flux.
        if not has_embedding:
            novelty_space = SPACE_FLUX
        map_space = SPACE_EMBEDDING if has_embedding else SPACE_FLUX
        flux_by_id: dict[str, np.ndarray] = {}
        if SPACE_FLUX in (novelty_space, map_space):
            if pool is None:
                raise errors.ConfigError(
                    "NoveltyScorer: the novelty is measured in the flux (the score records "
                    "carry no embedding, or novelty_space = 'flux') but no pool examples were "
                    "given: give pool_examples, or score the pool with "
                    "PoolScorer(extra_scores=['embedding']) and use novelty_space = 'embedding'"
                )
            flux_by_id = _pool_flux(pool, split, GRID_POINTS)

        reducers = {space: _Reducer() for space in {novelty_space, map_space}}
        kept_batches = []
        ids: list[str] = []
        for record_batch in batches:
            batch_ids = _text(_first(record_batch, sf.SPECTRUM_ID, b""))
            if flux_by_id:
                # A scored spectrum always has a usable flux; drop any that has not.
                keep = np.array([sid in flux_by_id for sid in batch_ids], bool)
                if not keep.all():
                    record_batch = record_batch.filter(pa.array(keep))
                    batch_ids = [sid for sid, kept in zip(batch_ids, keep, strict=True) if kept]
            if not batch_ids:
                continue
            if SPACE_EMBEDDING in reducers:
                reducers[SPACE_EMBEDDING].add(_embedding_matrix(record_batch))
            if SPACE_FLUX in reducers:
                reducers[SPACE_FLUX].add(np.stack([flux_by_id[sid] for sid in batch_ids]))
            if has_embedding and not keep_embedding:
                # Reduced already: 512 floats a spectrum (8 GB at 4 M) need not wait here.
                record_batch = _without(record_batch, sf.EMBEDDING)
            kept_batches.append(record_batch)
            ids.extend(batch_ids)
        del flux_by_id
        n = len(ids)
        if n <= k:
            raise errors.ConfigError(
                f"NoveltyScorer: {n} scored pool spectra, need more than k = {k}"
            )
        reduced = {space: reducer.result() for space, reducer in reducers.items()}
        novelty = nv.novelty_scores(reduced[novelty_space], k)
        space = novelty_space

        # Write the scores with the novelty beside the class scores.
        scores_path = os.path.join(scores_out.uri, f"{SCORES_FILE_PREFIX}-00000-of-00001.gz")
        encoder = example_coder.RecordBatchToExamplesEncoder()
        start = 0
        with tf.io.TFRecordWriter(scores_path, options="GZIP") as writer:
            for record_batch in kept_batches:
                stop = start + record_batch.num_rows
                out = _with_novelty(record_batch, novelty[start:stop])
                for record in encoder.encode(out):
                    writer.write(record)
                start = stop

        # The per-spectrum metadata of the list and the map.
        meta = {key: [] for key in (sf.DESIGNATION, sf.SOURCE, sf.PREDICTED_CLASS)}
        numbers = {key: [] for key in (sf.RA, sf.DEC, sf.SNR)}
        top_probability = []
        for record_batch in kept_batches:
            for key in meta:
                meta[key].extend(_text(_first(record_batch, key, b"")))
            for key in numbers:
                numbers[key].extend(_first(record_batch, key, np.nan))
            index = record_batch.schema.get_field_index(sf.PROBABILITIES)
            top_probability.extend(
                max(p) if p else np.nan for p in record_batch.column(index).to_pylist()
            )
        del kept_batches, batches
        top_probability = np.asarray(top_probability, np.float64)
        predicted = np.asarray(meta[sf.PREDICTED_CLASS], object)
        labels = _labelled(labelled)
        is_labelled = np.array([sid in labels for sid in ids], bool)
        is_candidate = np.isin(predicted, list(positive)) & ~is_labelled
        confident_negative = ~np.isin(predicted, list(positive)) & (top_probability >= confident)
        eligible = ~is_labelled & ~is_candidate & ~confident_negative
        novel = nv.novel_order(novelty, eligible, ids, list_size)
        percentile = 100.0 * (np.argsort(np.argsort(novelty, kind="stable")) + 1) / n
        _write_csv(
            os.path.join(pool_map.uri, c.NOVEL_FILENAME),
            NOVEL_COLUMNS,
            [
                [
                    rank,
                    ids[i],
                    meta[sf.DESIGNATION][i],
                    _number(numbers[sf.RA][i], 9),
                    _number(numbers[sf.DEC][i], 9),
                    _number(numbers[sf.SNR][i], 4),
                    predicted[i],
                    _number(top_probability[i], 4),
                    _number(novelty[i]),
                    f"{percentile[i]:.2f}",
                    meta[sf.SOURCE][i],
                ]
                for rank, i in enumerate(novel, start=1)
            ],
        )

        status = np.full(n, STATUS_POOL, object)
        status[is_candidate] = STATUS_CANDIDATE
        status[novel] = STATUS_NOVEL
        status[is_labelled] = STATUS_LABELLED
        map_meta = {
            "space": map_space,
            "novelty_space": novelty_space,
            "k": k,
            "method": map_method,
            "num_scored": n,
            "num_points": 0,
            "seconds": 0.0,
            "seed": seed,
            "class_names": class_names,
            "note": "pool spectra only: labelled spectra of the other instrument have no "
            "score record, so only the labelled pool spectra are marked",
        }
        if map_method != "none":
            chosen = nv.map_selection(ids, status != STATUS_POOL, map_size, seed)
            projection = nv.project_2d(reduced[map_space][chosen], method=map_method, seed=seed)
            map_meta.update(num_points=len(chosen), seconds=round(projection.seconds, 2))
            xy = projection.coordinates
            _write_csv(
                os.path.join(pool_map.uri, c.MAP_FILENAME),
                MAP_COLUMNS,
                [
                    [
                        ids[i],
                        meta[sf.DESIGNATION][i],
                        f"{xy[j, 0]:.4f}",
                        f"{xy[j, 1]:.4f}",
                        predicted[i],
                        _number(top_probability[i], 4),
                        status[i],
                        class_names[labels[ids[i]]]
                        if 0 <= labels.get(ids[i], -1) < len(class_names)
                        else "",
                        _number(novelty[i]),
                        meta[sf.SOURCE][i],
                    ]
                    for j, i in enumerate(chosen)
                ],
            )
        with tf.io.gfile.GFile(os.path.join(pool_map.uri, c.MAP_META_FILENAME), "w") as handle:
            handle.write(json.dumps(map_meta, indent=1) + "\n")

        for artifact in (scores_out, pool_map):
            artifact.set_int_custom_property(c.NUM_SCORED_PROPERTY, n)
            artifact.set_string_custom_property(c.SPACE_PROPERTY, space)
            artifact.set_string_custom_property(c.MAP_SPACE_PROPERTY, map_space)
            artifact.set_int_custom_property(c.NUM_MAP_POINTS_PROPERTY, map_meta["num_points"])
            artifact.set_int_custom_property(c.NUM_NOVEL_PROPERTY, len(novel))
            artifact.set_float_custom_property(c.MAP_SECONDS_PROPERTY, map_meta["seconds"])
        scores_out.set_string_custom_property(c.CLASS_NAMES_KEY, json.dumps(class_names))
        scores_out.set_string_custom_property(c.SPLIT_KEY, split)
        _LOG.info(
            "Novelty (k = %d, %s space) of %d pool spectra; %d listed; map of %d points (%s, %.1f s)",
            k,
            space,
            n,
            len(novel),
            map_meta["num_points"],
            map_method,
            map_meta["seconds"],
        )
