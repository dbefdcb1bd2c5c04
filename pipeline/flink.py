"""Apache Flink for the Beam steps: versions, the job-server jar, a local Flink cluster.

Beam's Python ``FlinkRunner`` translates a pipeline in a Java *job server*
(``org.apache.beam:beam-runners-flink-<FLINK_MINOR>-job-server`` at the Beam version of
the lock) that submits it to a Flink cluster; the Python code of the components runs in
Beam SDK workers beside the task managers (``EXTERNAL`` environment: a worker pool).
activespec never lets Beam download the jar: ``tools/fetch-flink-job-server`` fetches it
with Maven into a cache (:func:`maven_cache`) and the arguments name it with
``--flink_job_server_jar``.

:class:`LocalFlinkCluster` starts a real standalone Flink session cluster on 127.0.0.1
(one JobManager and N TaskManagers, from Flink's own Maven artefacts, see
``tools/flink-cluster/pom.xml``) and a Beam worker pool, with bounded start-up; the
tests and ``python -m bench flink`` use it.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

from activespec.errors import ConfigError
from pipeline.beam_runners import FlinkRunnerArgs, runner_args_from_options

#: The Flink minor version of Beam's job server (one of Beam 2.61's published 1.17-1.19).
FLINK_MINOR = "1.18"
#: The Flink release of the local cluster's jars: the job server's minor version.
FLINK_VERSION = "1.18.1"
#: The job server must match the Python SDK that submits (the lock's apache-beam).
BEAM_VERSION = importlib.metadata.version("apache-beam")
#: Maven coordinates of the job-server jar.
JOB_SERVER_ARTIFACT = f"org.apache.beam:beam-runners-flink-{FLINK_MINOR}-job-server:{BEAM_VERSION}"

#: Overrides the Maven cache folder (jars, local repository, Flink cluster jars).
MAVEN_CACHE_ENV = "ACTIVESPEC_MAVEN_CACHE"
#: A job-server jar to use instead of the cached one (e.g. an internal mirror's copy).
JOB_SERVER_JAR_ENV = "ACTIVESPEC_FLINK_JOB_SERVER_JAR"

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
FETCH_SCRIPT = REPO_ROOT / "tools" / "fetch-flink-job-server"

#: Seconds allowed to the Maven fetch of the jars (the job-server jar bundles Flink).
FETCH_TIMEOUT_S = 900
#: Seconds a Flink REST endpoint, a job server or a worker pool has to answer a probe.
PROBE_TIMEOUT_S = 10
#: Seconds the local cluster has to register every task manager, and the worker pool to listen.
STARTUP_TIMEOUT_S = 120
#: Seconds each process of the local cluster has to exit before it is killed.
STOP_TIMEOUT_S = 20
#: Beam argument of every Flink job: the default pickler lost module globals on remote
#: SDK workers in an earlier test of this project; cloudpickle keeps them.
PICKLE_ARGS = ("--pickle_library=cloudpickle",)
#: What Flink's own scripts add on Java 17 (``env.java.opts.all`` of Flink 1.18's
#: flink-conf.yaml): Kryo and the RPC system reflect into these JDK packages.
JAVA17_OPTS = (
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    *(
        f"--add-opens=java.base/{package}=ALL-UNNAMED"
        for package in (
            "java.lang",
            "java.net",
            "java.io",
            "java.nio",
            "sun.nio.ch",
            "java.lang.reflect",
            "java.text",
            "java.time",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "java.util.concurrent.locks",
        )
    ),
)
#: Beam arguments giving the job server's JVM the same options: it is a Flink client.
JOB_SERVER_JVM_ARGS = tuple(f"--job_server_jvm_properties={option}" for option in JAVA17_OPTS)


def maven_cache() -> pathlib.Path:
    """``$ACTIVESPEC_MAVEN_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/activespec/maven``."""
    if os.environ.get(MAVEN_CACHE_ENV):
        return pathlib.Path(os.environ[MAVEN_CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "activespec" / "maven"


def cached_job_server_jar() -> pathlib.Path:
    """Where ``tools/fetch-flink-job-server`` puts the job-server jar."""
    _, artifact, version = JOB_SERVER_ARTIFACT.split(":")
    return maven_cache() / "jars" / f"{artifact}-{version}.jar"


def default_job_server_jar() -> pathlib.Path:
    """The jar a configuration without one uses: ``$ACTIVESPEC_FLINK_JOB_SERVER_JAR``,
    else the cached one."""
    given = os.environ.get(JOB_SERVER_JAR_ENV)
    return pathlib.Path(given) if given else cached_job_server_jar()


def cluster_lib_dir() -> pathlib.Path:
    """Where ``tools/fetch-flink-job-server --cluster`` puts the Flink cluster's jars."""
    return maven_cache() / f"flink-{FLINK_VERSION}" / "lib"


