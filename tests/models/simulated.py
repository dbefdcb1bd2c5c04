"""Realistically shaped preprocessed spectra and the TFX artifacts holding them, for the
model, Trainer and PoolScorer tests.

The flux vectors mimic the published preprocessing of LAMOST-resolution spectra: the
140-point vacuum grid 6519-6732 A, a sloped continuum, the H-alpha profile of one of the
three classes, sometimes He I 6678 absorption, Gaussian noise for an S/N of 8-80, then
min-max scaling to [-1, 1].
"""

import os

import numpy as np
import tensorflow as tf
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.types import artifact_utils, standard_artifacts

from activespec.constants import (
    DEFAULT_CLASSES,
    GRID_POINTS,
    GRID_START,
    GRID_STOP,
    H_ALPHA_VACUUM,
    HE_I_6678_VACUUM,
)
from models import features

WAVELENGTH = np.linspace(GRID_START, GRID_STOP, GRID_POINTS)
#: LAMOST instrumental profile at H-alpha (R ~ 1,800): sigma ~ 1.55 A.
_INSTRUMENT_SIGMA = H_ALPHA_VACUUM / 1800 / 2.3548


def _gauss(centre: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Unit-height Gaussians, one row per spectrum."""
    return np.exp(-0.5 * ((WAVELENGTH - centre[:, None]) / sigma[:, None]) ** 2)


def simulate_flux(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Preprocessed spectra of the given classes (0 other, 1 emission, 2 double-peak).

    Parameters
    ----------
    labels : numpy.ndarray of int, shape [N]
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, float32, shape [N, 140], each row scaled to [-1, 1].
    """
    labels = np.asarray(labels)
    n = labels.size
    u = rng.uniform
    centre = H_ALPHA_VACUUM + u(-1.0, 1.0, n)  # radial velocity of +-45 km/s
    continuum = 1.0 + u(-0.1, 0.1, (n, 1)) * (WAVELENGTH - 6625.0) / 100.0

    # Photospheric absorption: deep and broad in "other", shallower under emission.
    depth = np.where(labels == 0, u(0.15, 0.6, n), u(0.0, 0.25, n))
    flux = continuum * (1.0 - depth[:, None] * _gauss(centre, u(3.0, 8.0, n)))
    he_i = u(0.0, 0.08, n) * (u(0, 1, n) < 0.5)
    flux -= he_i[:, None] * _gauss(np.full(n, HE_I_6678_VACUUM), np.full(n, 2.5))

    # Single-peaked emission (EW of a few to tens of A).
    single = labels == 1
    amplitude = u(0.15, 3.0, n) * single
    flux += amplitude[:, None] * _gauss(centre, np.hypot(u(1.0, 4.0, n), _INSTRUMENT_SIGMA))

    # Disk emission: two peaks 6-14 A apart, V/R 0.7-1.4, sometimes a shell core.
    double = labels == 2
    separation = u(6.0, 14.0, n)
    peak = u(0.2, 1.5, n) * double
    v_over_r = u(0.7, 1.4, n)
    width = np.hypot(u(1.0, 2.0, n), _INSTRUMENT_SIGMA)
    flux += (peak * v_over_r)[:, None] * _gauss(centre - separation / 2, width)
    flux += peak[:, None] * _gauss(centre + separation / 2, width)
    shell = u(0.0, 0.3, n) * double * (u(0, 1, n) < 0.3)
    flux -= shell[:, None] * _gauss(centre, np.full(n, 1.8))

    snr = u(8.0, 80.0, (n, 1))
    flux += rng.normal(size=flux.shape) / snr
    low, high = flux.min(axis=1, keepdims=True), flux.max(axis=1, keepdims=True)
    return (2.0 * (flux - low) / (high - low) - 1.0).astype(np.float32)


def simulate_labelled(n: int, rng: np.random.Generator, fractions=(0.45, 0.4, 0.15)):
    """``n`` labelled spectra with class fractions like the Ondřejov training set."""
    labels = rng.choice(len(fractions), size=n, p=np.asarray(fractions) / np.sum(fractions))
    return simulate_flux(labels, rng), labels.astype(np.int64)


def make_example(
    flux,
    spectrum_id: str,
    *,
    label: int | None = None,
    ra: float = float("nan"),
    dec: float = float("nan"),
    snr: float = float("nan"),
    designation: str = "",
    survey: str = "LAMOST",
    layout: str = "simulated",
    source: str = "",
    omit: tuple[str, ...] = (),
) -> tf.train.Example:
    """One record following the ingestion contract (``omit`` drops keys, to break it)."""

    def floats(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=np.ravel(values)))

    def text(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))

    feature = {
        features.FLUX: floats(flux),
        features.SPECTRUM_ID: text(spectrum_id),
        features.DESIGNATION: text(designation),
        features.RA: floats([ra]),
        features.DEC: floats([dec]),
        features.SNR: floats([snr]),
        features.SURVEY: text(survey),
        features.LAYOUT: text(layout),
        features.SOURCE: text(source or f"/data/{spectrum_id}.fits"),
    }
    if label is not None:
        feature[features.LABEL] = tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))
    for key in omit:
        feature.pop(key)
    return tf.train.Example(features=tf.train.Features(feature=feature))


