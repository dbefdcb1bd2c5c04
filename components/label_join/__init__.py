"""LabelJoin: turn stored human labels into labelled examples without re-reading FITS files."""

from components import lazy_exports

_EXPORTS = {
    "LabelJoin": "component",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
