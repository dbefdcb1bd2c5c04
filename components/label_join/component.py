"""LabelJoin component: the labelled set of a round = the ingested labelled set plus the
pool spectra a human (or the simulated oracle) has labelled so far."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts

from components.label_join import executor
from components.label_join.spec import LabelJoinSpec


class LabelJoin(base_beam_component.BaseBeamComponent):
    """Join a labels snapshot with the already-ingested pool examples.

    The output has the labelled set's splits; every pool example whose ``spectrum_id``
    has a label in the snapshot gets that label and joins ``target_split`` (``train``:
    the held-out splits stay those of the labelled instrument, so the evaluation is
    comparable from round to round). No FITS file is read: the pool examples are the
    ones ingestion wrote once. Each identifier carries one current label in the
    snapshot, so re-running a round never counts a label twice.

    Parameters
    ----------
    labelled_examples : Channel of Examples
        The ingested labelled set (``LabelledIngest``).
    pool_examples : Channel of Examples
        The ingested pool (``PoolIngest``).
    labels : str, optional
        CSV with ``spectrum_id,label`` (class names); none or empty = no pool labels yet.
    labels_digest : str, optional
        Digest of the labels file, so a changed file invalidates the cache.
    class_names : sequence of str
    target_split : str
        Split the labelled pool spectra join (default ``train``).
    pool_split : str
        Split of ``pool_examples`` to read (default ``pool``).
    """

    SPEC_CLASS = LabelJoinSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        labelled_examples: types.BaseChannel,
        pool_examples: types.BaseChannel,
        *,
        class_names: Sequence[str],
        labels: str | None = None,
        labels_digest: str = "",
        target_split: str = "train",
        pool_split: str = "pool",
    ):
        super().__init__(
            spec=LabelJoinSpec(
                labelled_examples=labelled_examples,
                pool_examples=pool_examples,
                labels=labels or "",
                labels_digest=labels_digest,
                class_names=json.dumps(list(class_names)),
                target_split=target_split,
                pool_split=pool_split,
                examples=types.Channel(type=standard_artifacts.Examples),
            )
        )
