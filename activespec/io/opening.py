"""Turn a path, file object or bytes into an opened, size-checked FITS file in memory.

The bytes are read once. Gzip is recognised by its magic bytes, never by the file
name, and decompressed in memory. The FITS file is then opened from memory with
astropy (no memory mapping, every HDU header parsed up front) and each HDU's data
section is checked against the byte count its header implies, so that a truncated
file raises :class:`~activespec.errors.TruncatedFileError` instead of coming back
padded with zeros.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import warnings
import zlib
from contextlib import contextmanager
from typing import BinaryIO

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning

from activespec.errors import NotFitsError, SpectrumReadError, TruncatedFileError

#: Anything :func:`activespec.io.read_spectrum` reads from.
Source = str | os.PathLike | bytes | bytearray | memoryview | BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
FITS_MAGIC = b"SIMPLE  ="
FITS_BLOCK = 2880
CARD = 80


@dataclasses.dataclass
class OpenedFits:
    """A FITS file held in memory together with where it came from.

    Attributes
    ----------
    hdul : astropy.io.fits.HDUList or activespec.io.fastfits.FastHDUList
        All HDUs, size-checked; data are read from memory on first access.
    data : bytes-like
        The (decompressed) FITS bytes the HDUs were parsed from.
    name : str or None
        The path or URI to record as the spectrum's source, when known.
    """

    hdul: fits.HDUList  # or a FastHDUList, which offers the same parts
    data: bytes | bytearray | memoryview
    name: str | None

    @property
    def source(self) -> str:
        """The name to record as a spectrum's source (``"<bytes>"`` when unknown)."""
        return self.name if self.name is not None else "<bytes>"

    def sha1(self) -> str:
        """Content identifier of the FITS bytes: ``"sha1:<hex digest>"``."""
        return "sha1:" + hashlib.sha1(self.data).hexdigest()

    def close(self) -> None:
        self.hdul.close()


@contextmanager
def quiet_astropy():
    """Silence astropy's warnings (header verification, truncation, ...) while reading.

    Odd but readable headers are common in survey archives and truncation is
    detected explicitly by :func:`check_data_sizes`, so these warnings only add
    noise on millions of files. (``catch_warnings`` swaps the global filter list;
    that is safe across processes, and across threads only as far as other threads'
    warnings may also be silenced meanwhile.)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)  # includes VerifyWarning
        yield


def read_source_bytes(source: Source) -> tuple[bytes | bytearray | memoryview, str | None]:
    """Read all bytes of ``source`` once.

    Parameters
    ----------
    source : str, os.PathLike, bytes-like or binary file object
        A local path, raw bytes, or an object with a ``read()`` method.

    Returns
    -------
    data : bytes-like
        The raw (possibly gzip-compressed) content.
    path : str or None
        The path when ``source`` was a path, else None.

    Raises
    ------
    SpectrumReadError
        When the path cannot be read (missing, a directory, no permission).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return source, None
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with open(path, "rb") as handle:
                return handle.read(), path
        except OSError as err:
            reason = err.strerror or type(err).__name__
            raise SpectrumReadError(f"cannot read file: {reason}") from None
    if hasattr(source, "read"):
        try:
            data = source.read()
        except OSError as err:
            raise SpectrumReadError(f"cannot read stream: {err.strerror or err}") from None
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise SpectrumReadError("stream returned text, not bytes; open it in binary mode")
        return data, None
    raise SpectrumReadError(f"cannot read a {type(source).__name__}; expected a path or bytes")


