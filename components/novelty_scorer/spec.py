"""NoveltyScorer's contract: the keys of its inputs, outputs, parameters and custom
properties, and its spec.

The ``scores`` input and output are PoolScorer's ``PoolScores`` (keys imported), so the
UncertaintySampler reads the NoveltyScorer's output as it reads PoolScorer's.
"""

from __future__ import annotations

from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from activespec.workdir import NOVEL_FILENAME, POOL_MAP_FILENAME, POOL_MAP_META
from components.artifact_types import PoolMap, PoolScores
from components.pool_scorer.spec import (
    CLASS_NAMES_KEY,
    NUM_SCORED_PROPERTY,
    SCORES_KEY,
    SPLIT_KEY,
)

__all__ = [
    "CLASS_NAMES_KEY",
    "CONFIDENT_OTHER_KEY",
    "KEEP_EMBEDDING_KEY",
    "K_KEY",
    "LABELLED_EXAMPLES_KEY",
    "MAP_FILENAME",
    "MAP_KEY",
    "MAP_META_FILENAME",
    "MAP_METHOD_KEY",
    "MAP_SIZE_KEY",
    "NOVEL_FILENAME",
    "NOVEL_LIST_SIZE_KEY",
    "NOVELTY_SPACE_KEY",
    "NUM_SCORED_PROPERTY",
    "NoveltyScorerSpec",
    "POOL_EXAMPLES_KEY",
    "POOL_SCORES_KEY",
    "POSITIVE_CLASSES_KEY",
    "SCORES_KEY",
    "SEED_KEY",
    "SPLIT_KEY",
]

#: The input scores (PoolScorer's or LabelSpreading's); the output is ``scores``.
POOL_SCORES_KEY = "pool_scores"
POOL_EXAMPLES_KEY = "pool_examples"
LABELLED_EXAMPLES_KEY = "labelled_examples"
MAP_KEY = "pool_map"

POSITIVE_CLASSES_KEY = "positive_classes"
K_KEY = "k"
MAP_SIZE_KEY = "map_size"
MAP_METHOD_KEY = "map_method"
NOVEL_LIST_SIZE_KEY = "novel_list_size"
CONFIDENT_OTHER_KEY = "confident_other"
KEEP_EMBEDDING_KEY = "keep_embedding"
NOVELTY_SPACE_KEY = "novelty_space"
SEED_KEY = "seed"

#: Files of the ``pool_map`` output (named in :mod:`activespec.workdir`, which the report
#: reads them by).
MAP_FILENAME = POOL_MAP_FILENAME
MAP_META_FILENAME = POOL_MAP_META

#: Custom properties of both outputs: the spaces the novelty was measured in and the map
#: drawn in (``embedding`` or ``flux``), spectra on the map, in the novelty list, and the
#: map's wall time.
SPACE_PROPERTY = "space"
MAP_SPACE_PROPERTY = "map_space"
NUM_MAP_POINTS_PROPERTY = "num_map_points"
NUM_NOVEL_PROPERTY = "num_novel_listed"
MAP_SECONDS_PROPERTY = "map_seconds"


class NoveltyScorerSpec(ComponentSpec):
    """Inputs, outputs and parameters of
    :class:`components.novelty_scorer.component.NoveltyScorer`."""

    PARAMETERS = {
        # JSON lists: lists are not a primitive execution-property type in the TFX IR.
        CLASS_NAMES_KEY: ExecutionParameter(type=str),
        POSITIVE_CLASSES_KEY: ExecutionParameter(type=str),
        SPLIT_KEY: ExecutionParameter(type=str),
        K_KEY: ExecutionParameter(type=int),
        MAP_SIZE_KEY: ExecutionParameter(type=int),
        MAP_METHOD_KEY: ExecutionParameter(type=str),
        NOVEL_LIST_SIZE_KEY: ExecutionParameter(type=int),
        CONFIDENT_OTHER_KEY: ExecutionParameter(type=float),
        KEEP_EMBEDDING_KEY: ExecutionParameter(type=int),
        NOVELTY_SPACE_KEY: ExecutionParameter(type=str, optional=True),
        SEED_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {
        POOL_SCORES_KEY: ChannelParameter(type=PoolScores),
        # The flux, when the score records carry no embedding (label spreading's scores).
        POOL_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True),
        # The labelled spectra: marked on the map, left out of the novelty list.
        LABELLED_EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples, optional=True),
    }
    OUTPUTS = {
        SCORES_KEY: ChannelParameter(type=PoolScores),
        MAP_KEY: ChannelParameter(type=PoolMap),
    }
