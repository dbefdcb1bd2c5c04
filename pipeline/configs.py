"""Configuration of an active-learning round, loaded from TOML and validated up front.

Every section is a frozen dataclass whose defaults reproduce the published setting
(Škoda, Podsztavek & Tvrdík 2020). Unknown sections or keys, wrong types and bad
values raise :class:`activespec.errors.ConfigError` naming the offending key, before
anything runs. Relative paths are resolved against the directory of the config file,
or against the work directory when no file is given.

The ``[preprocessing]``, ``[model]`` and ``[tuning]`` sections are validated by
:class:`activespec.preprocessing.PreprocessConfig`, :class:`models.config.ModelConfig` and
:class:`models.tuning.TuningConfig`, which own those settings.

Example ``activespec.toml``::

    [data]
    labelled = ["survey/labelled/*.fits*"]
    labels = "survey/labelled/labels.csv"
    pool = ["survey/pool/*.fits*"]

    [sampling]
    strategy = "margin"
    query_size = 50
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import types
import typing
from typing import Any

from activespec import novelty
from activespec.constants import (
    DEFAULT_CLASSES,
    DEFAULT_SPREADING_ALPHA,
    DEFAULT_SPREADING_ITERATIONS,
    DEFAULT_SPREADING_K,
    DEFAULT_SPREADING_TOLERANCE,
    SPREADING_SPACES,
)
from activespec.errors import ConfigError
from activespec.settings import (
    DEFAULT_LABELLED_SPLITS,
    DISTRIBUTION_STRATEGIES,
    CrossmatchSettings,
    SamplingSettings,
    check_class_names,
)
from models.config import ModelConfig
from models.tuning import TuningConfig
from pipeline import flink
from pipeline.beam_runners import DIRECT_RUNNING_MODES, ENVIRONMENT_TYPES, direct_args

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BEAM_RUNNERS = ("DirectRunner", "DataflowRunner", "FlinkRunner", "SparkRunner", "PortableRunner")
#: Runners whose SDK workers start as ``environment_type`` says.
PORTABLE_RUNNERS = ("FlinkRunner", "SparkRunner", "PortableRunner")


@dataclasses.dataclass(frozen=True)
class PipelineSection:
    """``[pipeline]``: identity and caching of the TFX pipeline."""

    name: str = "activespec"
    #: Reuse the outputs of components whose inputs did not change (the pool ingestion).
    enable_cache: bool = True


@dataclasses.dataclass(frozen=True)
class DataSection:
    """``[data]``: where the labelled set and the pool are, and the classes."""

    labelled: tuple[str, ...] = ("survey/labelled/*.fits*",)
    labels: str = "survey/labelled/labels.csv"
    pool: tuple[str, ...] = ("survey/pool/*.fits*",)
    #: Optional text file with one pool path per line, instead of (or besides) ``pool`` globs.
    pool_file_list: str = ""
    classes: tuple[str, ...] = DEFAULT_CLASSES
    #: Hash buckets of the labelled set: ``train`` fits, ``eval`` stops early, ``test`` is held out.
    splits: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_LABELLED_SPLITS))
    #: Degrade the labelled (high-resolution) instrument to the pool's resolution.
    degrade_labelled: bool = True
    #: Fingerprint the pool's files (count, sizes, mtimes) so that a changed pool is re-ingested.
    fingerprint_pool: bool = True
    #: The labelled set from an SSAP service instead of ``labelled`` and ``labels``
    #: (:class:`activespec.vo.ssap.SsapSource`: service, labels, out, ids, datalink, band,
    #: target, pos, size, workers, retries); fetched before each round.
    labelled_ssap: dict = dataclasses.field(default_factory=dict)

    def validate(self) -> None:
        if not self.labelled:
            raise ConfigError("data.labelled: give at least one glob pattern of labelled files")
        if not self.pool and not self.pool_file_list:
            raise ConfigError("data.pool: give glob patterns of pool files or data.pool_file_list")
        check_class_names(self.classes, "data.classes")
        if self.labelled_ssap:
            # light: pyvo and requests load only when a fetch runs
            from activespec.vo.ssap import SsapSource

            SsapSource.from_dict(self.labelled_ssap)
        if set(self.splits) != set(DEFAULT_LABELLED_SPLITS):
            raise ConfigError(
                f"data.splits: need exactly the buckets train, eval and test, got {sorted(self.splits)}"
            )
        for name, buckets in self.splits.items():
            if not isinstance(buckets, int) or isinstance(buckets, bool) or buckets < 1:
                raise ConfigError(
                    f"data.splits.{name}: must be a positive integer, got {buckets!r}"
                )


@dataclasses.dataclass(frozen=True)
class DistributionSection:
    """``[distribution]``: the tf.distribute strategy of the Trainer."""

    #: auto = TPU if resolvable, else all GPUs (Mirrored), else the CPU.
    strategy: str = "auto"
    tpu_address: str = ""
    #: Split the CPU into this many logical devices (for MirroredStrategy without GPUs).
    logical_cpus: int = 0

    def validate(self) -> None:
        _check_choice("distribution.strategy", self.strategy, DISTRIBUTION_STRATEGIES)
        if self.logical_cpus < 0:
            raise ConfigError("distribution.logical_cpus: must be >= 0")


@dataclasses.dataclass(frozen=True)
class EvaluationSection:
    """``[evaluation]``: the Evaluator's blessing threshold on the held-out split."""

    #: The model is blessed (and pushed) when its macro-F1 on the test split reaches this.
    min_macro_f1: float = 0.5

    def validate(self) -> None:
        if not 0.0 <= self.min_macro_f1 <= 1.0:
            raise ConfigError(
                f"evaluation.min_macro_f1: must be in [0, 1], got {self.min_macro_f1}"
            )


