"""Inputs of the benchmarks, built with the product's own code and cached in the workdir.

* simulated surveys (:func:`activespec.simulator.simulate_survey`): real-format LAMOST pool
  FITS files with ``truth/pool_truth.csv`` and Ondřejov labelled files with
  ``labelled/labels.csv``;
* preprocessed spectra: the same per-file work as the SpectraIngest executor
  (:func:`activespec.io.read_spectrum`, :func:`activespec.preprocessing.preprocess`,
  :func:`components.spectra_ingest.encoding.serialize_example`), run in plain processes;
* pools of any size as gzipped TFRecords, made by repeating simulated spectra under new
  identifiers with a little extra noise (no need to simulate 100,000 FITS files);
* the published CNN exported as the Trainer does (``Format-Serving`` SavedModel).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from activespec.constants import DEFAULT_CLASSES
from activespec.workdir import survey_truth_path
from bench.harness import REPO_ROOT, BenchOptions

#: Files per task handed to a worker process (amortises the task round trip).
CHUNK_FILES = 50
#: Code that shapes the cached surveys and preprocessed spectra: a change invalidates them.
_CACHED_CODE = (
    "activespec/simulator",
    "activespec/io",
    "activespec/preprocessing",
    "components/spectra_ingest/encoding.py",
)


def code_fingerprint() -> str:
    """Short hash of the source of the simulator, readers, preprocessing and encoding."""
    digest = hashlib.sha256()
    for entry in _CACHED_CODE:
        path = REPO_ROOT / entry
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(str(source.relative_to(REPO_ROOT)).encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


def simulated_survey(
    options: BenchOptions,
    *,
    n_labelled: int,
    n_pool: int,
    seed: int,
    emission_fraction: float = 0.02,
    workers: int = 2,
) -> Path:
    """A simulated survey on disk, simulated once and reused while its settings and the
    code that made it (:func:`code_fingerprint`) are unchanged.

    Parameters
    ----------
    options : BenchOptions
        Its workdir holds the cache (``surveys/``).
    n_labelled, n_pool : int
        Ondřejov labelled spectra and LAMOST pool spectra.
    seed : int
        Simulator seed.
    emission_fraction : float
        Share of the pool that is emission or double-peak.
    workers : int
        Simulator processes.

    Returns
    -------
    pathlib.Path
        The survey directory (``labelled/``, ``pool/``, ``truth/``, ``survey.json``).
    """
    from activespec.simulator import simulate_survey

    name = f"l{n_labelled}-p{n_pool}-s{seed}-e{emission_fraction:g}-{code_fingerprint()}"
    out = options.scratch("surveys") / name
    summary_path = out / "survey.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if summary.get("status") == "complete":
            return out
    simulate_survey(
        out,
        n_labelled=n_labelled,
        n_pool=n_pool,
        seed=seed,
        workers=workers,
        emission_fraction=emission_fraction,
        progress=False,
    )
    return out


def pool_files(survey: Path) -> list[str]:
    """Paths of the survey's pool FITS files in the order of ``truth/pool_truth.csv``."""
    with survey_truth_path(survey).open(newline="", encoding="utf-8") as handle:
        return [str(survey / "pool" / row["file"]) for row in csv.DictReader(handle)]


def labelled_files(survey: Path) -> list[str]:
    """Paths of the survey's labelled Ondřejov files in the order of ``labels.csv``."""
    with (survey / "labelled" / "labels.csv").open(newline="", encoding="utf-8") as handle:
        return [str(survey / "labelled" / row["file"]) for row in csv.DictReader(handle)]


def read_labels(csv_path: Path, class_names: Sequence[str] = DEFAULT_CLASSES) -> dict[str, int]:
    """``{spectrum_id: class index}`` from a ``spectrum_id,...,label`` CSV file."""
    index = {name: i for i, name in enumerate(class_names)}
    with Path(csv_path).open(newline="", encoding="utf-8") as handle:
        return {row["spectrum_id"]: index[row["label"]] for row in csv.DictReader(handle)}


@dataclasses.dataclass
class EncodedSpectra:
    """Spectra read, preprocessed and encoded like SpectraIngest does.

    Attributes
    ----------
    ids : list of str
        Spectrum identifiers (``SpectrumMeta.spectrum_id``).
    flux : numpy.ndarray, shape [N, n_points], float32
        Preprocessed vectors.
    examples : list of bytes
        Serialized ``tf.Example`` records as the executor writes them.
    rejected : dict of str to int
        Files that did not become an example, by rejection code.
    """

    ids: list[str]
    flux: np.ndarray
    examples: list[bytes]
    rejected: dict[str, int]

    def __len__(self) -> int:
        return len(self.ids)


