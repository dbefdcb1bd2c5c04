"""Beam runner arguments, tested by construction: each set of arguments is parsed by Beam
itself and every value must land in the option class its runner reads."""

import pytest
from apache_beam.options.pipeline_options import (
    DebugOptions,
    DirectOptions,
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PipelineOptions,
    PortableOptions,
    SetupOptions,
    SparkRunnerOptions,
    StandardOptions,
    WorkerOptions,
)

from activespec.errors import ConfigError
from pipeline.beam_runners import (
    DataflowRunnerArgs,
    DirectRunnerArgs,
    FlinkRunnerArgs,
    PortableRunnerArgs,
    SparkRunnerArgs,
    cluster_pipeline_args,
    runner_args_from_options,
)
from pipeline.configs import config_from_dict

IMAGE = "europe-west4-docker.pkg.dev/astro-lab/pipelines/activespec:0.1.0"


def parsed(args):
    return PipelineOptions(args)


def test_direct_runner_lands_in_direct_options():
    args = DirectRunnerArgs(num_workers=6, running_mode="multi_threading").to_args()
    options = parsed(args)
    assert options.view_as(StandardOptions).runner == "DirectRunner"
    direct = options.view_as(DirectOptions)
    assert direct.direct_num_workers == 6
    assert direct.direct_running_mode == "multi_threading"


def test_dataflow_lands_in_cloud_worker_setup_and_debug_options():
    settings = DataflowRunnerArgs(
        project="astro-lab",
        region="europe-west4",
        temp_location="gs://astro-lab-tmp/beam",
        machine_type="n1-highmem-8",
        max_num_workers=40,
        sdk_container_image=IMAGE,
        service_account_email="pipelines@astro-lab.iam.gserviceaccount.com",
        subnetwork="regions/europe-west4/subnetworks/default",
        extra_args=("--disk_size_gb=100",),
    )
    options = parsed(settings.to_args())
    cloud = options.view_as(GoogleCloudOptions)
    assert (cloud.project, cloud.region) == ("astro-lab", "europe-west4")
    assert cloud.temp_location == "gs://astro-lab-tmp/beam"
    # Staging defaults to a folder of the temp location.
    assert cloud.staging_location == "gs://astro-lab-tmp/beam/staging"
    assert cloud.service_account_email == "pipelines@astro-lab.iam.gserviceaccount.com"
    worker = options.view_as(WorkerOptions)
    assert worker.machine_type == "n1-highmem-8"
    assert worker.max_num_workers == 40
    assert worker.sdk_container_image == IMAGE
    assert worker.subnetwork == "regions/europe-west4/subnetworks/default"
    assert worker.disk_size_gb == 100
    assert options.view_as(DebugOptions).experiments == ["use_runner_v2"]
    assert options.view_as(StandardOptions).runner == "DataflowRunner"


def test_dataflow_with_a_setup_file_instead_of_an_image():
    settings = DataflowRunnerArgs(
        project="p",
        region="us-central1",
        temp_location="gs://b/tmp",
        staging_location="gs://b/staging",
        setup_file="./setup.py",
    )
    options = parsed(settings.to_args())
    assert options.view_as(SetupOptions).setup_file == "./setup.py"
    assert options.view_as(GoogleCloudOptions).staging_location == "gs://b/staging"
    assert options.view_as(WorkerOptions).sdk_container_image is None


def test_flink_lands_in_flink_and_portable_options():
    settings = FlinkRunnerArgs(
        flink_master="flink-jobmanager:8081",
        submit_uber_jar=True,
        environment_type="EXTERNAL",
        environment_config="localhost:50000",
        parallelism=16,
    )
    options = parsed(settings.to_args())
    flink = options.view_as(FlinkRunnerOptions)
    assert flink.flink_master == "flink-jobmanager:8081"
    assert flink.flink_submit_uber_jar is True
    assert flink.parallelism == 16
    portable = options.view_as(PortableOptions)
    assert (portable.environment_type, portable.environment_config) == (
        "EXTERNAL",
        "localhost:50000",
    )
    assert options.view_as(StandardOptions).runner == "FlinkRunner"


def test_flink_through_a_job_server_with_docker_workers():
    settings = FlinkRunnerArgs(
        job_endpoint="beam-flink-job-server:8099",
        environment_type="DOCKER",
        environment_config=IMAGE,
    )
    portable = parsed(settings.to_args()).view_as(PortableOptions)
    assert portable.job_endpoint == "beam-flink-job-server:8099"
    assert portable.environment_config == IMAGE


