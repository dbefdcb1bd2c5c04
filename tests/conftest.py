"""Session-wide test settings: Keras 2 for TFX, quiet TensorFlow, shared data paths."""

import faulthandler
import gc
import os
import pathlib

# TF Transform and the TFX Trainer expect Keras 2: must be set before TensorFlow is imported.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import pytest  # noqa: E402

DATA_DIR = pathlib.Path(__file__).parent / "data"
REAL_DIR = DATA_DIR / "real"


#: A directory for each worker's fatal-error dump (``<worker>.log``, every thread's stack),
#: when set. CI sets it and prints the stacks when a worker dies: on the terminal they
#: drown under the list of loaded extension modules, and an xdist worker's stderr is lost.
FAULT_LOG_DIR_ENV = "ACTIVESPEC_FAULT_LOG_DIR"


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    fault_dir = os.environ.get(FAULT_LOG_DIR_ENV)
    if fault_dir:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        path = pathlib.Path(fault_dir) / f"{worker}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        # After pytest's own faulthandler plugin, which points it at stderr; kept open
        # for the process's life, as faulthandler writes to it from a signal handler.
        config._activespec_fault_log = open(path, "w")  # noqa: SIM115
        faulthandler.enable(file=config._activespec_fault_log, all_threads=True)


@pytest.fixture(scope="session")
def real_dir() -> pathlib.Path:
    """Folder of the 50 real LAMOST and Ondřejov FITS files (see its ATTRIBUTION.md)."""
    return REAL_DIR


@pytest.fixture(autouse=True)
def _collect_garbage_after_each_test():
    """Collect each test's cyclic garbage (Keras models, TFX and Beam objects) when the
    test ends, while the state it was made with is still alive.

    Left to chance, a full collection runs their finalizers several test files later, in
    the middle of an unrelated test: twice (of about ten full xdist runs) that crashed a
    worker with a segmentation fault while "Garbage-collecting", inside matplotlib each
    time. A serial run of the whole suite with this collection after every test did not
    crash.
    """
    yield
    gc.collect()
