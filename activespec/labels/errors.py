"""Typed errors of the label store, the round files and the labels CSV."""

from __future__ import annotations

from activespec.errors import ActivespecError, ConfigError


class LabelError(ActivespecError):
    """A label was refused."""

    code = "label"


class UnknownSpectrumError(LabelError):
    """The spectrum is not registered in the round (not queried or sampled there)."""

    code = "unknown-spectrum"


class UnknownClassError(LabelError):
    """The class name is not one of the store's classes."""

    code = "unknown-class"


class InvalidLabelError(LabelError):
    """A label field (round, role, labeller, comment, time) has an invalid value."""

    code = "invalid-label"


class StoreMismatchError(ConfigError):
    """An existing label store was made for other class names (or another schema)."""

    code = "store-mismatch"


class RoundFilesError(ConfigError):
    """A round folder or its query / performance-sample JSON is missing or malformed."""

    code = "bad-round-files"


class LabelCsvError(LabelError):
    """A labels CSV could not be imported; ``problems`` lists every bad row."""

    code = "bad-labels-csv"

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = list(problems or [])
        super().__init__(message)
