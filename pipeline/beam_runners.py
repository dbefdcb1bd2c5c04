"""Beam pipeline arguments of each supported runner, built and validated in one place.

The Beam-powered components of a round (ingestion, LabelJoin, StatisticsGen, Evaluator,
PoolScorer, UncertaintySampler) receive ``beam_pipeline_args``. One dataclass per runner
builds them from named settings (:class:`DirectRunnerArgs`, :class:`DataflowRunnerArgs`,
:class:`FlinkRunnerArgs`, :class:`SparkRunnerArgs`, :class:`PortableRunnerArgs`) and
checks them, so a missing project or worker-pool address is reported when the pipeline is
compiled, not an hour later on a cluster. :func:`cluster_pipeline_args` derives the
arguments of components running in cluster pods (Kubeflow Pipelines, Vertex AI) from the
``[beam]`` section of a round configuration.

Every runner but the DirectRunner executes the Python code of the components on remote
workers, which must have activespec installed: the pipeline image (``kubeflow/Dockerfile``)
is a valid Beam SDK container, so it serves as Dataflow's ``sdk_container_image`` and as
the ``DOCKER`` environment of portable runners.
"""

from __future__ import annotations

import dataclasses
import json

from activespec.errors import ConfigError

DIRECT_RUNNING_MODES = ("in_memory", "multi_threading", "multi_processing")
#: How a portable runner (Flink, Spark, a job server) starts the Python SDK workers.
ENVIRONMENT_TYPES = ("DOCKER", "EXTERNAL", "PROCESS", "LOOPBACK")
#: Dataflow runs custom SDK containers on Runner v2 only.
DATAFLOW_DEFAULT_EXPERIMENTS = ("use_runner_v2",)


@dataclasses.dataclass(frozen=True)
class DirectRunnerArgs:
    """The DirectRunner: every worker on the machine (or pod) running the component.

    Parameters
    ----------
    num_workers : int
        Worker processes or threads; 0 lets Beam use every CPU the machine reports when
        the component runs (``multiprocessing.cpu_count()``, which in a container is the
        node's count, not the pod's CPU limit: set it explicitly on Kubernetes).
    running_mode : {"multi_processing", "multi_threading", "in_memory"}
    extra_args : tuple of str
        Appended unchanged.
    """

    num_workers: int = 0
    running_mode: str = "multi_processing"
    extra_args: tuple[str, ...] = ()

    def validate(self) -> None:
        _check_choice("direct_running_mode", self.running_mode, DIRECT_RUNNING_MODES)
        if self.num_workers < 0:
            raise ConfigError(f"direct_num_workers: must be >= 0, got {self.num_workers}")

    def to_args(self) -> list[str]:
        """The validated ``beam_pipeline_args``."""
        self.validate()
        return [
            "--runner=DirectRunner",
            *direct_args(self.running_mode, self.num_workers),
            *self.extra_args,
        ]


def direct_args(running_mode: str, num_workers: int) -> list[str]:
    """The DirectRunner's mode and worker-count arguments."""
    return [f"--direct_running_mode={running_mode}", f"--direct_num_workers={num_workers}"]


@dataclasses.dataclass(frozen=True)
class DataflowRunnerArgs:
    """Google Cloud Dataflow.

    Parameters
    ----------
    project, region : str
        The Google Cloud project and the Dataflow region (e.g. ``europe-west1``).
    temp_location : str
        ``gs://`` folder for temporary files.
    staging_location : str, optional
        ``gs://`` folder for staged packages; defaults to ``<temp_location>/staging``.
    machine_type : str, optional
        Worker machine type, e.g. ``n1-standard-4``.
    max_num_workers : int, optional
        Upper bound of autoscaling; 0 leaves Dataflow's default.
    sdk_container_image : str, optional
        Worker image with activespec installed: the pipeline image.
    setup_file : str, optional
        Alternatively, a ``setup.py`` Dataflow installs on stock workers.
    experiments : tuple of str
        Dataflow experiments; ``use_runner_v2`` is required by custom containers.
    service_account_email, subnetwork : str, optional
        Worker identity and network (``regions/REGION/subnetworks/NAME``).
    extra_args : tuple of str
        Appended unchanged.
    """

    project: str
    region: str
    temp_location: str
    staging_location: str = ""
    machine_type: str = ""
    max_num_workers: int = 0
    sdk_container_image: str = ""
    setup_file: str = ""
    experiments: tuple[str, ...] = DATAFLOW_DEFAULT_EXPERIMENTS
    service_account_email: str = ""
    subnetwork: str = ""
    extra_args: tuple[str, ...] = ()

    def validate(self) -> None:
        for name in ("project", "region", "temp_location"):
            if not getattr(self, name):
                raise ConfigError(f"DataflowRunner: --{name} is required")
        for name in ("temp_location", "staging_location"):
            value = getattr(self, name)
            if value and not value.startswith("gs://"):
                raise ConfigError(f"DataflowRunner: --{name} must be a gs:// path, got {value!r}")
        if self.max_num_workers < 0:
            raise ConfigError("DataflowRunner: --max_num_workers must be >= 0")
        if not (self.sdk_container_image or self.setup_file):
            raise ConfigError(
                "DataflowRunner: workers need activespec installed: give --sdk_container_image "
                "(the pipeline image) or --setup_file"
            )

    def to_args(self) -> list[str]:
        """The validated ``beam_pipeline_args``."""
        self.validate()
        staging = self.staging_location or self.temp_location.rstrip("/") + "/staging"
        args = [
            "--runner=DataflowRunner",
            f"--project={self.project}",
            f"--region={self.region}",
            f"--temp_location={self.temp_location}",
            f"--staging_location={staging}",
        ]
        args += _optional(
            machine_type=self.machine_type,
            max_num_workers=self.max_num_workers,
            sdk_container_image=self.sdk_container_image,
            setup_file=self.setup_file,
            service_account_email=self.service_account_email,
            subnetwork=self.subnetwork,
        )
        args += [f"--experiments={experiment}" for experiment in self.experiments]
        return args + list(self.extra_args)


