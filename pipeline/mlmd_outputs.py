"""Read what the last run of each pipeline node produced, from ML Metadata.

The local runner's summary and the CLI use this instead of guessing paths under the
pipeline root: ML Metadata is the record of which artifact each node produced (or
reused from its cache) in its latest execution.
"""

from __future__ import annotations

import dataclasses
import json

from google.protobuf import json_format
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

_STATES = {v: k for k, v in metadata_store_pb2.Execution.State.items()}


@dataclasses.dataclass
class NodeRun:
    """The latest execution of one pipeline node."""

    node_id: str
    state: str  # COMPLETE, CACHED, FAILED, RUNNING, ...
    execution_id: int
    outputs: dict[str, list[metadata_store_pb2.Artifact]]

    def artifact(self, key: str) -> metadata_store_pb2.Artifact | None:
        arts = self.outputs.get(key) or []
        return arts[0] if arts else None

    def uri(self, key: str) -> str | None:
        art = self.artifact(key)
        return art.uri if art is not None else None


def open_store(sqlite_path: str) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(sqlite_path)
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    return metadata_store.MetadataStore(config)


def latest_node_runs(store: metadata_store.MetadataStore, pipeline_name: str) -> dict[str, NodeRun]:
    """Latest execution and its output artifacts for every node of ``pipeline_name``."""
    runs: dict[str, NodeRun] = {}
    prefix = f"{pipeline_name}."
    for context in store.get_contexts_by_type("node"):
        if not context.name.startswith(prefix):
            continue
        executions = store.get_executions_by_context(context.id)
        if not executions:
            continue
        latest = max(executions, key=lambda e: (e.create_time_since_epoch, e.id))
        outputs: dict[str, list] = {}
        events = [
            ev
            for ev in store.get_events_by_execution_ids([latest.id])
            if ev.type
            in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
        ]
        by_id = {a.id: a for a in store.get_artifacts_by_id([ev.artifact_id for ev in events])}
        for ev in events:
            key = ev.path.steps[0].key if ev.path.steps else "output"
            if ev.artifact_id in by_id:
                outputs.setdefault(key, []).append(by_id[ev.artifact_id])
        node_id = context.name[len(prefix) :]
        runs[node_id] = NodeRun(
            node_id=node_id,
            state=_STATES.get(latest.last_known_state, str(latest.last_known_state)),
            execution_id=latest.id,
            outputs=outputs,
        )
    return runs


def custom_property(artifact: metadata_store_pb2.Artifact | None, name: str, default=None):
    """A custom property of an MLMD artifact as a Python value (JSON strings decoded)."""
    if artifact is None or name not in artifact.custom_properties:
        return default
    value = artifact.custom_properties[name]
    kind = value.WhichOneof("value")
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        return value.double_value
    if kind == "string_value":
        text = value.string_value
        try:
            return json.loads(text)
        except (ValueError, TypeError):
            return text
    if kind == "struct_value":
        return json_format.MessageToDict(value.struct_value)
    return default
