"""A fast parser of the FITS structure spectra use; astropy stays the reference reader.

astropy.io.fits turns every card of every header into a ``Card`` object and builds
its column machinery for every table, which is most of the time spent reading a
3,909-pixel spectrum. This module reads the same bytes more directly:

* a header keeps each keyword's raw value field and converts it only when asked for;
* an image or a binary table's rows are a NumPy view of the file's bytes, in the
  file's (big-endian) byte order, exactly the values astropy returns (text columns,
  ``rA``, come back as ``bytes`` cells where astropy gives ``str``).

It covers what survey spectra use: images with BITPIX 8/16/32/64/-32/-64 and no
scaling, binary tables of fixed-width columns, and plain value cards. Anything else
(scaled data, CONTINUE or HIERARCH cards, heaps, random groups, an incomplete or
padded-out file, a column of a type it does not convert) raises
:class:`UnsupportedByFastPath`; :func:`activespec.io.read_spectrum` then reads the
file with astropy, which also words every error.
"""

from __future__ import annotations

import re

import numpy as np

from activespec.io.opening import CARD, FITS_BLOCK, missing_hdus

_IMAGE_DTYPES = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
# Binary-table TFORM codes -> (bytes per element, NumPy dtype or None when the values
# need a conversion this parser does not do).
_TFORM_CODES = {
    "L": (1, None), "X": (1, None), "B": (1, "u1"), "I": (2, ">i2"), "J": (4, ">i4"),
    "K": (8, ">i8"), "A": (1, None), "E": (4, ">f4"), "D": (8, ">f8"), "C": (8, None),
    "M": (16, None),
}  # fmt: skip
_TFORM = re.compile(r"^\s*(\d*)([A-Z])")
_INTEGER = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([DE][+-]?\d+)?$")
# Keywords whose presence means astropy would scale or reinterpret the data.
_SCALING = ("BZERO", "BSCALE", "BLANK", "GROUPS")
_COLUMN_SCALING = ("TSCAL", "TZERO", "TDIM")


class UnsupportedByFastPath(Exception):
    """The file uses a FITS feature this parser leaves to astropy."""


def parse_value(field: str):
    """Convert a card's value field (columns 11-80) as astropy does.

    Returns
    -------
    str, bool, int, float or None
        None for a blank value (astropy's ``Undefined``).

    Raises
    ------
    ValueError
        When the value is not a FITS string, logical, integer or real.
    """
    text = field.lstrip()
    if text.startswith("'"):
        chars, i = [], 1
        while True:
            end = text.find("'", i)
            if end < 0:
                raise ValueError("unterminated string value")
            chars.append(text[i:end])
            if text[end + 1 : end + 2] == "'":  # '' is a quote inside the string
                chars.append("'")
                i = end + 2
                continue
            return "".join(chars).rstrip()
    value = text.split("/", 1)[0].strip()
    if not value:
        return None
    if value == "T":
        return True
    if value == "F":
        return False
    if _INTEGER.match(value):
        return int(value)
    upper = value.upper()
    if _FLOAT.match(upper):
        return float(upper.replace("D", "E"))
    raise ValueError(f"unparsable value {value!r}")


class FastHeader:
    """Keyword -> value of one header, converted on access; the first card of a keyword wins.

    Supports what :class:`activespec.io.headers.HeaderLookup` and the layout readers
    use of :class:`astropy.io.fits.Header`: ``in``, ``[]`` and ``get``.
    """

    def __init__(self, fields: dict[str, str]):
        self._fields = fields

    def __contains__(self, key: str) -> bool:
        return key.upper() in self._fields

    def __getitem__(self, key: str):
        return parse_value(self._fields[key.upper()])

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default


