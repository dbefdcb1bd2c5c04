"""Executor of SpectraIngest: FITS spectra -> preprocessed ``tf.Example`` splits + rejections."""

from __future__ import annotations

import json
import os
from typing import Any

import apache_beam as beam
from absl import logging
from tfx import types
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

from activespec.errors import ConfigError
from activespec.labels import load_labels

from . import transforms
from .params import IngestParams
from .spec import (
    EXAMPLES_KEY,
    NUM_EXAMPLES_PROPERTY_PREFIX,
    NUM_INGESTED_PROPERTY,
    NUM_REJECTED_PROPERTY,
    REJECTIONS_BY_CODE_PROPERTY,
    REJECTIONS_KEY,
)

#: Output file names, as in ExampleGen (``Split-<name>/data_tfrecord-*.gz``).
TFRECORD_PREFIX = "data_tfrecord"
REJECTED_CSV = "rejected.csv"
SUMMARY_JSON = "summary.json"
#: Per-run counters written by the pipeline, summarised by the driver, then removed.
_COUNTS_DIR = "_counts"
#: How many labelled identifiers without a file to list in summary.json.
MISSING_LABEL_SAMPLE = 20


class Executor(base_beam_executor.BaseBeamExecutor):
    """Read FITS spectra with Beam, preprocess them and write ExampleGen-style splits.

    See :class:`components.spectra_ingest.component.SpectraIngest` for the parameters.
    """

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        params = IngestParams.from_exec_properties(exec_properties)
        if params.file_list and not fileio.exists(params.file_list):
            raise ConfigError(f"SpectraIngest: file list not found: {params.file_list}")
        # Labelled sets are small; a bad labels file should fail before any worker starts.
        labels = load_labels(params.labels, params.class_names) if params.labelled else None

        examples = artifact_utils.get_single_instance(output_dict[EXAMPLES_KEY])
        rejections = artifact_utils.get_single_instance(output_dict[REJECTIONS_KEY])
        examples.split_names = artifact_utils.encode_split_names(params.split_names)
        counts_dir = os.path.join(rejections.uri, _COUNTS_DIR)

        logging.info("SpectraIngest: ingesting %s", params.file_patterns or params.file_list)
        with self._make_beam_pipeline() as pipeline:
            self._build_pipeline(pipeline, params, labels, examples, rejections.uri, counts_dir)

        counts = _read_counts(counts_dir)
        summary = _summarise(counts, params, labels)
        _write_json(os.path.join(rejections.uri, SUMMARY_JSON), summary)
        _ensure_rejections_csv(rejections.uri)
        fileio.rmtree(counts_dir)
        _set_properties(examples, rejections, summary)

        if summary["num_files"] == 0:
            raise ConfigError(
                f"SpectraIngest: no input files matched {list(params.file_patterns)}"
                + (f" or were listed in {params.file_list}" if params.file_list else "")
            )
        logging.info(
            "SpectraIngest: %d examples %s, %d files rejected %s",
            summary["num_ingested"],
            summary["num_examples"],
            summary["num_rejected"],
            summary["rejections_by_code"],
        )

    @staticmethod
    def _build_pipeline(
        pipeline: beam.Pipeline,
        params: IngestParams,
        labels: dict[str, int] | None,
        examples: types.Artifact,
        rejections_uri: str,
        counts_dir: str,
    ) -> None:
        paths = pipeline | "ExpandInputs" >> transforms.ExpandInputs(
            params.file_patterns, params.file_list
        )
        read_fn = transforms.ReadAndPreprocess(
            params.preprocessing, params.degrade_resolution, params.labelled
        )
        side_inputs = {}
        if labels is not None:
            label_table = pipeline | "LabelTable" >> beam.Create(sorted(labels.items()))
            side_inputs["labels"] = beam.pvalue.AsDict(label_table)
        read = paths | "ReadAndPreprocess" >> beam.ParDo(read_fn, **side_inputs).with_outputs(
            transforms.REJECTED_TAG, transforms.SEEN_IDS_TAG, main="examples"
        )
        deduplicated = read.examples | "DropDuplicateIds" >> transforms.DropDuplicateIds()

        rejected = (
            read[transforms.REJECTED_TAG],
            deduplicated[transforms.REJECTED_TAG],
        ) | "AllRejections" >> beam.Flatten()
        transforms.write_rejections(rejected, os.path.join(rejections_uri, "rejected"))

        count_lines = [transforms.count_codes(rejected)]
        splits = transforms.partition_splits(deduplicated.kept, params.split_bucket_bounds)
        for name, serialized in zip(params.split_names, splits, strict=True):
            split_uri = artifact_utils.get_split_uri([examples], name)
            _ = serialized | f"Write[{name}]" >> beam.io.WriteToTFRecord(
                os.path.join(split_uri, TFRECORD_PREFIX), file_name_suffix=".gz"
            )
            count_lines.append(transforms.count_as(serialized, "split", name, f"Split[{name}]"))

        if labels is not None:
            label_ids = pipeline | "LabelIds" >> beam.Create(sorted(labels))
            count_lines.append(
                transforms.label_ids_without_file(
                    label_ids, read[transforms.SEEN_IDS_TAG], sample_size=MISSING_LABEL_SAMPLE
                )
            )
        _ = (
            tuple(count_lines)
            | "AllCounts" >> beam.Flatten()
            | "WriteCounts"
            >> beam.io.WriteToText(os.path.join(counts_dir, "counts"), file_name_suffix=".jsonl")
        )


