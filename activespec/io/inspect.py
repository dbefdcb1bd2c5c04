"""``inspect_file``: a JSON-ready summary of one file that never raises for bad input."""

from __future__ import annotations

import os

import numpy as np

from activespec.errors import SpectrumReadError
from activespec.io.lamost import DEFAULT_MRS_ARM
from activespec.io.opening import one_line
from activespec.io.reader import read_spectrum

#: Metadata fields copied into the record, in output order.
_META_FIELDS = (
    "spectrum_id",
    "designation",
    "ra",
    "dec",
    "survey",
    "instrument",
    "data_release",
    "lamost_class",
    "lamost_subclass",
    "snr",
    "obsid",
    "redshift",
)
#: Record keys kept for readers of older output: deprecated key -> the field it repeats.
#: ``object_id`` was the spectrum's identifier, renamed ``spectrum_id`` (an astronomer reads
#: "object id" as the star's); it will be removed in a later release.
DEPRECATED_KEYS = {"object_id": "spectrum_id"}
#: Every key of a record, whether the file was read or not.
RECORD_KEYS = (
    (
        "path",
        "ok",
        "layout",
        "n_pixels",
        "n_masked",
        "wave_min",
        "wave_max",
        "medium",
    )
    + _META_FIELDS
    + tuple(DEPRECATED_KEYS)
)


def inspect_file(path: str | os.PathLike, *, mrs_arm: str = DEFAULT_MRS_ARM) -> dict:
    """Read ``path`` and summarise it as a flat, JSON-serialisable record.

    Parameters
    ----------
    path : str or os.PathLike
        A FITS file (plain or gzip-compressed).
    mrs_arm : str, optional
        Extension read from LAMOST MRS files (default ``"COADD_R"``).

    Returns
    -------
    dict
        Keys ``path, ok, layout, n_pixels, n_masked, wave_min, wave_max, medium,
        spectrum_id, designation, ra, dec, survey, instrument, data_release,
        lamost_class, lamost_subclass, snr, obsid, redshift`` (None when unknown), and
        ``object_id``, a deprecated copy of ``spectrum_id`` (:data:`DEPRECATED_KEYS`). When
        ``ok`` is false the record also has ``error`` (a one-line reason) and
        ``error_code`` (e.g. ``"truncated"``, see :mod:`activespec.errors`).
    """
    record = dict.fromkeys(RECORD_KEYS)
    record["path"] = os.fspath(path)
    record["ok"] = False
    try:
        spectrum = read_spectrum(path, mrs_arm=mrs_arm)
    except SpectrumReadError as err:
        record["error"] = str(err) or type(err).__name__
        record["error_code"] = err.code
        return record
    except Exception as err:  # a reader bug must not stop a scan of millions of files
        record["error"] = f"internal error ({type(err).__name__}): {one_line(str(err))}"
        record["error_code"] = "internal"
        return record

    meta = spectrum.meta
    record.update(
        ok=True,
        layout=meta.layout,
        n_pixels=spectrum.n_pixels,
        n_masked=int(np.count_nonzero(spectrum.mask)),
        wave_min=round(float(spectrum.wave[0]), 4),
        wave_max=round(float(spectrum.wave[-1]), 4),
        medium=spectrum.medium,
    )
    for field in _META_FIELDS:
        record[field] = getattr(meta, field)
    for old, field in DEPRECATED_KEYS.items():
        record[old] = record[field]
    return record