def parse_header(data, offset: int) -> tuple[FastHeader, int]:
    """Parse the header starting at ``offset``; returns it and the offset of its data."""
    fields: dict[str, str] = {}
    n_bytes = len(data)
    position = offset
    while True:
        if position + FITS_BLOCK > n_bytes:
            raise UnsupportedByFastPath("header runs past the end of the file")
        block = bytes(data[position : position + FITS_BLOCK])
        position += FITS_BLOCK
        for start in range(0, FITS_BLOCK, CARD):
            keyword = block[start : start + 8].rstrip()
            if keyword == b"END":
                return FastHeader(fields), position
            if keyword in (b"CONTINUE", b"HIERARCH"):
                raise UnsupportedByFastPath(f"{keyword.decode()} cards")
            if block[start + 8 : start + 10] != b"= ":
                continue  # COMMENT, HISTORY, blank and other commentary cards
            try:
                name = keyword.decode("ascii").upper()
                field = block[start + 10 : start + CARD].decode("ascii")
            except UnicodeDecodeError:
                raise UnsupportedByFastPath("non-ASCII header card") from None
            fields.setdefault(name, field)


def _integer(header: FastHeader, key: str, default: int | None = None) -> int:
    try:
        value = header[key]
    except (KeyError, ValueError):
        value = default
    if not isinstance(value, int) or isinstance(value, bool):
        raise UnsupportedByFastPath(f"{key} is missing or not an integer")
    return value


class Columns:
    """The ``names`` of a binary table's columns, as ``BinTableHDU.columns`` has them."""

    def __init__(self, names: list[str]):
        self.names = names


class TableData:
    """A binary table's rows as a NumPy structured view; ``field(name)`` like astropy's."""

    def __init__(self, rows: np.ndarray, keys: dict[str, str], unsupported: dict[str, str]):
        self._rows = rows
        self._keys = keys
        self._unsupported = unsupported

    def field(self, name: str) -> np.ndarray:
        if name in self._unsupported:
            raise UnsupportedByFastPath(f"column {name}: {self._unsupported[name]}")
        return self._rows[self._keys[name]]


class FastHDU:
    """One HDU: ``header``, ``name``, ``data`` and, for a binary table, ``columns``.

    Attributes
    ----------
    is_binary_table : bool
        True for a ``BINTABLE`` extension (where astropy gives a ``BinTableHDU``).
    """

    def __init__(self, header: FastHeader, name: str, data, *, columns: Columns | None = None):
        self.header = header
        self.name = name
        self.data = data
        self.columns = columns
        self.is_binary_table = columns is not None


class FastHDUList(list):
    """The HDUs of a file, in order; ``close`` is a no-op (the bytes are in memory)."""

    def close(self) -> None:
        pass