def _read_counts(counts_dir: str) -> list[dict]:
    records = []
    for path in fileio.glob(os.path.join(counts_dir, "counts*.jsonl")):
        with fileio.open(path, "r") as handle:
            records.extend(json.loads(line) for line in handle.read().splitlines() if line)
    return records


def _summarise(counts: list[dict], params: IngestParams, labels: dict | None) -> dict:
    by_code: dict[str, int] = {}
    by_split = {name: 0 for name in params.split_names}
    missing_count, missing_first = 0, []
    for record in counts:
        kind, name, value = record["kind"], record["name"], record["value"]
        if kind == "rejected":
            by_code[name] = by_code.get(name, 0) + int(value)
        elif kind == "split":
            by_split[name] += int(value)
        elif name == "missing_count":
            missing_count += int(value)
        else:
            missing_first = sorted(missing_first + list(value))[:MISSING_LABEL_SAMPLE]
    num_ingested = sum(by_split.values())
    num_rejected = sum(by_code.values())
    summary = {
        "num_files": num_ingested + num_rejected,
        "num_ingested": num_ingested,
        "num_rejected": num_rejected,
        "num_examples": by_split,
        "rejections_by_code": dict(sorted(by_code.items())),
        "input_fingerprint": params.input_fingerprint,
    }
    if labels is not None:
        summary["labels"] = {
            "num_labels": len(labels),
            "ids_without_file": {"count": missing_count, "first": missing_first},
        }
    return summary


def _write_json(path: str, payload: dict) -> None:
    with fileio.open(path, "w") as handle:
        handle.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def _ensure_rejections_csv(uri: str) -> None:
    """Runners may skip writing a shard that received no rows; keep the header anyway."""
    path = os.path.join(uri, REJECTED_CSV)
    if not fileio.exists(path):
        with fileio.open(path, "w") as handle:
            handle.write(transforms.REJECTED_CSV_HEADER + "\n")


def _set_properties(examples: types.Artifact, rejections: types.Artifact, summary: dict) -> None:
    # Same payload/file-format markers as ExampleGen, so every TFX consumer reads the splits.
    examples_utils.set_payload_format(examples, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
    examples_utils.set_file_format(examples, "tfrecords_gzip")
    by_code = json.dumps(summary["rejections_by_code"], sort_keys=True)
    for name, count in summary["num_examples"].items():
        examples.set_int_custom_property(f"{NUM_EXAMPLES_PROPERTY_PREFIX}{name}", count)
    for artifact in (examples, rejections):
        artifact.set_int_custom_property(NUM_INGESTED_PROPERTY, summary["num_ingested"])
        artifact.set_int_custom_property(NUM_REJECTED_PROPERTY, summary["num_rejected"])
        artifact.set_string_custom_property(REJECTIONS_BY_CODE_PROPERTY, by_code)
