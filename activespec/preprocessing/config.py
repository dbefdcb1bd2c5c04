"""The preprocessing settings, one frozen record that travels with every artefact.

The defaults reproduce the published pipeline (Škoda et al. 2020): 140 points
over 6519-6732 Å in vacuum, degradation of the labelled high-resolution
spectra to R = 1,800, min-max scaling to [-1, 1], no continuum normalisation;
plus the bad-pixel policy the published code lacked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
from collections.abc import Mapping

import numpy as np

from activespec.constants import GRID_POINTS, GRID_START, GRID_STOP, R_LAMOST_LRS
from activespec.errors import ConfigError

#: Accepted values of :attr:`PreprocessConfig.scaling`.
SCALINGS = ("minmax", "robust", "none")


@dataclasses.dataclass(frozen=True)
class PreprocessConfig:
    """How a spectrum becomes the model's input vector.

    Attributes
    ----------
    grid_start, grid_stop : float
        First and last pixel centre of the common grid [Å, vacuum].
    n_points : int
        Number of grid pixels (>= 8).
    target_resolving_power : float
        Resolving power the spectra sharper than it (the labelled high-resolution
        instrument) are degraded to; which ones are is decided by
        :func:`activespec.preprocessing.should_degrade` alone.
    source_resolving_power : float or None
        Resolving power used for the kernel of the spectra being degraded; None
        uses each spectrum's ``meta.resolving_power``.
    sigma_pixels : float or None
        Explicit degradation kernel σ in native pixels of the spectra being
        degraded, overriding the one derived from the resolving powers (7
        reproduces the published setting); it never makes a spectrum degraded.
    max_gap_pixels : int
        Longest run of bad native pixels bridged by linear interpolation.
    max_bad_fraction : float
        Largest fraction of the window that may be masked or missing; a
        spectrum with more is rejected. In (0, 1].
    scaling : {"minmax", "robust", "none"}
        Per-spectrum intensity scaling (see :mod:`activespec.preprocessing.scaling`).
    continuum : bool
        Divide by a fitted continuum before scaling.
    min_constant_run : int
        Native pixels in runs of at least this many identical flux values are
        treated as bad (zeroed or clipped segments); 0 disables the check.
    """

    grid_start: float = GRID_START
    grid_stop: float = GRID_STOP
    n_points: int = GRID_POINTS
    target_resolving_power: float = R_LAMOST_LRS
    source_resolving_power: float | None = None
    sigma_pixels: float | None = None
    max_gap_pixels: int = 5
    max_bad_fraction: float = 0.2
    scaling: str = "minmax"
    continuum: bool = False
    min_constant_run: int = 4

    def __post_init__(self) -> None:
        for name in ("grid_start", "grid_stop", "target_resolving_power"):
            self._set(name, _real(name, getattr(self, name)))
        for name in ("source_resolving_power", "sigma_pixels"):
            value = getattr(self, name)
            self._set(name, None if value is None else _real(name, value))
        for name in ("n_points", "max_gap_pixels", "min_constant_run"):
            self._set(name, _integer(name, getattr(self, name)))
        self._set("max_bad_fraction", _real("max_bad_fraction", self.max_bad_fraction))

        if self.grid_start <= 0:
            raise ConfigError(f"grid_start must be > 0 Å, got {self.grid_start}")
        if self.grid_stop <= self.grid_start:
            raise ConfigError(
                f"grid_stop ({self.grid_stop}) must be greater than grid_start ({self.grid_start})"
            )
        if self.n_points < 8:
            raise ConfigError(f"n_points must be >= 8, got {self.n_points}")
        if self.target_resolving_power <= 0:
            raise ConfigError(
                f"target_resolving_power must be > 0, got {self.target_resolving_power}"
            )
        if self.source_resolving_power is not None and self.source_resolving_power <= 0:
            raise ConfigError(
                f"source_resolving_power must be > 0 or None, got {self.source_resolving_power}"
            )
        if self.sigma_pixels is not None and self.sigma_pixels < 0:
            raise ConfigError(f"sigma_pixels must be >= 0 or None, got {self.sigma_pixels}")
        if self.max_gap_pixels < 0:
            raise ConfigError(f"max_gap_pixels must be >= 0, got {self.max_gap_pixels}")
        if not 0.0 < self.max_bad_fraction <= 1.0:
            raise ConfigError(f"max_bad_fraction must be in (0, 1], got {self.max_bad_fraction}")
        if self.scaling not in SCALINGS:
            raise ConfigError(f"scaling must be one of {', '.join(SCALINGS)}; got {self.scaling!r}")
        if not isinstance(self.continuum, (bool, np.bool_)):
            raise ConfigError(f"continuum must be true or false, got {self.continuum!r}")
        self._set("continuum", bool(self.continuum))
        if self.min_constant_run == 1 or self.min_constant_run < 0:
            raise ConfigError(
                f"min_constant_run must be 0 (off) or >= 2, got {self.min_constant_run}"
            )

    @property
    def grid_step(self) -> float:
        """Spacing of the common grid [Å]."""
        return (self.grid_stop - self.grid_start) / (self.n_points - 1)

    def to_dict(self) -> dict:
        """All fields as plain Python values (JSON/TOML friendly)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping) -> PreprocessConfig:
        """Build a config from a mapping; missing keys keep their defaults.

        Raises
        ------
        activespec.errors.ConfigError
            If ``values`` is not a mapping, has unknown keys or invalid values.
        """
        if not isinstance(values, Mapping):
            raise ConfigError(
                f"preprocessing options must be a mapping, got {type(values).__name__}"
            )
        known = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(str(key) for key in values if key not in known)
        if unknown:
            raise ConfigError(
                f"unknown preprocessing option(s): {', '.join(unknown)}; "
                f"known options: {', '.join(known)}"
            )
        return cls(**dict(values))

    def fingerprint(self) -> str:
        """Short stable hash of the settings, to tag artefacts made with them."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)


def _real(name: str, value) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value}")
    return value


def _integer(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if not float(value).is_integer():
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    return int(value)
