"""Run one active-learning round embedded on this machine.

TFX's LocalDagRunner orchestrates, ML Metadata lives in an SQLite file and the Beam
components use the DirectRunner (multi-processing by default). The work directory's
layout is :mod:`activespec.workdir`.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import shutil
import time

from activespec.console import stage_lines
from activespec.labels.records import (
    ROLE_PERFORMANCE,
    ROLE_QUERY,
    ROLE_RECALL,
    SELECTION_NAMES,
)
from activespec.workdir import (
    CANDIDATES_FILENAME,
    NOVEL_FILENAME,
    POOL_MAP_FILENAME,
    POOL_MAP_META,
    RECALL_STRATA_FILENAME,
    REJECTED_LABELLED_FILENAME,
    REJECTED_POOL_FILENAME,
    WorkDir,
)
from pipeline import node_ids
from pipeline.configs import RoundConfig
from pipeline.mlmd_outputs import NodeRun, custom_property, latest_node_runs, open_store
from pipeline.scorer_comparison import COMPARISON_FILENAME, compare_scorers


def _selection_files(role: str) -> tuple[str, str]:
    return f"{SELECTION_NAMES[role]}.csv", f"{SELECTION_NAMES[role]}.json"


#: Files copied from the sampler and ingestion artifacts into rounds/round-NNN/.
_ROUND_FILES = {
    (node_ids.UNCERTAINTY_SAMPLER, "query"): _selection_files(ROLE_QUERY),
    (node_ids.UNCERTAINTY_SAMPLER, "performance_sample"): _selection_files(ROLE_PERFORMANCE),
    (node_ids.UNCERTAINTY_SAMPLER, "recall_sample"): (
        *_selection_files(ROLE_RECALL),
        RECALL_STRATA_FILENAME,
    ),
    (node_ids.UNCERTAINTY_SAMPLER, "candidates"): (CANDIDATES_FILENAME,),
    # The NoveltyScorer's list of unusual spectra and the pool's map (the report's input).
    (node_ids.NOVELTY_SCORER, "pool_map"): (NOVEL_FILENAME, POOL_MAP_FILENAME, POOL_MAP_META),
}
_REJECTIONS = {
    node_ids.LABELLED_INGEST: REJECTED_LABELLED_FILENAME,
    node_ids.POOL_INGEST: REJECTED_POOL_FILENAME,
}


#: The steps of a round as the console shows them, one line each (:func:`step_of`).
_STEPS = {
    node_ids.LABELLED_INGEST: "ingest",
    node_ids.POOL_INGEST: "ingest",
    node_ids.LABEL_JOIN: "ingest",
    "Tuner": "tune",
    node_ids.TRAINER: "train",
    node_ids.EVALUATOR: "evaluate",
    node_ids.PUSHER: "evaluate",
    node_ids.POOL_SCORER: "score",
    node_ids.LABEL_SPREADING: "score",
    node_ids.NOVELTY_SCORER: "novelty",
    node_ids.UNCERTAINTY_SAMPLER: "query",
}
#: The schemas, statistics, example validators and their gates: the ``validate`` step.
_VALIDATION_SUFFIXES = ("Schema", "StatisticsGen", "ExampleValidator", "ValidationGate")


def step_of(node_id: str) -> str:
    """The step of a round a pipeline node belongs to (its own id if none)."""
    if node_id in _STEPS:
        return _STEPS[node_id]
    return "validate" if node_id.endswith(_VALIDATION_SUFFIXES) else node_id


def _previous_candidates(wd: WorkDir, index: int) -> str:
    """The latest earlier round's ``candidates.csv`` ("" in round 0 or if none exists)."""
    for earlier in range(index - 1, -1, -1):
        path = wd.round_dir(earlier) / CANDIDATES_FILENAME
        if path.is_file():
            return str(path)
    return ""


