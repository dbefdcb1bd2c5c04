"""Distribution strategies: selection, errors, and a real two-replica MirroredStrategy."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
import tensorflow as tf

from activespec import errors
from models import strategy

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_default_and_one_device_on_a_cpu_only_host():
    default = strategy.make_strategy("default")
    assert default.num_replicas_in_sync == 1
    assert default is tf.distribute.get_strategy()
    one = strategy.make_strategy("one_device")
    assert isinstance(one, tf.distribute.OneDeviceStrategy)
    assert one.extended.worker_devices[0].endswith("CPU:0")


def test_auto_without_accelerators_is_the_default_strategy(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    assert strategy.make_strategy("auto") is tf.distribute.get_strategy()


def test_tpu_without_a_name_is_a_clear_config_error(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    with pytest.raises(errors.ConfigError, match="no TPU named"):
        strategy.make_strategy("tpu")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "horovod"},
        {"kind": "mirrored", "logical_cpus": -2},
        {"kind": "tpu", "tpu_address": 5},
    ],
)
def test_invalid_requests_raise_config_error(kwargs):
    with pytest.raises(errors.ConfigError):
        strategy.make_strategy(**kwargs)


def test_strategy_config_from_dict():
    config = strategy.StrategyConfig.from_dict(
        {"kind": "mirrored", "tpu_address": "", "logical_cpus": 0}
    )
    # Configuration files write "" and 0 for "not set".
    assert config == strategy.StrategyConfig(kind="mirrored")
    assert strategy.StrategyConfig.from_dict(None).kind == "auto"
    with pytest.raises(errors.ConfigError, match="unknown strategy config key"):
        strategy.StrategyConfig.from_dict({"kind": "auto", "replicas": 4})


def test_splitting_the_cpu_after_initialisation_is_refused():
    existing = len(tf.config.list_logical_devices("CPU"))  # initialises the devices
    with pytest.raises(strategy.DevicesInitialisedError, match="already initialised"):
        strategy.split_cpu(existing + 1)


def test_mirrored_strategy_over_two_logical_cpus_trains(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    completed = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "models" / "mirrored_cpu_run.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, completed.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT ") :])

    assert result["strategy"] == "MirroredStrategy"
    assert result["replicas"] == 2
    assert [device.split("/")[-1] for device in result["devices"]] == [
        "device:CPU:0",
        "device:CPU:1",
    ]
    assert result["resplit_error"] == "devices-initialised"

    summary = result["trainer_summary"]
    assert summary["strategy"] == "MirroredStrategy"
    assert summary["replicas"] == 2
    assert summary["global_batch_size"] == 64
    assert summary["strategy_note"] == ""
    assert summary["epochs_run"] == 2
    losses = summary["history"]["loss"] + summary["history"]["val_loss"]
    assert all(0 < loss < 5 for loss in losses)  # finite and sane
    assert result["serving_model_exists"]
