"""A gate that fails the run when ExampleValidator found anomalies.

TFX's ExampleValidator records anomalies but never stops the pipeline, so a pool with
NaN flux, vectors of the wrong length or missing identifiers would be trained on or
scored silently. Placing this gate upstream of the Trainer and the scorer turns any
anomaly into a failed run whose message lists every anomaly.
"""

import os

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import v1 as tfx
from tfx.types import artifact_utils
from tfx.utils import io_utils

_ANOMALIES_FILE = "SchemaDiff.pb"


def describe_anomalies(anomalies_artifact) -> list[str]:
    """One line per anomaly found in an ExampleAnomalies artifact, prefixed by its split."""
    lines = []
    for split in artifact_utils.decode_split_names(anomalies_artifact.split_names):
        path = os.path.join(
            artifact_utils.get_split_uri([anomalies_artifact], split), _ANOMALIES_FILE
        )
        if not io_utils.fileio.exists(path):
            continue
        anomalies = anomalies_pb2.Anomalies()
        anomalies.ParseFromString(io_utils.read_bytes_file(path))
        for feature, info in sorted(anomalies.anomaly_info.items()):
            lines.append(
                f"{split}: feature {feature!r}: {info.short_description}: {info.description}"
            )
        if anomalies.HasField("dataset_anomaly_info"):
            info = anomalies.dataset_anomaly_info
            lines.append(f"{split}: dataset: {info.short_description}: {info.description}")
    return lines


@tfx.dsl.components.component
def ValidationGate(
    anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    what: tfx.dsl.components.Parameter[str] = "examples",
):
    """Fail when ``anomalies`` holds any anomaly; ``what`` names the data in the message."""
    found = describe_anomalies(anomalies)
    if found:
        raise RuntimeError(
            f"data validation failed for the {what}: {len(found)} anomalies against the curated "
            "schema; nothing downstream runs on this data:\n  " + "\n  ".join(found)
        )
