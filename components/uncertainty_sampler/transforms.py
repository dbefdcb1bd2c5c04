"""Beam transforms of the UncertaintySampler executor (module level: they pickle by reference)."""

from __future__ import annotations

import csv
import functools
import json
import math

import apache_beam as beam
import tensorflow as tf
from apache_beam.io.filesystems import FileSystems

from activespec import recall
from activespec.constants import DEFAULT_DIVERSITY_FACTOR
from activespec.labels.records import ROLE_RECALL
from components import score_features as sf
from models import features

from . import records, strategies

EXCLUDED_TAG = "excluded"


CONFIRMED_TAG = "confirmed"
#: Label index of a labelled example that carries no label feature.
_NO_LABEL = -1


def labelled_id_and_label(serialized: bytes) -> tuple[str, int]:
    """``(spectrum_id, label index)`` of one labelled ``tf.Example`` (as written by
    SpectraIngest and LabelJoin; -1 when it has no label)."""
    feature = tf.train.Example.FromString(serialized).features.feature
    values = (
        feature[features.SPECTRUM_ID].bytes_list.value if features.SPECTRUM_ID in feature else []
    )
    if not values:
        raise records.ScoreRecordError(f"labelled example without {features.SPECTRUM_ID!r}")
    labels = feature[features.LABEL].int64_list.value if features.LABEL in feature else []
    return values[0].decode("utf-8"), int(labels[0]) if labels else _NO_LABEL


def labelled_id_table(pipeline: beam.Pipeline, file_patterns: list[str]):
    """``(spectrum_id, label index)`` for every labelled example; empty without patterns."""
    if not file_patterns:
        return pipeline | "NoLabelledIds" >> beam.Create([])
    return (
        pipeline
        | "LabelledPatterns" >> beam.Create(file_patterns)
        | "ReadLabelled" >> beam.io.ReadAllFromTFRecord()
        | "LabelledIdAndLabel" >> beam.Map(labelled_id_and_label)
    )


def _separate_labelled(record: dict, labelled: dict, class_names: tuple, positive: frozenset):
    spectrum_id = record[sf.SPECTRUM_ID]
    if spectrum_id not in labelled:
        yield {**record, records.STATUS: records.STATUS_PREDICTED, records.CONFIRMED_LABEL: ""}
        return
    yield beam.pvalue.TaggedOutput(EXCLUDED_TAG, spectrum_id)
    label = labelled[spectrum_id]
    if 0 <= label < len(class_names) and class_names[label] in positive:
        yield beam.pvalue.TaggedOutput(
            CONFIRMED_TAG,
            {
                **record,
                records.STATUS: records.STATUS_CONFIRMED,
                records.CONFIRMED_LABEL: class_names[label],
            },
        )


def exclude_labelled(scored, labelled_ids, class_names, positive_classes):
    """Split the scored pool into unlabelled records (main), excluded ids
    (:data:`EXCLUDED_TAG`) and labelled pool spectra whose label is positive
    (:data:`CONFIRMED_TAG`: confirmed finds, kept in the candidate list).

    The labelled set (thousands of ids) is a side input held by every worker; the pool
    streams past it. Every record gets the :data:`records.CANDIDATE_COLUMNS`.
    """
    return scored | "ExcludeLabelled" >> beam.ParDo(
        _separate_labelled,
        beam.pvalue.AsDict(labelled_ids),
        class_names=tuple(class_names),
        positive=frozenset(positive_classes),
    ).with_outputs(EXCLUDED_TAG, CONFIRMED_TAG, main="unlabelled")


def _is_positive(record: dict, positive_classes: frozenset) -> bool:
    return record[sf.PREDICTED_CLASS] in positive_classes


def positives(unlabelled, positive_classes):
    """Records whose predicted class is one of ``positive_classes``."""
    return unlabelled | "PredictedPositive" >> beam.Filter(
        _is_positive, positive_classes=frozenset(positive_classes)
    )


