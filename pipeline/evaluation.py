"""The Evaluator's TFMA configuration, and its output turned into plain per-class figures."""

from __future__ import annotations

import numpy as np
import tensorflow_model_analysis as tfma

from models import features


def read_evaluation(evaluation_uri: str, class_names: list[str]) -> dict:
    """Per-class precision, recall and F1, macro-F1, accuracy and the confusion matrix.

    Per-class figures come from the multi-class confusion matrix, i.e. the predicted
    class is the most probable one (argmax), which is what the catalogue reports.

    Parameters
    ----------
    evaluation_uri : str
        URI of the Evaluator's ``evaluation`` artifact.
    class_names : list of str
        Class names in label-index order.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``macro_f1``, ``per_class`` ({name: {"precision", "recall",
        "f1", "support"}}), ``confusion_matrix`` (rows: true class, columns: predicted,
        counts) and ``blessing_macro_f1`` (TFMA's macro-F1 at a 0.5 probability threshold
        per class, the figure the blessing threshold is applied to). Missing figures are
        None.
    """
    result = tfma.load_eval_result(evaluation_uri)
    overall = _overall_slice(result.slicing_metrics)
    out = {"n": None, "accuracy": None, "macro_f1": None, "blessing_macro_f1": None}
    for _output, by_subkey in overall.items():
        for _subkey, metrics in by_subkey.items():
            for name, value in metrics.items():
                number = _number(value)
                if name == "example_count":
                    out["n"] = int(number) if number is not None else None
                elif name == "sparse_categorical_accuracy":
                    out["accuracy"] = number
                elif name.endswith("f1_score") and "macro_average" in name:
                    out["blessing_macro_f1"] = number
    matrix = _confusion_matrix(result, len(class_names))
    out["confusion_matrix"] = matrix
    out["per_class"], out["macro_f1"] = per_class_metrics(matrix, class_names)
    return out


def per_class_metrics(matrix, class_names: list[str]) -> tuple[dict, float | None]:
    """Precision, recall, F1 and support per class, and their macro-F1, from a
    confusion matrix (rows true, columns predicted). Undefined ratios are None."""
    if matrix is None:
        empty = {"precision": None, "recall": None, "f1": None, "support": None}
        return {name: dict(empty) for name in class_names}, None
    cm = np.asarray(matrix, dtype=np.float64)
    per_class = {}
    f1s = []
    for i, name in enumerate(class_names):
        tp, predicted, actual = cm[i, i], cm[:, i].sum(), cm[i, :].sum()
        precision = tp / predicted if predicted else None
        recall = tp / actual if actual else None
        if precision is None or recall is None:
            f1 = None
        else:
            f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        per_class[name] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": int(actual),
        }
        # A class never predicted has F1 0 for the macro average (as scikit-learn does).
        f1s.append(f1 if f1 is not None else 0.0)
    return per_class, float(np.mean(f1s))


def _overall_slice(slicing_metrics):
    for slice_key, metrics in slicing_metrics:
        if not slice_key:
            return metrics
    return {}


def _number(value):
    if isinstance(value, dict):
        if "doubleValue" in value:
            return float(value["doubleValue"])
        if "value" in value:
            return float(value["value"])
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _confusion_matrix(result, n_classes: int) -> list[list[int]] | None:
    """Counts from TFMA's MultiClassConfusionMatrixPlot (true class x predicted class)."""
    for slice_key, plots in result.plots or []:
        if slice_key:
            continue
        for _output, by_subkey in plots.items():
            for _subkey, plot in by_subkey.items():
                entries = (plot.get("multiClassConfusionMatrixAtThresholds") or {}).get("matrices")
                if not entries:
                    continue
                matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
                for entry in entries[0].get("entries", []):
                    t = int(entry.get("actualClassId", 0))
                    p = int(entry.get("predictedClassId", 0))
                    if 0 <= t < n_classes and 0 <= p < n_classes:
                        matrix[t, p] += int(round(float(entry.get("numWeightedExamples", 0))))
                return matrix.tolist()
    return None


def eval_config(class_names: list[str], min_macro_f1: float) -> tfma.EvalConfig:
    """TFMA configuration: accuracy, the multi-class confusion matrix (per-class figures
    are derived from it) and the macro-averaged F1 that the blessing threshold applies to."""
    class_ids = list(range(len(class_names)))
    macro = tfma.MetricsSpec(
        metrics=[
            tfma.MetricConfig(
                class_name="F1Score",
                threshold=tfma.MetricThreshold(
                    value_threshold=tfma.GenericValueThreshold(lower_bound={"value": min_macro_f1})
                ),
            )
        ],
        # No binarize here: the threshold must apply to the macro average only, not to
        # each class's F1 (class_weights tell TFMA which classes to average).
        aggregate=tfma.AggregationOptions(
            macro_average=True, class_weights={i: 1.0 for i in class_ids}
        ),
    )
    overall = tfma.MetricsSpec(
        metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            tfma.MetricConfig(class_name="SparseCategoricalAccuracy"),
            tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
        ]
    )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key=features.LABEL,
                prediction_key="probabilities",
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[macro, overall],
    )
