"""Choice of the ``tf.distribute`` strategy the Trainer builds and fits the model under.

The same model / compile / fit code runs inside ``strategy.scope()`` for every strategy,
so one Trainer module serves a laptop, a multi-GPU node and a Cloud TPU:

* ``"auto"`` -- a TPU when one is named (``tpu_address`` or the ``TPU_NAME`` environment
  variable) and can be resolved; otherwise MirroredStrategy over all GPUs when there are
  several, OneDeviceStrategy on the GPU when there is one, else the default strategy.
* ``"mirrored"`` -- synchronous data parallelism over all GPUs, or over ``logical_cpus``
  logical CPU devices carved out of the physical CPU (useful to test the multi-replica code
  path without accelerators).
* ``"one_device"`` -- everything on ``/gpu:0`` if present, else ``/cpu:0``.
* ``"default"`` -- TensorFlow's default (no-op) strategy.
* ``"tpu"`` -- TPUStrategy; fails with a clear error when no TPU can be resolved.
"""

import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from activespec import errors
from activespec.settings import DISTRIBUTION_STRATEGIES

__all__ = [
    "STRATEGY_KINDS",
    "DevicesInitialisedError",
    "StrategyConfig",
    "make_strategy",
    "split_cpu",
]

#: The strategy kinds: the configuration's list (``[distribution] strategy``).
STRATEGY_KINDS = DISTRIBUTION_STRATEGIES

_LOG = logging.getLogger(__name__)


class DevicesInitialisedError(errors.ConfigError):
    """The CPU cannot be split into logical devices: TensorFlow already set up its devices."""

    code = "devices-initialised"


