"""Executor of UncertaintySampler: scored pool -> query, performance and recall samples,
candidates."""

from __future__ import annotations

import json
import os
from typing import Any

import apache_beam as beam
from absl import logging
from apache_beam.io.filesystems import FileSystems
from tfx import types
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils

from activespec.errors import ConfigError
from activespec.labels.records import (
    ROLE_PERFORMANCE,
    ROLE_QUERY,
    ROLE_RECALL,
    SELECTION_NAMES,
)
from activespec.recall import RECALL_COLUMNS
from activespec.workdir import CANDIDATES_BASENAME, RECALL_STRATA_FILENAME
from components import score_features as sf

from . import records, strategies, transforms
from .params import SamplerParams
from .spec import (
    CANDIDATES_KEY,
    COUNT_CANDIDATES,
    COUNT_CONFIRMED,
    COUNT_EXCLUDED,
    COUNT_NEGATIVES,
    COUNT_NOVEL,
    COUNT_PERFORMANCE,
    COUNT_PROPERTIES,
    COUNT_QUERY,
    COUNT_RECALL,
    COUNT_REEXAMINED,
    COUNT_SCORED,
    LABELLED_EXAMPLES_KEY,
    PERFORMANCE_SAMPLE_KEY,
    QUERY_KEY,
    RECALL_SAMPLE_KEY,
    ROUND_INDEX_PROPERTY,
    SCORES_KEY,
    STRATEGY_PROPERTY,
)

QUERY_NAME = SELECTION_NAMES[ROLE_QUERY]
PERFORMANCE_SAMPLE_NAME = SELECTION_NAMES[ROLE_PERFORMANCE]
RECALL_SAMPLE_NAME = SELECTION_NAMES[ROLE_RECALL]
#: Score shards anywhere under the PoolScores artifact (Beam ``**`` crosses folders).
SCORE_FILES = "**.gz"
_COUNTS_DIR = "_counts"


class Executor(base_beam_executor.BaseBeamExecutor):
    """Select this round's query, performance and recall samples and candidates with Beam.

    See :class:`components.uncertainty_sampler.component.UncertaintySampler`.
    """

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        params = SamplerParams.from_exec_properties(exec_properties)
        scores = artifact_utils.get_single_instance(input_dict[SCORES_KEY])
        score_pattern = os.path.join(scores.uri, SCORE_FILES)
        if not FileSystems.match([score_pattern])[0].metadata_list:
            raise ConfigError(f"UncertaintySampler: no score files (*.gz) under {scores.uri}")
        labelled_patterns = _labelled_patterns(input_dict.get(LABELLED_EXAMPLES_KEY) or [])

        query = artifact_utils.get_single_instance(output_dict[QUERY_KEY])
        performance = artifact_utils.get_single_instance(output_dict[PERFORMANCE_SAMPLE_KEY])
        recall_sample = artifact_utils.get_single_instance(output_dict[RECALL_SAMPLE_KEY])
        candidates = artifact_utils.get_single_instance(output_dict[CANDIDATES_KEY])
        counts_dir = os.path.join(candidates.uri, _COUNTS_DIR)
        for directory in (query.uri, performance.uri, recall_sample.uri, candidates.uri):
            fileio.makedirs(directory)

        with self._make_beam_pipeline() as pipeline:
            _build_pipeline(
                pipeline,
                params,
                score_pattern,
                labelled_patterns,
                query.uri,
                performance.uri,
                recall_sample.uri,
                os.path.join(candidates.uri, CANDIDATES_BASENAME),
                counts_dir,
            )

        counts = _read_counts(counts_dir)
        fileio.rmtree(counts_dir)
        properties = {prop: counts[name] for name, prop in COUNT_PROPERTIES.items()}
        properties[ROUND_INDEX_PROPERTY] = params.round_index
        for artifact in (query, performance, recall_sample, candidates):
            for key, value in properties.items():
                artifact.set_int_custom_property(key, value)
            artifact.set_string_custom_property(STRATEGY_PROPERTY, params.strategy)
        logging.info("UncertaintySampler (%s): %s", params.strategy, properties)