def test_spark_master_and_job_endpoint_land_in_spark_and_portable_options():
    master = SparkRunnerArgs(
        spark_master_url="spark://spark-master:7077",
        spark_rest_url="http://spark-master:6066",
        submit_uber_jar=True,
        environment_type="EXTERNAL",
        environment_config="localhost:50000",
    )
    spark = parsed(master.to_args()).view_as(SparkRunnerOptions)
    assert spark.spark_master_url == "spark://spark-master:7077"
    assert spark.spark_rest_url == "http://spark-master:6066"
    assert spark.spark_submit_uber_jar is True

    job_server = SparkRunnerArgs(
        job_endpoint="beam-spark-job-server:8099",
        environment_type="DOCKER",
        environment_config=IMAGE,
    )
    options = parsed(job_server.to_args())
    assert options.view_as(StandardOptions).runner == "SparkRunner"
    assert options.view_as(PortableOptions).job_endpoint == "beam-spark-job-server:8099"
    assert options.view_as(PortableOptions).environment_type == "DOCKER"


def test_portable_runner_lands_in_portable_options():
    settings = PortableRunnerArgs(
        job_endpoint="job-server:8099",
        environment_type="PROCESS",
        environment_config='{"command": "/opt/apache/beam/boot"}',
    )
    portable = parsed(settings.to_args()).view_as(PortableOptions)
    assert portable.job_endpoint == "job-server:8099"
    assert portable.environment_type == "PROCESS"


@pytest.mark.parametrize(
    "settings",
    [
        DirectRunnerArgs(num_workers=4),
        DataflowRunnerArgs(
            project="p",
            region="europe-west1",
            temp_location="gs://b/tmp",
            staging_location="gs://b/stage",
            machine_type="n2-standard-4",
            max_num_workers=3,
            sdk_container_image=IMAGE,
        ),
        FlinkRunnerArgs(flink_master="jm:8081", environment_config="localhost:50000"),
        SparkRunnerArgs(job_endpoint="js:8099", environment_config="localhost:50000"),
        PortableRunnerArgs(job_endpoint="js:8099", environment_type="LOOPBACK"),
    ],
    ids=lambda s: type(s).__name__,
)
def test_arguments_read_back_into_the_same_settings(settings):
    assert runner_args_from_options(settings.to_args()) == settings


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (DirectRunnerArgs(running_mode="threads"), "direct_running_mode"),
        (DirectRunnerArgs(num_workers=-1), "direct_num_workers"),
        (DataflowRunnerArgs(project="", region="r", temp_location="gs://b/t"), "--project"),
        (DataflowRunnerArgs(project="p", region="r", temp_location="/tmp/beam"), "gs://"),
        (
            DataflowRunnerArgs(project="p", region="r", temp_location="gs://b/t"),
            "sdk_container_image",
        ),
        (FlinkRunnerArgs(environment_config="localhost:50000"), "exactly one"),
        (
            FlinkRunnerArgs(flink_master="jm", job_endpoint="js", environment_config="x"),
            "exactly one",
        ),
        (FlinkRunnerArgs(flink_master="jm:8081"), "worker pool"),
        (FlinkRunnerArgs(flink_master="jm", environment_type="DOCKER"), "image"),
        (FlinkRunnerArgs(flink_master="jm", environment_type="K8S"), "environment_type"),
        (
            FlinkRunnerArgs(job_endpoint="js", submit_uber_jar=True, environment_config="x"),
            "flink_master",
        ),
        (
            SparkRunnerArgs(
                spark_master_url="spark://m:7077",
                submit_uber_jar=True,
                environment_config="localhost:50000",
            ),
            "spark_rest_url",
        ),
        (
            PortableRunnerArgs(
                job_endpoint="js", environment_type="PROCESS", environment_config="{}"
            ),
            "command",
        ),
        (
            PortableRunnerArgs(
                job_endpoint="js", environment_type="LOOPBACK", environment_config="x"
            ),
            "LOOPBACK",
        ),
        (PortableRunnerArgs(job_endpoint=""), "job_endpoint"),
    ],
)
def test_incomplete_settings_are_refused_with_the_reason(settings, reason):
    with pytest.raises(ConfigError, match=reason):
        settings.to_args()