@dataclasses.dataclass(frozen=True)
class FlinkRunnerArgs:
    """Apache Flink through Beam's portability framework.

    Give ``flink_master`` (the Flink REST endpoint, ``host:8081``) or ``job_endpoint`` (a
    Beam Flink job server already running in the cluster, ``host:8099``). With
    ``flink_master`` alone, Beam starts a Java job server (``job_server_jar``) next to the
    submitting process; ``submit_uber_jar`` uploads the pipeline to Flink's REST API
    instead. Without ``job_server_jar`` Beam would download the jar itself: activespec
    names the one ``tools/fetch-flink-job-server`` caches (:mod:`pipeline.flink`).

    Parameters
    ----------
    flink_master, job_endpoint : str
        Exactly one of them.
    environment_type : {"EXTERNAL", "DOCKER", "PROCESS", "LOOPBACK"}
        ``EXTERNAL``: SDK workers run as a worker-pool sidecar of each task manager
        (the pipeline image started with ``--worker_pool``), ``environment_config`` is its
        ``host:port`` (usually ``localhost:50000``). ``DOCKER``: task managers start the
        image given as ``environment_config`` (the pipeline image).
    environment_config : str
    parallelism : int, optional
        Default parallelism of the job; 0 leaves Flink's default.
    submit_uber_jar : bool
        Submit through Flink's REST API rather than a local Java job server.
    job_server_jar : str, optional
        Path of Beam's Flink job-server jar (with ``flink_master``).
    extra_args : tuple of str
        Appended unchanged.
    """

    flink_master: str = ""
    job_endpoint: str = ""
    environment_type: str = "EXTERNAL"
    environment_config: str = ""
    parallelism: int = 0
    submit_uber_jar: bool = False
    job_server_jar: str = ""
    extra_args: tuple[str, ...] = ()

    def validate(self) -> None:
        _check_one_of("FlinkRunner", flink_master=self.flink_master, job_endpoint=self.job_endpoint)
        _check_environment("FlinkRunner", self.environment_type, self.environment_config)
        if self.parallelism < 0:
            raise ConfigError("FlinkRunner: --parallelism must be >= 0")
        if self.submit_uber_jar and not self.flink_master:
            raise ConfigError("FlinkRunner: --flink_submit_uber_jar needs --flink_master")
        if self.job_server_jar and not self.flink_master:
            raise ConfigError("FlinkRunner: --flink_job_server_jar needs --flink_master")

    def to_args(self) -> list[str]:
        """The validated ``beam_pipeline_args``."""
        self.validate()
        args = ["--runner=FlinkRunner"]
        args += _optional(
            flink_master=self.flink_master,
            job_endpoint=self.job_endpoint,
            parallelism=self.parallelism,
            flink_job_server_jar=self.job_server_jar,
        )
        if self.submit_uber_jar:
            args.append("--flink_submit_uber_jar")
        args += _environment_args(self.environment_type, self.environment_config)
        return args + list(self.extra_args)


