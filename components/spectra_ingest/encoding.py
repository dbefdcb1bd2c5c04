"""Turn a preprocessed spectrum into a ``tf.train.Example`` and give it a split.

Feature keys come from :mod:`models.features`, the contract with the schema, the
Trainer and the pool scorer.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from activespec.spectrum import Spectrum
from models import features


def make_example(
    spectrum: Spectrum, flux: np.ndarray, *, source: str, label: int | None = None
) -> tf.train.Example:
    """Encode one preprocessed spectrum with its metadata.

    Parameters
    ----------
    spectrum : activespec.spectrum.Spectrum
        The spectrum as read; only its metadata is used.
    flux : ndarray
        The preprocessed flux on the common grid.
    source : str
        The path the file was read from.
    label : int, optional
        Class index, for labelled examples only.

    Returns
    -------
    tf.train.Example
        Unknown coordinates and S/N are NaN, an unknown designation is empty.
    """
    meta = spectrum.meta
    feature = {
        features.FLUX: _floats(np.asarray(flux, dtype=np.float32)),
        features.SPECTRUM_ID: _bytes(meta.spectrum_id),
        features.DESIGNATION: _bytes(meta.designation or ""),
        features.RA: _floats([_or_nan(meta.ra)]),
        features.DEC: _floats([_or_nan(meta.dec)]),
        features.SNR: _floats([_or_nan(meta.snr)]),
        features.SURVEY: _bytes(meta.survey),
        features.LAYOUT: _bytes(meta.layout),
        features.SOURCE: _bytes(source),
    }
    if label is not None:
        feature[features.LABEL] = tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def split_index(spectrum_id: str, bucket_bounds: Sequence[int]) -> int:
    """Index of the split a spectrum belongs to, stable across runs and machines.

    Parameters
    ----------
    spectrum_id : str
        The spectrum's identifier; the only input, so a spectrum never changes split
        when files are added, removed or read in another order.
    bucket_bounds : sequence of int
        Cumulative upper bucket bound of each split, e.g. ``(1, 5)`` for one ``eval``
        bucket followed by four ``train`` buckets.

    Returns
    -------
    int
    """
    # MD5 rather than hash(): Python's str hash is salted per process.
    digest = hashlib.md5(spectrum_id.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") % bucket_bounds[-1]
    return bisect.bisect_right(bucket_bounds, bucket)


def _or_nan(value: float | None) -> float:
    if value is None:
        return math.nan
    return float(value)


def _floats(values) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def _bytes(value: str) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8")]))