def _build_pipeline(
    pipeline: beam.Pipeline,
    params: SamplerParams,
    score_pattern: str,
    labelled_patterns: list[str],
    query_dir: str,
    performance_dir: str,
    recall_dir: str,
    candidates_prefix: str,
    counts_dir: str,
) -> None:
    scored = (
        pipeline
        | "ReadScores" >> beam.io.ReadFromTFRecord(score_pattern)
        | "ParseScores"
        >> beam.Map(
            records.parse_score_record,
            n_classes=len(params.class_names),
            extra_scores=_scores_needed(params),
        )
    )
    labelled_ids = transforms.labelled_id_table(pipeline, labelled_patterns)
    separated = transforms.exclude_labelled(
        scored, labelled_ids, params.class_names, params.positive_classes
    )
    unlabelled = separated.unlabelled
    confirmed = separated[transforms.CONFIRMED_TAG]

    positive_indices = tuple(params.class_names.index(name) for name in params.positive_classes)
    predicted_negative = transforms.negatives(unlabelled, params.positive_classes)
    # Lost candidates first: a find of an earlier round is shown again, never just dropped.
    lost = transforms.lost_candidates(
        predicted_negative,
        transforms.previous_candidate_ids(pipeline, params.previous_candidates),
        min(params.reexamine_size, params.query_size),
        positive_indices,
    )
    uncertain = transforms.top_query(
        unlabelled,
        params.strategy,
        params.query_size,
        seed=params.seed,
        round_index=params.round_index,
        diversity_factor=params.diversity_factor,
    )
    novel = transforms.top_novel(unlabelled, params.novelty_query_size())
    query = transforms.merge_query(uncertain, lost, params.query_size, params.strategy, novel)
    novelty_column = (sf.NOVELTY,) if params.novelty_query_size() else ()
    selected_query = query | "WriteQuery" >> beam.ParDo(
        transforms.WriteSelection(
            query_dir,
            QUERY_NAME,
            ROLE_QUERY,
            params.class_names,
            extra=(
                *strategies.query_columns(params.strategy),
                *novelty_column,
                records.QUERY_REASON,
            ),
        )
    )
    predicted_positive = transforms.positives(unlabelled, params.positive_classes)
    selected_performance = transforms.random_sample(
        predicted_positive,
        params.performance_sample_size,
        params.seed,
        params.round_index,
        label="PerformanceSample",
    ) | "WritePerformanceSample" >> beam.ParDo(
        transforms.WriteSelection(
            performance_dir,
            PERFORMANCE_SAMPLE_NAME,
            ROLE_PERFORMANCE,
            params.class_names,
        )
    )
    transforms.write_candidates(
        (predicted_positive, confirmed) | "CandidateList" >> beam.Flatten(),
        candidates_prefix,
        params.class_names,
    )

    recall_sample = transforms.recall_sample(
        predicted_negative,
        params.recall_sample_size,
        params.recall_strata,
        positive_indices,
        params.seed,
        params.round_index,
    )
    selected_recall = transforms.selected_rows(recall_sample) | "WriteRecallSample" >> beam.ParDo(
        transforms.WriteSelection(
            recall_dir,
            RECALL_SAMPLE_NAME,
            ROLE_RECALL,
            params.class_names,
            extra=RECALL_COLUMNS,
        )
    )
    _ = recall_sample | "WriteRecallStrata" >> beam.ParDo(
        transforms.WriteStrata(os.path.join(recall_dir, RECALL_STRATA_FILENAME))
    )

    _ = (
        (
            transforms.count_as(scored, COUNT_SCORED),
            transforms.count_as(separated[transforms.EXCLUDED_TAG], COUNT_EXCLUDED),
            transforms.count_as(predicted_positive, COUNT_CANDIDATES),
            transforms.count_as(confirmed, COUNT_CONFIRMED),
            transforms.count_as(predicted_negative, COUNT_NEGATIVES),
            transforms.value_as(selected_query, COUNT_QUERY),
            transforms.value_as(lost | "CountLost" >> beam.Map(len), COUNT_REEXAMINED),
            transforms.value_as(transforms.count_novel(query), COUNT_NOVEL),
            transforms.value_as(selected_performance, COUNT_PERFORMANCE),
            transforms.value_as(selected_recall, COUNT_RECALL),
        )
        | "AllCounts" >> beam.Flatten()
        | "WriteCounts"
        >> beam.io.WriteToText(os.path.join(counts_dir, "counts"), file_name_suffix=".jsonl")
    )


def _scores_needed(params: SamplerParams) -> tuple[str, ...]:
    """The optional score-record keys the strategy and the novelty share need."""
    novelty = (sf.NOVELTY,) if params.novelty_query_size() else ()
    return (*strategies.extra_scores_for(params.strategy), *novelty)


def _labelled_patterns(artifacts: list[types.Artifact]) -> list[str]:
    patterns = []
    for artifact in artifacts:
        for split in artifact_utils.decode_split_names(artifact.split_names):
            patterns.extend(examples_utils.get_split_file_patterns([artifact], split))
    return patterns


def _read_counts(counts_dir: str) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_PROPERTIES, 0)
    for path in fileio.glob(os.path.join(counts_dir, "counts*.jsonl")):
        with fileio.open(path, "r") as handle:
            for line in handle.read().splitlines():
                if line:
                    record = json.loads(line)
                    counts[record["name"]] += int(record["value"])
    return counts
