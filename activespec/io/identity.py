"""Fallback identifiers for spectra whose headers do not name them."""

from __future__ import annotations

import re

#: Suffixes stripped from a file name to get its stem, applied repeatedly ("x.fits.gz" -> "x").
_FITS_SUFFIX = re.compile(r"\.(gz|fits?|fts)$", re.IGNORECASE)


def file_stem(name: str | None) -> str | None:
    """The last path component of ``name`` without .fit/.fits/.fts/.gz suffixes.

    Works for local paths and URIs (``gs://bucket/x/oe270005.fits.gz`` -> ``oe270005``).
    Returns None when nothing is left.
    """
    if not name:
        return None
    stem = name.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    while True:
        shorter = _FITS_SUFFIX.sub("", stem)
        if shorter == stem:
            break
        stem = shorter
    return stem or None