#: ``[model] kind``: what scores the pool. ``cnn``: the published network (Trainer,
#: PoolScorer); ``label_spreading``: the 2016 system (LabelSpreading over a kNN graph,
#: no network); ``both``: the two side by side. The other ``[model]`` keys are the
#: network's (:class:`models.config.ModelConfig`).
MODEL_KIND_KEY = "kind"
MODEL_KINDS = ("cnn", "label_spreading", "both")
DEFAULT_MODEL_KIND = "cnn"


@dataclasses.dataclass(frozen=True)
class LabelSpreadingSection:
    """``[label_spreading]``: the graph and the iteration of label spreading (used when
    ``[model] kind`` is ``label_spreading`` or ``both``; defaults reproduce 2016)."""

    #: Neighbours per node of the kNN graph (squared Euclidean distance, symmetrised).
    k: int = DEFAULT_SPREADING_K
    #: Weight of the neighbours; 1 - alpha pulls a labelled node back to its label.
    alpha: float = DEFAULT_SPREADING_ALPHA
    #: At most this many spreading steps.
    iterations: int = DEFAULT_SPREADING_ITERATIONS
    #: Stop when the mean L1 change of a row's class distribution is at most this.
    tolerance: float = DEFAULT_SPREADING_TOLERANCE
    #: flux: the graph of the 140-point vectors; embedding: of the CNN's embedding of them
    #: (needs a trained network: ``[model] kind = "both"``).
    space: str = SPREADING_SPACES[0]

    def validate(self) -> None:
        # numpy and scipy: imported here, as the preprocessing configuration does.
        from activespec.label_spreading import LabelSpreadingInputError, check_parameters

        if self.k < 1:
            raise ConfigError(f"label_spreading.k: must be >= 1, got {self.k}")
        _check_choice("label_spreading.space", self.space, SPREADING_SPACES)
        try:
            check_parameters(self.alpha, self.iterations, self.tolerance)
        except LabelSpreadingInputError as error:
            # The domain's message names max_iterations; the key here is iterations.
            raise ConfigError(
                f"label_spreading: {str(error).replace('max_iterations', 'iterations')}"
            ) from None


#: ``[sampling]``: the query strategy and what each round asks the oracle to label.
SamplingSection = SamplingSettings
#: ``[crossmatch]``: the known objects ``activespec candidates`` cross-matches with.
CrossmatchSection = CrossmatchSettings


