"""SpectraIngest: a TFX component that turns FITS spectra into preprocessed tf.Examples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts

from activespec.constants import DEFAULT_CLASSES
from components.artifact_types import RejectedFiles

from . import executor
from .params import make_params
from .spec import SpectraIngestSpec


class SpectraIngest(base_beam_component.BaseBeamComponent):
    """Ingest FITS spectra (LAMOST, Ondřejov) into preprocessed ``tf.Example`` splits.

    Files are matched and read on Beam workers, preprocessed onto the common 140-point
    grid and written as gzipped TFRecords in ExampleGen's layout
    (``Split-<name>/data_tfrecord-*.gz``), so StatisticsGen, ExampleValidator, Transform
    and Trainer consume them unchanged. Every file that does not become an example is
    listed in the ``rejections`` output with a machine code and a one-line reason.

    Outputs
    -------
    examples : standard_artifacts.Examples
        Custom properties ``num_examples_<split>``, ``num_ingested``, ``num_rejected``
        and ``rejections_by_code`` (JSON).
    rejections : components.artifact_types.RejectedFiles
        ``rejected.csv`` (path, code, reason) and ``summary.json``.

    Example
    -------
    ::

        pool = SpectraIngest(
            file_patterns=["gs://bucket/lamost/dr2/**.fits.gz"],
            preprocessing={},
            input_fingerprint=fingerprint_inputs(["gs://bucket/lamost/dr2/**.fits.gz"]),
        ).with_id("IngestPool")
        statistics = StatisticsGen(examples=pool.outputs["examples"])
    """

    SPEC_CLASS = SpectraIngestSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        file_patterns: Sequence[str] | None = None,
        file_list: str | None = None,
        labels: str | None = None,
        class_names: Sequence[str] = DEFAULT_CLASSES,
        preprocessing: Mapping[str, Any] | None = None,
        degrade_resolution: bool = False,
        splits: Mapping[str, int] | None = None,
        input_fingerprint: str = "",
    ):
        """Configure an ingestion.

        Parameters
        ----------
        file_patterns : list of str, optional
            Beam glob patterns of FITS files (``*`` within a folder, ``**`` across
            folders; ``.fits.gz`` is fine). Local paths or ``gs://``, ``s3://`` URIs.
        file_list : str, optional
            A text file with one path per line, instead of or besides the patterns.
        labels : str, optional
            CSV with a header naming ``spectrum_id`` and ``label`` (a class name).
            Given: a labelled set; files without a row are rejected as ``no-label``.
        class_names : list of str
            Class names in label-index order.
        preprocessing : dict, optional
            Settings of :class:`activespec.preprocessing.PreprocessConfig`
            (defaults: the published ones).
        degrade_resolution : bool
            Degrade the spectra sharper than the model's resolution (Ondřejov, LAMOST
            MRS) first, by :func:`activespec.preprocessing.should_degrade`, as scoring
            and the labelling page do; False never degrades.
        splits : dict of str to int, optional
            Hash buckets per split; default
            :data:`activespec.settings.DEFAULT_LABELLED_SPLITS` (``train``, ``eval`` and
            the ``test`` split the Evaluator needs) with labels and ``{"pool": 1}`` without.
        input_fingerprint : str
            Part of the cache key; pass :func:`fingerprint_inputs` of the same patterns
            (and the labels file) so that changed inputs are ingested again.

        Raises
        ------
        activespec.errors.ConfigError
            On any invalid parameter, when the pipeline is defined.
        """
        params = make_params(
            file_patterns=file_patterns,
            file_list=file_list,
            labels=labels,
            class_names=class_names,
            preprocessing=preprocessing,
            degrade_resolution=degrade_resolution,
            splits=splits,
            input_fingerprint=input_fingerprint,
        )
        spec = SpectraIngestSpec(
            **params.to_exec_properties(),
            examples=types.Channel(type=standard_artifacts.Examples),
            rejections=types.Channel(type=RejectedFiles),
        )
        super().__init__(spec=spec)
