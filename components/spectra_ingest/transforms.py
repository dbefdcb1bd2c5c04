"""Beam transforms of the SpectraIngest executor.

Everything here runs on Beam workers: classes and functions are module level so that
they pickle by reference under every runner (DirectRunner multi-processing, Dataflow,
Flink) and import what they need themselves.
"""

from __future__ import annotations

import csv
import functools
import io
import json

import apache_beam as beam
import numpy as np
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from activespec.errors import ActivespecError
from activespec.io import read_spectrum
from activespec.preprocessing import PreprocessConfig, preprocess, should_degrade

from .encoding import serialize_example, split_index

#: Tag of the rejection output: tuples ``(path, code, reason)``.
REJECTED_TAG = "rejected"
#: Tag of the identifiers of every spectrum that could be read (labelled mode).
SEEN_IDS_TAG = "seen_ids"

#: Rejection codes added by ingestion (readers and preprocessing bring their own).
IO_ERROR = "io-error"
TOO_LARGE = "too-large"
NO_LABEL = "no-label"
DUPLICATE_ID = "duplicate-id"
INTERNAL_ERROR = "internal-error"

#: A spectrum file is at most a few MB; refuse to pull anything far larger into memory.
MAX_FILE_BYTES = 256 * 1024 * 1024

REJECTED_CSV_HEADER = "path,code,reason"


def one_line(text: str) -> str:
    """Collapse whitespace so that a reason fits one CSV / log line."""
    return " ".join(str(text).split())


def rejection(path: str, code: str, reason: str) -> beam.pvalue.TaggedOutput:
    """A tagged rejection record."""
    return beam.pvalue.TaggedOutput(REJECTED_TAG, (path, code, one_line(reason)))