def make_examples(flux, labels=None, *, prefix: str = "sim", rng=None) -> list[tf.train.Example]:
    """Records for a flux matrix, with ids ``<prefix>-000000`` and plausible metadata
    (some coordinates and S/N unknown, as in real files)."""
    rng = rng or np.random.default_rng(0)
    records = []
    for index, row in enumerate(flux):
        known = index % 4 != 3
        records.append(
            make_example(
                row,
                f"{prefix}-{index:06d}",
                label=None if labels is None else int(labels[index]),
                ra=float(rng.uniform(0, 360)) if known else float("nan"),
                dec=float(rng.uniform(-10, 60)) if known else float("nan"),
                snr=float(rng.uniform(5, 200)) if known else float("nan"),
                designation=f"J{index:06d}.00+000000.0" if known else "",
            )
        )
    return records


def write_tfrecord_gz(path: str, records) -> str:
    """Write records (``tf.train.Example`` or bytes) to a gzipped TFRecord file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for record in records:
            writer.write(record if isinstance(record, bytes) else record.SerializeToString())
    return path


def examples_artifact(root: str, splits: dict, n_files: int = 2) -> standard_artifacts.Examples:
    """An Examples artifact laid out like ExampleGen output (``Split-<name>/*.gz``)."""
    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = artifact_utils.encode_split_names(list(splits))
    for split, records in splits.items():
        records = list(records)
        for shard in range(n_files):
            write_tfrecord_gz(
                os.path.join(
                    root, f"Split-{split}", f"data_tfrecord-{shard:05d}-of-{n_files:05d}.gz"
                ),
                records[shard::n_files],
            )
    return artifact


def contract_schema(*, labelled: bool = True) -> schema_pb2.Schema:
    """The schema SchemaGen infers for the ingestion contract (value counts, no shapes)."""
    schema = schema_pb2.Schema()
    kinds = {
        features.FLUX: schema_pb2.FLOAT,
        features.SPECTRUM_ID: schema_pb2.BYTES,
        features.DESIGNATION: schema_pb2.BYTES,
        features.RA: schema_pb2.FLOAT,
        features.DEC: schema_pb2.FLOAT,
        features.SNR: schema_pb2.FLOAT,
        features.SURVEY: schema_pb2.BYTES,
        features.LAYOUT: schema_pb2.BYTES,
        features.SOURCE: schema_pb2.BYTES,
    }
    if labelled:
        kinds[features.LABEL] = schema_pb2.INT
    for name, kind in kinds.items():
        feature = schema.feature.add(name=name, type=kind)
        size = GRID_POINTS if name == features.FLUX else 1
        feature.value_count.min = size
        feature.value_count.max = size
        feature.presence.min_fraction = 1.0
    return schema


def schema_artifact(root: str, schema: schema_pb2.Schema) -> standard_artifacts.Schema:
    """A Schema artifact holding ``schema.pbtxt``."""
    from google.protobuf import text_format

    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "schema.pbtxt"), "w") as handle:
        handle.write(text_format.MessageToString(schema))
    artifact = standard_artifacts.Schema()
    artifact.uri = str(root)
    return artifact


def train_quick_model(n: int = 900, epochs: int = 6, seed: int = 1):
    """A published-architecture CNN trained briefly on simulated spectra (for scoring tests).

    Returns the model and the class names.
    """
    from models.cnn import build_cnn

    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    flux, labels = simulate_labelled(n, rng)
    model = build_cnn(n_classes=len(DEFAULT_CLASSES))
    model.fit(flux, labels, batch_size=64, epochs=epochs, verbose=0)
    return model, DEFAULT_CLASSES
