"""A cheap fingerprint of the input files, for TFX caching of the pool ingestion.

TFX reuses a component's outputs when its execution properties and inputs are
unchanged. SpectraIngest has no input artifacts, so a pipeline passes this fingerprint
as ``input_fingerprint``: a new, removed, resized or touched file changes it and the
pool is ingested again; otherwise the cached examples are reused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence

from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems

from activespec.errors import ConfigError

_MASK64 = (1 << 64) - 1
_GLOB_PREFIX = re.compile(r"^[^[*?]*")
_CHUNK = 1 << 20


def fingerprint_inputs(patterns: Sequence[str], *, extra_files: Iterable[str] = ()) -> str:
    """Fingerprint the files matched by glob patterns, streaming, in O(1) memory.

    Parameters
    ----------
    patterns : sequence of str
        Beam glob patterns (local paths or any Beam filesystem, e.g. ``gs://``), matched
        exactly as the ingestion matches them.
    extra_files : iterable of str, optional
        Files whose *content* also matters, e.g. the labels CSV or a file list.

    Returns
    -------
    str
        ``"files:N,bytes:B,max_mtime:T,names:H[,extra:E]"``. ``H`` is an order-independent
        sum of per-file hashes of (path, size, mtime), so listing order does not matter;
        a file matched by two patterns counts twice.

    Raises
    ------
    activespec.errors.ConfigError
        If a filesystem cannot be listed or an extra file cannot be read.
    """
    count = total_bytes = 0
    max_mtime = 0.0
    names = 0
    for pattern in patterns:
        for metadata in _iter_matches(pattern):
            count += 1
            total_bytes += metadata.size_in_bytes
            max_mtime = max(max_mtime, metadata.last_updated_in_seconds or 0.0)
            key = f"{metadata.path}\0{metadata.size_in_bytes}\0{metadata.last_updated_in_seconds}"
            names = (names + _hash64(key.encode("utf-8"))) & _MASK64
    result = f"files:{count},bytes:{total_bytes},max_mtime:{max_mtime:.0f},names:{names:016x}"
    extra = list(extra_files)
    if extra:
        result += f",extra:{_content_hash(extra)}"
    return result


def count_inputs(
    patterns: Sequence[str], file_list: str | None = None, *, stop_at: int | None = None
) -> int:
    """The number of input files, as the ingestion expands them (before removing files
    named twice), streaming; stops counting at ``stop_at`` when given.

    Raises
    ------
    activespec.errors.ConfigError
        If a filesystem cannot be listed or the file list cannot be read.
    """
    from .transforms import _clean_list_line, _is_path

    count = 0
    for pattern in patterns:
        for _ in _iter_matches(pattern):
            count += 1
            if stop_at is not None and count >= stop_at:
                return count
    if file_list:
        try:
            with FileSystems.open(file_list, compression_type=CompressionTypes.AUTO) as handle:
                for line in handle:
                    if _is_path(_clean_list_line(line.decode("utf-8"))):
                        count += 1
                        if stop_at is not None and count >= stop_at:
                            return count
        except ConfigError:
            raise
        except Exception as err:
            raise ConfigError(f"cannot read {file_list}: {' '.join(str(err).split())}") from None
    return count


def _iter_matches(pattern: str) -> Iterator[FileMetadata]:
    """The files a Beam ``MatchFiles`` would return for ``pattern``, as a stream.

    ``FileSystems.match`` builds the whole list in memory; the same semantics are
    obtained from the filesystem's listing generator and its pattern filter.
    """
    if pattern.endswith(("/", "\\")):
        pattern += "*"  # as FileSystem.match does
    try:
        filesystem = FileSystems.get_filesystem(pattern)
        prefix = _GLOB_PREFIX.match(pattern).group(0)
        if prefix == pattern:  # a literal path
            if filesystem.exists(pattern):
                yield filesystem.metadata(pattern)
            return
        if filesystem.has_dirs():
            parent = filesystem._url_dirname(prefix)  # same as FileSystem.match
            prefix = parent if parent != prefix else prefix
        # _list is the streaming primitive behind FileSystem.match (which returns a list).
        listing = filesystem._list(prefix)
        yield from filesystem.match_files(listing, pattern)
    except ConfigError:
        raise
    except Exception as err:  # Beam wraps filesystem errors variously
        raise ConfigError(f"cannot list {pattern}: {' '.join(str(err).split())}") from None


def _content_hash(paths: list[str]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for path in paths:
        digest.update(path.encode("utf-8") + b"\0")
        try:
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except Exception as err:
            raise ConfigError(f"cannot read {path}: {' '.join(str(err).split())}") from None
        digest.update(b"\0")
    return digest.hexdigest()


def _hash64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")