def top_query(
    unlabelled,
    strategy: str,
    query_size: int,
    *,
    seed: int = 0,
    round_index: int = 0,
    diversity_factor: int = DEFAULT_DIVERSITY_FACTOR,
):
    """A one-element PCollection: the query of ``strategy``, ranked (see :mod:`.strategies`).

    The ``query_size`` most uncertain records by the strategy's measure; for ``random``
    the smallest keyed hashes; for ``diverse_entropy`` the ``diversity_factor *
    query_size`` most uncertain by entropy, clustered by one worker. ``Top`` combines per
    bundle then globally, so memory stays O(query_size) records (times
    ``diversity_factor`` for ``diverse_entropy``, whose records carry their embedding).
    """
    if strategy == strategies.RANDOM:
        key = functools.partial(strategies.random_query_key, seed=seed, round_index=round_index)
        return unlabelled | "RandomQuery" >> beam.combiners.Top.Smallest(query_size, key=key)
    if strategy == strategies.DIVERSE_ENTROPY:
        size = strategies.candidate_pool_size(query_size, diversity_factor)
        return (
            unlabelled
            | "TopUncertain" >> beam.combiners.Top.Smallest(size, key=strategies.entropy_key)
            | "DiverseQuery"
            >> beam.Map(
                strategies.diverse_selection,
                query_size=query_size,
                seed=seed,
                round_index=round_index,
            )
        )
    key = functools.partial(records.query_sort_key, strategy=strategy)
    return unlabelled | "TopUncertain" >> beam.combiners.Top.Smallest(query_size, key=key)


def _previous_candidate_id(line: str):
    # candidates.csv starts with spectrum_id (records.csv_columns); ids may be quoted.
    return next(csv.reader([line]))[0], True


def previous_candidate_ids(pipeline: beam.Pipeline, path: str):
    """``(spectrum_id, True)`` for every row of the previous round's ``candidates.csv``;
    empty when ``path`` is ""."""
    if not path:
        return pipeline | "NoPreviousCandidates" >> beam.Create([])
    return (
        pipeline
        | "ReadPreviousCandidates" >> beam.io.ReadFromText(path, skip_header_lines=1)
        | "PreviousCandidateId" >> beam.Map(_previous_candidate_id)
    )


def _is_listed(record: dict, listed: dict) -> bool:
    return record[sf.SPECTRUM_ID] in listed


def _lost_key(record: dict, positive_indices: tuple) -> tuple[float, str]:
    score = records.positive_score(record, positive_indices)
    return (-score if math.isfinite(score) else math.inf, record[sf.SPECTRUM_ID])


def lost_candidates(predicted_negative, previous_ids, size: int, positive_indices):
    """A one-element PCollection: at most ``size`` unlabelled spectra the previous round
    listed as candidates and the model now predicts negative, highest positive score
    first (ties by id). They are shown to the expert again rather than dropped."""
    if size == 0:
        return predicted_negative.pipeline | "NoLostCandidates" >> beam.Create([[]])
    key = functools.partial(_lost_key, positive_indices=tuple(positive_indices))
    return (
        predicted_negative
        | "LostCandidates" >> beam.Filter(_is_listed, beam.pvalue.AsDict(previous_ids))
        | "TopLost" >> beam.combiners.Top.Smallest(size, key=key)
    )


def _novelty_key(record: dict) -> tuple[float, str]:
    value = record[sf.NOVELTY]
    return (-value if math.isfinite(value) else math.inf, record[sf.SPECTRUM_ID])


def top_novel(unlabelled, size: int):
    """A one-element PCollection: the ``size`` unlabelled spectra of highest ``novelty``
    (ties by id; NaN last); ``[]`` when ``size`` is 0."""
    if size == 0:
        return unlabelled.pipeline | "NoNovelQuery" >> beam.Create([[]])
    return unlabelled | "TopNovel" >> beam.combiners.Top.Smallest(size, key=_novelty_key)


def _merge_query(
    uncertain: list, lost: list, query_size: int, reason: str, novel: list = ()
) -> list:
    chosen = [{**record, records.QUERY_REASON: records.REASON_LOST_CANDIDATE} for record in lost]
    taken = {record[sf.SPECTRUM_ID] for record in chosen}
    for record in novel:
        if len(chosen) < query_size and record[sf.SPECTRUM_ID] not in taken:
            chosen.append({**record, records.QUERY_REASON: records.REASON_NOVELTY})
            taken.add(record[sf.SPECTRUM_ID])
    rest = [
        {**record, records.QUERY_REASON: reason}
        for record in uncertain
        if record[sf.SPECTRUM_ID] not in taken
    ]
    return chosen + rest[: max(0, query_size - len(chosen))]