@dataclasses.dataclass(frozen=True)
class SparkRunnerArgs:
    """Apache Spark through Beam's portability framework.

    Give ``spark_master_url`` (``spark://host:7077``; Beam starts a Java job server next to
    the submitting process, or with ``submit_uber_jar`` posts the pipeline to
    ``spark_rest_url``, ``http://host:6066``) or ``job_endpoint`` (a Beam Spark job server
    already running in the cluster, ``host:8099``).

    Parameters
    ----------
    spark_master_url, job_endpoint : str
        Exactly one of them.
    spark_rest_url : str, optional
        Spark's REST submission endpoint, required by ``submit_uber_jar``.
    submit_uber_jar : bool
    environment_type, environment_config : str
        As for :class:`FlinkRunnerArgs`.
    extra_args : tuple of str
        Appended unchanged.
    """

    spark_master_url: str = ""
    job_endpoint: str = ""
    spark_rest_url: str = ""
    submit_uber_jar: bool = False
    environment_type: str = "EXTERNAL"
    environment_config: str = ""
    extra_args: tuple[str, ...] = ()

    def validate(self) -> None:
        _check_one_of(
            "SparkRunner", spark_master_url=self.spark_master_url, job_endpoint=self.job_endpoint
        )
        _check_environment("SparkRunner", self.environment_type, self.environment_config)
        if self.submit_uber_jar and not self.spark_rest_url:
            raise ConfigError("SparkRunner: --spark_submit_uber_jar needs --spark_rest_url")

    def to_args(self) -> list[str]:
        """The validated ``beam_pipeline_args``."""
        self.validate()
        args = ["--runner=SparkRunner"]
        args += _optional(
            spark_master_url=self.spark_master_url,
            job_endpoint=self.job_endpoint,
            spark_rest_url=self.spark_rest_url,
        )
        if self.submit_uber_jar:
            args.append("--spark_submit_uber_jar")
        args += _environment_args(self.environment_type, self.environment_config)
        return args + list(self.extra_args)


@dataclasses.dataclass(frozen=True)
class PortableRunnerArgs:
    """Any Beam job server (Flink, Spark, Samza...) already running at ``job_endpoint``."""

    job_endpoint: str
    environment_type: str = "EXTERNAL"
    environment_config: str = ""
    extra_args: tuple[str, ...] = ()

    def validate(self) -> None:
        if not self.job_endpoint:
            raise ConfigError("PortableRunner: --job_endpoint is required")
        _check_environment("PortableRunner", self.environment_type, self.environment_config)

    def to_args(self) -> list[str]:
        """The validated ``beam_pipeline_args``."""
        self.validate()
        args = ["--runner=PortableRunner", f"--job_endpoint={self.job_endpoint}"]
        args += _environment_args(self.environment_type, self.environment_config)
        return args + list(self.extra_args)


RunnerArgs = (
    DirectRunnerArgs | DataflowRunnerArgs | FlinkRunnerArgs | SparkRunnerArgs | PortableRunnerArgs
)


def runner_args_from_options(args: list[str]) -> RunnerArgs:
    """Read Beam arguments back into the settings of their runner (without extra args).

    Parameters
    ----------
    args : list of str
        ``beam_pipeline_args``, parsed as Beam parses them.

    Returns
    -------
    DirectRunnerArgs, DataflowRunnerArgs, FlinkRunnerArgs, SparkRunnerArgs or PortableRunnerArgs
        Call ``validate()`` on it to check the arguments.

    Raises
    ------
    activespec.errors.ConfigError
        When the runner is not one activespec supports.
    """
    # Beam: only to check arguments (configs and the CLI load without it)
    from apache_beam.options import pipeline_options as po

    options = po.PipelineOptions(args)
    runner = options.view_as(po.StandardOptions).runner or "DirectRunner"
    portable = options.view_as(po.PortableOptions)
    environment = {
        "environment_type": (portable.environment_type or "").upper(),
        "environment_config": portable.environment_config or "",
    }
    if runner == "DirectRunner":
        direct = options.view_as(po.DirectOptions)
        return DirectRunnerArgs(
            num_workers=direct.direct_num_workers, running_mode=direct.direct_running_mode
        )
    if runner == "DataflowRunner":
        cloud = options.view_as(po.GoogleCloudOptions)
        worker = options.view_as(po.WorkerOptions)
        return DataflowRunnerArgs(
            project=cloud.project or "",
            region=cloud.region or "",
            temp_location=cloud.temp_location or "",
            staging_location=cloud.staging_location or "",
            machine_type=worker.machine_type or "",
            max_num_workers=worker.max_num_workers or 0,
            sdk_container_image=worker.sdk_container_image or "",
            setup_file=options.view_as(po.SetupOptions).setup_file or "",
            experiments=tuple(options.view_as(po.DebugOptions).experiments or ()),
            service_account_email=cloud.service_account_email or "",
            subnetwork=worker.subnetwork or "",
        )
    if runner == "FlinkRunner":
        flink = options.view_as(po.FlinkRunnerOptions)
        return FlinkRunnerArgs(
            # Beam's default "[auto]" means "start an embedded Flink": no cluster was named.
            flink_master="" if flink.flink_master == "[auto]" else flink.flink_master,
            job_endpoint=portable.job_endpoint or "",
            parallelism=max(flink.parallelism, 0),
            submit_uber_jar=bool(flink.flink_submit_uber_jar),
            job_server_jar=flink.flink_job_server_jar or "",
            **environment,
        )
    if runner == "SparkRunner":
        spark = options.view_as(po.SparkRunnerOptions)
        master = spark.spark_master_url or ""
        return SparkRunnerArgs(
            # Beam's default "local[4]" is an in-process Spark: no cluster was named.
            spark_master_url="" if master.startswith("local") else master,
            job_endpoint=portable.job_endpoint or "",
            spark_rest_url=spark.spark_rest_url or "",
            submit_uber_jar=bool(spark.spark_submit_uber_jar),
            **environment,
        )
    if runner == "PortableRunner":
        return PortableRunnerArgs(job_endpoint=portable.job_endpoint or "", **environment)
    raise ConfigError(
        f"beam runner {runner!r} is not supported; use DirectRunner, DataflowRunner, "
        "FlinkRunner, SparkRunner or PortableRunner"
    )


