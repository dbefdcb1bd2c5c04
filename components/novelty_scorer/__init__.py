"""NoveltyScorer component: a novelty score beside the class scores of every pool
spectrum, the most unusual spectra and the 2-D map of the pool."""

from components import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "Executor": "executor",
        "NoveltyScorer": "component",
        "NoveltyScorerSpec": "spec",
    },
)