def merge_query(uncertain, lost, query_size: int, strategy: str, novel=None):
    """The query: the lost candidates first, then the most novel spectra (``novel``, a
    one-element PCollection of :func:`top_novel`; one already among the lost candidates
    is not repeated), then the strategy's choice up to ``query_size`` (``uncertain``
    holds ``query_size`` records, so it always fills it)."""
    if novel is None:
        novel = uncertain.pipeline | "NoNovelty" >> beam.Create([[]])
    return uncertain | "MergeQuery" >> beam.Map(
        _merge_query,
        beam.pvalue.AsSingleton(lost),
        query_size=query_size,
        reason=strategy,
        novel=beam.pvalue.AsSingleton(novel),
    )


def _count_novel(query: list) -> int:
    return sum(record[records.QUERY_REASON] == records.REASON_NOVELTY for record in query)


def count_novel(query):
    """A one-element PCollection: how many of the query were chosen for their novelty."""
    return query | "CountNovelQuery" >> beam.Map(_count_novel)


def random_sample(population, size: int, seed: int, round_index: int, label: str):
    """A one-element PCollection: a uniform sample of ``size`` records, reproducible."""
    if size == 0:
        return population.pipeline | f"Empty{label}" >> beam.Create([[]])
    key = functools.partial(records.sample_sort_key, seed=seed, round_index=round_index)
    return population | label >> beam.combiners.Top.Smallest(size, key=key)


def _is_negative(record: dict, positive_classes: frozenset) -> bool:
    return record[sf.PREDICTED_CLASS] not in positive_classes


def negatives(unlabelled, positive_classes):
    """Records whose predicted class is none of ``positive_classes``."""
    return unlabelled | "PredictedNegative" >> beam.Filter(
        _is_negative, positive_classes=frozenset(positive_classes)
    )


def _keyed_by_stratum(record: dict, positive_indices: tuple, bounds: tuple):
    score = records.positive_score(record, positive_indices)
    return recall.stratum_index(score, bounds), {**record, recall.POSITIVE_SCORE: score}


def _stratum_score(keyed):
    return keyed[0], keyed[1][recall.POSITIVE_SCORE]


def _record_sort_key(record: dict, seed: int, round_index: int):
    return records.sample_sort_key(record, seed, round_index, salt=ROLE_RECALL)


def recall_sample(
    predicted_negative,
    size: int,
    bounds: tuple,
    positive_indices: tuple,
    seed: int,
    round_index: int,
):
    """A one-element PCollection: the score-stratified recall sample and its strata.

    One pass: each predicted negative is keyed by its stratum of the positive score;
    per stratum, Beam counts the records, averages their score and keeps the ``size``
    smallest keyed hashes (``Top`` per key, O(size) memory per stratum). A last step
    allocates ``size`` across the strata (:func:`activespec.recall.allocate`) and keeps
    the first ``n_h`` of each stratum's hashes, a uniform sample of the stratum.

    The element is ``{"rows": [...], "strata": [...]}``: the sampled records, highest
    stratum first, with the fields of :data:`recall.RECALL_COLUMNS`; and one entry per
    stratum (bounds, population, mean score, sample size), empty ones included.
    """
    keyed = predicted_negative | "KeyByStratum" >> beam.Map(
        _keyed_by_stratum, positive_indices=tuple(positive_indices), bounds=tuple(bounds)
    )
    populations = keyed | "StratumPopulation" >> beam.combiners.Count.PerKey()
    mean_scores = (
        keyed
        | "StratumScore" >> beam.Map(_stratum_score)
        | "StratumMeanScore" >> beam.combiners.Mean.PerKey()
    )
    if size > 0:
        key = functools.partial(_record_sort_key, seed=seed, round_index=round_index)
        tops = keyed | "RecallCandidatesPerStratum" >> beam.combiners.Top.SmallestPerKey(
            size, key=key
        )
    else:
        tops = predicted_negative.pipeline | "NoRecallCandidates" >> beam.Create([])
    return (
        predicted_negative.pipeline
        | "RecallSampleSeed" >> beam.Create([None])
        | "AllocateRecallSample"
        >> beam.Map(
            _allocate_recall_sample,
            populations=beam.pvalue.AsDict(populations),
            mean_scores=beam.pvalue.AsDict(mean_scores),
            tops=beam.pvalue.AsDict(tops),
            size=size,
            bounds=tuple(bounds),
        )
    )


