"""The local orchestrator that runs independent TFX nodes side by side."""

from __future__ import annotations

import threading
import time

import pytest
from tfx import v1 as tfx
from tfx.proto.orchestration import pipeline_pb2

from pipeline.concurrent_runner import ConcurrentLocalDagRunner, _run_dag
from pipeline.mlmd_outputs import open_store


def _node(node_id: str, *upstream: str, skip: bool = False) -> pipeline_pb2.PipelineNode:
    node = pipeline_pb2.PipelineNode()
    node.node_info.id = node_id
    node.upstream_nodes.extend(upstream)
    if skip:
        node.execution_options.skip.SetInParent()
    return node


class _Recorder:
    """A launch function that records when each node starts and ends."""

    def __init__(self, work_s: float = 0.05, fail: str = "") -> None:
        self.work_s, self.fail = work_s, fail
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, node) -> None:
        node_id = node.node_info.id
        with self.lock:
            self.events.append(("start", node_id))
        time.sleep(self.work_s)
        with self.lock:
            self.events.append(("end", node_id))
        if node_id == self.fail:
            raise RuntimeError(f"{node_id} failed")

    def order(self, kind: str) -> list[str]:
        return [node for event, node in self.events if event == kind]


# A round's shape: two ingestions, a join, the pool's validation beside the training.
_DAG = [
    _node("LabelledIngest"),
    _node("PoolIngest"),
    _node("LabelJoin", "LabelledIngest", "PoolIngest"),
    _node("PoolStatisticsGen", "PoolIngest"),
    _node("Trainer", "LabelJoin"),
    _node("PoolScorer", "Trainer", "PoolStatisticsGen"),
    _node("Evaluator", "Trainer"),
]


def test_independent_nodes_overlap_and_dependencies_hold():
    barrier = threading.Barrier(2, timeout=10)
    recorder = _Recorder()

    def launch(node):
        # The two ingestions meet here: run one after the other, they would time out.
        if node.node_info.id in ("LabelledIngest", "PoolIngest"):
            barrier.wait()
        recorder(node)

    _run_dag(_DAG, launch, max_concurrent=2)

    events = recorder.events
    assert sorted(recorder.order("end")) == sorted(n.node_info.id for n in _DAG)
    for node in _DAG:
        started = events.index(("start", node.node_info.id))
        for upstream in node.upstream_nodes:
            assert events.index(("end", upstream)) < started, (upstream, node.node_info.id)


def test_never_more_nodes_at_once_than_allowed():
    running, peak, lock = [0], [0], threading.Lock()

    def launch(node):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    independent = [_node(f"N{i}") for i in range(6)]
    _run_dag(independent, launch, max_concurrent=3)
    assert peak[0] == 3
    _run_dag(independent, launch, max_concurrent=1)
    assert peak[0] == 3 and running[0] == 0


def test_one_at_a_time_keeps_the_topological_order():
    recorder = _Recorder(work_s=0.0)
    _run_dag(_DAG, recorder, max_concurrent=1)
    assert recorder.order("start") == [n.node_info.id for n in _DAG]
    assert recorder.events[0::2] == [("start", n) for n in recorder.order("start")]


def test_a_failure_starts_nothing_new_lets_running_nodes_finish_and_is_raised():
    recorder = _Recorder(fail="LabelledIngest")

    def launch(node):
        if node.node_info.id == "PoolIngest":
            time.sleep(0.3)  # still running when LabelledIngest fails
        recorder(node)

    with pytest.raises(RuntimeError, match="LabelledIngest failed"):
        _run_dag(_DAG, launch, max_concurrent=2)
    # PoolIngest finished; nothing downstream (nor PoolStatisticsGen, ready by then) ran.
    assert recorder.order("end") == ["LabelledIngest", "PoolIngest"]
    assert recorder.order("start") == ["LabelledIngest", "PoolIngest"]


def test_skipped_nodes_count_as_done_and_are_logged(caplog):
    recorder = _Recorder(work_s=0.0)
    nodes = [_node("A", skip=True), _node("B", "A"), _node("C", "B")]
    with caplog.at_level("INFO", logger="absl"):
        _run_dag(nodes, recorder, max_concurrent=2)
    assert recorder.order("start") == ["B", "C"]
    assert "Skipping component A." in caplog.messages


def test_at_least_one_node_at_a_time():
    with pytest.raises(ValueError, match="at least 1"):
        ConcurrentLocalDagRunner(0)


# A real TFX pipeline: three independent schema imports and one node after them, run
# twice. Every execution must reach ML Metadata (the SQLite file is shared by threads)
# and the second run must reuse every one of them.


def test_a_tfx_pipeline_records_every_execution_and_caches(tmp_path):
    schema = tmp_path / "schema.pbtxt"
    schema.write_text('feature { name: "x" type: FLOAT }\n')
    imports = [
        tfx.components.ImportSchemaGen(schema_file=str(schema)).with_id(f"Schema{i}")
        for i in range(3)
    ]
    examples = tfx.components.CsvExampleGen(input_base=str(_csv(tmp_path))).with_id("Csv")
    for node in imports:
        examples.add_upstream_node(node)
    metadata = tmp_path / "metadata.sqlite"

    def run():
        ConcurrentLocalDagRunner(2).run(
            tfx.dsl.Pipeline(
                pipeline_name="concurrent",
                pipeline_root=str(tmp_path / "root"),
                components=[*imports, examples],
                enable_cache=True,
                metadata_connection_config=(
                    tfx.orchestration.metadata.sqlite_metadata_connection_config(str(metadata))
                ),
            )
        )

    run()
    run()
    store = open_store(str(metadata))
    executions = store.get_executions()
    states = [e.last_known_state for e in executions]
    from ml_metadata.proto import metadata_store_pb2

    execution = metadata_store_pb2.Execution
    assert len(executions) == 8
    assert states.count(execution.COMPLETE) == 4
    assert states.count(execution.CACHED) == 4


def _csv(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "data.csv").write_text("x\n1.0\n2.0\n")
    return folder
