"""The definition of one active-learning round as a TFX pipeline.

``create_pipeline`` is the single definition every runner compiles: the local runner
(:mod:`pipeline.local_runner`) and the Kubeflow Pipelines v2 runner (``kubeflow/``).

Graph (``[model] kind = "cnn"``, the default)::

    LabelledIngest ──┐
    PoolIngest ──────┼─ LabelJoin ─ StatisticsGen ─ ExampleValidator ─ ValidationGate ─┐
         │           │    (+ ImportSchemaGen)                                          │
         │           └────────────────────────────────────────────────────────── Trainer ─ Evaluator ─ Pusher
         └─ StatisticsGen ─ ExampleValidator ─ ValidationGate ─┐                   │
              (+ ImportSchemaGen)                              └──── PoolScorer ───┘─ UncertaintySampler

``kind = "label_spreading"`` (the 2016 system) replaces the network: no Tuner, Trainer,
Evaluator or Pusher, and ``LabelSpreading`` (over LabelJoin's examples and the pool)
writes the scores the UncertaintySampler reads. ``kind = "both"`` keeps the CNN graph and
adds ``LabelSpreading`` beside ``PoolScorer`` (over the flux, or the Trainer's embedding):
the sampler uses the CNN's scores and the round summary compares the two.

The pool is ingested once: ``PoolIngest`` depends only on the pool's files (and their
fingerprint), so with caching on, later rounds reuse its output without reading a FITS
file again.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Mapping

from tfx import v1 as tfx

from components.label_join import LabelJoin
from components.label_spreading import LabelSpreading
from components.novelty_scorer import NoveltyScorer
from components.pool_scorer.component import PoolScorer
from components.score_features import EMBEDDING, EXTRA_SCORES
from components.spectra_ingest.component import SpectraIngest
from components.statistics_gen.component import StatisticsGen
from components.uncertainty_sampler.component import UncertaintySampler
from components.uncertainty_sampler.strategies import extra_scores_for
from components.validation_gate import ValidationGate
from pipeline import node_ids
from pipeline.evaluation import eval_config

SCHEMA_DIR = pathlib.Path(__file__).parent / "schema"
LABELLED_SCHEMA = SCHEMA_DIR / "labelled" / "schema.pbtxt"
POOL_SCHEMA = SCHEMA_DIR / "pool" / "schema.pbtxt"
TRAINER_RUN_FN = "models.trainer_module.run_fn"
TUNER_FN = "models.tuner_module.tuner_fn"


def create_pipeline(
    *,
    config,
    pipeline_root: str,
    serving_model_dir: str,
    round_index: int = 0,
    pool_fingerprint: str = "",
    labels_snapshot: str = "",
    labels_digest: str = "",
    previous_candidates: str = "",
    metadata_connection_config=None,
    beam_pipeline_args: list[str] | None = None,
    input_counts: Mapping[str, int] | None = None,
) -> tfx.dsl.Pipeline:
    """Build the TFX pipeline of one active-learning round.

    Parameters
    ----------
    config : pipeline.configs.RoundConfig
        The validated round configuration.
    pipeline_root : str
        Where artifacts are written (local path or gs://...).
    serving_model_dir : str
        Base directory of the pushed TF Serving model (versioned subdirectories).
    round_index : int
        The round number; seeds the random samples.
    pool_fingerprint : str
        A digest of the pool's files; a changed pool is re-ingested.
    labels_snapshot : str
        CSV (``spectrum_id,label``) of the pool spectra labelled in earlier rounds; they
        join the training set by :class:`components.label_join.LabelJoin`.
    labels_digest : str
        Digest of ``labels_snapshot`` (a new label reruns training, an unchanged set hits
        the cache).
    previous_candidates : str
        The previous round's ``candidates.csv`` ("" for none): the UncertaintySampler
        shows its spectra that are now predicted negative again (``reexamine_size``).
    metadata_connection_config : optional
        ML Metadata connection (SQLite for the local runner; None on Kubeflow).
    beam_pipeline_args : list of str, optional
        Arguments of every Beam-based component, instead of those ``config.beam`` gives
        (which run the heavy components, ingestion and scoring, in multi-processing mode).
    input_counts : mapping of str to int, optional
        Input files of the ingestion nodes (``LabelledIngest``, ``PoolIngest``; the
        scorer follows the pool), counted up to the larger of ``[beam]
        in_process_below`` and ``score_in_process_below``: on the DirectRunner smaller
        inputs are handled in-process (:meth:`BeamSection.heavy_component_args`).

    Returns
    -------
    tfx.dsl.Pipeline
    """
    classes = list(config.data.classes)
    preprocessing = config.preprocess_config().to_dict()

    labelled_ingest = SpectraIngest(
        file_patterns=config.labelled_patterns,
        labels=config.labels_path,
        class_names=classes,
        preprocessing=preprocessing,
        degrade_resolution=config.data.degrade_labelled,
        splits=dict(config.data.splits),
    ).with_id(node_ids.LABELLED_INGEST)
    pool_ingest = SpectraIngest(
        file_patterns=config.pool_patterns,
        file_list=config.resolve(config.data.pool_file_list) or None,
        class_names=classes,
        preprocessing=preprocessing,
        # The one rule (activespec.preprocessing.should_degrade), as scoring and the
        # labelling page: LAMOST LRS is never degraded, MRS is.
        degrade_resolution=True,
        splits={"pool": 1},
        input_fingerprint=pool_fingerprint,
    ).with_id(node_ids.POOL_INGEST)

    label_join = LabelJoin(
        labelled_examples=labelled_ingest.outputs["examples"],
        pool_examples=pool_ingest.outputs["examples"],
        class_names=classes,
        labels=labels_snapshot,
        labels_digest=labels_digest,
    )
    # The training set of this round: the labelled instrument plus the labelled pool spectra.
    training_examples = label_join.outputs["examples"]

    labelled_schema = tfx.components.ImportSchemaGen(schema_file=str(LABELLED_SCHEMA)).with_id(
        "LabelledSchema"
    )
    pool_schema = tfx.components.ImportSchemaGen(schema_file=str(POOL_SCHEMA)).with_id("PoolSchema")

    validation = {}
    for name, examples, schema in (
        ("Labelled", training_examples, labelled_schema),
        ("Pool", pool_ingest.outputs["examples"], pool_schema),
    ):
        stats = StatisticsGen(examples=examples).with_id(f"{name}StatisticsGen")
        validator = tfx.components.ExampleValidator(
            statistics=stats.outputs["statistics"], schema=schema.outputs["schema"]
        ).with_id(f"{name}ExampleValidator")
        gate = ValidationGate(
            anomalies=validator.outputs["anomalies"], what=f"{name.lower()} examples"
        ).with_id(f"{name}ValidationGate")
        validation[name] = (stats, validator, gate)

    kind = config.model_kind
    network = _network_nodes(
        config, training_examples, labelled_schema, validation["Labelled"][2], serving_model_dir
    )
    spreading = None
    if kind in ("label_spreading", "both"):
        settings = config.label_spreading
        spreading = LabelSpreading(
            labelled_examples=training_examples,
            pool_examples=pool_ingest.outputs["examples"],
            class_names=classes,
            model=network["trainer"].outputs["model"] if settings.space == "embedding" else None,
            n_points=config.preprocess_config().n_points,
            k=settings.k,
            alpha=settings.alpha,
            iterations=settings.iterations,
            tolerance=settings.tolerance,
            space=settings.space,
        ).with_id(node_ids.LABEL_SPREADING)
        spreading.add_upstream_node(validation["Labelled"][2])
        spreading.add_upstream_node(validation["Pool"][2])

    scorer = None
    if network:
        scorer = PoolScorer(
            examples=pool_ingest.outputs["examples"],
            model=network["trainer"].outputs["model"],
            class_names=classes,
            # BALD's dropout passes and the embeddings only when the strategy ranks by them
            # or the NoveltyScorer measures the novelty in the embedding.
            extra_scores=_extra_scores(config),
            mc_passes=config.sampling.mc_passes,
            seed=config.sampling.seed,
        ).with_id(node_ids.POOL_SCORER)
        scorer.add_upstream_node(validation["Pool"][2])
    # With both, the network's scores drive the queries; label spreading is compared.
    scores = (scorer or spreading).outputs["scores"]
    novelty = None
    if config.novelty.enabled:
        # Novelty beside the class scores (in the flux of the pool examples, or the
        # network's embedding), the novelty list and the pool's map (in the embedding, or
        # the flux without a network).
        settings = config.novelty
        novelty = NoveltyScorer(
            scores=scores,
            pool_examples=pool_ingest.outputs["examples"],
            labelled_examples=training_examples,
            class_names=classes,
            positive_classes=list(config.sampling.positive_classes),
            k=settings.k,
            map_size=settings.map_size,
            map_method=settings.map_method,
            novel_list_size=settings.novel_list_size,
            confident_other=settings.confident_other,
            keep_embedding=EMBEDDING in extra_scores_for(config.sampling.strategy),
            seed=config.sampling.seed,
            novelty_space=settings.space,
        ).with_id(node_ids.NOVELTY_SCORER)
        scores = novelty.outputs["scores"]
    sampler = UncertaintySampler(
        scores=scores,
        labelled_examples=training_examples,
        class_names=classes,
        round_index=round_index,
        previous_candidates=previous_candidates,
        **dataclasses.asdict(config.sampling),
    )

    if beam_pipeline_args is None:
        counts = input_counts or {}
        for ingest in (labelled_ingest, pool_ingest):
            n_inputs = counts.get(ingest.id)
            ingest.with_beam_pipeline_args(config.beam.heavy_component_args(n_inputs))
        if scorer is not None:
            n_pool = counts.get(node_ids.POOL_INGEST)
            scorer.with_beam_pipeline_args(config.beam.heavy_component_args(n_pool, scorer=True))

    components = [labelled_ingest, pool_ingest, label_join, labelled_schema, pool_schema]
    for stats, validator, gate in validation.values():
        components += [stats, validator, gate]
    components += [node for node in network.values() if node is not None]
    components += [node for node in (scorer, spreading, novelty) if node is not None]
    components += [sampler]

    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline.name,
        pipeline_root=pipeline_root,
        components=components,
        enable_cache=config.pipeline.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=beam_pipeline_args
        if beam_pipeline_args is not None
        else config.beam.pipeline_args(),
    )


def _extra_scores(config) -> tuple[str, ...]:
    """The PoolScorer's optional scores: the strategy's, and the embedding the
    NoveltyScorer draws its map in (and measures the novelty in, with space = embedding)."""
    extra = set(extra_scores_for(config.sampling.strategy))
    settings = config.novelty
    if settings.enabled and (settings.map_method != "none" or settings.space == EMBEDDING):
        extra.add(EMBEDDING)
    return tuple(name for name in EXTRA_SCORES if name in extra)


def _network_nodes(
    config, training_examples, labelled_schema, labelled_gate, serving_model_dir
) -> dict:
    """The CNN's nodes (``tuner``, None unless tuning is on, ``trainer``, ``evaluator``,
    ``pusher``), or an empty dict when ``[model] kind`` has no network. Training waits
    for ``labelled_gate``, the labelled examples' validation."""
    if config.model_kind == "label_spreading":
        return {}
    classes = list(config.data.classes)
    preprocessing = config.preprocess_config().to_dict()
    trainer_custom_config = {
        "class_names": classes,
        "model": config.model_config().to_dict(),
        "distribution": {
            "kind": config.distribution.strategy,
            "tpu_address": config.distribution.tpu_address,
            "logical_cpus": config.distribution.logical_cpus,
        },
        "preprocessing": preprocessing,
    }
    tuning = config.tuning_config()
    tuner = None
    if tuning.enabled:
        # keras-tuner search; its best hyperparameters override the [model] defaults.
        tuner = tfx.components.Tuner(
            tuner_fn=TUNER_FN,
            examples=training_examples,
            schema=labelled_schema.outputs["schema"],
            train_args=tfx.proto.TrainArgs(splits=["train"]),
            eval_args=tfx.proto.EvalArgs(splits=["eval"]),
            custom_config={**trainer_custom_config, "tuning": tuning.to_dict()},
        )
        tuner.add_upstream_node(labelled_gate)
    trainer = tfx.components.Trainer(
        run_fn=TRAINER_RUN_FN,
        examples=training_examples,
        schema=labelled_schema.outputs["schema"],
        hyperparameters=tuner.outputs["best_hyperparameters"] if tuner else None,
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        custom_config=trainer_custom_config,
    )
    trainer.add_upstream_node(labelled_gate)

    evaluator = tfx.components.Evaluator(
        examples=training_examples,
        model=trainer.outputs["model"],
        eval_config=eval_config(classes, config.evaluation.min_macro_f1),
        example_splits=["test"],
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_model_dir)
        ),
    )

    return {"tuner": tuner, "trainer": trainer, "evaluator": evaluator, "pusher": pusher}
