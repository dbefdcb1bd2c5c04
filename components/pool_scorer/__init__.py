"""PoolScorer component: class probabilities and uncertainty of every pool spectrum."""

from components import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "DEFAULT_BATCH_SIZE": "transforms",
        "Executor": "executor",
        "PoolScorer": "component",
        "PoolScorerSpec": "spec",
        "ScorePool": "transforms",
        "score_record_batch": "transforms",
        "scores_file_pattern": "transforms",
    },
)