def run_round(
    workdir: str | os.PathLike,
    config: RoundConfig,
    *,
    round_index: int | None = None,
    labels_snapshot: str = "",
    labels_digest: str = "",
    beam_pipeline_args: list[str] | None = None,
) -> dict:
    """Run one round on the local runner and return its summary (also written to disk).

    Parameters
    ----------
    workdir : path-like
        The campaign's work directory (created when missing).
    config : RoundConfig
        Validated configuration.
    round_index : int, optional
        Defaults to the next round of ``workdir`` (:meth:`WorkDir.next_round_index`).
    labels_snapshot, labels_digest : str
        Pool labels given in earlier rounds and their digest (see
        :func:`pipeline.campaign.snapshot_labels`); empty for none.
    beam_pipeline_args : list of str, optional
        Overrides ``config.beam``.

    Returns
    -------
    dict
        The round summary (see :func:`summarise_round`).
    """
    # TFX: only when a round runs (the runner's helpers load without it)
    from tfx import v1 as tfx

    from components.spectra_ingest import count_inputs, fingerprint_inputs
    from pipeline import flink
    from pipeline.pipeline import create_pipeline

    # Seconds, not minutes: a FlinkRunner round checks its jar and cluster before it starts.
    flink.preflight(
        beam_pipeline_args if beam_pipeline_args is not None else config.beam.pipeline_args()
    )

    wd = WorkDir(pathlib.Path(workdir).resolve())
    wd.pipeline_root.mkdir(parents=True, exist_ok=True)
    index = wd.next_round_index() if round_index is None else round_index
    fetch_labelled_ssap(config)
    fingerprint = ""
    if config.data.fingerprint_pool:
        file_list = config.resolve(config.data.pool_file_list)
        fingerprint = fingerprint_inputs(
            config.pool_patterns, extra_files=[file_list] if file_list else ()
        )

    input_counts = {}
    limit = max(config.beam.in_process_below, config.beam.score_in_process_below)
    if config.beam.runner == "DirectRunner" and limit:
        # Small inputs are ingested and scored in-process; counting stops at the limit.
        input_counts = {
            node_ids.LABELLED_INGEST: count_inputs(config.labelled_patterns, stop_at=limit),
            node_ids.POOL_INGEST: count_inputs(
                config.pool_patterns, config.resolve(config.data.pool_file_list), stop_at=limit
            ),
        }

    pipeline = create_pipeline(
        config=config,
        input_counts=input_counts,
        pipeline_root=str(wd.pipeline_root),
        serving_model_dir=str(wd.serving_model_dir),
        round_index=index,
        pool_fingerprint=fingerprint,
        labels_snapshot=labels_snapshot,
        labels_digest=labels_digest,
        previous_candidates=_previous_candidates(wd, index),
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(wd.metadata_path)
        ),
        beam_pipeline_args=beam_pipeline_args,
    )
    started = time.time()
    # One console line per step when the command routes the logs (activespec.console).
    with stage_lines([node.id for node in pipeline.components], step_of) as usage:
        tfx.orchestration.LocalDagRunner().run(pipeline)
    elapsed = time.time() - started

    runs = latest_node_runs(open_store(str(wd.metadata_path)), config.pipeline.name)
    summary = summarise_round(runs, config, round_index=index, elapsed_s=elapsed)
    summary["stages"] = usage
    round_dir = wd.round_dir(index)
    round_dir.mkdir(parents=True, exist_ok=True)
    summary["files"] = _copy_round_files(runs, round_dir)
    if config.model_kind == "both":
        summary["scorer_comparison"] = _compare_scorers(runs, config, round_dir)
        summary["files"][COMPARISON_FILENAME] = str(round_dir / COMPARISON_FILENAME)
    summary["serving_model_dir"] = str(wd.serving_model_dir)
    summary_path = wd.summary_path(index)
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    summary["summary_path"] = str(summary_path)
    return summary


def fetch_labelled_ssap(config: RoundConfig) -> dict | None:
    """Fetch ``[data] labelled_ssap`` (resumable) before a round; None without one.

    Returns ``{"fetched", "kept", "failed", "labelled"}`` counts, also logged.
    """
    source = config.labelled_ssap
    if source is None:
        return None
    result = source.fetch(config.resolve)
    counts = {
        "fetched": len(result.summary.fetched),
        "kept": len(result.summary.skipped),
        "failed": len(result.summary.failures),
        "labelled": result.labelled,
    }
    logging.getLogger(__name__).info("labelled set from %s: %s", source.service, counts)
    return counts


def summarise_round(
    runs: dict[str, NodeRun], config: RoundConfig, *, round_index: int, elapsed_s: float
) -> dict:
    """Collect the figures of a finished round from its nodes' artifacts.

    ``ingestion[<node>]`` holds, per ingestion node: ``num_ingested`` and ``num_rejected``
    (spectra read and refused), ``num_examples`` (examples written per split, e.g.
    ``{"train": 800, "eval": 100, "test": 100}``, as in the ingestion's own summary.json),
    ``rejections_by_code``, ``reused_from_cache`` and the artifacts' URIs.
    """
    # The components' packages import TFX; a round has already loaded it.
    from components.label_join import spec as join
    from components.label_spreading import spec as spreading_spec
    from components.pool_scorer import spec as scorer_spec
    from components.spectra_ingest import spec as ingest
    from components.uncertainty_sampler import spec as sampler_spec
    from pipeline.evaluation import read_evaluation

    classes = list(config.data.classes)
    summary: dict = {
        "round": round_index,
        "class_names": classes,
        "elapsed_s": round(elapsed_s, 1),
        "nodes": {node: run.state for node, run in sorted(runs.items())},
        "ingestion": {},
    }
    for node in (node_ids.LABELLED_INGEST, node_ids.POOL_INGEST):
        run = runs.get(node)
        if run is None:
            continue
        examples, rejections = run.artifact("examples"), run.artifact("rejections")
        summary["ingestion"][node] = {
            "state": run.state,
            "reused_from_cache": run.state == "CACHED",
            "num_ingested": custom_property(examples, ingest.NUM_INGESTED_PROPERTY),
            "num_examples": _num_examples_by_split(examples, ingest.NUM_EXAMPLES_PROPERTY_PREFIX),
            "num_rejected": custom_property(rejections, ingest.NUM_REJECTED_PROPERTY),
            "rejections_by_code": custom_property(
                rejections, ingest.REJECTIONS_BY_CODE_PROPERTY, {}
            ),
            "examples_uri": run.uri("examples"),
            "rejections_uri": run.uri("rejections"),
        }
    evaluator = runs.get(node_ids.EVALUATOR)
    if evaluator is not None and evaluator.uri("evaluation"):
        summary["evaluation"] = read_evaluation(evaluator.uri("evaluation"), classes)
        blessing = evaluator.artifact("blessing")
        summary["evaluation"]["blessed"] = bool(custom_property(blessing, "blessed", 0))
        summary["evaluation"]["min_macro_f1"] = config.evaluation.min_macro_f1
    pusher = runs.get(node_ids.PUSHER)
    if pusher is not None:
        pushed = pusher.artifact("pushed_model")
        summary["pushed"] = bool(custom_property(pushed, "pushed", 0))
        summary["pushed_destination"] = custom_property(pushed, "pushed_destination")
    sampler = runs.get(node_ids.UNCERTAINTY_SAMPLER)
    if sampler is not None:
        query = sampler.artifact(sampler_spec.QUERY_KEY)
        performance = sampler.artifact(sampler_spec.PERFORMANCE_SAMPLE_KEY)
        recall = sampler.artifact(sampler_spec.RECALL_SAMPLE_KEY)
        candidates = sampler.artifact(sampler_spec.CANDIDATES_KEY)
        summary["sampling"] = {
            "strategy": config.sampling.strategy,
            "query_size": custom_property(query, sampler_spec.QUERY_SIZE_PROPERTY),
            "performance_sample_size": custom_property(
                performance, sampler_spec.PERFORMANCE_SAMPLE_SIZE_PROPERTY
            ),
            "recall_sample_size": custom_property(recall, sampler_spec.RECALL_SAMPLE_SIZE_PROPERTY),
            "num_candidates": custom_property(candidates, sampler_spec.NUM_CANDIDATES_PROPERTY),
            # Confirmed finds listed beside the predictions; lost candidates re-queried.
            "num_confirmed": custom_property(candidates, sampler_spec.NUM_CONFIRMED_PROPERTY),
            "num_reexamined": custom_property(candidates, sampler_spec.NUM_REEXAMINED_PROPERTY),
            # Queried for their novelty ([sampling] novelty_fraction).
            "num_novel": custom_property(query, sampler_spec.NUM_NOVEL_PROPERTY, 0),
            "num_predicted_negative": custom_property(
                candidates, sampler_spec.NUM_PREDICTED_NEGATIVE_PROPERTY
            ),
        }
    # The scores the sampler read: the network's, or label spreading's without one.
    scorer = runs.get(node_ids.POOL_SCORER) or runs.get(node_ids.LABEL_SPREADING)
    if scorer is not None:
        summary["num_scored"] = custom_property(
            scorer.artifact(scorer_spec.SCORES_KEY), scorer_spec.NUM_SCORED_PROPERTY
        )
    spreading = runs.get(node_ids.LABEL_SPREADING)
    if spreading is not None:
        scores = spreading.artifact(spreading_spec.SCORES_KEY)
        summary["label_spreading"] = {
            "scores_uri": spreading.uri(spreading_spec.SCORES_KEY),
            "space": config.label_spreading.space,
            "k": config.label_spreading.k,
            "alpha": config.label_spreading.alpha,
            **{
                key: custom_property(scores, prop)
                for key, prop in (
                    ("num_scored", spreading_spec.NUM_SCORED_PROPERTY),
                    ("num_labelled_nodes", spreading_spec.NUM_LABELLED_NODES_PROPERTY),
                    ("graph_edges", spreading_spec.GRAPH_EDGES_PROPERTY),
                    ("iterations_done", spreading_spec.ITERATIONS_DONE_PROPERTY),
                    ("final_change", spreading_spec.FINAL_CHANGE_PROPERTY),
                    ("converged", spreading_spec.CONVERGED_PROPERTY),
                    ("num_unreached", spreading_spec.NUM_UNREACHED_PROPERTY),
                )
            },
        }
    label_join = runs.get(node_ids.LABEL_JOIN)
    if label_join is not None:
        joined = label_join.artifact(join.EXAMPLES_KEY)
        summary["pool_labels"] = {
            "num_labels": custom_property(joined, join.NUM_LABELS_PROPERTY, 0),
            "num_joined": custom_property(joined, join.NUM_JOINED_PROPERTY, 0),
            "num_unmatched": custom_property(joined, join.NUM_UNMATCHED_PROPERTY, 0),
        }
    novelty = runs.get(node_ids.NOVELTY_SCORER)
    if novelty is not None:
        pool_map = novelty.artifact("pool_map")
        summary["novelty"] = {
            "k": config.novelty.k,
            "map_method": config.novelty.map_method,
            "novelty_fraction": config.sampling.novelty_fraction,
            **{
                key: custom_property(pool_map, key)
                for key in (
                    "space",
                    "map_space",
                    "num_map_points",
                    "num_novel_listed",
                    "map_seconds",
                )
            },
        }
    trainer = runs.get(node_ids.TRAINER)
    if trainer is not None:
        summary["model_uri"] = trainer.uri("model")
        summary["model_run_uri"] = trainer.uri("model_run")
    return summary


