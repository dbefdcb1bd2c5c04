"""summarise_round reads the figures the executors write, under the names they write them.

The ingestion's example counts are ``num_examples_<split>`` custom properties of its
``examples`` artifact; the round summary reports them per split as ``num_examples``.
"""

from __future__ import annotations

from ml_metadata.proto import metadata_store_pb2

from pipeline import node_ids
from pipeline.configs import RoundConfig
from pipeline.local_runner import summarise_round
from pipeline.mlmd_outputs import NodeRun


def _artifact(uri: str, **ints: int) -> metadata_store_pb2.Artifact:
    artifact = metadata_store_pb2.Artifact(uri=uri)
    for name, value in ints.items():
        artifact.custom_properties[name].int_value = value
    return artifact


def _ingest_run(node: str, splits: dict[str, int], num_rejected: int) -> NodeRun:
    counts = {f"num_examples_{split}": n for split, n in splits.items()}
    total = sum(splits.values())
    examples = _artifact(
        f"/x/{node}/examples", num_ingested=total, num_rejected=num_rejected, **counts
    )
    rejections = _artifact(f"/x/{node}/rejections", num_ingested=total, num_rejected=num_rejected)
    return NodeRun(
        node_id=node,
        state="COMPLETE",
        execution_id=1,
        outputs={"examples": [examples], "rejections": [rejections]},
    )


def test_round_summary_counts_the_examples_of_each_split(tmp_path):
    runs = {
        node_ids.LABELLED_INGEST: _ingest_run(
            node_ids.LABELLED_INGEST, {"train": 80, "eval": 10, "test": 12}, 3
        ),
        node_ids.POOL_INGEST: _ingest_run(node_ids.POOL_INGEST, {"pool": 500}, 7),
    }
    summary = summarise_round(runs, RoundConfig(base_dir=tmp_path), round_index=0, elapsed_s=1.0)
    labelled = summary["ingestion"][node_ids.LABELLED_INGEST]
    pool = summary["ingestion"][node_ids.POOL_INGEST]
    assert labelled["num_examples"] == {"train": 80, "eval": 10, "test": 12}
    assert labelled["num_ingested"] == sum(labelled["num_examples"].values())
    assert labelled["num_rejected"] == 3
    assert pool["num_examples"] == {"pool": 500}
    assert pool["num_rejected"] == 7
