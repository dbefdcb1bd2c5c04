"""Minimal, fast writer of FITS bytes (primary images and binary tables).

Astropy's header machinery costs milliseconds per file, which dominates a survey
of 10^5 files. The simulator writes the few structures it needs directly,
following the FITS standard 4.0: 80-character header cards in fixed format,
headers and data padded to 2,880-byte blocks, big-endian data. Files produced
here are checked with astropy (``verify("exception")``) in the test suite.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

BLOCK = 2880
CARD = 80


class Raw(str):
    """A numeric header value given as preformatted text (e.g. ``Raw("0.00")``).

    Some archives write floats with a fixed number of decimals; wrapping the text
    in ``Raw`` reproduces that formatting exactly.
    """


#: Marker for a keyword whose value is undefined (``KEY     =   / comment``).
UNDEFINED = object()


def _format_float(value: float) -> str:
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        text = f"{mantissa}E{int(exponent):+03d}"
    elif "." not in text and "inf" not in text and "nan" not in text:
        text += ".0"
    if len(text) > 20:
        text = f"{value:.15G}"
        if "." not in text and "E" not in text:
            text += ".0"
    return text


def format_value(value) -> str:
    """FITS fixed-format text of a header value (without the ``"= "`` indicator)."""
    if value is UNDEFINED:
        return " " * 20
    if isinstance(value, Raw):
        return f"{str(value):>20}"
    if isinstance(value, (bool, np.bool_)):
        return f"{'T' if value else 'F':>20}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):>20d}"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise ValueError(f"FITS header values must be finite, got {value!r}")
        return f"{_format_float(float(value)):>20}"
    if isinstance(value, str):
        if not value.isascii():
            raise ValueError(f"FITS header strings must be ASCII: {value!r}")
        quoted = "'" + f"{value.replace(chr(39), chr(39) * 2):<8}" + "'"
        if len(quoted) > 68:
            raise ValueError(f"header string too long for one card: {value!r}")
        return f"{quoted:<20}"
    raise TypeError(f"unsupported FITS header value type {type(value).__name__}")


def card(keyword: str, value=None, comment: str | None = None) -> str:
    """One 80-character header card.

    Parameters
    ----------
    keyword : str
        Keyword of at most 8 characters, or ``"COMMENT"``/``"HISTORY"``/``""``
        for commentary cards (``value`` is then the text).
    value : str, int, float, bool, Raw or UNDEFINED
        The value.
    comment : str, optional
        Comment after ``" / "``; truncated to fit the card.

    Returns
    -------
    str
        Exactly 80 ASCII characters.
    """
    if keyword in ("COMMENT", "HISTORY", ""):
        text = f"{keyword:<8}{'' if value is None else value}"
        if len(text) > CARD:
            raise ValueError(f"commentary card too long: {text!r}")
        return f"{text:<80}"
    if len(keyword) > 8 or not keyword.isascii():
        raise ValueError(f"invalid FITS keyword {keyword!r}")
    text = f"{keyword.upper():<8}= {format_value(value)}"
    if comment is not None:
        text += " /" if comment == "" else f" / {comment}"
    return f"{text[:CARD]:<80}"


def header_bytes(cards: list[str]) -> bytes:
    """Join cards, append ``END`` and pad with blanks to a whole number of blocks."""
    text = "".join(cards) + f"{'END':<80}"
    text += " " * (-len(text) % BLOCK)
    return text.encode("ascii")


def pad_data(data: bytes) -> bytes:
    """Pad a data unit with zero bytes to a whole number of blocks."""
    return data + b"\0" * (-len(data) % BLOCK)


def image_cards(array_shape: tuple[int, ...], bitpix: int, primary: bool = True) -> list[str]:
    """Mandatory cards of an image HDU (NAXIS1 is the last, fastest axis of the array)."""
    cards = [
        card("SIMPLE", True, "conforms to FITS standard")
        if primary
        else card("XTENSION", "IMAGE", "Image extension"),
        card("BITPIX", bitpix, "array data type"),
        card("NAXIS", len(array_shape), "number of array dimensions"),
    ]
    for i, n in enumerate(reversed(array_shape), start=1):
        cards.append(card(f"NAXIS{i}", int(n)))
    if primary:
        cards.append(card("EXTEND", True))
    else:
        cards += [card("PCOUNT", 0), card("GCOUNT", 1)]
    return cards


_TFORM = {np.dtype(">f4"): "E", np.dtype(">f8"): "D", np.dtype(">i2"): "I", np.dtype(">i4"): "J"}


def bintable_cards(columns, n_rows: int) -> list[str]:
    """Mandatory cards of a binary-table extension.

    Parameters
    ----------
    columns : list of (name, dtype, repeat, unit)
        Column name, NumPy dtype (``"S<n>"`` for text), number of elements per cell and
        unit (or None).
    n_rows : int

    Returns
    -------
    list of str
    """
    row_bytes = sum(np.dtype(dt).itemsize * repeat for _, dt, repeat, _ in columns)
    cards = [
        card("XTENSION", "BINTABLE", "binary table extension"),
        card("BITPIX", 8, "array data type"),
        card("NAXIS", 2, "number of array dimensions"),
        card("NAXIS1", row_bytes, "length of dimension 1"),
        card("NAXIS2", n_rows, "length of dimension 2"),
        card("PCOUNT", 0, "number of group parameters"),
        card("GCOUNT", 1, "number of groups"),
        card("TFIELDS", len(columns), "number of table fields"),
    ]
    for i, (name, dtype, repeat, unit) in enumerate(columns, start=1):
        dtype = np.dtype(dtype)
        if dtype.kind == "S":  # text: one string of itemsize characters per cell
            tform = f"{dtype.itemsize * repeat}A"
        else:
            code = _TFORM[dtype.newbyteorder(">")]
            tform = f"{repeat}{code}" if repeat != 1 else code
        cards.append(card(f"TTYPE{i}", name))
        cards.append(card(f"TFORM{i}", tform))
        if unit:
            cards.append(card(f"TUNIT{i}", unit))
    return cards


def write_file(path: str | os.PathLike, hdus: list[tuple[bytes, bytes]], gzip_level=None) -> int:
    """Write header/data byte pairs as one FITS file, optionally gzip-compressed.

    Parameters
    ----------
    path : path-like
        Destination.
    hdus : list of (header_bytes, data_bytes)
        Data bytes are padded here.
    gzip_level : int, optional
        zlib level 1-9 to gzip the file (with a zero timestamp, so identical input
        gives identical bytes); None writes plain FITS.

    Returns
    -------
    int
        Number of bytes written.
    """
    payload = b"".join(header + pad_data(data) for header, data in hdus)
    if gzip_level is not None:
        payload = gzip.compress(payload, compresslevel=gzip_level, mtime=0)
    with open(path, "wb") as handle:
        handle.write(payload)
    return len(payload)