class FileEncoder:
    """Per-file ingestion work: bytes -> Spectrum -> preprocessed vector -> tf.Example.

    The same calls, in the same order, as ``ReadAndPreprocess`` of the SpectraIngest
    executor, without Beam around them.

    Parameters
    ----------
    degrade : bool
        Degrade high-resolution (Ondřejov) spectra to the pool's resolution.
    """

    def __init__(self, degrade: bool = False):
        from activespec.preprocessing import PreprocessConfig

        self._config = PreprocessConfig()
        self._degrade = degrade

    def encode(self, path: str) -> tuple[str, np.ndarray, bytes] | str:
        """``(spectrum_id, vector, serialized example)``, or the rejection code."""
        from activespec.errors import ActivespecError
        from activespec.io import read_spectrum
        from activespec.preprocessing import preprocess
        from components.spectra_ingest.encoding import serialize_example

        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return "io-error"
        try:
            spectrum = read_spectrum(data, name=path)
            vector = preprocess(spectrum, self._config, degrade=self._degrade)
        except ActivespecError as err:
            return err.code
        return (
            spectrum.meta.spectrum_id,
            np.asarray(vector, np.float32),
            serialize_example(spectrum, vector, source=path),
        )


def encode_files(paths: Iterable[str], *, degrade: bool = False) -> EncodedSpectra:
    """Read, preprocess and encode files in this process (see :class:`FileEncoder`)."""
    encoder = FileEncoder(degrade)
    ids, vectors, examples, rejected = [], [], [], {}
    for path in paths:
        result = encoder.encode(path)
        if isinstance(result, str):
            rejected[result] = rejected.get(result, 0) + 1
            continue
        ids.append(result[0])
        vectors.append(result[1])
        examples.append(result[2])
    flux = np.stack(vectors) if vectors else np.zeros((0, 0), np.float32)
    return EncodedSpectra(ids, flux, examples, rejected)


def _encode_chunk(task: tuple[list[str], bool]) -> EncodedSpectra:
    paths, degrade = task
    return encode_files(paths, degrade=degrade)


def _warm_worker(_: int) -> int:
    """Import the reader, preprocessing and TensorFlow in a fresh worker process."""
    from bench.harness import prepare_environment

    prepare_environment()
    import activespec.io  # noqa: F401
    import activespec.preprocessing  # noqa: F401
    import components.spectra_ingest.encoding  # noqa: F401

    return os.getpid()


def spawn_pool(workers: int) -> multiprocessing.pool.Pool:
    """A pool of ``workers`` fresh ('spawn') processes with the ingestion code imported.

    Spawn, not fork: the parent may have TensorFlow loaded, which is not fork-safe.
    """
    pool = multiprocessing.get_context("spawn").Pool(workers)
    # One warm-up task per process: each blocks briefly so that every worker gets one.
    pool.map(_warm_worker, range(workers), chunksize=1)
    return pool


def chunked(paths: Sequence[str], size: int = CHUNK_FILES) -> list[list[str]]:
    """Consecutive chunks of at most ``size`` paths."""
    return [list(paths[start : start + size]) for start in range(0, len(paths), size)]


def encode_files_parallel(
    paths: Sequence[str], *, degrade: bool = False, workers: int = 2
) -> EncodedSpectra:
    """:func:`encode_files` over chunks of files in ``workers`` processes (order kept)."""
    with spawn_pool(workers) as pool:
        parts = pool.map(_encode_chunk, [(chunk, degrade) for chunk in chunked(paths)])
    rejected: dict[str, int] = {}
    for part in parts:
        for code, count in part.rejected.items():
            rejected[code] = rejected.get(code, 0) + count
    nonempty = [part for part in parts if len(part)]
    return EncodedSpectra(
        ids=[i for part in parts for i in part.ids],
        flux=np.concatenate([part.flux for part in nonempty]) if nonempty else np.zeros((0, 0)),
        examples=[e for part in parts for e in part.examples],
        rejected=rejected,
    )


def cached_spectra(survey: Path, which: str, *, workers: int = 2) -> EncodedSpectra:
    """The preprocessed ``"pool"`` or ``"labelled"`` set of ``survey`` (cached next to it).

    Labelled Ondřejov spectra are degraded to the pool's resolution, as the pipeline's
    labelled ingestion does (``degrade_resolution=True``).
    """
    if which not in ("pool", "labelled"):
        raise ValueError(f"which must be 'pool' or 'labelled', got {which!r}")
    cache = survey / f"bench-{which}-encoded.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            blob, offsets = data["examples"].tobytes(), data["offsets"]
            return EncodedSpectra(
                ids=[str(item) for item in data["ids"]],
                flux=data["flux"],
                examples=[
                    blob[start:stop] for start, stop in zip(offsets[:-1], offsets[1:], strict=True)
                ],
                rejected=json.loads(str(data["rejected"])),
            )
    paths = pool_files(survey) if which == "pool" else labelled_files(survey)
    encoded = encode_files_parallel(paths, degrade=which == "labelled", workers=workers)
    # Records as one byte buffer plus offsets: NumPy's bytes dtype drops trailing NULs.
    offsets = np.cumsum([0] + [len(record) for record in encoded.examples])
    np.savez(
        cache,
        ids=np.array(encoded.ids),
        flux=encoded.flux,
        examples=np.frombuffer(b"".join(encoded.examples), dtype=np.uint8),
        offsets=offsets,
        rejected=json.dumps(encoded.rejected),
    )
    return encoded


