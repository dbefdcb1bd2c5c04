"""PoolScorer component: class probabilities and uncertainty of every pool spectrum."""

from components.pool_scorer.component import PoolScorer
from components.pool_scorer.executor import (
    DEFAULT_BATCH_SIZE,
    Executor,
    ScorePool,
    score_record_batch,
    scores_file_pattern,
)
from components.pool_scorer.spec import PoolScorerSpec

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Executor",
    "PoolScorer",
    "PoolScorerSpec",
    "ScorePool",
    "score_record_batch",
    "scores_file_pattern",
]