@dataclasses.dataclass(frozen=True)
class NoveltySection:
    """``[novelty]``: the NoveltyScorer (:mod:`activespec.novelty`), a novelty score per
    pool spectrum, the list of the most unusual ones and the 2-D map of the pool, in the
    network's embedding (in the flux with ``[model] kind = "label_spreading"``)."""

    #: Run the NoveltyScorer (``[sampling] novelty_fraction`` > 0 needs it).
    enabled: bool = True
    #: Where the novelty is measured: ``flux`` (the 140-point vectors; found the injected
    #: rarities best) or ``embedding`` (the network's). The map is drawn in the embedding.
    space: str = novelty.DEFAULT_NOVELTY_SPACE
    #: The novelty is the distance to the k-th nearest pool spectrum.
    k: int = novelty.DEFAULT_K
    #: Pool spectra sampled onto the map beside every labelled, candidate and listed one.
    map_size: int = novelty.DEFAULT_MAP_SIZE
    #: ``tsne`` (openTSNE) or ``none`` (no map).
    map_method: str = novelty.MAP_METHODS[0]
    #: Spectra in the list of the most unusual ones (report and catalogue).
    novel_list_size: int = novelty.DEFAULT_NOVEL_LIST_SIZE
    #: Spectra predicted negative with at least this probability are not listed.
    confident_other: float = novelty.DEFAULT_CONFIDENT_OTHER

    def validate(self) -> None:
        if self.k < 1:
            raise ConfigError(f"novelty.k: must be >= 1, got {self.k}")
        for name in ("map_size", "novel_list_size"):
            if getattr(self, name) < 0:
                raise ConfigError(f"novelty.{name}: must be >= 0, got {getattr(self, name)}")
        _check_choice("novelty.map_method", self.map_method, novelty.MAP_METHODS)
        _check_choice("novelty.space", self.space, novelty.NOVELTY_SPACES)
        if not 0.0 < self.confident_other <= 1.0:
            raise ConfigError(
                f"novelty.confident_other: must be in (0, 1], got {self.confident_other}"
            )


