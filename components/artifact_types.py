"""Custom TFX artifact types of activespec.

Type names follow ``namespace.Title``, which Kubeflow Pipelines v2 requires of
custom artifact types (``system.*`` and ``tfx.*`` are reserved).
"""

from tfx.types import artifact


class RejectedFiles(artifact.Artifact):
    """Files ingestion could not use, one row per file with a machine code and a reason.

    Files: ``rejected.csv`` (path, code, reason) and ``summary.json``.
    """

    TYPE_NAME = "activespec.RejectedFiles"


class PoolScores(artifact.Artifact):
    """Model scores of every pool spectrum: probabilities and uncertainty measures.

    Files: gzipped TFRecords of ``tf.Example`` (keys in :mod:`components.score_features`).
    """

    TYPE_NAME = "activespec.PoolScores"


class QueryBatch(artifact.Artifact):
    """The spectra a human is asked to label this round (``query.csv``, ``query.json``)."""

    TYPE_NAME = "activespec.QueryBatch"


class PerformanceSample(artifact.Artifact):
    """Random spectra among the predicted positives, for a precision estimate
    (``performance_sample.csv``, ``performance_sample.json``)."""

    TYPE_NAME = "activespec.PerformanceSample"


class RecallSample(artifact.Artifact):
    """Random spectra among the predicted negatives, stratified by positive score, for a
    recall estimate (``recall_sample.csv``, ``recall_sample.json``, ``recall_strata.json``)."""

    TYPE_NAME = "activespec.RecallSample"


class Candidates(artifact.Artifact):
    """All spectra predicted positive this round (``candidates.csv``)."""

    TYPE_NAME = "activespec.Candidates"


class PoolMap(artifact.Artifact):
    """The pool's 2-D map and its most unusual spectra (``pool_map.csv``, ``novel.csv``,
    ``pool_map.json``), written by the NoveltyScorer."""

    TYPE_NAME = "activespec.PoolMap"