def gunzip_if_needed(data: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
    """Decompress ``data`` in memory when it starts with the gzip magic bytes.

    Raises
    ------
    TruncatedFileError
        When the gzip stream ends before its end-of-stream marker.
    NotFitsError
        When the gzip stream is corrupt.
    """
    if bytes(data[:2]) != GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except EOFError:
        raise TruncatedFileError("gzip stream ends early: the .gz file is truncated") from None
    except (OSError, zlib.error) as err:
        raise NotFitsError(f"corrupt gzip stream: {one_line(str(err))}") from None


def end_card_offset(data: bytes | bytearray | memoryview) -> int | None:
    """Byte offset of the first 80-byte card that is an ``END`` card (vectorised scan)."""
    n_cards = len(data) // CARD
    if n_cards == 0:
        return None
    cards = np.frombuffer(data, dtype=np.uint8, count=n_cards * CARD).reshape(n_cards, CARD)
    end = np.frombuffer(b"END     ", dtype=np.uint8)
    hits = np.flatnonzero((cards[:, :8] == end).all(axis=1))
    return int(hits[0]) * CARD if hits.size else None


def implied_data_size(header: fits.Header) -> int:
    """Bytes of the data section ``header`` announces, without the padding to 2880.

    Follows the FITS standard: ``|BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1*...*NAXISn)``,
    where NAXIS1 is left out of the product for random groups (NAXIS1 = 0).
    """
    naxis = int(header.get("NAXIS", 0))
    if naxis == 0:
        return 0
    axes = [int(header.get(f"NAXIS{i}", 0)) for i in range(1, naxis + 1)]
    if header.get("GROUPS", False) and axes[0] == 0:
        axes = axes[1:]
    n_elements = int(np.prod(axes, dtype=np.int64))
    bytes_per_value = abs(int(header.get("BITPIX", 8))) // 8
    gcount = int(header.get("GCOUNT", 1))
    pcount = int(header.get("PCOUNT", 0))
    return bytes_per_value * gcount * (pcount + n_elements)


def check_data_sizes(hdul: fits.HDUList, n_bytes: int, data: bytes | bytearray | memoryview):
    """Raise :class:`TruncatedFileError` when any HDU needs more bytes than the file has.

    Missing trailing padding alone is tolerated (some writers omit it); missing data
    is not. A trailing partial extension header that astropy skipped also counts as
    truncation.
    """
    end_of_last = 0
    for index, hdu in enumerate(hdul):
        info = hdu.fileinfo()  # the HDUList version re-serialises every header: slow
        if info is None:
            continue
        # A tile-compressed image (DESI masks) is stored as a binary table: its own header
        # (astropy keeps it as ``_header``; ``header`` is the image's) gives the stored size.
        stored = hdu._header if isinstance(hdu, fits.CompImageHDU) else hdu.header
        need = info["datLoc"] + implied_data_size(stored)
        if need > n_bytes:
            raise TruncatedFileError(
                f"file truncated: HDU {index} needs {need} bytes, only {n_bytes} present"
            )
        end_of_last = info["datLoc"] + info["datSpan"]
    if end_of_last < n_bytes and bytes(data[end_of_last : end_of_last + 8]) == b"XTENSION":
        raise TruncatedFileError(
            f"file truncated: extension header at byte {end_of_last} is incomplete"
        )
    announced = missing_hdus(hdul[0].header, len(hdul))
    if announced is not None:
        raise TruncatedFileError(
            f"file truncated: header announces {announced} HDUs (N_EXTEN), found {len(hdul)}"
        )


def missing_hdus(primary_header, n_found: int) -> int | None:
    """The HDU count the primary header announces when the file has fewer, else None.

    LAMOST writes the total HDU count as N_EXTEN: the only trace of a file cut exactly
    at an HDU boundary.
    """
    announced = primary_header.get("N_EXTEN")
    if isinstance(announced, int) and not isinstance(announced, bool) and announced > n_found:
        return announced
    return None


def parse_fits(data: bytes | bytearray | memoryview) -> fits.HDUList:
    """Parse FITS bytes into an HDUList: every HDU's header parsed, its data size checked.

    Data arrays are read from the in-memory bytes when first accessed.

    Raises
    ------
    NotFitsError
        Empty input, input that does not start with ``SIMPLE  =``, or a corrupt header.
    TruncatedFileError
        A header without its END card, or a data section shorter than announced.
    """
    n_bytes = len(data)
    if n_bytes == 0:
        raise NotFitsError("empty file (0 bytes)")
    if bytes(data[: len(FITS_MAGIC)]) != FITS_MAGIC:
        head = bytes(data[:12])
        raise NotFitsError(f"not a FITS file: starts with {head!r}, not 'SIMPLE  ='")
    with quiet_astropy():
        try:
            hdul = fits.open(io.BytesIO(data), memmap=False, lazy_load_hdus=False)
        except Exception as err:  # astropy raises OSError, VerifyError, ValueError, ...
            end = end_card_offset(data)
            if end is None:
                raise TruncatedFileError(
                    f"file truncated inside the primary header ({n_bytes} bytes, no END card)"
                ) from None
            header_blocks = -(-(end + CARD) // FITS_BLOCK)
            if n_bytes < header_blocks * FITS_BLOCK:
                raise TruncatedFileError(
                    f"file truncated inside the primary header padding ({n_bytes} bytes)"
                ) from None
            raise NotFitsError(f"corrupt FITS header: {one_line(str(err))}") from None
        try:
            check_data_sizes(hdul, n_bytes, data)
        except BaseException:
            hdul.close()
            raise
    return hdul


def one_line(text: str, limit: int = 200) -> str:
    """Collapse ``text`` to a single line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
