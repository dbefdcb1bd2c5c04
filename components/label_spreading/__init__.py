"""LabelSpreading component: class distributions of every pool spectrum by graph-based
semi-supervised label spreading (the 2016 system), as PoolScorer's scores."""

from components import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "Executor": "executor",
        "LabelSpreading": "component",
        "LabelSpreadingSpec": "spec",
    },
)