def cluster_pipeline_args(beam, *, image: str = "") -> list[str]:
    """Beam arguments of components that run in cluster pods, from a ``[beam]`` section.

    The section's runner and ``extra_args`` are kept; what a pod needs is added when the
    configuration leaves it out: the pipeline image as Dataflow's ``sdk_container_image``
    (unless a ``setup_file`` is given) and as the ``environment_config`` of a ``DOCKER``
    environment, and Runner v2 for Dataflow custom containers. A DirectRunner with
    ``direct_num_workers = 0`` keeps 0, so the worker count is decided in the pod.

    Parameters
    ----------
    beam : pipeline.configs.BeamSection
    image : str, optional
        The pipeline image the pods run.

    Returns
    -------
    list of str

    Raises
    ------
    activespec.errors.ConfigError
        When the arguments miss something the runner needs.
    """
    args = beam.runner_args()
    if beam.runner == "DirectRunner":
        args = DirectRunnerArgs(beam.direct_num_workers, beam.direct_running_mode).to_args()
    args += list(beam.extra_args)
    settings = runner_args_from_options(args)
    if isinstance(settings, DataflowRunnerArgs):
        container = settings.sdk_container_image
        if image and not (container or settings.setup_file):
            container = image
            args.append(f"--sdk_container_image={image}")
        if container:
            args += [
                f"--experiments={experiment}"
                for experiment in DATAFLOW_DEFAULT_EXPERIMENTS
                if experiment not in settings.experiments
            ]
    elif isinstance(settings, FlinkRunnerArgs | SparkRunnerArgs | PortableRunnerArgs):
        if not settings.environment_type:
            raise ConfigError(
                f"{beam.runner}: give --environment_type (EXTERNAL with a worker pool, or "
                "DOCKER) in [beam] extra_args; the default LOOPBACK cannot reach a pod"
            )
        if settings.environment_type == "DOCKER" and not settings.environment_config and image:
            args.append(f"--environment_config={image}")
    runner_args_from_options(args).validate()
    return args


def _environment_args(environment_type: str, environment_config: str) -> list[str]:
    return _optional(environment_type=environment_type, environment_config=environment_config)


def _check_environment(runner: str, environment_type: str, environment_config: str) -> None:
    _check_choice(f"{runner}: --environment_type", environment_type, ENVIRONMENT_TYPES)
    if environment_type == "LOOPBACK":
        if environment_config:
            raise ConfigError(f"{runner}: LOOPBACK takes no --environment_config")
        return
    if not environment_config:
        what = {
            "EXTERNAL": "the host:port of the Beam worker pool (e.g. localhost:50000)",
            "DOCKER": "the SDK container image (the pipeline image)",
            "PROCESS": 'a JSON command, e.g. {"command": "/opt/apache/beam/boot"}',
        }[environment_type]
        raise ConfigError(f"{runner}: --environment_config must give {what}")
    if environment_type == "PROCESS":
        try:
            command = json.loads(environment_config).get("command")
        except (ValueError, AttributeError):
            command = None
        if not command:
            raise ConfigError(f"{runner}: PROCESS --environment_config must be JSON with a command")


def _check_one_of(runner: str, **values: str) -> None:
    given = [name for name, value in values.items() if value]
    if len(given) != 1:
        names = " or ".join(f"--{name}" for name in values)
        raise ConfigError(f"{runner}: give exactly one of {names}, got {len(given)}")


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(choices)}")


def _optional(**values) -> list[str]:
    """``--name=value`` for every set (non-empty, non-zero) value, in order."""
    return [f"--{name}={value}" for name, value in values.items() if value]
