"""ValidationGate: stops a pipeline whose data broke the curated schema."""

from components import lazy_exports

_EXPORTS = {
    "ValidationGate": "component",
    "describe_anomalies": "component",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