@dataclasses.dataclass(frozen=True)
class BeamSection:
    """``[beam]``: the Beam runner of the data-parallel components."""

    runner: str = "DirectRunner"
    direct_running_mode: str = "multi_processing"
    #: 0 = one worker per CPU core.
    direct_num_workers: int = 0
    #: Passed through unchanged, e.g. ["--project=...", "--region=...", "--temp_location=gs://..."].
    extra_args: tuple[str, ...] = ()
    #: On the DirectRunner, run the light components (statistics, evaluation, label join,
    #: sampling) in-process: starting worker processes would cost them more than it saves.
    #: Ingestion and scoring use direct_running_mode with direct_num_workers, unless
    #: their input is smaller than in_process_below / score_in_process_below.
    light_components_in_process: bool = True
    #: On the DirectRunner, the ingestion of fewer input files than this runs
    #: in-process too: 2 worker processes start in about 4 s, more than they save below
    #: ~10,000 files on 2 cores (SpectraIngest in-process against 2 processes: 3,000
    #: files 4.1 against 6.5 s, 19,706 19.3 against 16.8 s; the straight lines through
    #: them cross at ~11,000; python -m bench.demo_steps). 0: never.
    in_process_below: int = 10_000
    #: The same for the PoolScorer, counted in pool files: TensorFlow keeps ~1.5 cores
    #: busy in one process, 2 processes ~1.8 after ~5 s of start-up, so one process wins
    #: below ~50,000 spectra on 2 cores (19,706: 6.3-7.5 s against 11.6 s; 25,000: 8.1
    #: against 10.4 s; 100,000: 29.9 against 25.8 s; bench.demo_steps, bench.scale). 0: never.
    score_in_process_below: int = 50_000
    #: FlinkRunner: the Flink REST endpoint (``host:8081``), or ``[local]`` for a Flink
    #: embedded in the job server; Beam starts the job server next to each component.
    flink_master: str = ""
    #: FlinkRunner: parallelism of every job; 0 leaves the cluster's ``parallelism.default``.
    flink_parallelism: int = 0
    #: FlinkRunner: Beam's Flink job-server jar. Empty: in local runs
    #: ``$ACTIVESPEC_FLINK_JOB_SERVER_JAR`` or the one ``tools/fetch-flink-job-server``
    #: caches; in pods none (give a path in the image).
    flink_job_server_jar: str = ""
    #: Portable runners (Flink, Spark): how the task managers start the Python SDK workers,
    #: EXTERNAL (a worker pool beside each task manager), DOCKER, PROCESS or LOOPBACK.
    environment_type: str = ""
    #: The worker pool's ``host:port`` (EXTERNAL, e.g. ``localhost:50000``) or the image (DOCKER).
    environment_config: str = ""

    def validate(self) -> None:
        _check_choice("beam.runner", self.runner, BEAM_RUNNERS)
        _check_choice(
            "beam.direct_running_mode",
            self.direct_running_mode,
            DIRECT_RUNNING_MODES,
        )
        if self.direct_num_workers < 0:
            raise ConfigError("beam.direct_num_workers: must be >= 0")
        for key in ("in_process_below", "score_in_process_below"):
            if getattr(self, key) < 0:
                raise ConfigError(f"beam.{key}: must be >= 0")
        if self.flink_parallelism < 0:
            raise ConfigError("beam.flink_parallelism: must be >= 0")
        if self.runner != "FlinkRunner":
            for key in ("flink_master", "flink_parallelism", "flink_job_server_jar"):
                if getattr(self, key):
                    raise ConfigError(f"beam.{key}: only for runner = FlinkRunner")
        if self.environment_type:
            _check_choice("beam.environment_type", self.environment_type, ENVIRONMENT_TYPES)
            if self.runner not in PORTABLE_RUNNERS:
                raise ConfigError(f"beam.environment_type: only for {', '.join(PORTABLE_RUNNERS)}")

    def runner_args(self) -> list[str]:
        """``--runner`` and the settings of this section for it, before ``extra_args``."""
        args = [f"--runner={self.runner}"]
        if self.runner == "FlinkRunner":
            args += _flags(
                flink_master=self.flink_master,
                parallelism=self.flink_parallelism,
                flink_job_server_jar=self.flink_job_server_jar,
            )
            args += [f"--flink_version={flink.FLINK_MINOR}", *flink.PICKLE_ARGS]
        return args + _flags(
            environment_type=self.environment_type, environment_config=self.environment_config
        )

    def pipeline_args(self) -> list[str]:
        """Arguments of every Beam component (the pipeline-level ``beam_pipeline_args``)."""
        args = self.runner_args()
        if self.runner == "DirectRunner":
            mode, workers = self.direct_running_mode, self._workers()
            if self.light_components_in_process:
                mode, workers = "in_memory", 1
            args += direct_args(mode, workers)
            args.append(_direct_runner_dependency_flag())
        if self.runner == "FlinkRunner" and self.flink_master:
            if not self.flink_job_server_jar:
                # Never Beam's own download: the cached jar (preflight says when it is missing).
                args.append(f"--flink_job_server_jar={flink.default_job_server_jar()}")
            # The job server runs on this machine's Java (11 or 17), as a Flink client.
            args += flink.JOB_SERVER_JVM_ARGS
        return args + list(self.extra_args)

    def heavy_component_args(
        self, n_inputs: int | None = None, *, scorer: bool = False
    ) -> list[str]:
        """Extra arguments of the CPU-heavy components (ingestion, pool scoring).

        They follow the pipeline-level arguments, so on the DirectRunner they restore the
        configured mode and worker count that light components do without, or run the
        component in-process when its ``n_inputs`` files (None: unknown) are fewer than
        ``in_process_below`` (``score_in_process_below`` for the ``scorer``).
        """
        if self.runner != "DirectRunner":
            return []
        limit = self.score_in_process_below if scorer else self.in_process_below
        if n_inputs is not None and n_inputs < limit:
            return direct_args("in_memory", 1)
        return direct_args(self.direct_running_mode, self._workers())

    def _workers(self) -> int:
        return self.direct_num_workers or os.cpu_count() or 1


def _direct_runner_dependency_flag() -> str:
    """A Beam dependency flag the DirectRunner ignores: Beam's default SDK image.

    Unless one of Beam's dependency flags is set, TFX packs a copy of its own installed
    package into an sdist for every Beam component (1.3 s on one core, and a copy of
    TFX left in the temporary folder each time), to be staged to remote workers. The
    DirectRunner's workers share this environment and stage nothing, and it runs no
    container either, so naming the image only turns that packing off.
    """
    from apache_beam.transforms import environments

    return f"--sdk_container_image={environments.DockerEnvironment.default_docker_image()}"


