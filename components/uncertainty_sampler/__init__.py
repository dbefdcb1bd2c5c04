"""UncertaintySampler: query, performance and recall samples and candidates from a scored pool."""

from .component import UncertaintySampler, UncertaintySamplerSpec

__all__ = ["UncertaintySampler", "UncertaintySamplerSpec"]
