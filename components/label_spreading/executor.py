"""Executor of the LabelSpreading component: class distributions of every pool spectrum by
label spreading over a kNN graph of the labelled and the pool spectra.

Steps::

    read labelled examples (flux, label) and pool examples (flux, metadata)
      -> [embedding of both by the CNN's embed_flux signature, space = "embedding"]
      -> knn_graph -> spread_labels            (activespec.label_spreading)
      -> score records written as PoolScorer writes them (components.pool_scorer.transforms)

Label spreading is transductive: every node's distribution depends on the whole graph, so
the executor holds all vectors in one process (a million 140-point vectors are 560 MB;
``python -m bench label_spreading``) instead of running a Beam pipeline. A labelled
spectrum that is also in the pool (a pool spectrum labelled in an earlier round, joined
by LabelJoin) is one node: the pool node, carrying the label.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx_bsl.coders import example_coder

from activespec import errors
from activespec import label_spreading as ls
from activespec.constants import GRID_POINTS
from activespec.settings import check_class_names
from components import score_features
from components.label_spreading import spec as c
from components.pool_scorer.transforms import (
    SCORES_FILE_PREFIX,
    input_schema,
    scores_record_batch,
    usable_flux,
)
from models import features, serving

__all__ = ["DEFAULT_READ_BATCH", "Executor", "check_space", "read_split"]

_LOG = logging.getLogger(__name__)

#: Records decoded at a time.
DEFAULT_READ_BATCH = 4096
#: Spectra per call of the embedding signature.
_EMBED_BATCH = 1024


def check_space(space: str, has_model: bool) -> str:
    """The graph's space, refusing an unknown one or ``embedding`` without a model.

    Raises
    ------
    activespec.errors.ConfigError
    """
    if space not in ls.SPACES:
        raise errors.ConfigError(f"space must be one of {list(ls.SPACES)}, got {space!r}")
    if space == ls.SPACE_EMBEDDING and not has_model:
        raise errors.ConfigError(
            "space = 'embedding' needs a trained model (the CNN whose embedding the graph "
            "is built in); give LabelSpreading a model or use space = 'flux'"
        )
    return space


def _labelled_schema() -> schema_pb2.Schema:
    schema = input_schema()
    schema.feature.add(name=features.LABEL, type=schema_pb2.INT)
    return schema


def read_split(examples, split: str, schema: schema_pb2.Schema) -> Iterator[pa.RecordBatch]:
    """Decoded record batches of one split of an Examples artifact (gzipped TFRecords).

    Raises
    ------
    activespec.errors.ConfigError
        If the artifact has no such split or the split has no files.
    """
    try:
        split_uri = artifact_utils.get_split_uri([examples], split)
    except ValueError as error:
        raise errors.ConfigError(
            f"the examples artifact has no split {split!r} "
            f"(splits: {artifact_utils.decode_split_names(examples.split_names)})"
        ) from error
    files = sorted(tf.io.gfile.glob(os.path.join(split_uri, "*")))
    if not files:
        raise errors.ConfigError(f"split {split!r} has no files in {split_uri}")
    decoder = example_coder.ExamplesToRecordBatchDecoder(schema.SerializeToString())
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(DEFAULT_READ_BATCH)
    for batch in dataset.as_numpy_iterator():
        yield decoder.DecodeBatch(list(batch))


def _first_of_each(record_batch: pa.RecordBatch, name: str, default) -> list:
    """The first value of a list column per row, ``default`` where a row has none."""
    index = record_batch.schema.get_field_index(name)
    if index < 0:
        return [default] * record_batch.num_rows
    return [values[0] if values else default for values in record_batch.column(index).to_pylist()]


def _read_labelled(examples, splits: Sequence[str], n_points: int, n_classes: int):
    """Flux, label and identifier of the usable labelled examples of ``splits``."""
    flux_parts, labels, ids = [], [], []
    for split in splits:
        for record_batch in read_split(examples, split, _labelled_schema()):
            flux, usable = usable_flux(record_batch, n_points)
            batch_labels = np.asarray(
                _first_of_each(record_batch, features.LABEL, ls.UNLABELLED), np.int64
            )[usable]
            batch_ids = np.asarray(
                _first_of_each(record_batch, score_features.SPECTRUM_ID, b""), object
            )[usable]
            # A labelled example without a label is of no use to the graph's seeds.
            has_label = batch_labels != ls.UNLABELLED
            flux_parts.append(flux[has_label])
            labels.append(batch_labels[has_label])
            ids.append(batch_ids[has_label])
    if not flux_parts:
        return np.zeros((0, n_points), np.float32), np.zeros(0, np.int64), np.zeros(0, object)
    labels = np.concatenate(labels)
    unknown = np.unique(labels[(labels < 0) | (labels >= n_classes)])
    if len(unknown):
        raise errors.ConfigError(
            f"labelled examples carry class index(es) {unknown.tolist()} outside the "
            f"{n_classes} configured classes"
        )
    return np.concatenate(flux_parts), labels, np.concatenate(ids)


def _without_flux(record_batch: pa.RecordBatch) -> pa.RecordBatch:
    """The metadata columns only: the flux is in the vectors already (560 MB at 1M)."""
    keep = [i for i, name in enumerate(record_batch.schema.names) if name != features.FLUX]
    return pa.RecordBatch.from_arrays(
        [record_batch.column(i) for i in keep], [record_batch.schema.names[i] for i in keep]
    )


def _embed(model: serving.ServingModel, flux: np.ndarray) -> np.ndarray:
    if not len(flux):
        return np.zeros((0, 0), np.float32)
    _, embedding = model.embed_flux(flux, batch_size=_EMBED_BATCH)
    return np.asarray(embedding, np.float32)


def _parse_json_list(value: Any, key: str) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise errors.ConfigError(f"{key} is not a JSON list: {value!r}") from error
    if not isinstance(value, (list, tuple)):
        raise errors.ConfigError(f"{key} must be a list, got {value!r}")
    return list(value)


class Executor(base_executor.BaseExecutor):
    """Spreads the labels over the kNN graph and writes PoolScorer's scores (see README)."""

    def Do(  # noqa: N802 -- TFX executor interface
        self,
        input_dict: dict[str, list],
        output_dict: dict[str, list],
        exec_properties: dict[str, Any],
    ) -> None:
        """Build the graph, spread the labels, write the score records and their counts.

        Parameters
        ----------
        input_dict : dict
            ``labelled_examples`` and ``pool_examples`` (one Examples artifact each) and,
            optionally, ``model`` (one Model artifact, needed by ``space = "embedding"``).
        output_dict : dict
            ``scores`` (one PoolScores artifact).
        exec_properties : dict
            ``class_names`` and ``labelled_splits`` (JSON lists), ``split``,
            ``n_points``, ``k``, ``alpha``, ``iterations``, ``tolerance``, ``space``.

        Raises
        ------
        activespec.errors.ConfigError
            If a split is missing or empty, a parameter is invalid, labels are outside
            the classes, or ``space = "embedding"`` comes without a model.
        activespec.label_spreading.LabelSpreadingInputError
            If no labelled example is usable.
        """
        self._log_startup(input_dict, output_dict, exec_properties)
        labelled = artifact_utils.get_single_instance(input_dict[c.LABELLED_EXAMPLES_KEY])
        pool = artifact_utils.get_single_instance(input_dict[c.POOL_EXAMPLES_KEY])
        models = input_dict.get(c.MODEL_KEY) or []
        scores = artifact_utils.get_single_instance(output_dict[c.SCORES_KEY])
        class_names = list(
            check_class_names(
                _parse_json_list(exec_properties.get(c.CLASS_NAMES_KEY), c.CLASS_NAMES_KEY),
                "LabelSpreading: class_names",
            )
        )
        split = exec_properties.get(c.SPLIT_KEY) or "pool"
        splits = _parse_json_list(
            exec_properties.get(c.LABELLED_SPLITS_KEY) or [], c.LABELLED_SPLITS_KEY
        ) or artifact_utils.decode_split_names(labelled.split_names)
        n_points = int(exec_properties.get(c.N_POINTS_KEY) or GRID_POINTS)
        space = check_space(exec_properties.get(c.SPACE_KEY) or ls.SPACE_FLUX, bool(models))
        k = int(exec_properties.get(c.K_KEY) or ls.DEFAULT_K)
        alpha = float(exec_properties.get(c.ALPHA_KEY) or ls.DEFAULT_ALPHA)
        max_iterations = int(exec_properties.get(c.ITERATIONS_KEY) or ls.DEFAULT_MAX_ITERATIONS)
        tolerance = exec_properties.get(c.TOLERANCE_KEY)
        tolerance = ls.DEFAULT_TOLERANCE if tolerance is None else float(tolerance)

        labelled_flux, labelled_y, labelled_ids = _read_labelled(
            labelled, splits, n_points, len(class_names)
        )
        # The pool's decoded batches are kept for their metadata, written with the scores.
        pool_batches, pool_flux, n_rejected = [], [], 0
        for record_batch in read_split(pool, split, input_schema()):
            flux, usable = usable_flux(record_batch, n_points)
            pool_batches.append((_without_flux(record_batch), usable))
            pool_flux.append(flux)
            n_rejected += record_batch.num_rows - int(usable.sum())
        pool_flux = np.concatenate(pool_flux) if pool_flux else np.zeros((0, n_points), np.float32)
        pool_ids = np.concatenate(
            [np.zeros(0, object)]
            + [
                np.asarray(_first_of_each(rb, score_features.SPECTRUM_ID, b""), object)[usable]
                for rb, usable in pool_batches
            ]
        )
        n_pool = len(pool_ids)

        # One node per spectrum: a labelled spectrum of the pool labels its pool node.
        pool_index = {spectrum_id: i for i, spectrum_id in enumerate(pool_ids)}
        labels = np.full(n_pool, ls.UNLABELLED, np.int64)
        in_pool = np.array([sid in pool_index for sid in labelled_ids], bool)
        labels[[pool_index[sid] for sid in labelled_ids[in_pool]]] = labelled_y[in_pool]
        extra_flux = labelled_flux[~in_pool]
        labels = np.concatenate([labels, labelled_y[~in_pool]])
        vectors = np.concatenate([pool_flux.astype(np.float32), extra_flux])

        model_dir = ""
        if space == ls.SPACE_EMBEDDING:
            model_dir = serving.resolve_saved_model_dir(models[0].uri)
            model = serving.load_model_dir(model_dir)
            if tuple(model.class_names) != tuple(class_names):
                raise errors.ConfigError(
                    f"the model at {model_dir} predicts classes {list(model.class_names)}"
                    f" but the component was configured with {class_names}"
                )
            vectors = _embed(model, vectors)

        if not (labels != ls.UNLABELLED).any():
            # Before the graph, which is the costly part.
            raise ls.LabelSpreadingInputError(
                f"no usable labelled example in the splits {splits} of the labelled examples"
            )
        graph = ls.knn_graph(vectors, k)
        result = ls.spread_labels(
            graph,
            labels,
            len(class_names),
            alpha=alpha,
            max_iterations=max_iterations,
            tolerance=tolerance,
        )
        distributions = result.distributions[:n_pool]

        encoder = example_coder.RecordBatchToExamplesEncoder()
        path = os.path.join(scores.uri, f"{SCORES_FILE_PREFIX}-00000-of-00001.gz")
        start = 0
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for record_batch, usable in pool_batches:
                stop = start + int(usable.sum())
                records = scores_record_batch(
                    record_batch, usable, distributions[start:stop], class_names
                )
                for record in encoder.encode(records):
                    writer.write(record)
                start = stop

        scores.set_int_custom_property(c.NUM_SCORED_PROPERTY, n_pool)
        scores.set_int_custom_property(c.NUM_REJECTED_PROPERTY, n_rejected)
        scores.set_string_custom_property(c.CLASS_NAMES_KEY, json.dumps(class_names))
        scores.set_string_custom_property(c.SPLIT_KEY, split)
        scores.set_string_custom_property(c.MODEL_DIR_PROPERTY, model_dir)
        scores.set_string_custom_property(c.EXTRA_SCORES_KEY, json.dumps([]))
        scores.set_string_custom_property(c.SPACE_KEY, space)
        scores.set_int_custom_property(c.ITERATIONS_DONE_PROPERTY, result.iterations)
        scores.set_float_custom_property(c.FINAL_CHANGE_PROPERTY, result.change)
        scores.set_int_custom_property(c.CONVERGED_PROPERTY, int(result.converged))
        # Labelled nodes always keep mass: every unreached node is a pool spectrum.
        scores.set_int_custom_property(c.NUM_UNREACHED_PROPERTY, result.n_unreached)
        scores.set_int_custom_property(c.GRAPH_EDGES_PROPERTY, int(graph.nnz // 2))
        scores.set_int_custom_property(c.NUM_LABELLED_NODES_PROPERTY, int((labels >= 0).sum()))
        _LOG.info(
            "Label spreading over %d nodes (%d labelled, space %s): %d steps, last change %.3g;"
            " scored %d pool spectra (%d rejected) into %s",
            len(labels),
            int((labels >= 0).sum()),
            space,
            result.iterations,
            result.change,
            n_pool,
            n_rejected,
            scores.uri,
        )
