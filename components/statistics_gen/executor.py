"""StatisticsGen's executor, with an in-memory path for small example sets.

TFX's StatisticsGen builds TFDV's Beam graph (hundreds of transforms), translates it for
the runner and runs it, whatever the data's size. For the few thousand examples of a
round's training set that costs seconds of graph work for well under a second of
statistics, and the labelled statistics are computed again every round while the expert
waits. Below :data:`IN_MEMORY_MAX_BYTES` of example files this executor reads each split
with the same TFXIO and computes the same statistics generators through TFDV's
in-memory entry point (``generate_statistics_in_memory``); for anything larger, or with
any option that path does not implement, it is TFX's executor unchanged.

The two paths agree on everything the ExampleValidator reads (counts, presence, types,
ranges, domains): ``tests/components/test_statistics_gen.py`` checks it on ingested
real spectra. They can differ in the last bit of a float sum and in which of several
equally frequent strings a top-values list keeps.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
import tensorflow_data_validation as tfdv
from absl import logging
from tensorflow_data_validation.statistics import stats_impl
from tfx import types
from tfx.components.statistics_gen import executor as tfx_executor
from tfx.components.util import examples_utils, tfxio_utils
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, json_utils, stats_utils
from tfx_bsl.tfxio import dataset_options

__all__ = ["IN_MEMORY_MAX_BYTES", "Executor", "in_memory_eligible"]

#: Example files (all splits, as stored: gzipped) up to this size are read into memory.
#: In a fresh ``make demo`` (``du -b`` of the artifacts) the round-2 training set is
#: 1.8 MB and the 19,706-spectrum pool 11.1 MB, so the limit is ~110,000 pool spectra.
IN_MEMORY_MAX_BYTES = 64 * 2**20
#: Options the in-memory path does not implement: with any of them set, TFX's path runs.
_BEAM_ONLY_PROPERTIES = (
    standard_component_specs.STATS_OPTIONS_JSON_KEY,
    standard_component_specs.SAMPLE_RATE_BY_SPLIT_KEY,
    standard_component_specs.SHARDED_STATS_OUTPUT_KEY,
)
_TELEMETRY_DESCRIPTORS = ["StatisticsGen", "InMemory"]


def _split_names(examples: types.Artifact, exec_properties: dict[str, Any]) -> list[str]:
    excluded = json_utils.loads(
        exec_properties.get(standard_component_specs.EXCLUDE_SPLITS_KEY) or "null"
    )
    splits = artifact_utils.decode_split_names(examples.split_names)
    return [split for split in splits if split not in (excluded or [])]


def _stored_bytes(examples: types.Artifact, splits: list[str]) -> int:
    """Bytes of the splits' files, on any filesystem TFX reads (``gs://`` too)."""
    total = 0
    for split in splits:
        split_dir = artifact_utils.get_split_uri([examples], split)
        for name in fileio.listdir(split_dir) if fileio.isdir(split_dir) else ():
            total += fileio.stat(os.path.join(split_dir, name)).length
    return total


def in_memory_eligible(
    input_dict: dict[str, list[types.Artifact]],
    exec_properties: dict[str, Any],
    max_bytes: int = IN_MEMORY_MAX_BYTES,
) -> bool:
    """Whether the in-memory path computes these statistics: default options, no schema
    input, the artifact's own split layout, and at most ``max_bytes`` of example files."""
    if input_dict.get(standard_component_specs.SCHEMA_KEY):
        return False
    if any(exec_properties.get(key) for key in _BEAM_ONLY_PROPERTIES):
        return False
    examples = artifact_utils.get_single_instance(input_dict[standard_component_specs.EXAMPLES_KEY])
    if examples.has_custom_property(examples_utils.CUSTOM_SPLIT_PATTERN_PROPERTY_NAME):
        return False
    splits = _split_names(examples, exec_properties)
    return bool(splits) and _stored_bytes(examples, splits) <= max_bytes


def _read_split(examples: types.Artifact, split: str) -> pa.RecordBatch | None:
    """All of a split's examples as one record batch (None when the split is empty)."""
    tfxio = tfxio_utils.get_split_tfxio(
        examples=[examples], split=split, telemetry_descriptors=_TELEMETRY_DESCRIPTORS
    )
    options = dataset_options.RecordBatchesOptions(
        batch_size=10_000,
        drop_final_batch=False,
        num_epochs=1,
        shuffle=False,
        shuffle_buffer_size=1,
        shuffle_seed=None,
    )
    batches = [batch for batch in tfxio.RecordBatches(options) if batch.num_rows]
    if not batches:
        return None
    table = pa.Table.from_batches(batches).combine_chunks()
    return table.to_batches()[0]


class Executor(tfx_executor.Executor):
    """TFX's StatisticsGen executor; small example sets are computed in memory."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        if not in_memory_eligible(input_dict, exec_properties):
            return super().Do(input_dict, output_dict, exec_properties)
        examples = artifact_utils.get_single_instance(
            input_dict[standard_component_specs.EXAMPLES_KEY]
        )
        splits = _split_names(examples, exec_properties)
        batches = {split: _read_split(examples, split) for split in splits}
        if any(batch is None for batch in batches.values()):
            # An empty split: TFDV's in-memory entry point needs rows; TFX's path copes.
            return super().Do(input_dict, output_dict, exec_properties)
        self._log_startup(input_dict, output_dict, exec_properties)

        # The output artifact's properties, as TFX's executor sets them.
        statistics = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.STATISTICS_KEY]
        )
        statistics.split_names = artifact_utils.encode_split_names(splits)
        statistics.span = examples.span
        try:
            link = stats_utils.generate_stats_dashboard_link(statistics)
        except Exception:  # noqa: BLE001 - as TFX: a missing link must not fail the run
            logging.exception("Failed to generate the statistics dashboard link")
            link = ""
        statistics.set_string_custom_property(tfx_executor.STATS_DASHBOARD_LINK, link)
        statistics.set_json_value_custom_property(
            tfx_executor.SAMPLE_RATE_BY_SPLIT_PROPERTY_NAME,
            json_utils.dumps({split: 1.0 for split in splits}),
        )

        for split, batch in batches.items():
            result = stats_impl.generate_statistics_in_memory(batch, tfdv.StatsOptions())
            output_uri = artifact_utils.get_split_uri([statistics], split)
            io_utils.write_bytes_file(
                os.path.join(output_uri, tfx_executor.DEFAULT_FILE_NAME),
                result.SerializeToString(),
            )
            logging.info(
                "Statistics of split %s (%d examples, in memory) written to %s.",
                split,
                batch.num_rows,
                output_uri,
            )