def synthetic_pool(
    base: EncodedSpectra, n: int, *, seed: int = 0, noise: float = 0.01
) -> Iterator[bytes]:
    """``n`` serialized pool examples made from ``base`` under new identifiers.

    Copy ``k`` of a base spectrum gets the id ``<id>-r<k>`` and its flux plus Gaussian
    noise of ``noise`` (clipped to [-1, 1], the range of scaled spectra), so records are
    distinct; every other feature is kept as the ingestion wrote it.
    """
    import tensorflow as tf

    from models import features

    rng = np.random.default_rng(seed)
    parsed = [tf.train.Example.FromString(record) for record in base.examples]
    for index in range(n):
        copy, which = divmod(index, len(parsed))
        example = tf.train.Example()
        example.CopyFrom(parsed[which])
        feature = example.features.feature
        if copy:
            flux = np.clip(base.flux[which] + rng.normal(0.0, noise, base.flux.shape[1]), -1, 1)
            feature[features.FLUX].float_list.value[:] = flux.astype(np.float32)
            feature[features.SPECTRUM_ID].bytes_list.value[:] = [
                f"{base.ids[which]}-r{copy}".encode()
            ]
        yield example.SerializeToString()


def write_tfrecords(records: Iterable[bytes], directory: Path, *, n_shards: int) -> list[str]:
    """Write records round-robin into ``n_shards`` gzipped files named like ExampleGen's."""
    import tensorflow as tf

    directory.mkdir(parents=True, exist_ok=True)
    paths = [
        str(directory / f"data_tfrecord-{i:05d}-of-{n_shards:05d}.gz") for i in range(n_shards)
    ]
    writers = [tf.io.TFRecordWriter(path, options="GZIP") for path in paths]
    try:
        for index, record in enumerate(records):
            writers[index % n_shards].write(record)
    finally:
        for writer in writers:
            writer.close()
    return paths


def pool_examples_artifact(
    options: BenchOptions, base: EncodedSpectra, n: int, *, shard_size: int = 10_000
):
    """An ``Examples`` artifact with a ``pool`` split of ``n`` synthetic examples (cached).

    Returns
    -------
    tfx.types.standard_artifacts.Examples
    """
    from tfx.types import artifact_utils, standard_artifacts

    # Keyed by the base spectra themselves, so a changed simulator or preprocessing
    # never reuses a stale pool.
    base_hash = hashlib.sha256(base.flux.tobytes()).hexdigest()[:10]
    root = options.scratch("pools") / f"pool-{n}-from-{len(base)}-{base_hash}"
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = artifact_utils.encode_split_names(["pool"])
    done = root / "COMPLETE"
    if not done.exists():
        split_dir = Path(artifact_utils.get_split_uri([artifact], "pool"))
        if split_dir.exists():
            for stale in split_dir.iterdir():
                stale.unlink()
        write_tfrecords(synthetic_pool(base, n), split_dir, n_shards=max(1, -(-n // shard_size)))
        done.write_text(str(n), encoding="utf-8")
    return artifact


def exported_published_model(options: BenchOptions, *, seed: int = 0):
    """The published CNN (:func:`models.cnn.build_cnn` defaults) exported for serving.

    Throughput does not depend on the weight values, so the model is not trained.

    Returns
    -------
    model : tf_keras.Model
        The Keras model itself.
    artifact : tfx.types.standard_artifacts.Model
        A Model artifact whose ``Format-Serving`` holds the SavedModel.
    """
    import shutil

    import tf_keras
    from tfx.types import standard_artifacts

    from models import export
    from models.cnn import build_cnn

    tf_keras.utils.set_random_seed(seed)
    model = build_cnn()
    artifact = standard_artifacts.Model()
    artifact.uri = str(options.scratch("models", f"published-cnn-seed{seed}"))
    serving_dir = Path(artifact.uri) / "Format-Serving"
    # Exported afresh every run so that the SavedModel and ``model`` are the same weights.
    shutil.rmtree(serving_dir, ignore_errors=True)
    export.export_serving_model(model, str(serving_dir), class_names=DEFAULT_CLASSES)
    return model, artifact