def job_server_jar(path: str = "", *, fetch: bool = False) -> str:
    """The job-server jar: ``path``, ``$ACTIVESPEC_FLINK_JOB_SERVER_JAR`` or the cached one.

    Parameters
    ----------
    path : str, optional
        A jar given in the configuration; it must exist.
    fetch : bool
        Run ``tools/fetch-flink-job-server`` (bounded by :data:`FETCH_TIMEOUT_S`) when the
        cached jar is missing.

    Returns
    -------
    str

    Raises
    ------
    activespec.errors.ConfigError
        When there is no jar, with the reason the fetch gave.
    """
    given = path or os.environ.get(JOB_SERVER_JAR_ENV, "")
    if given:
        if not os.path.isfile(given):
            raise ConfigError(f"FlinkRunner: the job-server jar {given} does not exist")
        return given
    jar = cached_job_server_jar()
    if jar.is_file():
        return str(jar)
    reason = f"{jar} is missing"
    if fetch:
        ok, reason = _run_fetch()
        if ok and jar.is_file():
            return str(jar)
    raise ConfigError(
        f"FlinkRunner: no job-server jar {JOB_SERVER_ARTIFACT}: {reason}; run "
        f"tools/fetch-flink-job-server or set {JOB_SERVER_JAR_ENV}"
    )


def _run_fetch(*options: str) -> tuple[bool, str]:
    """Run the fetch script; (success, its last line on stderr)."""
    try:
        done = subprocess.run(
            [str(FETCH_SCRIPT), *options],
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT_S,
            env={**os.environ, "PYTHON": sys.executable},
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"tools/fetch-flink-job-server took more than {FETCH_TIMEOUT_S} s"
    lines = done.stderr.strip().splitlines()
    return done.returncode == 0, lines[-1] if lines else f"exit status {done.returncode}"


def check_flink_master(address: str, timeout: float = PROBE_TIMEOUT_S) -> dict:
    """Flink's ``/overview`` at ``address`` (``host:port``), or a one-line ConfigError."""
    # urllib: only when probing (configs and the CLI import this module)
    import urllib.request

    url = f"http://{address}/overview"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read())
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise ConfigError(
            f"FlinkRunner: no Flink cluster answers at {url} within {timeout:g} s ({reason})"
        ) from None


