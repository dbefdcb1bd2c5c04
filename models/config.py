"""Hyperparameters of the CNN and of its training: the ``[model]`` configuration section.

Free of TensorFlow so that configurations validate in milliseconds, before anything runs.
"""

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from activespec import errors
from activespec.constants import GRID_POINTS

__all__ = ["CLASS_WEIGHTINGS", "ModelConfig", "conv_output_length"]

#: Accepted values of :attr:`ModelConfig.class_weighting`.
CLASS_WEIGHTINGS = ("balanced", "none")


def conv_output_length(
    n_points: int, filters: Sequence[int], convs_per_block: int, kernel_size: int
) -> int:
    """Length of the feature map after the convolution / pooling stack.

    Parameters
    ----------
    n_points : int
        Length of the input spectrum.
    filters : sequence of int
        Number of filters per block (one max-pooling per block).
    convs_per_block : int
        Convolutions per block, each with "valid" padding.
    kernel_size : int
        Convolution kernel size.

    Returns
    -------
    int
        Number of positions left before flattening; ``<= 0`` means the input is too
        short for the stack.
    """
    length = n_points
    for _ in filters:
        length -= convs_per_block * (kernel_size - 1)
        if length < 2:
            return 0
        length //= 2
    return length


def _check_architecture(
    *,
    n_points: int,
    n_classes: int,
    filters: Sequence[int],
    convs_per_block: int,
    kernel_size: int,
    dense_units: Sequence[int],
    dropout: float,
    learning_rate: float,
) -> None:
    """Raise :class:`~activespec.errors.ConfigError` for an unusable architecture."""

    def positive_int(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise errors.ConfigError(f"{name} must be a positive integer, got {value!r}")

    positive_int("n_points", n_points)
    positive_int("convs_per_block", convs_per_block)
    positive_int("kernel_size", kernel_size)
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise errors.ConfigError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if len(filters) == 0:
        raise errors.ConfigError("filters must name at least one convolution block")
    for value in filters:
        positive_int("filters", value)
    for value in dense_units:
        positive_int("dense_units", value)
    if not (isinstance(dropout, int | float) and 0.0 <= dropout < 1.0):
        raise errors.ConfigError(f"dropout must be in [0, 1), got {dropout!r}")
    if not (
        isinstance(learning_rate, int | float)
        and learning_rate > 0
        and math.isfinite(learning_rate)
    ):
        raise errors.ConfigError(f"learning_rate must be positive, got {learning_rate!r}")
    if conv_output_length(n_points, filters, convs_per_block, kernel_size) < 1:
        raise errors.ConfigError(
            f"n_points={n_points} is too short for {len(filters)} blocks of "
            f"{convs_per_block} convolutions (kernel {kernel_size}) with max-pooling"
        )


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Hyperparameters of the network and of its training.

    The number of classes is not part of the configuration: it always follows from the
    configured class names.

    Attributes
    ----------
    n_points, filters, convs_per_block, kernel_size, dense_units, dropout, learning_rate
        Architecture, see :func:`build_cnn`.
    batch_size : int
        Batch size per replica; the global batch is ``batch_size * replicas``.
    max_epochs : int
        Upper limit on epochs (each epoch is one pass over the training split).
    patience : int
        Early stopping: epochs without an improvement of the validation loss.
    min_delta : float
        Early stopping: smallest decrease of the validation loss that counts.
    class_weighting : {"balanced", "none"}
        ``"balanced"`` weights class ``c`` by ``n / (k * n_c)`` to rebalance training.
    seed : int
        Seeds the initial weights, the shuffling and dropout: on one machine the same
        training files (same examples in the same order) give the same model and the
        same number of epochs. LabelJoin writes the training split in a fixed order, so
        in a round the same labels give the same training files.
    """

    n_points: int = GRID_POINTS
    filters: tuple[int, ...] = (64, 128, 256)
    convs_per_block: int = 2
    kernel_size: int = 3
    dense_units: tuple[int, ...] = (512, 512)
    dropout: float = 0.5
    learning_rate: float = 1e-3
    batch_size: int = 64
    max_epochs: int = 100
    patience: int = 10
    min_delta: float = 1e-3
    class_weighting: str = "balanced"
    seed: int = 0

    def __post_init__(self):
        # Lists from JSON become tuples so the frozen config stays hashable.
        for name in ("filters", "dense_units"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, Sequence):
                raise errors.ConfigError(f"{name} must be a list of integers, got {value!r}")
            object.__setattr__(self, name, tuple(value))
        _check_architecture(
            n_points=self.n_points,
            n_classes=2,
            filters=self.filters,
            convs_per_block=self.convs_per_block,
            kernel_size=self.kernel_size,
            dense_units=self.dense_units,
            dropout=self.dropout,
            learning_rate=self.learning_rate,
        )
        for name in ("batch_size", "max_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise errors.ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("patience", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise errors.ConfigError(f"{name} must be an integer >= 0, got {value!r}")
        if not (isinstance(self.min_delta, int | float) and self.min_delta >= 0):
            raise errors.ConfigError(f"min_delta must be >= 0, got {self.min_delta!r}")
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise errors.ConfigError(
                f"class_weighting must be one of {CLASS_WEIGHTINGS}, got {self.class_weighting!r}"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> "ModelConfig":
        """Build a configuration from a mapping, e.g. parsed JSON or TOML.

        Parameters
        ----------
        values : mapping or None
            Field names and values; missing fields keep their defaults, ``None`` gives
            the published configuration.

        Returns
        -------
        ModelConfig

        Raises
        ------
        activespec.errors.ConfigError
            If a key is not a field (typos must not be ignored silently) or a value is
            out of range.
        """
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise errors.ConfigError(f"model config must be a mapping, got {type(values).__name__}")
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise errors.ConfigError(
                f"unknown model config key(s) {unknown}; allowed: {sorted(known)}"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-serialisable dict (tuples become lists)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }
