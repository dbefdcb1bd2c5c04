"""The console of the pipeline commands: library logs in WORKDIR/logs, one line per step.

Fast: the routing is checked with a child process and loggers that write as TensorFlow,
absl and Beam do, and the commands with a fake round that logs the LocalDagRunner's
component records (the real round is ``tests/pipeline/test_console_e2e.py``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import pathlib
import re
import subprocess
import sys
import time
import warnings

import pytest
from absl import logging as absl_logging

from activespec import console as console_module
from activespec.console import (
    CACHED_EXECUTION,
    COMPONENT_FINISHED,
    COMPONENT_RUNNING,
    Console,
    format_elapsed,
    log_path_of,
    route_logs,
    stage_lines,
)
from activespec.constants import DEFAULT_CLASSES
from activespec.workdir import WorkDir
from activespec_cli import main
from tests.labels.round_files import synthetic_round

#: Written by the libraries' stand-ins: none may reach the console unless verbose.
CHILD_STDERR = "child-process-stderr: semi_persistent_directory: None"
CHILD_STDOUT = "child-process-stdout"
FD2 = "Unable to register cuDNN factory (C++ on fd 2)"
TF_WARNING = "tensorflow-logger-warning"
ABSL_WARNING = "absl-warning"
FUTURE_WARNING = "You are using a non-supported Python version"
LIBRARY_LINES = (CHILD_STDERR, CHILD_STDOUT, FD2, TF_WARNING, ABSL_WARNING, FUTURE_WARNING)


@contextlib.contextmanager
def tf_style_logger():
    """A logger with its own stderr handler, as TensorFlow's ``tf.get_logger()`` (made in
    the test: the stderr of a fixture's set-up is not the test's)."""
    logger = logging.getLogger("tensorflow")
    handler = logging.StreamHandler(sys.stderr)
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)


def _write_library_noise(tf_logger) -> None:
    code = f"import sys; print({CHILD_STDOUT!r}); print({CHILD_STDERR!r}, file=sys.stderr)"
    subprocess.run([sys.executable, "-c", code], check=True)
    os.write(2, (FD2 + "\n").encode())
    tf_logger.warning(TF_WARNING)
    absl_logging.warning(ABSL_WARNING)
    with warnings.catch_warnings():  # pytest's settings ignore FutureWarning
        warnings.simplefilter("always")
        warnings.warn(FUTURE_WARNING, FutureWarning, stacklevel=1)


def test_library_output_goes_to_the_log_file_not_the_console(tmp_path, capfd):
    with tf_style_logger() as tf_logger:
        root_handlers = logging.getLogger().handlers[:]
        tf_handlers = tf_logger.handlers[:]
        console = Console(sys.stdout)
        with route_logs(tmp_path, console) as path:
            _write_library_noise(tf_logger)
            console.line("the command's own line")
        out, err = capfd.readouterr()
        # Everything is back as it was.
        assert logging.getLogger().handlers == root_handlers
        assert tf_logger.handlers == tf_handlers
        os.write(2, b"after\n")
        tf_logger.warning("tf after")
        assert capfd.readouterr().err == "after\ntf after\n"

    assert path.parent == WorkDir(tmp_path).logs_dir
    assert out.splitlines() == [
        f"library logs (TensorFlow, TFX, Beam): {path}",
        "the command's own line",
    ]
    assert err == ""
    logged = path.read_text()
    for line in LIBRARY_LINES:
        assert line in logged, line


def test_verbose_keeps_the_library_output_on_the_console(tmp_path, capfd):
    with (
        tf_style_logger() as tf_logger,
        route_logs(tmp_path, Console(sys.stdout), verbose=True) as path,
    ):
        _write_library_noise(tf_logger)
    out, err = capfd.readouterr()

    assert path is None
    assert not WorkDir(tmp_path).logs_dir.exists()
    for line in LIBRARY_LINES:
        assert line in out + err, line


def _run_components(records) -> None:
    """Log as TFX's LocalDagRunner (and its launcher) do: absl INFO records."""
    for kind, node in records:
        if kind == "epoch":
            print(node)  # Keras' model.fit(verbose=2), on stdout
        elif kind == "cached":
            absl_logging.info(CACHED_EXECUTION, 7)
        else:
            absl_logging.info(COMPONENT_RUNNING if kind == "run" else COMPONENT_FINISHED, node)


def _step_of(node: str) -> str:
    return {"LabelledIngest": "ingest", "PoolIngest": "ingest"}.get(node, node.lower())