def beam_section(runner, *extra_args, **fields):
    raw = {"beam": {"runner": runner, "extra_args": list(extra_args), **fields}}
    return config_from_dict(raw, base_dir=".").beam


def test_cluster_arguments_give_dataflow_workers_the_pipeline_image():
    beam = beam_section(
        "DataflowRunner",
        "--project=astro-lab",
        "--region=europe-west4",
        "--temp_location=gs://astro-lab-tmp/beam",
        "--max_num_workers=20",
    )
    args = cluster_pipeline_args(beam, image=IMAGE)
    options = parsed(args)
    assert options.view_as(WorkerOptions).sdk_container_image == IMAGE
    assert options.view_as(WorkerOptions).max_num_workers == 20
    assert options.view_as(DebugOptions).experiments == ["use_runner_v2"]
    # The configured arguments are kept as given, in order.
    assert args[: len(beam.extra_args) + 1] == ["--runner=DataflowRunner", *beam.extra_args]


def test_cluster_arguments_keep_a_configured_setup_file_and_image():
    with_setup = beam_section(
        "DataflowRunner",
        "--project=p",
        "--region=r",
        "--temp_location=gs://b/t",
        "--setup_file=/opt/activespec/setup.py",
    )
    options = parsed(cluster_pipeline_args(with_setup, image=IMAGE))
    assert options.view_as(WorkerOptions).sdk_container_image is None
    assert not options.view_as(DebugOptions).experiments

    other_image = "gcr.io/astro-lab/custom:1"
    with_image = beam_section(
        "DataflowRunner",
        "--project=p",
        "--region=r",
        "--temp_location=gs://b/t",
        f"--sdk_container_image={other_image}",
        "--experiments=use_runner_v2",
    )
    options = parsed(cluster_pipeline_args(with_image, image=IMAGE))
    assert options.view_as(WorkerOptions).sdk_container_image == other_image
    assert options.view_as(DebugOptions).experiments == ["use_runner_v2"]


def test_cluster_arguments_without_image_or_project_are_refused():
    beam = beam_section("DataflowRunner", "--region=r", "--temp_location=gs://b/t")
    with pytest.raises(ConfigError, match="--project"):
        cluster_pipeline_args(beam, image=IMAGE)
    beam = beam_section("DataflowRunner", "--project=p", "--region=r", "--temp_location=gs://b/t")
    with pytest.raises(ConfigError, match="sdk_container_image"):
        cluster_pipeline_args(beam)


def test_cluster_arguments_of_portable_runners():
    docker = beam_section(
        "FlinkRunner",
        "--flink_master=jm:8081",
        "--flink_submit_uber_jar",
        "--environment_type=DOCKER",
    )
    portable = parsed(cluster_pipeline_args(docker, image=IMAGE)).view_as(PortableOptions)
    assert portable.environment_config == IMAGE

    # Given as "--flag value" pairs, as Beam also accepts them.
    spark = beam_section(
        "SparkRunner",
        "--job_endpoint",
        "spark-job-server:8099",
        "--environment_type",
        "EXTERNAL",
        "--environment_config",
        "localhost:50000",
    )
    portable = parsed(cluster_pipeline_args(spark, image=IMAGE)).view_as(PortableOptions)
    assert portable.job_endpoint == "spark-job-server:8099"
    assert portable.environment_config == "localhost:50000"

    loopback = beam_section("FlinkRunner", "--flink_master=jm:8081")
    with pytest.raises(ConfigError, match="environment_type"):
        cluster_pipeline_args(loopback, image=IMAGE)


def test_cluster_direct_runner_leaves_the_worker_count_to_the_pod():
    options = parsed(cluster_pipeline_args(beam_section("DirectRunner"), image=IMAGE))
    assert options.view_as(DirectOptions).direct_num_workers == 0
    assert options.view_as(DirectOptions).direct_running_mode == "multi_processing"
    fixed = beam_section("DirectRunner", direct_num_workers=4)
    assert parsed(cluster_pipeline_args(fixed)).view_as(DirectOptions).direct_num_workers == 4


def test_unsupported_runner_is_named():
    with pytest.raises(ConfigError, match="PrismRunner"):
        runner_args_from_options(["--runner=PrismRunner"])
