"""LabelSpreading component: class distributions of every pool spectrum by graph-based
semi-supervised label spreading (the 2016 system), as PoolScorer's scores."""

from components.label_spreading.component import LabelSpreading
from components.label_spreading.executor import Executor
from components.label_spreading.spec import LabelSpreadingSpec

__all__ = ["Executor", "LabelSpreading", "LabelSpreadingSpec"]