def test_one_line_per_step_with_its_reuse_and_epochs(tmp_path, capfd):
    console = Console(sys.stdout)
    nodes = ["LabelledIngest", "PoolIngest", "Trainer"]
    with route_logs(tmp_path, console) as path, stage_lines(nodes, _step_of):
        _run_components(
            [
                ("run", "LabelledIngest"),
                ("end", "LabelledIngest"),
                ("run", "PoolIngest"),
                ("cached", None),
                ("end", "PoolIngest"),
                ("run", "Trainer"),
                ("epoch", "Epoch 1/25"),
                ("epoch", "Epoch 2/25"),
                ("end", "Trainer"),
            ]
        )
    lines = capfd.readouterr().out.splitlines()

    assert lines[1:] == [
        "  ✓ ingest            0 s  (reused: PoolIngest)",
        "  ✓ trainer           0 s  (2/25 epochs)",
    ]
    assert "Component Trainer is finished." in path.read_text()


def test_a_failure_shows_its_step_and_the_log_keeps_its_traceback(tmp_path, capfd):
    console = Console(sys.stdout)
    with (
        pytest.raises(RuntimeError) as raised,
        route_logs(tmp_path, console),
        stage_lines(["Trainer"], _step_of),
    ):
        _run_components([("run", "Trainer")])
        raise RuntimeError("the model diverged")
    out, err = capfd.readouterr()

    path = log_path_of(raised.value)
    assert path is not None and "the model diverged" in path.read_text()
    assert "Traceback" in path.read_text()
    assert out.splitlines()[-1] == "  ✗ trainer           0 s  (failed)"
    assert err == ""


def test_steps_are_not_shown_without_routing(capfd):
    with stage_lines(["Trainer"], _step_of):
        _run_components([("run", "Trainer"), ("end", "Trainer")])
    assert "trainer" not in capfd.readouterr().out


