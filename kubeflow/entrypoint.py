"""The container command of every activespec task on Kubeflow Pipelines v2 and Vertex AI.

TFX runs each task as ``python -m tfx.orchestration.kubeflow.v2.container
.kubeflow_v2_run_executor``. That entry point recovers the Python class of every input and
output artifact from its KFP schema title: standard types from a table (``tfx.Examples``),
custom types by importing the title itself as ``<module>.<Class>``. The custom types of
activespec are titled ``activespec.<Class>`` (the ``namespace.Title`` form KFP requires)
but live in :mod:`components.artifact_types`, so this command first makes each title
importable, then hands over to TFX's entry point with the same arguments.
"""

from __future__ import annotations

import importlib
import os
import sys

# The Trainer and TF Transform need Keras 2; set before anything imports TensorFlow.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

#: The command the compiled pipeline gives every executor container.
COMMAND = ("python", "-m", "kubeflow.entrypoint")


def custom_artifact_types() -> list[type]:
    """The custom TFX artifact classes of activespec (see :mod:`components.artifact_types`)."""
    # TFX: only in the container (the compiler imports this module without it)
    from tfx.types import artifact

    from components import artifact_types

    return [
        value
        for value in vars(artifact_types).values()
        if isinstance(value, type)
        and issubclass(value, artifact.Artifact)
        and value.__module__ == artifact_types.__name__
    ]


def register_artifact_types() -> dict[str, type]:
    """Make every custom artifact type importable by its schema title.

    Returns
    -------
    dict
        Schema title -> artifact class, for the types registered.
    """
    registered = {}
    for cls in custom_artifact_types():
        module_name, _, class_name = cls.TYPE_NAME.rpartition(".")
        module = importlib.import_module(module_name)
        current = getattr(module, class_name, None)
        if current is not None and current is not cls:
            raise RuntimeError(
                f"{module_name}.{class_name} exists and is not the artifact type {cls.TYPE_NAME}"
            )
        setattr(module, class_name, cls)
        registered[cls.TYPE_NAME] = cls
    return registered


def main(argv: list[str] | None = None) -> None:
    """Register the artifact types, then run TFX's Kubeflow V2 executor entry point."""
    # TFX: only in the container (the compiler imports this module without it)
    from absl import app
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

    register_artifact_types()
    app.run(
        kubeflow_v2_run_executor.main,
        argv=[sys.argv[0], *(sys.argv[1:] if argv is None else argv)],
        flags_parser=kubeflow_v2_run_executor._parse_flags,
    )


if __name__ == "__main__":
    main()
