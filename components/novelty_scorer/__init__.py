"""NoveltyScorer component: a novelty score beside the class scores of every pool
spectrum, the most unusual spectra and the 2-D map of the pool."""

from components.novelty_scorer.component import NoveltyScorer
from components.novelty_scorer.executor import Executor
from components.novelty_scorer.spec import NoveltyScorerSpec

__all__ = ["Executor", "NoveltyScorer", "NoveltyScorerSpec"]