def _busy(seconds: float) -> None:
    """Keep this process's CPU busy for ``seconds`` of wall time."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(1000))


def test_each_node_records_its_wall_time_and_cpu_use_without_a_console():
    before = time.time()
    with stage_lines(["Trainer", "Pusher", "PoolScorer"], _step_of) as usage:
        _run_components([("run", "Trainer")])
        cpu_before = time.process_time()
        _busy(0.3)
        busy_cpu = time.process_time() - cpu_before
        _run_components([("end", "Trainer"), ("run", "Pusher")])
        time.sleep(0.3)
        _run_components([("end", "Pusher"), ("run", "PoolScorer"), ("cached", None)])
        _run_components([("end", "PoolScorer")])

    assert set(usage) == {"Trainer", "Pusher"}  # the cached node did no work
    assert usage["Trainer"]["wall_s"] >= 0.3 and usage["Pusher"]["wall_s"] >= 0.3
    # (CPU seconds, not cores: other processes may share the machine's cores)
    assert usage["Trainer"]["cpu_s"] == pytest.approx(busy_cpu, abs=0.05)
    assert usage["Pusher"]["cpu_s"] < 0.05  # asleep
    # when each started, as Unix time (bench.scale places its memory samples by it)
    trainer, pusher = usage["Trainer"], usage["Pusher"]
    assert before - 0.01 <= trainer["started"] <= pusher["started"] <= time.time()
    assert pusher["started"] >= trainer["started"] + trainer["wall_s"] - 0.01


def test_a_long_step_shows_the_cores_it_kept_busy(tmp_path, capfd, monkeypatch):
    import activespec.console

    monkeypatch.setattr(activespec.console, "_MIN_SECONDS_FOR_CORES", 0.2)
    console = Console(sys.stdout)
    with route_logs(tmp_path, console), stage_lines(["Trainer"], _step_of):
        _run_components([("run", "Trainer")])
        _busy(0.3)
        _run_components([("end", "Trainer")])
    line = capfd.readouterr().out.splitlines()[-1]
    assert re.fullmatch(r"  ✓ trainer +0 s  \(\d\.\d cores\)", line), line


def test_elapsed_times():
    assert [format_elapsed(s) for s in (0.4, 42, 65, 3725)] == [
        "0 s",
        "42 s",
        "1 min 05 s",
        "1 h 02 min",
    ]


def test_console_falls_back_to_ascii_marks():
    class Ascii:
        encoding = "ascii"
        text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    stream = Ascii()
    Console(stream).step_done("train", 3)
    assert stream.text == "  ok train       " + "      3 s\n"


@pytest.mark.parametrize(
    ("template", "source"),
    [
        (COMPONENT_RUNNING, "orchestration/local/local_dag_runner.py"),
        (COMPONENT_FINISHED, "orchestration/local/local_dag_runner.py"),
        (CACHED_EXECUTION, "orchestration/portable/launcher.py"),
    ],
)
def test_the_recognised_records_are_those_tfx_logs(template, source):
    """The step lines rely on these log records of TFX (read without importing it)."""
    tfx_dir = pathlib.Path(importlib.util.find_spec("tfx").submodule_search_locations[0])
    assert repr(template) in (tfx_dir / source).read_text()


def test_every_node_of_a_round_belongs_to_a_step():
    from pipeline.local_runner import step_of

    steps = {
        node: step_of(node)
        for node in (
            "LabelledIngest",
            "PoolIngest",
            "LabelJoin",
            "LabelledSchema",
            "PoolStatisticsGen",
            "LabelledExampleValidator",
            "PoolValidationGate",
            "Tuner",
            "Trainer",
            "Evaluator",
            "Pusher",
            "PoolScorer",
            "UncertaintySampler",
        )
    }
    assert set(steps.values()) == {
        "ingest",
        "validate",
        "tune",
        "train",
        "evaluate",
        "score",
        "query",
    }


# --- the commands ---------------------------------------------------------------------


@pytest.fixture
def fake_round(monkeypatch):
    """A round that writes what the libraries write, logs the component records as the
    LocalDagRunner does (through run_round's hook), and writes the sampler's round folder."""
    import pipeline.campaign
    from pipeline.local_runner import step_of

    def run_round(workdir, config, *, round_index=None, labels_snapshot="", labels_digest=""):
        index = WorkDir(workdir).next_round_index() if round_index is None else round_index
        nodes = ["LabelledIngest", "PoolIngest", "Trainer", "PoolScorer", "UncertaintySampler"]
        with stage_lines(nodes, step_of):
            _write_library_noise(logging.getLogger("tensorflow"))
            for node in nodes:
                _run_components([("run", node), ("end", node)])
        synthetic_round(workdir, index, 3, 2)
        path = WorkDir(workdir).summary_path(index)
        summary = {
            **json.loads(path.read_text()),
            "elapsed_s": 1.0,
            "class_names": list(DEFAULT_CLASSES),
            "sampling": {
                "strategy": "entropy",
                "query_size": 3,
                "performance_sample_size": 2,
                "num_candidates": 4,
            },
        }
        path.write_text(json.dumps(summary))
        return summary

    monkeypatch.setattr(pipeline.campaign, "run_round", run_round)


@pytest.mark.parametrize(
    "command",
    [["round"], ["run", "--rounds", "1", "--oracle", "human"]],
    ids=["round", "run"],
)
def test_round_and_run_print_the_log_path_and_one_line_per_step(
    tmp_path, fake_round, capfd, command
):
    workdir = tmp_path / "campaign"
    assert main([command[0], "--workdir", str(workdir), *command[1:]]) in (0, 3)
    out, err = capfd.readouterr()

    (log,) = WorkDir(workdir).logs_dir.iterdir()
    assert f"library logs (TensorFlow, TFX, Beam): {log}" in out.splitlines()
    for step in ("ingest", "train", "score", "query"):
        assert any(line.startswith(f"  ✓ {step} ") for line in out.splitlines()), (step, out)
    for line in LIBRARY_LINES:
        assert line not in out + err, line
        assert line in log.read_text(), line


def test_round_json_keeps_stdout_for_the_json(tmp_path, fake_round, capfd):
    workdir = tmp_path / "campaign"
    assert main(["round", "--workdir", str(workdir), "--json"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out)["round"] == 0
    assert "library logs" in err and "  ✓ train " in err


def test_round_verbose_shows_the_library_output(tmp_path, fake_round, capfd):
    workdir = tmp_path / "campaign"
    assert main(["round", "--workdir", str(workdir), "--verbose"]) == 0
    out, err = capfd.readouterr()
    assert not WorkDir(workdir).logs_dir.exists()
    assert "  ✓ train " in out
    for line in LIBRARY_LINES:
        assert line in out + err, line


def test_a_failing_round_prints_its_error_and_the_log_path(tmp_path, monkeypatch, capfd):
    import pipeline.campaign

    def run_round(*args, **kwargs):
        try:
            raise ImportError("cannot import name 'X' from 'models'")
        except ImportError as err:
            raise ImportError("Could not import requested module path 'models.trainer'") from err

    monkeypatch.setattr(pipeline.campaign, "run_round", run_round)
    workdir = tmp_path / "campaign"
    assert main(["round", "--workdir", str(workdir)]) == 1
    err = capfd.readouterr().err

    (log,) = WorkDir(workdir).logs_dir.iterdir()
    assert err.splitlines() == [
        "activespec round: error: ImportError: Could not import requested module path "
        "'models.trainer'",
        "  caused by ImportError: cannot import name 'X' from 'models'",
        f"  the traceback and the libraries' logs: {log}",
    ]
    assert "Traceback" in log.read_text()
    assert console_module._ACTIVE is None