def _padded(size: int) -> int:
    return -(-size // FITS_BLOCK) * FITS_BLOCK


def _image(header: FastHeader, data, start: int, n_bytes: int):
    if any(key in header for key in _SCALING):
        raise UnsupportedByFastPath("scaled or grouped image data")
    bitpix = _integer(header, "BITPIX")
    naxis = _integer(header, "NAXIS")
    if bitpix not in _IMAGE_DTYPES or not 0 <= naxis <= 999:
        raise UnsupportedByFastPath(f"BITPIX {bitpix}, NAXIS {naxis}")
    if naxis == 0:
        return None, 0
    shape = tuple(_integer(header, f"NAXIS{i}") for i in range(naxis, 0, -1))
    dtype = np.dtype(_IMAGE_DTYPES[bitpix])
    count = int(np.prod(shape, dtype=np.int64))
    size = count * dtype.itemsize
    if start + size > n_bytes:
        raise UnsupportedByFastPath("data section runs past the end of the file")
    return np.frombuffer(data, dtype=dtype, count=count, offset=start).reshape(shape), size


def _binary_table(header: FastHeader, data, start: int, n_bytes: int):
    if _integer(header, "BITPIX") != 8 or _integer(header, "NAXIS") != 2:
        raise UnsupportedByFastPath("binary table with BITPIX != 8 or NAXIS != 2")
    if _integer(header, "PCOUNT", 0) != 0 or _integer(header, "GCOUNT", 1) != 1:
        raise UnsupportedByFastPath("binary table with a heap or groups")
    row_bytes, n_rows = _integer(header, "NAXIS1"), _integer(header, "NAXIS2")
    names, keys, unsupported, fields = [], {}, {}, []
    for index in range(1, _integer(header, "TFIELDS") + 1):
        name = header.get(f"TTYPE{index}")
        form = header.get(f"TFORM{index}")
        match = _TFORM.match(form) if isinstance(form, str) else None
        if not isinstance(name, str) or not name or name in keys or match is None:
            raise UnsupportedByFastPath(f"column {index}: unnamed, repeated or no TFORM")
        repeat = int(match.group(1) or 1)
        code = match.group(2)
        if code not in _TFORM_CODES:
            raise UnsupportedByFastPath(f"column {name}: TFORM {form!r}")
        width, dtype = _TFORM_CODES[code]
        n_bytes_column = -(-repeat // 8) if code == "X" else width * repeat
        key = f"c{index}"
        if code == "A" and repeat > 0:
            # Text: one bytes cell per row (astropy decodes it to str; readers accept both).
            fields.append((key, f"S{repeat}"))
        elif dtype is None or repeat == 0:
            fields.append((key, f"V{n_bytes_column}") if n_bytes_column else None)
            unsupported[name] = f"TFORM {form!r}"
        else:
            fields.append((key, dtype, (repeat,)) if repeat > 1 else (key, dtype))
        if any(f"{prefix}{index}" in header for prefix in _COLUMN_SCALING):
            unsupported[name] = "scaled or multi-dimensional"
        names.append(name)
        keys[name] = key
    row_dtype = np.dtype([field for field in fields if field is not None])
    if row_dtype.itemsize != row_bytes:
        raise UnsupportedByFastPath(f"columns take {row_dtype.itemsize} bytes, NAXIS1 {row_bytes}")
    size = row_bytes * n_rows
    if start + size > n_bytes:
        raise UnsupportedByFastPath("data section runs past the end of the file")
    rows = np.frombuffer(data, dtype=row_dtype, count=n_rows, offset=start)
    return TableData(rows, keys, unsupported), Columns(names), size


def parse_fits_fast(data) -> FastHDUList:
    """Parse FITS bytes into :class:`FastHDU` objects.

    Raises
    ------
    UnsupportedByFastPath
        For anything outside the subset described in the module docstring, including
        every damaged file; the caller reads such files with astropy.
    """
    n_bytes = len(data)
    hdus = FastHDUList()
    position = 0
    while position < n_bytes:
        header, start = parse_header(data, position)
        if not hdus:
            if header.get("SIMPLE") is not True:
                raise UnsupportedByFastPath("primary header without SIMPLE = T")
            image, size = _image(header, data, start, n_bytes)
            hdus.append(FastHDU(header, "PRIMARY", image))
        else:
            kind = header.get("XTENSION")
            name = header.get("EXTNAME")
            name = name if isinstance(name, str) else ""
            if kind == "IMAGE":
                image, size = _image(header, data, start, n_bytes)
                hdus.append(FastHDU(header, name, image))
            elif kind == "BINTABLE":
                table, columns, size = _binary_table(header, data, start, n_bytes)
                hdus.append(FastHDU(header, name, table, columns=columns))
            else:
                raise UnsupportedByFastPath(f"extension type {kind!r}")
        position = start + _padded(size)
        if position < n_bytes and bytes(data[position : position + 8]) != b"XTENSION":
            raise UnsupportedByFastPath("bytes after the last HDU")
    if hdus and missing_hdus(hdus[0].header, len(hdus)) is not None:
        raise UnsupportedByFastPath("fewer HDUs than N_EXTEN announces")
    return hdus
