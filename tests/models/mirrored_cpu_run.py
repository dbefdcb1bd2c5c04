"""Run in a fresh process by test_strategy.py: MirroredStrategy over two logical CPUs.

Splitting the CPU into logical devices only works before TensorFlow initialises its
devices, so this cannot share a process with other tests. Prints one JSON line.
"""

import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"

import json  # noqa: E402


def main(work_dir: str) -> dict:
    from models import strategy
    from tests.models import trainer_harness

    mirrored = strategy.make_strategy("mirrored", logical_cpus=2)
    result = {
        "replicas": mirrored.num_replicas_in_sync,
        "strategy": type(mirrored).__name__,
        "devices": list(mirrored.extended.worker_devices),
    }
    # The Trainer module's run_fn through the TFX executor trains the published CNN under
    # the same request (repeating it later in the process is harmless).
    run = trainer_harness.run_trainer(
        work_dir,
        {
            "model": {"batch_size": 32, "max_epochs": 2},
            "distribution": {"kind": "mirrored", "logical_cpus": 2},
        },
        n_train=192,
        n_eval=64,
    )
    result["trainer_summary"] = run.summary
    result["serving_model_exists"] = os.path.exists(
        os.path.join(run.serving_model_dir, "saved_model.pb")
    )
    # A different split is refused once the devices exist.
    try:
        strategy.split_cpu(3)
        result["resplit_error"] = None
    except strategy.DevicesInitialisedError as error:
        result["resplit_error"] = error.code
    return result


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    print("RESULT " + json.dumps(main(sys.argv[1])))
