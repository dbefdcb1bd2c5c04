"""PoolScorer component: class probabilities and uncertainty of every pool spectrum."""

from components import lazy_exports

_EXPORTS = {
    "DEFAULT_BATCH_SIZE": "executor",
    "Executor": "executor",
    "PoolScorer": "component",
    "PoolScorerSpec": "spec",
    "ScorePool": "executor",
    "score_record_batch": "executor",
    "scores_file_pattern": "executor",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
