"""LabelJoin: turn stored human labels into labelled examples without re-reading FITS files."""

from components import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "LabelJoin": "component",
    },
)
