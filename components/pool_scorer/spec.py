"""PoolScorer's contract: the keys of its inputs, outputs, parameters and custom
properties, and its spec."""

from __future__ import annotations

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.artifact_types import PoolScores

EXAMPLES_KEY = "examples"
MODEL_KEY = "model"
SCORES_KEY = "scores"
CLASS_NAMES_KEY = "class_names"
SPLIT_KEY = "split"
BATCH_SIZE_KEY = "batch_size"
EXTRA_SCORES_KEY = "extra_scores"
MC_PASSES_KEY = "mc_passes"
SEED_KEY = "seed"

#: Custom properties of the ``scores`` output besides the parameters it records
#: (``class_names``, ``split``, ``extra_scores`` and, with ``bald``, ``mc_passes``):
#: spectra scored, records refused, and the SavedModel that scored them.
NUM_SCORED_PROPERTY = "num_scored"
NUM_REJECTED_PROPERTY = "num_rejected"
MODEL_DIR_PROPERTY = "model_dir"


class PoolScorerSpec(ComponentSpec):
    """Inputs, outputs and parameters of :class:`components.pool_scorer.component.PoolScorer`."""

    PARAMETERS = {
        # A JSON list: lists are not a primitive execution-property type in the TFX IR.
        CLASS_NAMES_KEY: ExecutionParameter(type=str),
        SPLIT_KEY: ExecutionParameter(type=str),
        BATCH_SIZE_KEY: ExecutionParameter(type=int),
        # A JSON list of score_features.EXTRA_SCORES names; absent in older pipelines.
        EXTRA_SCORES_KEY: ExecutionParameter(type=str, optional=True),
        MC_PASSES_KEY: ExecutionParameter(type=int, optional=True),
        SEED_KEY: ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {
        EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        MODEL_KEY: ChannelParameter(type=standard_artifacts.Model),
    }
    OUTPUTS = {
        SCORES_KEY: ChannelParameter(type=PoolScores),
    }
