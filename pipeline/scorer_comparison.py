"""``[model] kind = "both"``: the CNN's and label spreading's scores of one round, compared.

Both scorers write a ``PoolScores`` artifact (PoolScorer's records). The comparison joins
them by spectrum id and reports how often the predicted classes agree and how the two
sets of predicted positives (a spectrum whose predicted class is one of
``[sampling] positive_classes``, the candidate rule) overlap. ``scorer_comparison.csv``
in the round directory lists every spectrum with both predictions, for a look at where
they disagree and for the simulated campaign's true precision and recall of each.
"""

from __future__ import annotations

import csv
import glob
import pathlib
from collections.abc import Sequence

#: File of the round directory with one row per pool spectrum scored by both.
COMPARISON_FILENAME = "scorer_comparison.csv"
#: Its columns: the id, then each scorer's predicted class and positive-class probability.
SCORERS = ("cnn", "label_spreading")
COLUMNS = (
    "spectrum_id",
    "cnn_class",
    "label_spreading_class",
    "cnn_positive_probability",
    "label_spreading_positive_probability",
)


def read_predictions(scores_uri: str, class_names: Sequence[str], positive: Sequence[str]):
    """``spectrum_id -> (predicted class, summed probability of the positive classes)``
    for every record of a ``PoolScores`` artifact."""
    # TensorFlow reads the gzipped TFRecords; a round has loaded it already.
    import tensorflow as tf

    from components.pool_scorer.transforms import scores_file_pattern
    from components.uncertainty_sampler.records import parse_score_record, positive_score

    indices = [list(class_names).index(name) for name in positive]
    out = {}
    for path in sorted(glob.glob(scores_file_pattern(scores_uri))):
        for raw in tf.data.TFRecordDataset(path, compression_type="GZIP").as_numpy_iterator():
            record = parse_score_record(raw, len(class_names))
            out[record["spectrum_id"]] = (
                record["predicted_class"],
                positive_score(record, indices),
            )
    return out


def compare_scorers(
    cnn_uri: str,
    spreading_uri: str,
    class_names: Sequence[str],
    positive_classes: Sequence[str],
    out_csv: pathlib.Path | None = None,
) -> dict:
    """Agreement of the two scorers over the spectra both scored.

    Returns
    -------
    dict
        ``n`` (spectra scored by both), ``agreement`` (fraction with the same predicted
        class), ``positives`` (predicted positives of ``cnn``, of ``label_spreading``,
        of ``both`` and their Jaccard index ``jaccard``), and ``confusion`` (CNN class ->
        label spreading class -> count).
    """
    cnn = read_predictions(cnn_uri, class_names, positive_classes)
    spreading = read_predictions(spreading_uri, class_names, positive_classes)
    common = sorted(cnn.keys() & spreading.keys())
    positive = set(positive_classes)
    confusion = {a: {b: 0 for b in class_names} for a in class_names}
    agree = 0
    cnn_pos, ls_pos = set(), set()
    for spectrum_id in common:
        a, b = cnn[spectrum_id][0], spreading[spectrum_id][0]
        confusion[a][b] += 1
        agree += a == b
        if a in positive:
            cnn_pos.add(spectrum_id)
        if b in positive:
            ls_pos.add(spectrum_id)
    union = cnn_pos | ls_pos
    if out_csv is not None:
        with open(out_csv, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for spectrum_id in common:
                (a, pa), (b, pb) = cnn[spectrum_id], spreading[spectrum_id]
                writer.writerow([spectrum_id, a, b, f"{pa:.6g}", f"{pb:.6g}"])
    return {
        "n": len(common),
        "agreement": agree / len(common) if common else None,
        "positives": {
            "cnn": len(cnn_pos),
            "label_spreading": len(ls_pos),
            "both": len(cnn_pos & ls_pos),
            "jaccard": len(cnn_pos & ls_pos) / len(union) if union else None,
        },
        "confusion": confusion,
    }


def predicted_positives(comparison_csv: pathlib.Path, positive_classes: Sequence[str]) -> dict:
    """``scorer -> set of spectrum ids`` predicted positive, read from the round's CSV."""
    positive = set(positive_classes)
    out = {scorer: set() for scorer in SCORERS}
    with open(comparison_csv, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for scorer in SCORERS:
                if row[f"{scorer}_class"] in positive:
                    out[scorer].add(row["spectrum_id"])
    return out
