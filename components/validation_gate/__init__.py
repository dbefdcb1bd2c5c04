"""ValidationGate: stops a pipeline whose data broke the curated schema."""

from components import lazy_exports

__all__, __getattr__ = lazy_exports(
    __name__,
    {
        "ValidationGate": "component",
        "describe_anomalies": "component",
    },
)
