"""UncertaintySampler: query, performance sample and candidates from a scored pool."""

from .component import UncertaintySampler, UncertaintySamplerSpec

__all__ = ["UncertaintySampler", "UncertaintySamplerSpec"]
