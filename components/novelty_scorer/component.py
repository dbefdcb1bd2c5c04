"""NoveltyScorer: a custom TFX component that scores how unusual every pool spectrum is,
lists the most unusual ones and maps the pool in 2-D."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec

from activespec import errors
from activespec import novelty as nv
from activespec.settings import check_class_names
from components.artifact_types import PoolMap, PoolScores
from components.novelty_scorer import executor
from components.novelty_scorer.spec import NoveltyScorerSpec

__all__ = ["NoveltyScorer"]


def _integer(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise errors.ConfigError(
            f"NoveltyScorer: {name} must be an integer >= {minimum}, got {value!r}"
        )
    return value


class NoveltyScorer(base_component.BaseComponent):
    """Adds a ``novelty`` score to every pool spectrum's score record, and maps the pool.

    The novelty is the distance to the ``k``-th nearest pool spectrum in the 140-point
    flux (read from the pool examples; the default, ``novelty_space``) or in the
    network's embedding (the score records' ``embedding``):
    :func:`activespec.novelty.novelty_scores`. The map is drawn in the embedding, or in
    the flux when the records have none (label spreading's scores). The output ``scores`` are the input
    records plus ``novelty`` (minus the embedding unless ``keep_embedding``), so the
    UncertaintySampler reads them as it reads PoolScorer's, and its ``novelty_fraction``
    can spend a share of the query on the most novel spectra.

    ``pool_map`` holds ``novel.csv`` (the ``novel_list_size`` most novel spectra that are
    neither labelled, candidates, nor predicted negative with probability >=
    ``confident_other``), ``pool_map.csv`` (a t-SNE map of ``map_size`` pool spectra plus
    every labelled pool spectrum, candidate and listed novel spectrum) and ``pool_map.json``.

    Example
    -------
    ::

        novelty = NoveltyScorer(
            scores=scorer.outputs["scores"],
            labelled_examples=label_join.outputs["examples"],
            class_names=["other", "emission", "double-peak"],
            positive_classes=["emission", "double-peak"],
        )
        sampler = UncertaintySampler(scores=novelty.outputs["scores"], ...)
    """

    SPEC_CLASS = NoveltyScorerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        scores: types.BaseChannel,
        class_names: Sequence[str],
        positive_classes: Sequence[str],
        pool_examples: types.BaseChannel | None = None,
        labelled_examples: types.BaseChannel | None = None,
        split: str = "pool",
        k: int = nv.DEFAULT_K,
        map_size: int = nv.DEFAULT_MAP_SIZE,
        map_method: str = nv.MAP_METHODS[0],
        novel_list_size: int = nv.DEFAULT_NOVEL_LIST_SIZE,
        confident_other: float = nv.DEFAULT_CONFIDENT_OTHER,
        keep_embedding: bool = False,
        seed: int = 0,
        novelty_space: str = nv.DEFAULT_NOVELTY_SPACE,
    ):
        """Create the component.

        Parameters
        ----------
        scores : Channel of PoolScores
            PoolScorer's (with ``embedding``) or LabelSpreading's scores.
        class_names, positive_classes : sequence of str
            The classes in probability order, and those that make a candidate.
        pool_examples : Channel of Examples, optional
            The pool (its ``split``): the flux, used when the scores carry no embedding.
        labelled_examples : Channel of Examples, optional
            The labelled set (LabelJoin's output): marked on the map, not listed.
        k : int
            Neighbour whose distance is the novelty (>= 1).
        map_size : int
            Pool spectra sampled onto the map beside the labelled, candidate and listed
            ones (>= 0).
        map_method : {"tsne", "none"}
            openTSNE, or no map.
        novel_list_size : int
            Spectra in ``novel.csv`` (>= 0).
        confident_other : float
            A spectrum predicted negative with at least this probability is not listed.
        keep_embedding : bool
            Keep the ``embedding`` in the output records (``diverse_entropy`` needs it).
        seed : int
            Fixes the map's sample and layout.
        novelty_space : {"flux", "embedding"}
            Where the novelty is measured (flux: needs ``pool_examples``). The map is
            drawn in the embedding when the records carry one, else in the flux.
        """
        class_names = list(check_class_names(class_names, "NoveltyScorer: class_names"))
        unknown = [name for name in positive_classes if name not in class_names]
        if unknown or isinstance(positive_classes, str):
            raise errors.ConfigError(
                f"NoveltyScorer: positive_classes {list(positive_classes)} not among {class_names}"
            )
        if novelty_space not in nv.NOVELTY_SPACES:
            raise errors.ConfigError(
                f"NoveltyScorer: novelty_space must be one of {nv.NOVELTY_SPACES}, "
                f"got {novelty_space!r}"
            )
        if map_method not in nv.MAP_METHODS:
            raise errors.ConfigError(
                f"NoveltyScorer: map_method must be one of {nv.MAP_METHODS}, got {map_method!r}"
            )
        if isinstance(confident_other, bool) or not 0.0 < float(confident_other) <= 1.0:
            raise errors.ConfigError(
                f"NoveltyScorer: confident_other must be in (0, 1], got {confident_other!r}"
            )
        spec = NoveltyScorerSpec(
            pool_scores=scores,
            pool_examples=pool_examples,
            labelled_examples=labelled_examples,
            class_names=json.dumps(class_names),
            positive_classes=json.dumps(list(positive_classes)),
            split=split,
            k=_integer(k, "k", 1),
            map_size=_integer(map_size, "map_size", 0),
            map_method=map_method,
            novel_list_size=_integer(novel_list_size, "novel_list_size", 0),
            confident_other=float(confident_other),
            keep_embedding=int(bool(keep_embedding)),
            seed=_integer(seed, "seed", 0),
            novelty_space=novelty_space,
            scores=types.Channel(type=PoolScores),
            pool_map=types.Channel(type=PoolMap),
        )
        super().__init__(spec=spec)
