"""UncertaintySampler: a TFX component choosing what the human labels next."""

from __future__ import annotations

from collections.abc import Sequence

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec

from components.artifact_types import (
    Candidates,
    PerformanceSample,
    QueryBatch,
    RecallSample,
)

from . import executor
from .params import SamplerParams
from .spec import UncertaintySamplerSpec

#: The parameters' defaults, defined once by :class:`SamplerParams`.
_DEFAULTS = SamplerParams()


class UncertaintySampler(base_beam_component.BaseBeamComponent):
    """Pool-based uncertainty sampling over a scored pool (Škoda et al. 2020).

    From the scores of every pool spectrum, minus those already labelled, it selects

    * the **query**: ``query_size`` spectra chosen by ``strategy`` for the human
      oracle: the most uncertain by a measure (entropy, margin, least confidence or
      BALD), the most uncertain of each k-means cluster in the network's embedding
      (``diverse_entropy``) or a uniform random sample (``random``), see
      :mod:`.strategies`; ties are broken by spectrum id;
    * the **performance sample**: ``performance_sample_size`` spectra drawn uniformly
      among the predicted positives, for an unbiased precision estimate; reproducible
      for ``(seed, round_index)`` and independent between rounds;
    * the **recall sample**: ``recall_sample_size`` spectra drawn among the predicted
      negatives, stratified by the positive score (strata bounded by ``recall_strata``,
      allocation of :func:`activespec.recall.allocate`), for a recall estimate; as
      reproducible as the performance sample;
    * the **candidates**: every predicted positive.

    Outputs
    -------
    query : QueryBatch
        ``query.csv`` and ``query.json``.
    performance_sample : PerformanceSample
        ``performance_sample.csv`` and ``performance_sample.json``.
    recall_sample : RecallSample
        ``recall_sample.csv``, ``recall_sample.json`` and ``recall_strata.json``.
    candidates : Candidates
        ``candidates.csv``.

    All four carry the custom properties ``query_size``, ``performance_sample_size``,
    ``recall_sample_size``, ``num_candidates``, ``num_predicted_negative``,
    ``num_scored``, ``num_excluded_labelled``, ``round_index`` and ``strategy``.

    Example
    -------
    ::

        sampler = UncertaintySampler(
            scores=scorer.outputs["scores"],
            labelled_examples=labelled.outputs["examples"],
            strategy="entropy",
            round_index=3,
        )
    """

    SPEC_CLASS = UncertaintySamplerSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        scores: types.BaseChannel,
        labelled_examples: types.BaseChannel | None = None,
        strategy: str = _DEFAULTS.strategy,
        query_size: int = _DEFAULTS.query_size,
        performance_sample_size: int = _DEFAULTS.performance_sample_size,
        recall_sample_size: int = _DEFAULTS.recall_sample_size,
        recall_strata: Sequence[float] = _DEFAULTS.recall_strata,
        positive_classes: Sequence[str] = _DEFAULTS.positive_classes,
        class_names: Sequence[str] = _DEFAULTS.class_names,
        seed: int = _DEFAULTS.seed,
        round_index: int = _DEFAULTS.round_index,
        mc_passes: int = _DEFAULTS.mc_passes,
        diversity_factor: int = _DEFAULTS.diversity_factor,
        reexamine_size: int = _DEFAULTS.reexamine_size,
        previous_candidates: str = _DEFAULTS.previous_candidates,
        novelty_fraction: float = _DEFAULTS.novelty_fraction,
    ):
        """Configure the sampler; the defaults and checks are those of :class:`SamplerParams`.

        Parameters
        ----------
        scores : Channel of PoolScores
            The scored pool.
        labelled_examples : Channel of Examples, optional
            The labelled set; its spectrum ids (all splits) are never queried again.
        strategy : {"entropy", "margin", "least_confidence", "bald", "diverse_entropy", "random"}
            ``bald`` needs score records with ``bald``, ``diverse_entropy`` with
            ``embedding`` (:func:`.strategies.extra_scores_for`; the PoolScorer's
            ``extra_scores``).
        query_size : int
            >= 1; the published setting is 100.
        performance_sample_size : int
            >= 0; the published setting is 30.
        recall_sample_size : int
            >= 0 (0 disables); the published setting has none.
        recall_strata : list of float
            Increasing inner bounds, in (0, 1), of the strata on the positive score.
        positive_classes : list of str
            Classes that make a spectrum a candidate; must be among ``class_names``.
        class_names : list of str
            Class names in the order of the score records' probabilities.
        seed, round_index : int
            Fix the random samples, the random query and the k-means initialisation.
        mc_passes : int
            The ``bald`` scores' Monte Carlo dropout passes (>= 1). The PoolScorer runs
            them; the sampler only records the setting.
        diversity_factor : int
            ``diverse_entropy`` clusters the ``diversity_factor * query_size`` most
            uncertain spectra (>= 1).
        reexamine_size : int
            At most this many of the query are lost candidates of ``previous_candidates``
            (>= 0; at most ``query_size`` are taken).
        previous_candidates : str
            Path or URI of the previous round's ``candidates.csv``; "" for none.
        novelty_fraction : float
            Share of the query (0 to 1) given to the most novel unlabelled spectra, after
            the lost candidates; needs score records with ``novelty`` (the NoveltyScorer's
            output). 0 disables.

        Raises
        ------
        activespec.errors.ConfigError
            On an unknown strategy, a size out of range or unknown positive classes.
        """
        params = SamplerParams(
            strategy=strategy,
            query_size=query_size,
            performance_sample_size=performance_sample_size,
            recall_sample_size=recall_sample_size,
            recall_strata=tuple(recall_strata),
            positive_classes=tuple(positive_classes),
            class_names=tuple(class_names),
            seed=seed,
            round_index=round_index,
            mc_passes=mc_passes,
            diversity_factor=diversity_factor,
            reexamine_size=reexamine_size,
            previous_candidates=previous_candidates,
            novelty_fraction=novelty_fraction,
        )
        spec = UncertaintySamplerSpec(
            scores=scores,
            labelled_examples=labelled_examples,
            **params.to_exec_properties(),
            query=types.Channel(type=QueryBatch),
            performance_sample=types.Channel(type=PerformanceSample),
            recall_sample=types.Channel(type=RecallSample),
            candidates=types.Channel(type=Candidates),
        )
        super().__init__(spec=spec)
