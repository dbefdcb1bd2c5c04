"""TFX's local orchestrator, running independent nodes side by side.

TFX 1.16's :class:`LocalDagRunner` launches the nodes one after the other in
topological order (its source leaves running independent ones in parallel as a TODO).
A round has independent branches: the labelled set and the pool are ingested and
validated separately, the Evaluator and the PoolScorer both wait only for the
Trainer. :class:`ConcurrentLocalDagRunner` launches every node whose upstream nodes
have finished, up to ``max_concurrent_nodes`` at a time, each with TFX's own
:class:`~tfx.orchestration.portable.launcher.Launcher`, so caching, ML Metadata
records and outputs are those of the sequential runner.

The nodes run in threads of this process. ML Metadata's SQLite file is accessed by
one node at a time (a lock around every connection the launchers open); executors run
unlocked. With ``max_concurrent_nodes = 1`` the order is the sequential runner's.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import logging
import threading

from tfx import v1 as tfx
from tfx.dsl.compiler import constants
from tfx.orchestration import metadata
from tfx.orchestration.local import runner_utils
from tfx.orchestration.portable import launcher, runtime_parameter_utils
from tfx.proto.orchestration import pipeline_pb2

from activespec.console import COMPONENT_FINISHED, COMPONENT_RUNNING, COMPONENT_SKIPPED

# The sequential runner's records, on absl's logger: the console follows them.
_LOG = logging.getLogger("absl")


class _SerialMetadata(metadata.Metadata):
    """An ML Metadata connection that holds ``lock`` while it is open.

    SQLite allows one writer at a time and ML Metadata sets no busy timeout, so
    launchers in different threads take turns; a launcher re-entering its own open
    connection (nested ``with``) does not wait for itself.
    """

    def __init__(self, connection_config, lock: threading.RLock) -> None:
        super().__init__(connection_config)
        self._serial = lock

    def __enter__(self):
        self._serial.acquire()
        try:
            return super().__enter__()
        except BaseException:
            self._serial.release()
            raise

    def __exit__(self, exc_type=None, exc_value=None, exc_tb=None) -> None:
        try:
            super().__exit__(exc_type, exc_value, exc_tb)
        finally:
            self._serial.release()


class ConcurrentLocalDagRunner(tfx.orchestration.LocalDagRunner):
    """:class:`LocalDagRunner` launching up to ``max_concurrent_nodes`` ready nodes at once.

    Parameters
    ----------
    max_concurrent_nodes : int
        Nodes running at the same time (at least 1; ``[pipeline] concurrent_nodes``).
        Ready nodes start in the pipeline's topological order.

    Notes
    -----
    When a node fails no further node starts; the nodes already running finish
    (their outputs are published and a re-run reuses them) and the first failure is
    raised. Partial runs (``run_options``) go to the sequential runner.
    """

    def __init__(self, max_concurrent_nodes: int) -> None:
        super().__init__()
        if max_concurrent_nodes < 1:
            raise ValueError(f"max_concurrent_nodes must be at least 1, got {max_concurrent_nodes}")
        self.max_concurrent_nodes = max_concurrent_nodes

    def run_with_ir(
        self,
        pipeline: pipeline_pb2.Pipeline,
        run_options: pipeline_pb2.RunOptions | None = None,
    ) -> None:
        if run_options is not None:
            return super().run_with_ir(pipeline, run_options)
        runtime_parameter_utils.substitute_runtime_parameter(
            pipeline,
            {constants.PIPELINE_RUN_ID_PARAMETER_NAME: datetime.datetime.now().isoformat()},
        )
        deployment_config = runner_utils.extract_local_deployment_config(pipeline)
        connection = deployment_config.metadata_connection_config
        connection_config = getattr(connection, connection.WhichOneof("connection_config"))
        mlmd_lock = threading.RLock()

        def launch(node: pipeline_pb2.PipelineNode) -> None:
            node_id = node.node_info.id
            component_launcher = launcher.Launcher(
                pipeline_node=node,
                mlmd_connection=_SerialMetadata(connection_config, mlmd_lock),
                pipeline_info=pipeline.pipeline_info,
                pipeline_runtime_spec=pipeline.runtime_spec,
                executor_spec=runner_utils.extract_executor_spec(deployment_config, node_id),
                custom_driver_spec=runner_utils.extract_custom_driver_spec(
                    deployment_config, node_id
                ),
            )
            _LOG.info(COMPONENT_RUNNING, node_id)
            component_launcher.launch()
            _LOG.info(COMPONENT_FINISHED, node_id)

        nodes = [node.pipeline_node for node in pipeline.nodes]
        _run_dag(nodes, launch, self.max_concurrent_nodes)
        return None


def _run_dag(nodes, launch, max_concurrent: int) -> None:
    """Call ``launch(node)`` for each node once all its upstream nodes have returned."""
    waiting = list(nodes)
    finished: set[str] = set()
    running: dict[concurrent.futures.Future, str] = {}
    failure: BaseException | None = None
    with concurrent.futures.ThreadPoolExecutor(
        max_workers=max_concurrent, thread_name_prefix="tfx-node"
    ) as pool:
        while True:
            for node in list(waiting):
                if failure is not None or len(running) >= max_concurrent:
                    break
                node_id = node.node_info.id
                if node.execution_options.HasField("skip"):
                    _LOG.info(COMPONENT_SKIPPED, node_id)
                    waiting.remove(node)
                    finished.add(node_id)
                elif set(node.upstream_nodes) <= finished:
                    waiting.remove(node)
                    running[pool.submit(launch, node)] = node_id
            if not running:
                break
            done, _ = concurrent.futures.wait(
                running, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                node_id = running.pop(future)
                error = future.exception()
                if error is None:
                    finished.add(node_id)
                elif failure is None:
                    failure = error
    if failure is not None:
        raise failure
    if waiting:  # unreachable for a compiled (acyclic) pipeline; never silently skip nodes
        raise RuntimeError(f"nodes never ready: {[n.node_info.id for n in waiting]}")