def _compare_scorers(runs: dict[str, NodeRun], config: RoundConfig, round_dir) -> dict:
    """``[model] kind = "both"``: the network's scores against label spreading's."""
    from components.pool_scorer import spec as scorer_spec

    return compare_scorers(
        runs[node_ids.POOL_SCORER].uri(scorer_spec.SCORES_KEY),
        runs[node_ids.LABEL_SPREADING].uri(scorer_spec.SCORES_KEY),
        config.data.classes,
        config.sampling.positive_classes,
        out_csv=round_dir / COMPARISON_FILENAME,
    )


def _num_examples_by_split(examples, prefix: str) -> dict[str, int]:
    """Split name -> examples written, from the ``<prefix><split>`` custom properties."""
    if examples is None:
        return {}
    return {
        name[len(prefix) :]: custom_property(examples, name)
        for name in sorted(examples.custom_properties)
        if name.startswith(prefix)
    }


def _copy_round_files(runs: dict[str, NodeRun], round_dir: pathlib.Path) -> dict[str, str]:
    """Copy the human-readable outputs next to the summary; return name -> path."""
    copied: dict[str, str] = {}
    for (node, key), names in _ROUND_FILES.items():
        uri = runs[node].uri(key) if node in runs else None
        for name in names:
            if uri and os.path.exists(os.path.join(uri, name)):
                shutil.copyfile(os.path.join(uri, name), round_dir / name)
                copied[name] = str(round_dir / name)
    for node, name in _REJECTIONS.items():
        uri = runs[node].uri("rejections") if node in runs else None
        if uri and os.path.exists(os.path.join(uri, "rejected.csv")):
            shutil.copyfile(os.path.join(uri, "rejected.csv"), round_dir / name)
            copied[name] = str(round_dir / name)
    return copied
