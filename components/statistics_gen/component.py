"""StatisticsGen: TFX's component, with the executor that computes small example sets in
memory (:mod:`components.statistics_gen.executor`)."""

from __future__ import annotations

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from components.statistics_gen import executor


class StatisticsGen(tfx.components.StatisticsGen):
    """TFX's ``StatisticsGen`` (same inputs, parameters and output), whose executor
    computes the statistics of up to :data:`~components.statistics_gen.executor.IN_MEMORY_MAX_BYTES`
    of example files without building a Beam pipeline."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
