"""Turn a preprocessed spectrum into a serialized ``tf.train.Example`` and give it a split.

Feature keys come from :mod:`models.features`, the contract with the schema, the
Trainer and the pool scorer.

The example is written in protobuf's wire format here rather than built with
``tf.train.Example``: ingestion workers then never import TensorFlow (~3 s of start-up
each), and a 140-point flux is copied as one packed block instead of float by float.
The bytes equal ``tf.train.Example.SerializeToString(deterministic=True)`` of the same
features (``tests/components/test_spectra_ingest.py`` checks it against TensorFlow).
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Sequence

import numpy as np

from activespec.spectrum import Spectrum
from models import features

# Field numbers of tensorflow/core/example/{example,feature}.proto, each as its key byte
# (field number << 3 | wire type 2, length-delimited).
_EXAMPLE_FEATURES = b"\x0a"  # Example.features
_FEATURES_ENTRY = b"\x0a"  # Features.feature, a map entry
_ENTRY_KEY = b"\x0a"  # map entry: key
_ENTRY_VALUE = b"\x12"  # map entry: value
_BYTES_LIST = b"\x0a"  # Feature.bytes_list
_FLOAT_LIST = b"\x12"  # Feature.float_list
_INT64_LIST = b"\x1a"  # Feature.int64_list
_LIST_VALUE = b"\x0a"  # {Bytes,Float,Int64}List.value (numbers packed)


def serialize_example(
    spectrum: Spectrum, flux: np.ndarray, *, source: str, label: int | None = None
) -> bytes:
    """Encode one preprocessed spectrum with its metadata as a serialized tf.Example.

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
    bytes
        A ``tf.train.Example``, features in key order. Unknown coordinates and S/N are
        NaN, an unknown designation is empty.
    """
    meta = spectrum.meta
    feature = {
        features.FLUX: _floats(flux),
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
        feature[features.LABEL] = _int64s([label])
    entries = b"".join(
        _field(
            _FEATURES_ENTRY,
            _field(_ENTRY_KEY, key.encode("utf-8")) + _field(_ENTRY_VALUE, feature[key]),
        )
        for key in sorted(feature)
    )
    return _field(_EXAMPLE_FEATURES, entries)


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
    bucket = int.from_bytes(id_digest(spectrum_id)[:8], "big") % bucket_bounds[-1]
    return bisect.bisect_right(bucket_bounds, bucket)


def id_digest(spectrum_id: str) -> bytes:
    """MD5 of a spectrum identifier: a position that is the same on every run and machine
    (Python's ``hash`` of a str is salted per process), for splits and record order."""
    return hashlib.md5(spectrum_id.encode("utf-8")).digest()


def _or_nan(value: float | None) -> float:
    if value is None:
        return math.nan
    return float(value)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 as two's complement, like protobuf
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(key: bytes, payload: bytes) -> bytes:
    return key + _varint(len(payload)) + payload


def _floats(values) -> bytes:
    packed = np.asarray(values, dtype="<f4").tobytes()
    return _field(_FLOAT_LIST, _field(_LIST_VALUE, packed) if packed else b"")


def _int64s(values) -> bytes:
    packed = b"".join(_varint(int(v)) for v in values)
    return _field(_INT64_LIST, _field(_LIST_VALUE, packed) if packed else b"")


def _bytes(value: str) -> bytes:
    return _field(_BYTES_LIST, _field(_LIST_VALUE, value.encode("utf-8")))
