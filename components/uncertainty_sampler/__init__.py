"""UncertaintySampler: query, performance and recall samples and candidates from a scored pool."""

from components import lazy_exports

_EXPORTS = {
    "UncertaintySampler": "component",
    "UncertaintySamplerSpec": "spec",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
