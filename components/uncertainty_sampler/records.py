"""Score records: parsing the scored pool, ranking keys, and the CSV / JSON output rows.

A score record is a plain dict keyed by :mod:`components.score_features` names, so that
Beam encodes it with its fast primitive coder on every runner.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Sequence

import numpy as np

from activespec.errors import ActivespecError
from activespec.workdir import probability_column
from components import score_features as sf

#: Metadata columns of every output row, in order.
METADATA_COLUMNS = (sf.SPECTRUM_ID, sf.DESIGNATION, sf.RA, sf.DEC, sf.SNR, sf.SURVEY, sf.SOURCE)
UNCERTAINTY_COLUMNS = (sf.ENTROPY, sf.MARGIN, sf.LEAST_CONFIDENCE)
ROLE = "role"
RANK = "rank"
#: Extra columns of ``candidates.csv``: whether a row is a model prediction or a find
#: confirmed by a label, and that label (empty for predictions).
STATUS = "status"
CONFIRMED_LABEL = "confirmed_label"
CANDIDATE_COLUMNS = (STATUS, CONFIRMED_LABEL)
#: Values of :data:`STATUS`. A labelled positive stays in the list: a discovery tool
#: keeps its finds (they leave the pool to be queried, not the catalogue).
STATUS_PREDICTED = "predicted"
STATUS_CONFIRMED = "confirmed"
#: Extra column of the query: why a spectrum is in it, the strategy's name or
#: :data:`REASON_LOST_CANDIDATE` (listed by the previous round, now predicted negative).
QUERY_REASON = "query_reason"
REASON_LOST_CANDIDATE = "lost-candidate"
#: :data:`QUERY_REASON` of a spectrum chosen for its novelty (``novelty_fraction``).
REASON_NOVELTY = "novelty"


class ScoreRecordError(ActivespecError):
    """A scored-pool record lacks a feature or disagrees with the configured classes."""

    code = "bad-score-record"


def parse_score_record(serialized: bytes, n_classes: int, extra_scores: Sequence[str] = ()) -> dict:
    """Decode one serialized ``tf.train.Example`` of the scored pool.

    Parameters
    ----------
    serialized : bytes
    n_classes : int
        Expected length of the probability vector.
    extra_scores : sequence of str
        Optional scores the sampling strategy needs (``bald``: a float, ``embedding``: a
        tuple of floats), see :data:`components.score_features.EXTRA_SCORES`; others are
        not decoded.

    Returns
    -------
    dict
        Keys of :mod:`components.score_features`; strings decoded, floats as Python floats
        (NaN when a coordinate or S/N is unknown), ``probabilities`` a tuple.

    Raises
    ------
    ScoreRecordError
        If an identifier, the probabilities, an uncertainty measure or a requested extra
        score is missing, or the number of probabilities differs from ``n_classes``.
    """
    # TensorFlow: only to parse records; the round files' row format loads without it
    import tensorflow as tf

    feature = tf.train.Example.FromString(serialized).features.feature

    def text(key: str, required: bool = False) -> str:
        values = feature[key].bytes_list.value if key in feature else []
        if not values:
            if required:
                raise ScoreRecordError(f"score record without {key!r}")
            return ""
        return values[0].decode("utf-8")

    def floats(key: str) -> list[float]:
        return list(feature[key].float_list.value) if key in feature else []

    spectrum_id = text(sf.SPECTRUM_ID, required=True)

    def number(key: str, required: bool = False) -> float:
        values = floats(key)
        if not values:
            if required:
                raise ScoreRecordError(f"score record {spectrum_id!r} without {key!r}")
            return math.nan
        return float(values[0])

    probabilities = tuple(floats(sf.PROBABILITIES))
    if len(probabilities) != n_classes:
        raise ScoreRecordError(
            f"score record {spectrum_id!r} has {len(probabilities)} probabilities but "
            f"{n_classes} class names are configured"
        )
    labels = feature[sf.PREDICTED_LABEL].int64_list.value if sf.PREDICTED_LABEL in feature else []
    extras = {}
    for key in extra_scores:
        values = floats(key)
        if not values:
            if key == sf.NOVELTY:
                raise ScoreRecordError(
                    f"score record {spectrum_id!r} has no {key!r}: novelty_fraction > 0 "
                    "needs the NoveltyScorer's scores (the pipeline's [novelty] enabled)"
                )
            raise ScoreRecordError(
                f"score record {spectrum_id!r} has no {key!r}: the sampling strategy needs "
                f"it, so the pool must be scored with PoolScorer(extra_scores=[{key!r}]) "
                "(the pipeline does so for the strategy it is configured with)"
            )
        extras[key] = tuple(values) if key == sf.EMBEDDING else float(values[0])
    return {
        sf.SPECTRUM_ID: spectrum_id,
        sf.DESIGNATION: text(sf.DESIGNATION),
        sf.RA: number(sf.RA),
        sf.DEC: number(sf.DEC),
        sf.SNR: number(sf.SNR),
        sf.SURVEY: text(sf.SURVEY),
        sf.LAYOUT: text(sf.LAYOUT),
        sf.SOURCE: text(sf.SOURCE),
        sf.PROBABILITIES: probabilities,
        sf.PREDICTED_LABEL: int(labels[0]) if labels else -1,
        sf.PREDICTED_CLASS: text(sf.PREDICTED_CLASS, required=True),
        sf.ENTROPY: number(sf.ENTROPY, required=True),
        sf.MARGIN: number(sf.MARGIN, required=True),
        sf.LEAST_CONFIDENCE: number(sf.LEAST_CONFIDENCE, required=True),
        **extras,
    }


def query_sort_key(record: dict, strategy: str) -> tuple[float, str]:
    """Ascending sort key: most uncertain first, ties broken by spectrum id.

    Entropy, least confidence and BALD rank descending, margin ascending; a NaN measure
    ranks last.
    """
    value = record[strategy]
    if math.isnan(value):
        primary = math.inf
    elif strategy == sf.MARGIN:
        primary = value
    else:
        primary = -value
    return (primary, record[sf.SPECTRUM_ID])


def sample_sort_key(record: dict, seed: int, round_index: int, salt: str = "") -> tuple[int, str]:
    """A keyed hash of (salt, seed, round, id): the n smallest form a uniform random sample.

    Independent of the order, sharding and runner, so the sample is reproducible; a new
    round (or seed) gives an independent sample, and so does another ``salt`` (one per
    sample, the performance sample's being empty).
    """
    prefix = f"{salt}\0" if salt else ""
    key = f"{prefix}{seed}\0{round_index}\0{record[sf.SPECTRUM_ID]}".encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return (int.from_bytes(digest, "big"), record[sf.SPECTRUM_ID])


def positive_score(record: dict, positive_indices: Sequence[int]) -> float:
    """The summed probability of the positive classes, ``s``."""
    probabilities = record[sf.PROBABILITIES]
    return float(sum(probabilities[i] for i in positive_indices))


def csv_columns(
    class_names: Sequence[str], *, with_role: bool, extra: Sequence[str] = ()
) -> list[str]:
    """Column names of the output CSV files; one ``p_<class>`` column per class, then
    the ``extra`` columns (e.g. :data:`RECALL_COLUMNS`)."""
    columns = [ROLE, RANK] if with_role else []
    columns += [*METADATA_COLUMNS, sf.PREDICTED_CLASS]
    columns += [probability_column(name) for name in class_names]
    return columns + list(UNCERTAINTY_COLUMNS) + list(extra)


def csv_row(
    record: dict, *, role: str | None = None, rank: int | None = None, extra: Sequence[str] = ()
) -> list[str]:
    """Values of one CSV row in :func:`csv_columns` order (NaN as an empty cell)."""
    values = [role, rank] if role is not None else []
    values += [record[key] for key in METADATA_COLUMNS]
    values.append(record[sf.PREDICTED_CLASS])
    values += list(record[sf.PROBABILITIES])
    values += [record[key] for key in UNCERTAINTY_COLUMNS]
    values += [record[key] for key in extra]
    return [_cell(value) for value in values]


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    """Rows as RFC 4180 CSV text with ``\\n`` line endings."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def json_record(
    record: dict, class_names: Sequence[str], *, role: str, rank: int, extra: Sequence[str] = ()
) -> dict:
    """One selected spectrum for ``query.json``, ``performance_sample.json`` or
    ``recall_sample.json`` (with the ``extra`` fields of the record)."""
    out = {ROLE: role, RANK: rank}
    for key in METADATA_COLUMNS:
        out[key] = _json_value(record[key])
    out[sf.PREDICTED_CLASS] = record[sf.PREDICTED_CLASS]
    out[sf.PROBABILITIES] = {
        name: _json_value(p) for name, p in zip(class_names, record[sf.PROBABILITIES], strict=True)
    }
    for key in (*UNCERTAINTY_COLUMNS, *extra):
        out[key] = _json_value(record[key])
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else _float32_text(value)
    return str(value)


def _json_value(value):
    if isinstance(value, float):
        return None if math.isnan(value) else float(_float32_text(value))
    return value


def _float32_text(value: float) -> str:
    # tf.Example floats are float32: print the shortest text that round-trips them.
    return str(np.float32(value))
