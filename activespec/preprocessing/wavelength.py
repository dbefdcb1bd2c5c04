"""Air <-> vacuum wavelength conversion (VALD3 formulae, Piskunov after Morton 2000).

Valid for wavelengths above 2000 Å, where both directions agree to better than
1e-5 Å after a round trip. Ondřejov wavelengths are in air, LAMOST's in vacuum.
"""

from __future__ import annotations

import numpy as np


def air_to_vacuum(wave_air):
    """Convert air wavelengths [Å] to vacuum.

    Parameters
    ----------
    wave_air : float or array_like
        Wavelengths in standard air, in Å.

    Returns
    -------
    float or ndarray
        Vacuum wavelengths in Å (6562.801 Å air -> 6564.614 Å vacuum).
    """
    wave_air = np.asarray(wave_air, dtype=np.float64)
    s2 = (1e4 / wave_air) ** 2
    n = (
        1.0
        + 0.00008336624212083
        + 0.02408926869968 / (130.1065924522 - s2)
        + 0.0001599740894897 / (38.92568793293 - s2)
    )
    out = wave_air * n
    return float(out) if out.ndim == 0 else out


def vacuum_to_air(wave_vacuum):
    """Convert vacuum wavelengths [Å] to standard air (Morton 2000).

    Parameters
    ----------
    wave_vacuum : float or array_like
        Wavelengths in vacuum, in Å.

    Returns
    -------
    float or ndarray
        Air wavelengths in Å.
    """
    wave_vacuum = np.asarray(wave_vacuum, dtype=np.float64)
    s2 = (1e4 / wave_vacuum) ** 2
    n = 1.0 + 0.0000834254 + 0.02406147 / (130.0 - s2) + 0.00015998 / (38.9 - s2)
    out = wave_vacuum / n
    return float(out) if out.ndim == 0 else out


def to_vacuum(wave, medium: str):
    """Return ``wave`` in vacuum whatever its ``medium`` ("air" or "vacuum")."""
    if medium == "vacuum":
        return np.asarray(wave, dtype=np.float64)
    if medium == "air":
        return air_to_vacuum(wave)
    raise ValueError(f"unknown medium {medium!r}; expected 'air' or 'vacuum'")