_SECTIONS: dict[str, type] = {
    "pipeline": PipelineSection,
    "data": DataSection,
    "distribution": DistributionSection,
    "evaluation": EvaluationSection,
    "sampling": SamplingSection,
    "beam": BeamSection,
    "label_spreading": LabelSpreadingSection,
    "crossmatch": CrossmatchSection,
    "novelty": NoveltySection,
}
#: Sections validated by the classes that own them (free-form tables here).
_DELEGATED = ("preprocessing", "model", "tuning")


@dataclasses.dataclass(frozen=True)
class RoundConfig:
    """The whole configuration of a round. Build with :func:`load_config`."""

    base_dir: pathlib.Path
    pipeline: PipelineSection = PipelineSection()
    data: DataSection = DataSection()
    preprocessing: dict = dataclasses.field(default_factory=dict)
    model: dict = dataclasses.field(default_factory=dict)
    tuning: dict = dataclasses.field(default_factory=dict)
    distribution: DistributionSection = DistributionSection()
    evaluation: EvaluationSection = EvaluationSection()
    sampling: SamplingSection = SamplingSection()
    beam: BeamSection = BeamSection()
    label_spreading: LabelSpreadingSection = LabelSpreadingSection()
    crossmatch: CrossmatchSection = CrossmatchSection()
    novelty: NoveltySection = NoveltySection()

    @property
    def model_kind(self) -> str:
        """``[model] kind``: ``cnn``, ``label_spreading`` or ``both``."""
        return self.model.get(MODEL_KIND_KEY, DEFAULT_MODEL_KIND)

    def resolve(self, path: str) -> str:
        """Absolute form of a configured path (URIs such as gs://... pass unchanged)."""
        if not path or "://" in path or os.path.isabs(path):
            return path
        return str(self.base_dir / path)

    @property
    def labelled_ssap(self):
        """The :class:`activespec.vo.ssap.SsapSource` of ``[data] labelled_ssap``, or None."""
        if not self.data.labelled_ssap:
            return None
        from activespec.vo.ssap import SsapSource

        return SsapSource.from_dict(self.data.labelled_ssap)

    @property
    def labelled_patterns(self) -> list[str]:
        source = self.labelled_ssap
        if source is not None:  # the copy fetched from the SSAP service
            return [str(pathlib.Path(self.resolve(source.out)) / "*.fits*")]
        return [self.resolve(p) for p in self.data.labelled]

    @property
    def labels_path(self) -> str:
        """The labelled set's labels CSV (the fetched ``labels.csv`` with ``labelled_ssap``)."""
        source = self.labelled_ssap
        if source is not None:
            from activespec.vo.ssap import LABELS_CSV

            return str(pathlib.Path(self.resolve(source.out)) / LABELS_CSV)
        return self.resolve(self.data.labels)

    @property
    def pool_patterns(self) -> list[str]:
        return [self.resolve(p) for p in self.data.pool]

    def preprocess_config(self):
        """The validated :class:`activespec.preprocessing.PreprocessConfig`."""
        # scipy: configs stays light for the CLI's start-up
        from activespec.preprocessing import PreprocessConfig

        return PreprocessConfig.from_dict(self.preprocessing)

    def model_config(self):
        """The validated :class:`models.config.ModelConfig` (``kind`` is not the network's)."""
        return ModelConfig.from_dict(
            {key: value for key, value in self.model.items() if key != MODEL_KIND_KEY}
        )

    def tuning_config(self):
        """The validated :class:`models.tuning.TuningConfig` (off by default)."""
        return TuningConfig.from_dict(self.tuning)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        for name in _SECTIONS:
            out[name] = _plain(dataclasses.asdict(getattr(self, name)))
        out["preprocessing"] = self.preprocess_config().to_dict()
        out["model"] = {MODEL_KIND_KEY: self.model_kind, **self.model_config().to_dict()}
        out["tuning"] = self.tuning_config().to_dict()
        return out


