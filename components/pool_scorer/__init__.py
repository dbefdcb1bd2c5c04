"""PoolScorer component: class probabilities and uncertainty of every pool spectrum."""

from components import lazy_exports

_EXPORTS = {
    "DEFAULT_BATCH_SIZE": "transforms",
    "Executor": "executor",
    "PoolScorer": "component",
    "PoolScorerSpec": "spec",
    "ScorePool": "transforms",
    "score_record_batch": "transforms",
    "scores_file_pattern": "transforms",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
