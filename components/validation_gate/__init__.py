"""ValidationGate: stops a pipeline whose data broke the curated schema."""

from components.validation_gate.component import ValidationGate, describe_anomalies

__all__ = ["ValidationGate", "describe_anomalies"]