def load_config(path: str | os.PathLike | None = None, *, base_dir=None) -> RoundConfig:
    """Read and validate a round configuration.

    Parameters
    ----------
    path : path-like, optional
        A TOML file. Without it, every default applies.
    base_dir : path-like, optional
        Directory relative paths are resolved against; defaults to the config file's
        directory, or the current directory when there is no file.

    Returns
    -------
    RoundConfig

    Raises
    ------
    activespec.errors.ConfigError
        On a missing or unparsable file, an unknown section or key, a value of the wrong
        type, or a value out of range.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        path = pathlib.Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from None
    if base_dir is None:
        base_dir = path.parent if path is not None else pathlib.Path.cwd()
    return config_from_dict(raw, base_dir=base_dir)


def config_from_dict(raw: dict[str, Any], *, base_dir) -> RoundConfig:
    """Validate a configuration given as nested dicts (the parsed TOML)."""
    unknown = sorted(set(raw) - set(_SECTIONS) - set(_DELEGATED))
    if unknown:
        allowed = ", ".join(sorted([*_SECTIONS, *_DELEGATED]))
        raise ConfigError(f"unknown section [{unknown[0]}]; sections are: {allowed}")
    kwargs: dict[str, Any] = {"base_dir": pathlib.Path(base_dir).resolve()}
    for name, cls in _SECTIONS.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{name}] must be a table")
        kwargs[name] = _build_section(name, cls, table)
    for name in _DELEGATED:
        table = raw.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{name}] must be a table")
        kwargs[name] = dict(table)
    config = RoundConfig(**kwargs)
    # Delegated sections validate themselves; fail now, not in the middle of a run.
    config.preprocess_config()
    tuning = config.tuning_config()
    if tuning.enabled:
        tuning.check_compatible(config.model_config())
    else:
        config.model_config()
    config.sampling.check_positive_classes(config.data.classes)
    _check_model_kind(config)
    return config


def _check_model_kind(config: RoundConfig) -> None:
    """``[model] kind`` is known, and the label-spreading settings fit it."""
    kind = config.model_kind
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        raise ConfigError(f"model.kind: {kind!r} is not one of {', '.join(MODEL_KINDS)}")
    if config.label_spreading.space == "embedding" and kind != "both":
        raise ConfigError(
            'label_spreading.space = "embedding" needs a trained network: set [model] '
            'kind = "both" (or space = "flux")'
        )
    # The strategies that rank by the network's dropout passes or embedding.
    from components.uncertainty_sampler.strategies import extra_scores_for

    if config.sampling.novelty_fraction > 0 and not config.novelty.enabled:
        raise ConfigError(
            "sampling.novelty_fraction: needs the novelty scores; set [novelty] enabled = true "
            "(or novelty_fraction = 0)"
        )
    if kind == "label_spreading" and extra_scores_for(config.sampling.strategy):
        raise ConfigError(
            f"sampling.strategy: {config.sampling.strategy!r} needs the network's "
            f"{', '.join(extra_scores_for(config.sampling.strategy))} scores, which label "
            'spreading has not: use [model] kind = "both", or entropy, margin, '
            "least_confidence or random"
        )


def _build_section(section: str, cls: type, table: dict[str, Any]):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown key {section}.{unknown[0]}; [{section}] accepts: {', '.join(fields)}"
        )
    hints = typing.get_type_hints(cls)
    values = {key: _coerce(f"{section}.{key}", hints[key], value) for key, value in table.items()}
    obj = cls(**values)
    if hasattr(obj, "validate"):
        obj.validate()
    return obj


def _coerce(key: str, hint, value):
    """Check ``value`` against a dataclass field type; lists become tuples."""
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if origin is tuple and typing.get_args(hint)[0] is float:
        if isinstance(value, str) or not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list of numbers, got {value!r}")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{key}: every item must be a number, got {value!r}")
        return tuple(float(v) for v in value)
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: every item must be a string, got {value!r}")
        return tuple(value)
    if hint is dict or origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {value!r}")
        return dict(value)
    if isinstance(hint, types.UnionType):  # pragma: no cover - not used by sections yet
        return value
    raise ConfigError(f"{key}: unsupported setting type {hint}")  # pragma: no cover


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(choices)}")


def _flags(**values) -> list[str]:
    """``--name=value`` for every set (non-empty, non-zero) value, in order."""
    return [f"--{name}={value}" for name, value in values.items() if value]


def _plain(obj):
    if isinstance(obj, tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    return obj