@dataclasses.dataclass(frozen=True)
class StrategyConfig:
    """Distribution settings of the Trainer (``custom_config["distribution"]``).

    Attributes
    ----------
    kind : str
        One of :data:`STRATEGY_KINDS`.
    tpu_address : str or None
        TPU name or ``grpc://host:port`` address; ``"local"`` on a TPU VM. ``""`` means
        not set.
    logical_cpus : int or None
        With ``kind="mirrored"`` and no GPU, the number of logical CPU replicas. ``0``
        means not set.
    """

    kind: str = "auto"
    tpu_address: str | None = None
    logical_cpus: int | None = None

    def __post_init__(self):
        # Configuration files write "" and 0 for "not set".
        if self.tpu_address == "":
            object.__setattr__(self, "tpu_address", None)
        if self.logical_cpus == 0 and not isinstance(self.logical_cpus, bool):
            object.__setattr__(self, "logical_cpus", None)
        if self.kind not in STRATEGY_KINDS:
            raise errors.ConfigError(
                f"strategy kind must be one of {STRATEGY_KINDS}, got {self.kind!r}"
            )
        if self.logical_cpus is not None and (
            isinstance(self.logical_cpus, bool)
            or not isinstance(self.logical_cpus, int)
            or self.logical_cpus < 1
        ):
            raise errors.ConfigError(
                f"logical_cpus must be a positive integer, got {self.logical_cpus!r}"
            )
        if self.tpu_address is not None and not isinstance(self.tpu_address, str):
            raise errors.ConfigError(f"tpu_address must be a string, got {self.tpu_address!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> "StrategyConfig":
        """Build the settings from a mapping; unknown keys raise ConfigError.

        Parameters
        ----------
        values : mapping or None
            ``kind``, ``tpu_address``, ``logical_cpus``; ``None`` means ``"auto"``.

        Returns
        -------
        StrategyConfig

        Raises
        ------
        activespec.errors.ConfigError
            On an unknown key or an invalid value.
        """
        if values is None:
            return cls()
        if not isinstance(values, Mapping):
            raise errors.ConfigError(
                f"strategy config must be a mapping, got {type(values).__name__}"
            )
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise errors.ConfigError(
                f"unknown strategy config key(s) {unknown}; allowed: {sorted(known)}"
            )
        return cls(**values)

    def make(self) -> tf.distribute.Strategy:
        """Create the strategy, see :func:`make_strategy`."""
        return make_strategy(
            self.kind, tpu_address=self.tpu_address, logical_cpus=self.logical_cpus
        )


def split_cpu(n_devices: int) -> list[str]:
    """Split the physical CPU into ``n_devices`` logical devices.

    Must run before TensorFlow initialises its devices (before the first op or device
    listing of the process). Calling it again with the same count is harmless.

    Parameters
    ----------
    n_devices : int
        Number of logical CPU devices wanted.

    Returns
    -------
    list of str
        Names of the logical CPU devices, e.g. ``["/device:CPU:0", "/device:CPU:1"]``.

    Raises
    ------
    DevicesInitialisedError
        If the devices were already initialised with a different number of logical CPUs.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n_devices)]
        )
    except RuntimeError as error:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) != n_devices:
            raise DevicesInitialisedError(
                f"cannot split the CPU into {n_devices} logical devices: TensorFlow already "
                f"initialised {len(existing)} in this process; create the strategy before "
                f"any TensorFlow op runs ({error})"
            ) from error
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def _resolve_tpu(tpu_address: str | None) -> tf.distribute.cluster_resolver.TPUClusterResolver:
    """Connect to and initialise the named TPU; raise ConfigError when that fails."""
    address = tpu_address or os.environ.get("TPU_NAME")
    if not address:
        raise errors.ConfigError("no TPU named: pass tpu_address or set TPU_NAME")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address)
        if address != "local":
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError, ImportError) as error:
        raise errors.ConfigError(f"TPU {address!r} could not be resolved: {error}") from error
    return resolver


def make_strategy(
    kind: str = "auto",
    *,
    tpu_address: str | None = None,
    logical_cpus: int | None = None,
) -> tf.distribute.Strategy:
    """Create the distribution strategy to build and fit the model under.

    Parameters
    ----------
    kind : {"auto", "mirrored", "one_device", "default", "tpu"}
        Which strategy; see the module docstring.
    tpu_address : str, optional
        TPU name or address for ``"tpu"`` and ``"auto"`` (else ``$TPU_NAME``).
    logical_cpus : int, optional
        For ``"mirrored"`` without GPUs: split the CPU into this many logical devices and
        mirror over them. Has to happen before TensorFlow initialises its devices.

    Returns
    -------
    tf.distribute.Strategy
        Use ``strategy.num_replicas_in_sync`` to scale the global batch size.

    Raises
    ------
    activespec.errors.ConfigError
        If ``kind`` is unknown or ``"tpu"`` is requested but no TPU can be resolved.
    DevicesInitialisedError
        (a ConfigError) If the CPU cannot be split any more because TensorFlow already
        initialised its devices in this process.
    """
    StrategyConfig(kind=kind, tpu_address=tpu_address, logical_cpus=logical_cpus)

    if kind == "tpu":
        return tf.distribute.TPUStrategy(_resolve_tpu(tpu_address))

    if kind == "auto":
        if tpu_address or os.environ.get("TPU_NAME"):
            try:
                return tf.distribute.TPUStrategy(_resolve_tpu(tpu_address))
            except errors.ConfigError as error:
                _LOG.warning("%s; falling back to GPUs / CPU", error)
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
        if len(gpus) == 1:
            return tf.distribute.OneDeviceStrategy(gpus[0].name)
        return tf.distribute.get_strategy()

    if kind == "mirrored":
        if logical_cpus and not tf.config.list_physical_devices("GPU"):
            devices = split_cpu(logical_cpus)
            # NCCL all-reduce is GPU-only; reduce on one CPU device instead.
            return tf.distribute.MirroredStrategy(
                devices, cross_device_ops=tf.distribute.ReductionToOneDevice()
            )
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
        return tf.distribute.MirroredStrategy(
            ["/cpu:0"], cross_device_ops=tf.distribute.ReductionToOneDevice()
        )

    if kind == "one_device":
        device = "/gpu:0" if tf.config.list_physical_devices("GPU") else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device)

    return tf.distribute.get_strategy()
