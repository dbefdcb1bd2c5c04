"""LabelSpreading: a custom TFX component that scores the pool by graph-based
semi-supervised label spreading (the 2016 system) instead of a trained CNN."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec

from activespec import errors
from activespec import label_spreading as ls
from activespec.constants import GRID_POINTS
from activespec.settings import check_class_names
from components.artifact_types import PoolScores
from components.label_spreading import executor
from components.label_spreading.spec import LabelSpreadingSpec

__all__ = ["LabelSpreading"]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise errors.ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value


class LabelSpreading(base_component.BaseComponent):
    """Scores one split of the pool by spreading the labels over a kNN graph.

    The nodes are the labelled examples (the labelled instrument's spectra and the pool
    spectra labelled so far, as LabelJoin writes them) and the pool spectra; the edges
    join each node to its ``k`` nearest (squared Euclidean distance in the 140-point flux
    space, or in the CNN's embedding when ``space = "embedding"``), symmetrised; label
    spreading (Zhou et al. 2004) gives every pool spectrum a class distribution. The
    output is the ``PoolScores`` artifact PoolScorer writes (the distribution as
    ``probabilities``, entropy, margin, least confidence and the metadata), so the
    UncertaintySampler, the labelling page, the candidates and the report read it
    unchanged.

    Example
    -------
    ::

        spreading = LabelSpreading(
            labelled_examples=label_join.outputs["examples"],
            pool_examples=pool_ingest.outputs["examples"],
            class_names=["other", "emission", "double-peak"],
        )
        # spreading.outputs["scores"] feeds the UncertaintySampler.
    """

    SPEC_CLASS = LabelSpreadingSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        labelled_examples: types.BaseChannel,
        pool_examples: types.BaseChannel,
        class_names: Sequence[str],
        model: types.BaseChannel | None = None,
        split: str = "pool",
        labelled_splits: Sequence[str] = (),
        n_points: int = GRID_POINTS,
        k: int = ls.DEFAULT_K,
        alpha: float = ls.DEFAULT_ALPHA,
        iterations: int = ls.DEFAULT_MAX_ITERATIONS,
        tolerance: float = ls.DEFAULT_TOLERANCE,
        space: str = ls.SPACE_FLUX,
    ):
        """Create the component.

        Parameters
        ----------
        labelled_examples : tfx.types.BaseChannel
            ``Examples`` with ``flux`` and ``label`` (class index), e.g. LabelJoin's output.
        pool_examples : tfx.types.BaseChannel
            ``Examples`` with the split to score.
        class_names : sequence of str
            Class names in label-index order.
        model : tfx.types.BaseChannel, optional
            A Trainer's ``Model``; needed by, and only used with, ``space = "embedding"``
            (its ``embed_flux`` signature).
        split : str
            Split of ``pool_examples`` to score.
        labelled_splits : sequence of str
            Splits of ``labelled_examples`` whose labels seed the spreading; empty = all.
        n_points : int
            Length of the flux vectors (``[preprocessing] n_points``).
        k, alpha, iterations, tolerance : int, float, int, float
            Neighbours per node, weight of the neighbours, most spreading steps, and the
            mean L1 change of a row's distribution that stops it
            (:func:`activespec.label_spreading.spread_labels`).
        space : {"flux", "embedding"}
            The vectors the graph is built on.

        Raises
        ------
        activespec.errors.ConfigError
            If a parameter is invalid, or ``space = "embedding"`` comes without a model.
        """
        class_names = list(check_class_names(class_names, "LabelSpreading: class_names"))
        if not isinstance(split, str) or not split:
            raise errors.ConfigError(f"split must be a non-empty string, got {split!r}")
        if isinstance(labelled_splits, str) or not all(
            isinstance(name, str) and name for name in labelled_splits
        ):
            raise errors.ConfigError(
                f"labelled_splits must be a list of split names, got {labelled_splits!r}"
            )
        executor.check_space(space, model is not None)
        try:
            # The domain module's own checks, so the rules are stated once.
            ls.check_parameters(alpha, iterations, tolerance)
        except ls.LabelSpreadingInputError as error:
            raise errors.ConfigError(str(error)) from error
        spec = LabelSpreadingSpec(
            labelled_examples=labelled_examples,
            pool_examples=pool_examples,
            model=model,
            class_names=json.dumps(class_names),
            split=split,
            labelled_splits=json.dumps(list(labelled_splits)),
            n_points=_positive_int(n_points, "n_points"),
            k=_positive_int(k, "k"),
            alpha=float(alpha),
            iterations=iterations,
            tolerance=float(tolerance),
            space=space,
            scores=types.Channel(type=PoolScores),
        )
        super().__init__(spec=spec)
