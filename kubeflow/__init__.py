"""Kubeflow Pipelines v2 / Vertex AI runner of activespec (see ``kubeflow/README.md``)."""
