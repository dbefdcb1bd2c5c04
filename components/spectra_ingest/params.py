"""Parameters of the SpectraIngest component: validation and (de)serialisation.

TFX stores execution properties as primitives, so lists and dicts travel as canonical
JSON strings (sorted keys). The same :class:`IngestParams` validates them when the
pipeline is defined (component constructor) and again when the executor runs. Their
names are :mod:`components.spectra_ingest.spec`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from activespec.constants import DEFAULT_CLASSES
from activespec.errors import ConfigError
from activespec.preprocessing import PreprocessConfig
from activespec.settings import DEFAULT_LABELLED_SPLITS, check_class_names

from .spec import (
    CLASS_NAMES_KEY,
    DEGRADE_RESOLUTION_KEY,
    FILE_LIST_KEY,
    FILE_PATTERNS_KEY,
    INPUT_FINGERPRINT_KEY,
    LABELS_KEY,
    PREPROCESSING_KEY,
    SPLITS_KEY,
)

#: Split names become ``Split-<name>`` folders; TFX accepts these characters only.
_SPLIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

DEFAULT_POOL_SPLITS = {"pool": 1}


@dataclasses.dataclass(frozen=True)
class IngestParams:
    """Validated parameters of one ingestion run.

    Attributes
    ----------
    file_patterns : tuple of str
        Glob patterns of FITS files (Beam syntax: ``*`` stays within a folder, ``**``
        crosses folders). May be empty when ``file_list`` is given.
    file_list : str or None
        A text file with one path per line (blank lines and ``#`` comments skipped).
    labels : str or None
        A CSV file with a header containing ``spectrum_id`` and ``label`` columns;
        None ingests an unlabelled pool.
    class_names : tuple of str
        Class names in label-index order.
    preprocessing : dict
        :class:`activespec.preprocessing.PreprocessConfig` as a dict.
    degrade_resolution : bool
        Degrade the spectra :func:`activespec.preprocessing.should_degrade` picks (sharper
        than the model) before resampling; False never degrades.
    splits : dict of str to int
        Hash buckets per output split; a spectrum goes to a split with probability
        proportional to its buckets.
    input_fingerprint : str
        Opaque string describing the input files; only used as part of the cache key.
    """

    file_patterns: tuple[str, ...] = ()
    file_list: str | None = None
    labels: str | None = None
    class_names: tuple[str, ...] = DEFAULT_CLASSES
    preprocessing: dict = dataclasses.field(default_factory=dict)
    degrade_resolution: bool = False
    splits: dict = dataclasses.field(default_factory=lambda: dict(DEFAULT_POOL_SPLITS))
    input_fingerprint: str = ""

    def __post_init__(self) -> None:
        self.validate()

    @property
    def labelled(self) -> bool:
        return bool(self.labels)

    @property
    def split_names(self) -> list[str]:
        """Split names in the order their hash-bucket ranges are laid out (sorted)."""
        return sorted(self.splits)

    @property
    def split_bucket_bounds(self) -> tuple[int, ...]:
        """Cumulative upper bucket bound of each split in :attr:`split_names` order."""
        bounds, total = [], 0
        for name in self.split_names:
            total += self.splits[name]
            bounds.append(total)
        return tuple(bounds)

    def validate(self) -> None:
        """Check every value; raise :class:`~activespec.errors.ConfigError` on the first bad one."""
        if not self.file_patterns and not self.file_list:
            raise ConfigError("SpectraIngest: give file_patterns, a file_list, or both")
        for pattern in self.file_patterns:
            if not isinstance(pattern, str) or not pattern.strip():
                raise ConfigError(f"SpectraIngest: empty or non-string file pattern {pattern!r}")
        check_class_names(self.class_names, "SpectraIngest: class_names")
        if not isinstance(self.splits, Mapping) or not self.splits:
            raise ConfigError("SpectraIngest: splits must map split names to hash buckets")
        for name, buckets in self.splits.items():
            if not isinstance(name, str) or not _SPLIT_NAME.match(name):
                raise ConfigError(
                    f"SpectraIngest: split name {name!r} must be alphanumeric "
                    "(dashes and underscores allowed after the first character)"
                )
            if not isinstance(buckets, int) or isinstance(buckets, bool) or buckets < 1:
                raise ConfigError(
                    f"SpectraIngest: split {name!r} needs a positive integer number of "
                    f"buckets, got {buckets!r}"
                )

    def to_exec_properties(self) -> dict[str, Any]:
        """Primitive execution properties; equal parameters give equal strings (cache key)."""
        return {
            FILE_PATTERNS_KEY: json.dumps(list(self.file_patterns)),
            FILE_LIST_KEY: self.file_list or "",
            LABELS_KEY: self.labels or "",
            CLASS_NAMES_KEY: json.dumps(list(self.class_names)),
            PREPROCESSING_KEY: json.dumps(self.preprocessing, sort_keys=True),
            DEGRADE_RESOLUTION_KEY: bool(self.degrade_resolution),
            SPLITS_KEY: json.dumps(self.splits, sort_keys=True),
            INPUT_FINGERPRINT_KEY: self.input_fingerprint,
        }

    @classmethod
    def from_exec_properties(cls, props: Mapping[str, Any]) -> IngestParams:
        """Rebuild the parameters from the execution properties TFX hands the executor."""
        return cls(
            file_patterns=tuple(_json_value(props, FILE_PATTERNS_KEY, [])),
            file_list=props.get(FILE_LIST_KEY) or None,
            labels=props.get(LABELS_KEY) or None,
            class_names=tuple(_json_value(props, CLASS_NAMES_KEY, list(DEFAULT_CLASSES))),
            preprocessing=dict(_json_value(props, PREPROCESSING_KEY, {})),
            degrade_resolution=bool(props.get(DEGRADE_RESOLUTION_KEY, False)),
            splits=dict(_json_value(props, SPLITS_KEY, DEFAULT_POOL_SPLITS)),
            input_fingerprint=props.get(INPUT_FINGERPRINT_KEY) or "",
        )


def make_params(
    *,
    file_patterns: Sequence[str] | None,
    file_list: str | None,
    labels: str | None,
    class_names: Sequence[str],
    preprocessing: Mapping[str, Any] | None,
    degrade_resolution: bool,
    splits: Mapping[str, int] | None,
    input_fingerprint: str,
) -> IngestParams:
    """Build :class:`IngestParams` from user-facing arguments, filling defaults.

    The preprocessing settings are passed through
    :class:`activespec.preprocessing.PreprocessConfig` so that bad settings fail here and
    every default is spelled out in the cache key.
    """
    if isinstance(file_patterns, str):
        file_patterns = [file_patterns]
    if splits is None:
        splits = DEFAULT_LABELLED_SPLITS if labels else DEFAULT_POOL_SPLITS
    config = PreprocessConfig.from_dict(dict(preprocessing or {}))
    return IngestParams(
        file_patterns=tuple(file_patterns or ()),
        file_list=file_list or None,
        labels=labels or None,
        class_names=tuple(class_names),
        preprocessing=config.to_dict(),
        degrade_resolution=bool(degrade_resolution),
        splits=dict(splits),
        input_fingerprint=input_fingerprint or "",
    )


def _json_value(props: Mapping[str, Any], key: str, default: Any) -> Any:
    raw = props.get(key)
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise ConfigError(f"SpectraIngest: execution property {key} is not JSON: {err}") from None
