"""Beam transforms of the UncertaintySampler executor (module level: they pickle by reference)."""

from __future__ import annotations

import functools
import json

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from components import score_features as sf
from models import features

from . import records

EXCLUDED_TAG = "excluded"


def labelled_spectrum_id(serialized: bytes) -> str:
    """The spectrum id of one labelled ``tf.Example`` (as written by SpectraIngest)."""
    import tensorflow as tf

    feature = tf.train.Example.FromString(serialized).features.feature
    values = (
        feature[features.SPECTRUM_ID].bytes_list.value if features.SPECTRUM_ID in feature else []
    )
    if not values:
        raise records.ScoreRecordError(f"labelled example without {features.SPECTRUM_ID!r}")
    return values[0].decode("utf-8")


def _keyed_true(spectrum_id: str):
    return spectrum_id, True


def labelled_id_table(pipeline: beam.Pipeline, file_patterns: list[str]):
    """``(spectrum_id, True)`` for every labelled example; empty without patterns."""
    if not file_patterns:
        return pipeline | "NoLabelledIds" >> beam.Create([])
    return (
        pipeline
        | "LabelledPatterns" >> beam.Create(file_patterns)
        | "ReadLabelled" >> beam.io.ReadAllFromTFRecord()
        | "LabelledId" >> beam.Map(labelled_spectrum_id)
        | "KeyLabelledId" >> beam.Map(_keyed_true)
    )


def _separate_labelled(record: dict, labelled: dict):
    if record[sf.SPECTRUM_ID] in labelled:
        yield beam.pvalue.TaggedOutput(EXCLUDED_TAG, record[sf.SPECTRUM_ID])
    else:
        yield record


def exclude_labelled(scored, labelled_ids):
    """Split the scored pool into unlabelled records (main) and excluded ids (:data:`EXCLUDED_TAG`).

    The labelled set (thousands of ids) is a side input held by every worker; the pool
    streams past it.
    """
    return scored | "ExcludeLabelled" >> beam.ParDo(
        _separate_labelled, beam.pvalue.AsDict(labelled_ids)
    ).with_outputs(EXCLUDED_TAG, main="unlabelled")


def _is_positive(record: dict, positive_classes: frozenset) -> bool:
    return record[sf.PREDICTED_CLASS] in positive_classes


def positives(unlabelled, positive_classes):
    """Records whose predicted class is one of ``positive_classes``."""
    return unlabelled | "PredictedPositive" >> beam.Filter(
        _is_positive, positive_classes=frozenset(positive_classes)
    )


def top_query(unlabelled, strategy: str, query_size: int):
    """A one-element PCollection: the ``query_size`` most uncertain records, ranked.

    ``Top`` combines per bundle then globally, so memory stays O(query_size).
    """
    key = functools.partial(records.query_sort_key, strategy=strategy)
    return unlabelled | "TopUncertain" >> beam.combiners.Top.Smallest(query_size, key=key)


def random_sample(population, size: int, seed: int, round_index: int, label: str):
    """A one-element PCollection: a uniform sample of ``size`` records, reproducible."""
    if size == 0:
        return population.pipeline | f"Empty{label}" >> beam.Create([[]])
    key = functools.partial(records.sample_sort_key, seed=seed, round_index=round_index)
    return population | label >> beam.combiners.Top.Smallest(size, key=key)


class WriteSelection(beam.DoFn):
    """Write a ranked selection as ``<name>.csv`` and ``<name>.json`` into a folder.

    The selection is small (one list element), so it is written by one worker with
    Beam's filesystem API (local, ``gs://`` ...). Yields the number of rows.
    """

    def __init__(self, directory: str, name: str, role: str, class_names):
        self._directory = directory
        self._name = name
        self._role = role
        self._class_names = tuple(class_names)

    def process(self, selection):
        rows = [records.csv_columns(self._class_names, with_role=True)]
        payload = []
        for rank, record in enumerate(selection, start=1):
            rows.append(records.csv_row(record, role=self._role, rank=rank))
            payload.append(
                records.json_record(record, self._class_names, role=self._role, rank=rank)
            )
        base = FileSystems.join(self._directory, self._name)
        _write_text(base + ".csv", records.csv_text(rows))
        _write_text(base + ".json", json.dumps(payload, indent=1) + "\n")
        yield len(payload)


def _write_text(path: str, text: str) -> None:
    with FileSystems.create(path) as handle:
        handle.write(text.encode("utf-8"))


def _candidate_line(record: dict) -> str:
    return records.csv_text([records.csv_row(record)]).rstrip("\n")


def write_candidates(candidates, path_prefix: str, class_names):
    """All predicted positives as one CSV file with a header, written by the workers."""
    header = records.csv_text([records.csv_columns(class_names, with_role=False)]).rstrip("\n")
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
