"""Beam executor of the PoolScorer component: reads the pool split, scores it with
:func:`components.pool_scorer.transforms.ScorePool` and writes the score records.
"""

import json
import logging
import os
from typing import Any

import apache_beam as beam
import numpy as np
import tensorflow as tf
from apache_beam.metrics.metric import MetricsFilter
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils

from activespec import errors
from activespec.constants import DEFAULT_MC_PASSES
from activespec.settings import check_class_names
from components import score_features
from components.pool_scorer.spec import (
    BATCH_SIZE_KEY,
    CLASS_NAMES_KEY,
    EXAMPLES_KEY,
    EXTRA_SCORES_KEY,
    MC_PASSES_KEY,
    MODEL_DIR_PROPERTY,
    MODEL_KEY,
    NUM_REJECTED_PROPERTY,
    NUM_SCORED_PROPERTY,
    SCORES_KEY,
    SEED_KEY,
    SPLIT_KEY,
)
from components.pool_scorer.transforms import (
    DEFAULT_BATCH_SIZE,
    METRICS_NAMESPACE,
    REJECTED_COUNTER,
    SCORED_COUNTER,
    SCORES_FILE_PREFIX,
    ScorePool,
    check_extra_scores,
    check_model_signatures,
    scores_file_pattern,
)
from models import serving

__all__ = ["Executor"]

_LOG = logging.getLogger(__name__)


def _parse_class_names(value: Any) -> list[str]:
    """Class names from the execution property (a JSON list, or a list in direct calls)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise errors.ConfigError(f"class_names is not a JSON list: {value!r}") from error
    return list(check_class_names(value, "PoolScorer: class_names"))


def _parse_extra_scores(value: Any) -> tuple[str, ...]:
    """Optional scores from the execution property (a JSON list, or a list in direct calls)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise errors.ConfigError(f"extra_scores is not a JSON list: {value!r}") from error
    if not isinstance(value, (list, tuple)):
        raise errors.ConfigError(f"extra_scores must be a list of names, got {value!r}")
    return check_extra_scores(value)


def _counter_total(result: Any, name: str) -> int | None:
    """Value of one of the scorer's counters, or None if the runner cannot report it."""
    try:
        counters = result.metrics().query(
            MetricsFilter().with_namespace(METRICS_NAMESPACE).with_name(name)
        )["counters"]
    except (NotImplementedError, AttributeError, KeyError):
        return None
    if not counters:
        return 0
    return int(sum(c.committed if c.committed is not None else c.attempted for c in counters))


def _count_records(pattern: str) -> int:
    """Count records by streaming through files (only when the runner has no metrics)."""
    files = tf.io.gfile.glob(pattern)
    if not files:
        return 0
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return int(dataset.reduce(np.int64(0), lambda count, _: count + 1).numpy())


class Executor(base_beam_executor.BaseBeamExecutor):
    """Scores one split of an Examples artifact with a trained model (see the README)."""

    def Do(  # noqa: N802 -- TFX executor interface
        self,
        input_dict: dict[str, list],
        output_dict: dict[str, list],
        exec_properties: dict[str, Any],
    ) -> None:
        """Run the scoring pipeline and record the counts on the ``scores`` artifact.

        Parameters
        ----------
        input_dict : dict
            ``examples`` (one Examples artifact) and ``model`` (one Model artifact).
        output_dict : dict
            ``scores`` (one PoolScores artifact).
        exec_properties : dict
            ``class_names`` (JSON list), ``split``, ``batch_size``, ``extra_scores``
            (JSON list, optional), ``mc_passes`` and ``seed``.

        Raises
        ------
        activespec.errors.ConfigError
            If the split does not exist or holds no files, the configuration is invalid,
            or the model lacks a signature the optional scores need
            (:class:`models.serving.ModelLoadError`).
        """
        self._log_startup(input_dict, output_dict, exec_properties)
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        model = artifact_utils.get_single_instance(input_dict[MODEL_KEY])
        scores = artifact_utils.get_single_instance(output_dict[SCORES_KEY])
        class_names = _parse_class_names(exec_properties.get(CLASS_NAMES_KEY))
        split = exec_properties.get(SPLIT_KEY) or "pool"
        batch_size = int(exec_properties.get(BATCH_SIZE_KEY) or DEFAULT_BATCH_SIZE)
        if batch_size < 1:
            raise errors.ConfigError(f"batch_size must be positive, got {batch_size}")
        extra_scores = _parse_extra_scores(exec_properties.get(EXTRA_SCORES_KEY))
        mc_passes = exec_properties.get(MC_PASSES_KEY)
        mc_passes = DEFAULT_MC_PASSES if mc_passes is None else int(mc_passes)
        if mc_passes < 1:
            raise errors.ConfigError(f"mc_passes must be >= 1, got {mc_passes}")
        seed = int(exec_properties.get(SEED_KEY) or 0)

        try:
            split_uri = artifact_utils.get_split_uri([examples], split)
        except ValueError as error:
            raise errors.ConfigError(
                f"the examples artifact has no split {split!r} "
                f"(splits: {artifact_utils.decode_split_names(examples.split_names)})"
            ) from error
        input_pattern = os.path.join(split_uri, "*")
        if not tf.io.gfile.glob(input_pattern):
            raise errors.ConfigError(f"split {split!r} has no files in {split_uri}")
        # Fail in the driver, before workers start, if the model directory is unusable.
        model_dir = serving.resolve_saved_model_dir(model.uri)
        if extra_scores:
            check_model_signatures(
                model_dir, serving.saved_model_signature_names(model_dir), extra_scores
            )

        pipeline = self._make_beam_pipeline()
        _ = (
            pipeline
            | "ReadPool"
            >> beam.io.ReadFromTFRecord(
                input_pattern, compression_type=beam.io.filesystem.CompressionTypes.GZIP
            )
            | "ScorePool"
            >> ScorePool(model_dir, class_names, batch_size, extra_scores, mc_passes, seed)
            | "WriteScores"
            >> beam.io.WriteToTFRecord(
                os.path.join(scores.uri, SCORES_FILE_PREFIX),
                file_name_suffix=".gz",
                compression_type=beam.io.filesystem.CompressionTypes.GZIP,
            )
        )
        result = pipeline.run()
        result.wait_until_finish()

        num_scored = _counter_total(result, SCORED_COUNTER)
        num_rejected = _counter_total(result, REJECTED_COUNTER)
        if num_scored is None:
            _LOG.info("Runner reports no metrics; counting the score records instead")
            num_scored = _count_records(scores_file_pattern(scores.uri))
        scores.set_int_custom_property(NUM_SCORED_PROPERTY, num_scored)
        if num_rejected is not None:
            scores.set_int_custom_property(NUM_REJECTED_PROPERTY, num_rejected)
        scores.set_string_custom_property(CLASS_NAMES_KEY, json.dumps(class_names))
        scores.set_string_custom_property(SPLIT_KEY, split)
        scores.set_string_custom_property(MODEL_DIR_PROPERTY, model_dir)
        scores.set_string_custom_property(EXTRA_SCORES_KEY, json.dumps(list(extra_scores)))
        if score_features.BALD in extra_scores:
            scores.set_int_custom_property(MC_PASSES_KEY, mc_passes)
        _LOG.info(
            "Scored %d spectra of split %r (%s rejected) into %s",
            num_scored,
            split,
            num_rejected,
            scores.uri,
        )