def csv_line(values) -> str:
    """One CSV line (RFC 4180 quoting, no line terminator)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


class ReadAndPreprocess(beam.DoFn):
    """Read one FITS file, preprocess it and encode it as a serialized ``tf.Example``.

    Main output: ``(spectrum_id, (path, serialized_example))``. Every file that does not
    become an example yields exactly one rejection ``(path, code, reason)`` on
    :data:`REJECTED_TAG`; unexpected exceptions become code :data:`INTERNAL_ERROR` with
    the exception type, so one bad file never stops the run. In labelled mode the
    identifier of every readable spectrum also goes to :data:`SEEN_IDS_TAG`.

    Parameters
    ----------
    preprocessing : dict
        :class:`activespec.preprocessing.PreprocessConfig` as a dict (plain data pickles
        everywhere; the config object is rebuilt in :meth:`setup`).
    degrade_resolution : bool
        Degrade the spectra :func:`activespec.preprocessing.should_degrade` picks (those
        sharper than the model); False never degrades.
    labelled : bool
        Expect a ``labels`` side input ``{spectrum_id: class index}``.
    """

    def __init__(self, preprocessing: dict, degrade_resolution: bool, labelled: bool):
        self._preprocessing = dict(preprocessing)
        self._degrade = bool(degrade_resolution)
        self._labelled = bool(labelled)
        self._config = None
        self._ingested = beam.metrics.Metrics.counter("SpectraIngest", "ingested")
        self._rejected = beam.metrics.Metrics.counter("SpectraIngest", "rejected")

    def setup(self):
        self._config = PreprocessConfig.from_dict(self._preprocessing)

    def process(self, path: str, labels=None):
        try:
            outputs = self._ingest(path, labels)
        except Exception as err:  # recorded per file, never fatal
            outputs = [rejection(path, INTERNAL_ERROR, f"{type(err).__name__}: {err}")]
        for output in outputs:
            if isinstance(output, beam.pvalue.TaggedOutput):
                if output.tag == REJECTED_TAG:
                    self._rejected.inc()
            else:
                self._ingested.inc()
            yield output

    def _ingest(self, path: str, labels) -> list:
        try:
            data = _read_bytes(path)
        except _FileTooLarge as err:
            return [rejection(path, TOO_LARGE, str(err))]
        except Exception as err:  # OSError, BeamIOError, filesystem errors
            return [rejection(path, IO_ERROR, f"cannot read file: {err}")]
        try:
            spectrum = read_spectrum(data, name=path)
        except ActivespecError as err:
            return [rejection(path, err.code, str(err))]

        outputs: list = []
        spectrum_id = spectrum.meta.spectrum_id
        label = None
        if self._labelled:
            outputs.append(beam.pvalue.TaggedOutput(SEEN_IDS_TAG, spectrum_id))
            label = labels.get(spectrum_id)
            if label is None:
                reason = f"spectrum {spectrum_id!r} has no row in the labels file"
                return [*outputs, rejection(path, NO_LABEL, reason)]
        try:
            degrade = self._degrade and should_degrade(spectrum, self._config)
            flux = preprocess(spectrum, self._config, degrade=degrade)
        except ActivespecError as err:
            return [*outputs, rejection(path, err.code, str(err))]
        _check_flux(flux, self._config.n_points)
        example = serialize_example(spectrum, flux, source=path, label=label)
        outputs.append((spectrum_id, (path, example)))
        return outputs


class _FileTooLarge(Exception):
    pass


def _read_bytes(path: str) -> bytes:
    # UNCOMPRESSED: the reader recognises gzip itself and needs the raw bytes.
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _FileTooLarge(f"larger than {MAX_FILE_BYTES // 2**20} MiB; not a spectrum file")
    return data


def _check_flux(flux: np.ndarray, n_points: int) -> None:
    """Guard the training data against a preprocessing regression."""
    flux = np.asarray(flux)
    if flux.shape != (n_points,) or not np.all(np.isfinite(flux)):
        raise ValueError(
            f"preprocessing returned flux of shape {flux.shape} with "
            f"{int(np.sum(~np.isfinite(flux)))} non-finite values"
        )


def _metadata_path(metadata) -> str:
    return metadata.path


def _clean_list_line(line: str) -> str:
    return line.strip()


def _is_path(line: str) -> bool:
    return bool(line) and not line.startswith("#")


class ExpandInputs(beam.PTransform):
    """The distinct paths of all input files, expanded on the workers.

    Glob patterns are matched by ``MatchAll`` on the workers and a file list is read with
    ``ReadFromText``, so the driver never holds the list of files. ``Distinct`` removes
    files named twice (overlapping patterns, list plus pattern) and, being a shuffle, also
    spreads the paths over all workers before the expensive reads.

    Parameters
    ----------
    file_patterns : sequence of str
        Beam glob patterns. A literal path that does not exist fails the run; a wildcard
        pattern without matches contributes nothing.
    file_list : str, optional
        Text file with one path per line; blank lines and ``#`` comments are skipped.
    """

    def __init__(self, file_patterns, file_list=None):
        super().__init__()
        self._patterns = list(file_patterns)
        self._file_list = file_list

    def expand(self, pbegin):
        sources = []
        if self._patterns:
            sources.append(
                pbegin
                | "Patterns" >> beam.Create(self._patterns)
                | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW_IF_WILDCARD)
                | "MatchedPath" >> beam.Map(_metadata_path)
            )
        if self._file_list:
            sources.append(
                pbegin
                | "ReadFileList" >> beam.io.ReadFromText(self._file_list)
                | "Strip" >> beam.Map(_clean_list_line)
                | "SkipBlank" >> beam.Filter(_is_path)
            )
        paths = sources[0] if len(sources) == 1 else tuple(sources) | beam.Flatten()
        return paths | "Distinct" >> beam.Distinct()


class _FirstPathAndCount(beam.CombineFn):
    """Per spectrum id: the smallest path (the copy kept) and how many files have the id."""

    def create_accumulator(self):
        return (None, 0)

    def add_input(self, accumulator, path):
        first, count = accumulator
        return (path if first is None else min(first, path), count + 1)

    def merge_accumulators(self, accumulators):
        firsts, total = [], 0
        for first, count in accumulators:
            if first is not None:
                firsts.append(first)
            total += count
        return (min(firsts) if firsts else None, total)

    def extract_output(self, accumulator):
        return accumulator


def _id_and_path(keyed):
    spectrum_id, (path, _) = keyed
    return spectrum_id, path


def _is_duplicated(item) -> bool:
    _, (_, count) = item
    return count > 1


def _kept_path(item):
    spectrum_id, (first, _) = item
    return spectrum_id, first


def _separate_duplicates(keyed, kept_paths):
    spectrum_id, (path, _) = keyed
    kept = kept_paths.get(spectrum_id)
    if kept is None or kept == path:
        yield keyed
    else:
        yield rejection(
            path, DUPLICATE_ID, f"spectrum id {spectrum_id!r} is also in {kept}, which is kept"
        )


class DropDuplicateIds(beam.PTransform):
    """Keep one file per spectrum id (the smallest path), reject the others.

    Only identifiers and paths are combined; the examples themselves are filtered
    against a side input that holds the duplicated identifiers alone (normally few).

    Returns a ``DoOutputsTuple`` with the kept ``(id, (path, example))`` as main output
    and rejections on :data:`REJECTED_TAG`.
    """

    def expand(self, keyed):
        kept_paths = (
            keyed
            | "IdAndPath" >> beam.Map(_id_and_path)
            | "FirstPath" >> beam.CombinePerKey(_FirstPathAndCount())
            | "Duplicated" >> beam.Filter(_is_duplicated)
            | "KeptPath" >> beam.Map(_kept_path)
        )
        return keyed | "Separate" >> beam.ParDo(
            _separate_duplicates, beam.pvalue.AsDict(kept_paths)
        ).with_outputs(REJECTED_TAG, main="kept")


def _serialized_example(keyed) -> bytes:
    _, (_, serialized) = keyed
    return serialized


def _partition_by_id(keyed, num_partitions, bucket_bounds):
    return split_index(keyed[0], bucket_bounds)


def partition_splits(kept, bucket_bounds) -> list:
    """Partition kept examples into one PCollection of serialized examples per split."""
    parts = kept | "AssignSplit" >> beam.Partition(
        _partition_by_id, len(bucket_bounds), tuple(bucket_bounds)
    )
    return [
        part | f"Serialized{i}" >> beam.Map(_serialized_example) for i, part in enumerate(parts)
    ]


def _rejection_csv(row) -> str:
    return csv_line(row)


def write_rejections(rejected, csv_path_prefix: str):
    """Write ``(path, code, reason)`` rows as one CSV file with a header."""
    return (
        rejected
        | "RejectionCsv" >> beam.Map(_rejection_csv)
        | "WriteRejections"
        >> beam.io.WriteToText(
            csv_path_prefix,
            file_name_suffix=".csv",
            num_shards=1,
            shard_name_template="",
            header=REJECTED_CSV_HEADER,
        )
    )


def _count_record(count, kind, name) -> str:
    return json.dumps({"kind": kind, "name": name, "value": count})


def _rejection_code(row) -> str:
    return row[1]


def _code_count_record(item) -> str:
    code, count = item
    return _count_record(count, "rejected", code)


def count_as(pcoll, kind: str, name: str, label: str):
    """One JSON line ``{"kind", "name", "value"}`` with the size of ``pcoll`` (0 if empty)."""
    return (
        pcoll
        | f"Count{label}" >> beam.combiners.Count.Globally()
        | f"Record{label}" >> beam.Map(functools.partial(_count_record, kind=kind, name=name))
    )


def count_codes(rejected):
    """One JSON line per rejection code with the number of files rejected with it."""
    return (
        rejected
        | "Code" >> beam.Map(_rejection_code)
        | "CountCodes" >> beam.combiners.Count.PerElement()
        | "CodeRecord" >> beam.Map(_code_count_record)
    )


def _pair_with_none(value):
    return value, None


def _unseen_label_id(item):
    spectrum_id, grouped = item
    if not grouped["seen"]:
        yield spectrum_id


def _sample_record(ids, name) -> str:
    return json.dumps({"kind": "labels", "name": name, "value": list(ids)})


def label_ids_without_file(label_ids, seen_ids, *, sample_size: int):
    """Count (and list the first few) labelled identifiers that no readable file has.

    Returns a PCollection of two JSON count lines.
    """
    missing = (
        {
            "label": label_ids | "LabelKey" >> beam.Map(_pair_with_none),
            "seen": seen_ids | "SeenKey" >> beam.Map(_pair_with_none),
        }
        | "JoinIds" >> beam.CoGroupByKey()
        | "Unseen" >> beam.FlatMap(_unseen_label_id)
    )
    count = count_as(missing, "labels", "missing_count", "MissingLabelIds")
    sample = (
        missing
        | "FirstMissing" >> beam.combiners.Top.Smallest(sample_size)
        | "MissingRecord" >> beam.Map(_sample_record, name="missing_first")
    )
    return (count, sample) | "LabelCounts" >> beam.Flatten()
