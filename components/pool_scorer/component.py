"""PoolScorer: a custom TFX component that scores every pool spectrum with the trained model."""

import json
from collections.abc import Sequence

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from activespec import errors
from components.artifact_types import PoolScores
from components.pool_scorer import executor

__all__ = ["PoolScorer", "PoolScorerSpec"]


class PoolScorerSpec(types.ComponentSpec):
    """Inputs, outputs and parameters of :class:`PoolScorer`."""

    PARAMETERS = {
        # A JSON list: lists are not a primitive execution-property type in the TFX IR.
        executor.CLASS_NAMES_KEY: ExecutionParameter(type=str),
        executor.SPLIT_KEY: ExecutionParameter(type=str),
        executor.BATCH_SIZE_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {
        executor.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        executor.MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
    }
    OUTPUTS = {
        executor.SCORES_KEY: ChannelParameter(type=PoolScores),
    }


class PoolScorer(base_beam_component.BaseBeamComponent):
    """Scores one split of an Examples artifact (the unlabelled pool) with a trained model.

    Writes, for every spectrum, the class probabilities, the predicted class and the
    uncertainty measures (entropy, margin, least confidence) together with the spectrum's
    metadata, as gzipped TFRecords of ``tf.Example`` in a ``PoolScores`` artifact. The work
    runs as an Apache Beam pipeline, so any Beam runner (Direct, Dataflow, Flink, Spark)
    can score the full 4-million-spectrum pool; set it with ``with_beam_pipeline_args``.

    Example
    -------
    ::

        scorer = PoolScorer(
            examples=pool_gen.outputs["examples"],
            model=trainer.outputs["model"],
            class_names=["other", "emission", "double-peak"],
        )
        # scorer.outputs["scores"] feeds the query selection.
    """

    SPEC_CLASS = PoolScorerSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        examples: types.BaseChannel,
        model: types.BaseChannel,
        class_names: Sequence[str],
        split: str = "pool",
        batch_size: int = executor.DEFAULT_BATCH_SIZE,
    ):
        """Create the component.

        Parameters
        ----------
        examples : tfx.types.BaseChannel
            ``Examples`` artifact with the split to score (gzipped ``tf.Example`` TFRecords
            carrying ``flux`` and the spectrum metadata).
        model : tfx.types.BaseChannel
            ``Model`` artifact written by the Trainer (``Format-Serving`` SavedModel with the
            ``predict_flux`` signature).
        class_names : sequence of str
            Class names in the model's output order; checked against the model.
        split : str
            Name of the split to score.
        batch_size : int
            Spectra per model call.

        Raises
        ------
        activespec.errors.ConfigError
            If ``class_names``, ``split`` or ``batch_size`` is invalid.
        """
        class_names = list(class_names) if not isinstance(class_names, str) else class_names
        if (
            not isinstance(class_names, list)
            or len(class_names) < 2
            or not all(isinstance(name, str) and name for name in class_names)
            or len(set(class_names)) != len(class_names)
        ):
            raise errors.ConfigError(
                f"class_names must be at least two distinct non-empty strings, got {class_names!r}"
            )
        if not isinstance(split, str) or not split:
            raise errors.ConfigError(f"split must be a non-empty string, got {split!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise errors.ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        spec = PoolScorerSpec(
            examples=examples,
            model=model,
            class_names=json.dumps(class_names),
            split=split,
            batch_size=batch_size,
            scores=types.Channel(type=PoolScores),
        )
        super().__init__(spec=spec)
