"""Runs the real TFX Trainer executor (GenericExecutor) with ``models.trainer_module`` on
simulated labelled spectra laid out as ExampleGen and SchemaGen would leave them."""

import dataclasses
import json
import os

import numpy as np
from tfx.components.trainer import executor as trainer_executor
from tfx.proto import trainer_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from models import trainer_module
from tests.models import simulated


@dataclasses.dataclass
class TrainerRun:
    serving_model_dir: str
    model_run_dir: str
    summary: dict
    eval_flux: np.ndarray
    eval_labels: np.ndarray
    eval_records: list


def write_labelled_inputs(root: str, *, n_train: int, n_eval: int, seed: int):
    """Examples (train/eval) and Schema artifacts under ``root``; returns them and the eval
    data."""
    rng = np.random.default_rng(seed)
    train_flux, train_labels = simulated.simulate_labelled(n_train, rng)
    eval_flux, eval_labels = simulated.simulate_labelled(n_eval, rng)
    eval_records = simulated.make_examples(eval_flux, eval_labels, prefix="eval")
    examples = simulated.examples_artifact(
        os.path.join(root, "examples"),
        {
            "train": simulated.make_examples(train_flux, train_labels, prefix="train"),
            "eval": eval_records,
        },
    )
    schema = simulated.schema_artifact(os.path.join(root, "schema"), simulated.contract_schema())
    return examples, schema, eval_flux, eval_labels, eval_records


def run_trainer(
    root: str,
    custom_config: dict,
    *,
    n_train: int = 600,
    n_eval: int = 200,
    seed: int = 0,
    train_steps: int = 0,
) -> TrainerRun:
    """Train through ``tfx.components.trainer.executor.GenericExecutor``."""
    examples, schema, eval_flux, eval_labels, eval_records = write_labelled_inputs(
        root, n_train=n_train, n_eval=n_eval, seed=seed
    )
    model = standard_artifacts.Model()
    model.uri = os.path.join(root, "model")
    model_run = standard_artifacts.ModelRun()
    model_run.uri = os.path.join(root, "model_run")
    exec_properties = {
        "train_args": proto_utils.proto_to_json(
            trainer_pb2.TrainArgs(splits=["train"], num_steps=train_steps)
        ),
        "eval_args": proto_utils.proto_to_json(trainer_pb2.EvalArgs(splits=["eval"])),
        "custom_config": json.dumps(custom_config),
        "run_fn": "models.trainer_module.run_fn",
    }
    trainer_executor.GenericExecutor().Do(
        {"examples": [examples], "schema": [schema]},
        {"model": [model], "model_run": [model_run]},
        exec_properties,
    )
    with open(os.path.join(model_run.uri, trainer_module.SUMMARY_FILE)) as handle:
        summary = json.load(handle)
    return TrainerRun(
        serving_model_dir=os.path.join(model.uri, "Format-Serving"),
        model_run_dir=model_run.uri,
        summary=summary,
        eval_flux=eval_flux,
        eval_labels=eval_labels,
        eval_records=eval_records,
    )
