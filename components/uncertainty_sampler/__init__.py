"""UncertaintySampler: query, performance and recall samples and candidates from a scored pool.

The component (and with it TFX) is imported on first use, so that the light modules of
the package (e.g. :mod:`.records`, the row format of the round files) load without TFX.
"""

__all__ = ["UncertaintySampler", "UncertaintySamplerSpec"]


def __getattr__(name: str):
    if name in __all__:
        # TFX: only when the component is asked for (records.py loads without it)
        from . import component

        return getattr(component, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