def _allocate_recall_sample(_, populations, mean_scores, tops, size, bounds) -> dict:
    n_strata = len(bounds) + 1
    counts = [int(populations.get(h, 0)) for h in range(n_strata)]
    means = [float(mean_scores.get(h, 0.0)) for h in range(n_strata)]
    sizes = recall.allocate(size, counts, means)
    rows, strata = [], []
    for h in reversed(range(n_strata)):
        lower, upper = recall.stratum_bounds(h, bounds)
        for record in list(tops.get(h, []))[: sizes[h]]:
            rows.append(
                {
                    **record,
                    recall.STRATUM: h,
                    recall.STRATUM_LOWER: lower,
                    recall.STRATUM_UPPER: upper,
                    recall.STRATUM_POPULATION: counts[h],
                    recall.STRATUM_SAMPLE_SIZE: sizes[h],
                }
            )
    for h in range(n_strata):
        lower, upper = recall.stratum_bounds(h, bounds)
        strata.append(
            {
                recall.STRATUM: h,
                recall.STRATUM_LOWER: lower,
                recall.STRATUM_UPPER: upper,
                recall.STRATUM_POPULATION: counts[h],
                "mean_positive_score": means[h] if counts[h] else None,
                recall.STRATUM_SAMPLE_SIZE: sizes[h],
            }
        )
    return {"rows": rows, "strata": strata}


def _rows_of(sample: dict) -> list:
    return sample["rows"]


def selected_rows(sample):
    """The one-element PCollection of the recall sample's rows, for :class:`WriteSelection`."""
    return sample | "RecallRows" >> beam.Map(_rows_of)


class WriteStrata(beam.DoFn):
    """Write the recall sample's strata as a JSON list to ``path``; yields their number."""

    def __init__(self, path: str):
        self._path = path

    def process(self, sample):
        _write_text(self._path, json.dumps(sample["strata"], indent=1) + "\n")
        yield len(sample["strata"])


class WriteSelection(beam.DoFn):
    """Write a ranked selection as ``<name>.csv`` and ``<name>.json`` into a folder.

    The selection is small (one list element), so it is written by one worker with
    Beam's filesystem API (local, ``gs://`` ...). Yields the number of rows.
    """

    def __init__(self, directory: str, name: str, role: str, class_names, extra=()):
        self._directory = directory
        self._name = name
        self._role = role
        self._class_names = tuple(class_names)
        self._extra = tuple(extra)

    def process(self, selection):
        rows = [records.csv_columns(self._class_names, with_role=True, extra=self._extra)]
        payload = []
        for rank, record in enumerate(selection, start=1):
            rows.append(records.csv_row(record, role=self._role, rank=rank, extra=self._extra))
            payload.append(
                records.json_record(
                    record, self._class_names, role=self._role, rank=rank, extra=self._extra
                )
            )
        base = FileSystems.join(self._directory, self._name)
        _write_text(base + ".csv", records.csv_text(rows))
        _write_text(base + ".json", json.dumps(payload, indent=1) + "\n")
        yield len(payload)


def _write_text(path: str, text: str) -> None:
    with FileSystems.create(path) as handle:
        handle.write(text.encode("utf-8"))


def _candidate_line(record: dict) -> str:
    return records.csv_text([records.csv_row(record, extra=records.CANDIDATE_COLUMNS)]).rstrip("\n")


def write_candidates(candidates, path_prefix: str, class_names):
    """The candidate list as one CSV file with a header, written by the workers: the
    predicted positives and the confirmed finds, told apart by :data:`records.STATUS`."""
    header = records.csv_text(
        [records.csv_columns(class_names, with_role=False, extra=records.CANDIDATE_COLUMNS)]
    ).rstrip("\n")
    return (
        candidates
        | "CandidateCsv" >> beam.Map(_candidate_line)
        | "WriteCandidates"
        >> beam.io.WriteToText(
            path_prefix,
            file_name_suffix=".csv",
            num_shards=1,
            shard_name_template="",
            header=header,
        )
    )


def _count_record(value: int, name: str) -> str:
    return json.dumps({"name": name, "value": value})


def count_as(pcoll, name: str):
    """One JSON line ``{"name", "value"}`` with the size of ``pcoll``."""
    return (
        pcoll
        | f"Count[{name}]" >> beam.combiners.Count.Globally()
        | f"Record[{name}]" >> beam.Map(_count_record, name=name)
    )


def value_as(pcoll, name: str):
    """One JSON line per element of a PCollection of integers."""
    return pcoll | f"Record[{name}]" >> beam.Map(_count_record, name=name)
