"""Executor of :class:`components.label_join.component.LabelJoin`."""

from __future__ import annotations

import json
import os
from typing import Any

import apache_beam as beam
import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from activespec.errors import ConfigError
from activespec.labels import load_labels
from components.label_join import spec as c
from components.spectra_ingest.encoding import id_digest
from models import features

_TFRECORD_PREFIX = "data_tfrecord"
_UNMATCHED_SAMPLE = 20


class Executor(base_beam_executor.BaseBeamExecutor):
    """Copy the labelled splits and add the labelled pool examples to the target split."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        class_names = json.loads(exec_properties[c.CLASS_NAMES_KEY])
        target = exec_properties.get(c.TARGET_SPLIT_KEY) or "train"
        pool_split = exec_properties.get(c.POOL_SPLIT_KEY) or "pool"
        labels_path = exec_properties.get(c.LABELS_KEY) or ""
        labels = load_labels(labels_path, class_names) if labels_path else {}

        labelled = artifact_utils.get_single_instance(input_dict[c.LABELLED_EXAMPLES_KEY])
        pool = artifact_utils.get_single_instance(input_dict[c.POOL_EXAMPLES_KEY])
        output = artifact_utils.get_single_instance(output_dict[c.EXAMPLES_KEY])
        splits = artifact_utils.decode_split_names(labelled.split_names)
        if target not in splits:
            raise ConfigError(
                f"LabelJoin: target split {target!r} not among the labelled splits {splits}"
            )
        if pool_split not in artifact_utils.decode_split_names(pool.split_names):
            raise ConfigError(f"LabelJoin: the pool examples have no split {pool_split!r}")
        output.split_names = artifact_utils.encode_split_names(splits)
        examples_utils.set_payload_format(output, examples_utils.get_payload_format(labelled))
        counts_dir = os.path.join(output.uri, "_counts")

        with self._make_beam_pipeline() as pipeline:
            joined = None
            if labels:
                joined = (
                    pipeline
                    | "ReadPool" >> _read_split(pool, pool_split)
                    | "AttachLabels" >> beam.FlatMap(_attach_label, labels)
                )
                _ = (
                    joined
                    | "JoinedIds" >> beam.Map(lambda kv: kv[0])
                    | "CountJoined" >> beam.combiners.Count.Globally()
                    | "FormatCount" >> beam.Map(lambda n: json.dumps({"joined": n}))
                    | "WriteCount"
                    >> beam.io.WriteToText(
                        os.path.join(counts_dir, "joined"), shard_name_template=""
                    )
                )
                _ = (
                    joined
                    | "MatchedIds" >> beam.Map(lambda kv: kv[0])
                    | "AllMatched" >> beam.combiners.ToList()
                    | "Unmatched"
                    >> beam.Map(lambda ids: json.dumps(sorted(set(labels) - set(ids))))
                    | "WriteUnmatched"
                    >> beam.io.WriteToText(
                        os.path.join(counts_dir, "unmatched"), shard_name_template=""
                    )
                )
            for split in splits:
                records = pipeline | f"Read[{split}]" >> _read_split(labelled, split)
                if split == target:
                    # In a fixed order (MD5 of the identifier): the Trainer's seeded shuffle
                    # then sees the same sequence whatever order the (multi-process)
                    # ingestion wrote, so the same labels train the same model. A hash, not
                    # the identifier itself, so that a training set larger than the
                    # shuffle buffer is not fed in survey or class runs.
                    keyed = records | "KeyById" >> beam.Map(_keyed_by_id)
                    if joined is not None:
                        keyed = (keyed, joined) | f"Union[{split}]" >> beam.Flatten()
                    records = (
                        keyed
                        | "AllTargetRecords" >> beam.combiners.ToList()
                        | "InFixedOrder" >> beam.FlatMap(_in_fixed_order)
                    )
                _ = records | f"Write[{split}]" >> beam.io.WriteToTFRecord(
                    os.path.join(artifact_utils.get_split_uri([output], split), _TFRECORD_PREFIX),
                    file_name_suffix=".gz",
                )

        num_joined, unmatched = 0, []
        if labels:
            num_joined = json.loads(io_utils.read_string_file(os.path.join(counts_dir, "joined")))[
                "joined"
            ]
            unmatched = json.loads(io_utils.read_string_file(os.path.join(counts_dir, "unmatched")))
            io_utils.delete_dir(counts_dir)
        output.set_int_custom_property(c.NUM_LABELS_PROPERTY, len(labels))
        output.set_int_custom_property(c.NUM_JOINED_PROPERTY, num_joined)
        output.set_int_custom_property(c.NUM_UNMATCHED_PROPERTY, len(unmatched))
        output.set_string_custom_property(
            c.UNMATCHED_SAMPLE_PROPERTY, json.dumps(unmatched[:_UNMATCHED_SAMPLE])
        )
        if unmatched:
            # Labels of spectra absent from the pool cannot be trained on; say so loudly.
            logging.warning(
                "LabelJoin: %d labelled ids are not in the ingested pool, e.g. %s",
                len(unmatched),
                unmatched[:5],
            )
        logging.info("LabelJoin: %d pool spectra joined the %r split", num_joined, target)


def _read_split(artifact: types.Artifact, split: str) -> beam.PTransform:
    pattern = os.path.join(artifact_utils.get_split_uri([artifact], split), "*")
    return beam.io.ReadFromTFRecord(
        pattern, compression_type=beam.io.filesystem.CompressionTypes.AUTO
    )


def _spectrum_id(example: tf.train.Example) -> str:
    ids = example.features.feature[features.SPECTRUM_ID].bytes_list.value
    return ids[0].decode("utf-8") if ids else ""


def _keyed_by_id(serialized: bytes) -> tuple[str, bytes]:
    return _spectrum_id(tf.train.Example.FromString(serialized)), serialized


def _in_fixed_order(keyed: list[tuple[str, bytes]]) -> list[bytes]:
    """The records in :func:`~components.spectra_ingest.encoding.id_digest` order (then by
    bytes, for records without an id)."""
    return [serialized for _, serialized in sorted(keyed, key=lambda kv: (id_digest(kv[0]), kv[1]))]


def _attach_label(serialized: bytes, labels: dict[str, int]):
    """Yield ``(spectrum_id, serialized example with its label)`` for labelled spectra."""
    example = tf.train.Example.FromString(serialized)
    spectrum_id = _spectrum_id(example)
    if not spectrum_id:
        return
    label = labels.get(spectrum_id)
    if label is None:
        return
    example.features.feature[features.LABEL].int64_list.value[:] = [label]
    # deterministic: protobuf otherwise writes map entries in an order that varies
    yield spectrum_id, example.SerializeToString(deterministic=True)
