"""PoolScorer: a custom TFX component that scores every pool spectrum with the trained model."""

import json
from collections.abc import Sequence

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec

from activespec import errors
from activespec.constants import DEFAULT_MC_PASSES
from activespec.settings import check_class_names
from components.artifact_types import PoolScores
from components.pool_scorer import executor, transforms
from components.pool_scorer.spec import PoolScorerSpec

__all__ = ["PoolScorer"]


class PoolScorer(base_beam_component.BaseBeamComponent):
    """Scores one split of an Examples artifact (the unlabelled pool) with a trained model.

    Writes, for every spectrum, the class probabilities, the predicted class and the
    uncertainty measures (entropy, margin, least confidence) together with the spectrum's
    metadata, as gzipped TFRecords of ``tf.Example`` in a ``PoolScores`` artifact; on
    request also the BALD score of Monte Carlo dropout passes and the network's embedding
    (``extra_scores``, what the ``bald`` and ``diverse_entropy`` strategies rank by). The work
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
        batch_size: int = transforms.DEFAULT_BATCH_SIZE,
        extra_scores: Sequence[str] = (),
        mc_passes: int = DEFAULT_MC_PASSES,
        seed: int = 0,
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
        extra_scores : sequence of str
            Optional scores: ``"bald"`` (the model's ``predict_flux_mc`` signature; costs
            ``mc_passes`` runs of the layers from the first dropout on) and/or
            ``"embedding"`` (``embed_flux``; 512 floats per spectrum for the published CNN).
            :func:`components.uncertainty_sampler.strategies.extra_scores_for` gives what a
            sampling strategy needs.
        mc_passes : int
            Monte Carlo dropout passes of ``bald`` (>= 1).
        seed : int
            Fixes the dropout masks of ``bald`` (the same for every spectrum in a pass).

        Raises
        ------
        activespec.errors.ConfigError
            If ``class_names``, ``split``, ``batch_size``, ``extra_scores`` or
            ``mc_passes`` is invalid.
        """
        class_names = list(check_class_names(class_names, "PoolScorer: class_names"))
        if not isinstance(split, str) or not split:
            raise errors.ConfigError(f"split must be a non-empty string, got {split!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise errors.ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        extra_scores = transforms.check_extra_scores(extra_scores)
        if isinstance(mc_passes, bool) or not isinstance(mc_passes, int) or mc_passes < 1:
            raise errors.ConfigError(f"mc_passes must be an integer >= 1, got {mc_passes!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise errors.ConfigError(f"seed must be an integer, got {seed!r}")
        spec = PoolScorerSpec(
            examples=examples,
            model=model,
            class_names=json.dumps(class_names),
            split=split,
            batch_size=batch_size,
            extra_scores=json.dumps(list(extra_scores)),
            mc_passes=mc_passes,
            seed=seed,
            scores=types.Channel(type=PoolScores),
        )
        super().__init__(spec=spec)