def check_listening(address: str, what: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Raise a one-line ConfigError unless something accepts TCP connections at ``host:port``."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "localhost", int(port)), timeout=timeout):
            return
    except (OSError, ValueError) as err:
        raise ConfigError(f"FlinkRunner: no {what} listens at {address} ({err})") from None


def preflight(args: list[str], timeout: float = PROBE_TIMEOUT_S) -> None:
    """Check, in seconds, what a FlinkRunner job needs; nothing for other runners.

    The jar must exist, Java must be on ``PATH`` (Beam starts the job server with it),
    the Flink REST endpoint (or the job server) must answer, and an ``EXTERNAL`` worker
    pool must listen when the cluster is on this machine (elsewhere it listens beside
    the task managers, out of reach). Without these checks Beam waits minutes for an
    absent cluster before failing with a Java stack trace.

    Raises
    ------
    activespec.errors.ConfigError
        With a one-line reason.
    """
    # Beam: only to read the arguments (this module loads without it)
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    if PipelineOptions(args).view_as(StandardOptions).runner != "FlinkRunner":
        return
    settings = runner_args_from_options(args)
    settings.validate()
    if settings.job_endpoint:
        check_listening(settings.job_endpoint, "Beam job server", timeout)
        return
    job_server_jar(settings.job_server_jar)
    if not settings.submit_uber_jar and shutil.which("java") is None:
        raise ConfigError("FlinkRunner: java is not on PATH; Beam starts the job server with it")
    if settings.flink_master.startswith("["):  # [local]: Flink embedded in the job server
        return
    check_flink_master(settings.flink_master, timeout)
    host = settings.flink_master.rpartition(":")[0]
    if settings.environment_type == "EXTERNAL" and _is_loopback(host):
        check_listening(settings.environment_config, "Beam worker pool", timeout)


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "") or host.startswith("127.")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalFlinkCluster:
    """A standalone Flink session cluster and a Beam worker pool on 127.0.0.1.

    One JobManager and ``task_managers`` TaskManagers (``slots`` task slots each) run
    from the jars of Flink's own Maven artefacts (``tools/fetch-flink-job-server
    --cluster``, run when they are missing), each in its own JVM as Flink's scripts
    start them; the Python SDK workers are started by one Beam worker pool
    (``EXTERNAL`` environment, no Docker). Use as a context manager; logs stay in
    ``workdir/logs``.

    Parameters
    ----------
    workdir : path-like
        Configuration, logs and Flink's temporary files.
    task_managers, slots : int
        TaskManagers and slots per TaskManager.
    task_manager_memory : str
        ``taskmanager.memory.process.size`` of each TaskManager.
    startup_timeout : float
        Seconds for every TaskManager to register and the worker pool to listen.

    Raises
    ------
    activespec.errors.ConfigError
        From :meth:`start`, when Java or the jars are missing or the cluster does not come
        up in time (with the end of its logs).
    """

    def __init__(
        self,
        workdir,
        *,
        task_managers: int = 2,
        slots: int = 1,
        task_manager_memory: str = "1536m",
        startup_timeout: float = STARTUP_TIMEOUT_S,
    ):
        self.workdir = pathlib.Path(workdir)
        self.logs_dir = self.workdir / "logs"
        self.task_managers = task_managers
        self.slots = slots
        self.task_manager_memory = task_manager_memory
        self.startup_timeout = startup_timeout
        self.rest_port = 0
        self.worker_pool_port = 0
        self._processes: list[tuple[str, subprocess.Popen]] = []

    @property
    def flink_master(self) -> str:
        """The REST endpoint, ``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.rest_port}"

    @property
    def worker_pool(self) -> str:
        """The worker pool's address, ``localhost:PORT``."""
        return f"localhost:{self.worker_pool_port}"

    def pipeline_args(self, jar: str, parallelism: int = 0) -> list[str]:
        """Beam arguments of a job on this cluster with the worker pool."""
        return FlinkRunnerArgs(
            flink_master=self.flink_master,
            environment_type="EXTERNAL",
            environment_config=self.worker_pool,
            parallelism=parallelism,
            job_server_jar=jar,
            extra_args=(f"--flink_version={FLINK_MINOR}", *PICKLE_ARGS, *JOB_SERVER_JVM_ARGS),
        ).to_args()

    def start(self) -> LocalFlinkCluster:
        if shutil.which("java") is None:
            raise ConfigError("LocalFlinkCluster: java is not on PATH")
        lib = cluster_lib_dir()
        if not (lib / ".complete").is_file():
            ok, reason = _run_fetch("--cluster")
            if not (lib / ".complete").is_file():
                raise ConfigError(f"LocalFlinkCluster: no Flink {FLINK_VERSION} jars: {reason}")
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        conf = self._write_conf()
        classpath = str(lib / "*")
        try:
            self._start_java(
                "jobmanager",
                classpath,
                conf,
                "GET_JM_RESOURCE_PARAMS",
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
            )
            for index in range(self.task_managers):
                self._start_java(
                    f"taskmanager-{index}",
                    classpath,
                    conf,
                    "GET_TM_RESOURCE_PARAMS",
                    "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                )
            self._start_worker_pool()
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _write_conf(self) -> pathlib.Path:
        conf = self.workdir / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        self.rest_port, self.worker_pool_port = free_port(), free_port()
        settings = {
            "jobmanager.rpc.address": "127.0.0.1",
            "jobmanager.rpc.port": free_port(),
            "jobmanager.bind-host": "127.0.0.1",
            "jobmanager.memory.process.size": "1024m",
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
            "rest.port": self.rest_port,
            "taskmanager.host": "127.0.0.1",
            "taskmanager.bind-host": "127.0.0.1",
            "taskmanager.numberOfTaskSlots": self.slots,
            "taskmanager.memory.process.size": self.task_manager_memory,
            # Beam's operators hold their data on the heap, not in Flink's managed memory.
            "taskmanager.memory.managed.fraction": 0.1,
            "parallelism.default": 1,
            "io.tmp.dirs": str(self.workdir / "tmp"),
            "web.tmpdir": str(self.workdir / "tmp"),
        }
        (self.workdir / "tmp").mkdir(exist_ok=True)
        (conf / "flink-conf.yaml").write_text(
            "".join(f"{key}: {value}\n" for key, value in settings.items()), encoding="utf-8"
        )
        (conf / "log4j.properties").write_text(_LOG4J, encoding="utf-8")
        return conf

    def _start_java(self, name, classpath, conf, resource_query, main_class) -> None:
        # The JVM sizes and memory settings Flink's scripts compute (BashJavaUtils).
        query = subprocess.run(
            ["java", "-cp", classpath, "org.apache.flink.runtime.util.bash.BashJavaUtils"]
            + [resource_query, "--configDir", str(conf)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        results = [
            line.split(":", 1)[1]
            for line in query.stdout.splitlines()
            if line.startswith("BASH_JAVA_UTILS_EXEC_RESULT:")
        ]
        if query.returncode != 0 or len(results) != 2:
            raise ConfigError(
                f"LocalFlinkCluster: cannot size the {name}: {query.stderr.strip()[-300:]}"
            )
        jvm_options, dynamic = results[0].split(), results[1].split()
        log = self.logs_dir / f"{name}.log"
        command = [
            "java",
            *jvm_options,
            *JAVA17_OPTS,
            f"-Dlog.file={log}",
            f"-Dlog4j.configurationFile=file:{conf / 'log4j.properties'}",
            "-cp",
            classpath,
            main_class,
            "--configDir",
            str(conf),
            *dynamic,
        ]
        self._spawn(name, command, os.environ)

    def _start_worker_pool(self) -> None:
        # The pool starts each SDK worker as `python -c ...` from PATH: this interpreter
        # first, with the project importable and TensorFlow's settings.
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
        )
        env.setdefault("TF_USE_LEGACY_KERAS", "1")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env.setdefault("CUDA_VISIBLE_DEVICES", "")
        command = [
            sys.executable,
            "-m",
            "apache_beam.runners.worker.worker_pool_main",
            f"--service_port={self.worker_pool_port}",
        ]
        self._spawn("worker-pool", command, env)

    def _spawn(self, name: str, command: list[str], env) -> None:
        with open(self.logs_dir / f"{name}.out", "ab") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.workdir,
                start_new_session=True,  # Ctrl-C in a test run reaches the stop, not them
            )
        self._processes.append((name, process))

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        overview: dict = {}
        while time.monotonic() < deadline:
            dead = [name for name, process in self._processes if process.poll() is not None]
            if dead:
                raise ConfigError(
                    f"LocalFlinkCluster: {', '.join(dead)} exited at start-up; "
                    f"logs in {self.logs_dir}:\n{self.log_tail()}"
                )
            with contextlib.suppress(ConfigError):
                overview = check_flink_master(self.flink_master, timeout=2)
                # A TaskManager counts once registered, its slots a moment later.
                slots = self.task_managers * self.slots
                if overview.get("taskmanagers") == self.task_managers and (
                    overview.get("slots-total") == slots
                ):
                    check_listening(self.worker_pool, "Beam worker pool", timeout=2)
                    return
            time.sleep(0.5)
        raise ConfigError(
            f"LocalFlinkCluster: not ready after {self.startup_timeout:g} s "
            f"(overview {overview or 'unreachable'}); logs in {self.logs_dir}:\n{self.log_tail()}"
        )

    def submit_jar(
        self, jar, *args: str, parallelism: int = 1, timeout: float = STARTUP_TIMEOUT_S
    ) -> str:
        """Run a Java Flink job (its jar's ``Main-Class``) with Flink's own client, as
        ``flink run -m``; returns the client's output.

        Raises
        ------
        activespec.errors.ConfigError
            When the job fails or outlasts ``timeout`` seconds, with the client's last lines.
        """
        conf = self.workdir / "conf"
        command = [
            "java",
            *JAVA17_OPTS,
            f"-Dlog.file={self.logs_dir / 'client.log'}",
            f"-Dlog4j.configurationFile=file:{conf / 'log4j.properties'}",
            "-cp",
            str(cluster_lib_dir() / "*"),
            "org.apache.flink.client.cli.CliFrontend",
            "run",
            "-m",
            self.flink_master,
            "-p",
            str(parallelism),
            str(jar),
            *args,
        ]
        env = {**os.environ, "FLINK_CONF_DIR": str(conf)}
        try:
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise ConfigError(f"LocalFlinkCluster: {jar} ran longer than {timeout:g} s") from None
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise ConfigError(f"LocalFlinkCluster: {jar} failed:\n{tail}")
        return done.stdout

    def alive(self) -> bool:
        """Whether every process of the cluster still runs."""
        return bool(self._processes) and all(p.poll() is None for _, p in self._processes)

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of every log, for failure messages."""
        parts = []
        for path in sorted(self.logs_dir.glob("*")):
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()
            if text:
                parts.append(f"--- {path.name}\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def stop(self) -> None:
        """Terminate every process (the worker pool's SDK workers with it), then kill."""
        for _, process in self._processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
        for _, process in self._processes:
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, 9)
                process.wait(timeout=STOP_TIMEOUT_S)
        self._processes = []

    def __enter__(self) -> LocalFlinkCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_LOG4J = """\
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.fileName = ${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
"""


def main(argv: list[str] | None = None) -> int:
    """``python -m pipeline.flink``: run a local cluster until Ctrl-C, printing its ``[beam]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m pipeline.flink",
        description="Start a local Flink cluster and Beam worker pool for [beam] runner = "
        '"FlinkRunner" (docs/cluster.md); stop it with Ctrl-C.',
    )
    parser.add_argument("--workdir", type=pathlib.Path, default=pathlib.Path("flink-cluster"))
    parser.add_argument("--task-managers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=1, help="task slots per TaskManager")
    args = parser.parse_args(argv)
    try:
        cluster = LocalFlinkCluster(
            args.workdir, task_managers=args.task_managers, slots=args.slots
        ).start()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        "Flink is up; add to the round's config:\n\n[beam]\n"
        'runner = "FlinkRunner"\n'
        f'flink_master = "{cluster.flink_master}"\n'
        f"flink_parallelism = {args.task_managers * args.slots}\n"
        'environment_type = "EXTERNAL"\n'
        f'environment_config = "{cluster.worker_pool}"\n\n'
        f"Logs in {cluster.logs_dir}; Ctrl-C stops the cluster.",
        flush=True,
    )
    try:
        while cluster.alive():
            time.sleep(1)
        print(f"a cluster process exited; logs in {cluster.logs_dir}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
