"""UncertaintySampler: query, performance and recall samples and candidates from a scored pool."""

from components import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "UncertaintySampler": "component",
        "UncertaintySamplerSpec": "spec",
    },
)
