"""LabelSpreading's contract: the keys of its inputs, outputs, parameters and custom
properties, and its spec.

The output and the keys it shares with PoolScorer (``scores``, ``class_names``,
``split``, the counts) are PoolScorer's own, imported, so the two components write the
same ``PoolScores`` artifact and UncertaintySampler reads either.
"""

from __future__ import annotations

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.artifact_types import PoolScores
from components.pool_scorer.spec import (
    CLASS_NAMES_KEY,
    EXTRA_SCORES_KEY,
    MODEL_DIR_PROPERTY,
    MODEL_KEY,
    NUM_REJECTED_PROPERTY,
    NUM_SCORED_PROPERTY,
    SCORES_KEY,
    SPLIT_KEY,
)

__all__ = [
    "ALPHA_KEY",
    "CLASS_NAMES_KEY",
    "CONVERGED_PROPERTY",
    "EXTRA_SCORES_KEY",
    "FINAL_CHANGE_PROPERTY",
    "GRAPH_EDGES_PROPERTY",
    "ITERATIONS_DONE_PROPERTY",
    "ITERATIONS_KEY",
    "K_KEY",
    "LABELLED_EXAMPLES_KEY",
    "LABELLED_SPLITS_KEY",
    "LabelSpreadingSpec",
    "MODEL_DIR_PROPERTY",
    "MODEL_KEY",
    "NUM_LABELLED_NODES_PROPERTY",
    "NUM_REJECTED_PROPERTY",
    "NUM_SCORED_PROPERTY",
    "NUM_UNREACHED_PROPERTY",
    "N_POINTS_KEY",
    "POOL_EXAMPLES_KEY",
    "SCORES_KEY",
    "SPACE_KEY",
    "SPLIT_KEY",
    "TOLERANCE_KEY",
]

LABELLED_EXAMPLES_KEY = "labelled_examples"
POOL_EXAMPLES_KEY = "pool_examples"
LABELLED_SPLITS_KEY = "labelled_splits"
N_POINTS_KEY = "n_points"
K_KEY = "k"
ALPHA_KEY = "alpha"
ITERATIONS_KEY = "iterations"
TOLERANCE_KEY = "tolerance"
SPACE_KEY = "space"

#: Custom properties of the ``scores`` output besides PoolScorer's: the spreading steps
#: done, the last mean L1 change, whether the tolerance stopped it (1) or the cap (0),
#: pool spectra no label reached (uniform distribution), labelled nodes and graph edges.
ITERATIONS_DONE_PROPERTY = "iterations_done"
FINAL_CHANGE_PROPERTY = "final_change"
CONVERGED_PROPERTY = "converged"
NUM_UNREACHED_PROPERTY = "num_unreached"
NUM_LABELLED_NODES_PROPERTY = "num_labelled_nodes"
GRAPH_EDGES_PROPERTY = "graph_edges"


class LabelSpreadingSpec(ComponentSpec):
    """Inputs, outputs and parameters of
    :class:`components.label_spreading.component.LabelSpreading`."""

    PARAMETERS = {
        # JSON lists: lists are not a primitive execution-property type in the TFX IR.
        CLASS_NAMES_KEY: ExecutionParameter(type=str),
        SPLIT_KEY: ExecutionParameter(type=str),
        LABELLED_SPLITS_KEY: ExecutionParameter(type=str),
        N_POINTS_KEY: ExecutionParameter(type=int),
        K_KEY: ExecutionParameter(type=int),
        ALPHA_KEY: ExecutionParameter(type=float),
        ITERATIONS_KEY: ExecutionParameter(type=int),
        TOLERANCE_KEY: ExecutionParameter(type=float),
        SPACE_KEY: ExecutionParameter(type=str),
    }
    INPUTS = {
        LABELLED_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        POOL_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        # Only for space = "embedding": the CNN whose embedding the graph is built in.
        MODEL_KEY: ChannelParameter(type=standard_artifacts.Model, optional=True),
    }
    OUTPUTS = {
        SCORES_KEY: ChannelParameter(type=PoolScores),
    }
