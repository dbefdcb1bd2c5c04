"""Header coordinates to ICRS degrees: sexagesimal parsing and precession to J2000.

LAMOST headers give J2000 degrees. Ondřejov CCD700 headers give the pointing as
sexagesimal text in the equinox of the date (``EQUINOX = 2005.39978``), which is
several arcminutes away from J2000 after a few years, too far for cross-matching.
The IAU 1976 precession (Lieske et al. 1977) is applied here in NumPy rather than
through :mod:`astropy.coordinates`, whose import alone costs over a second.
FK5 J2000 and ICRS agree to a few tens of milliarcseconds, well below the
pointing accuracy of either telescope.
"""

from __future__ import annotations

import math
import re

import numpy as np

_SEXAGESIMAL_SEPARATORS = re.compile(r"[:\s]+")
_ARCSEC = math.pi / (180.0 * 3600.0)
# Equinoxes closer than this to J2000 [years] are taken as J2000 (shift < 0.1 arcsec).
_J2000_TOLERANCE_YEARS = 0.002


def parse_angle(value, *, hours: bool = False) -> float | None:
    """Convert a header angle to degrees.

    Parameters
    ----------
    value : float, int, str or None
        A number (already in degrees) or sexagesimal text such as ``"21:57:18.2"``
        or ``"-05 23 10"``.
    hours : bool
        Whether sexagesimal text is in hours (right ascension).

    Returns
    -------
    float or None
        Degrees, or None when ``value`` is missing or unparsable.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip()
    try:
        number = float(text)
        return number if math.isfinite(number) else None
    except ValueError:
        pass
    parts = _SEXAGESIMAL_SEPARATORS.split(text.lstrip("+-").strip())
    if not 1 <= len(parts) <= 3:
        return None
    try:
        values = [float(part) for part in parts]
    except ValueError:
        return None
    magnitude = sum(v / 60.0**i for i, v in enumerate(values))
    degrees = magnitude * (15.0 if hours else 1.0)
    return -degrees if text.startswith("-") else degrees


def _rotation(axis: int, angle: float) -> np.ndarray:
    """Matrix rotating the coordinate frame by ``angle`` [rad] about ``axis`` (0=x .. 2=z)."""
    c, s = math.cos(angle), math.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    matrix = np.eye(3)
    matrix[i, i] = matrix[j, j] = c
    matrix[i, j] = s
    matrix[j, i] = -s
    return matrix


def precession_matrix_from_j2000(equinox_year: float) -> np.ndarray:
    """IAU 1976 matrix taking J2000 mean equatorial vectors to the mean equinox of a date.

    Parameters
    ----------
    equinox_year : float
        Julian epoch of the target equinox, e.g. ``2005.39978``.
    """
    t = (equinox_year - 2000.0) / 100.0
    zeta = (2306.2181 * t + 0.30188 * t**2 + 0.017998 * t**3) * _ARCSEC
    z = (2306.2181 * t + 1.09468 * t**2 + 0.018203 * t**3) * _ARCSEC
    theta = (2004.3109 * t - 0.42665 * t**2 - 0.041833 * t**3) * _ARCSEC
    return _rotation(2, -z) @ _rotation(1, theta) @ _rotation(2, -zeta)


def to_j2000(ra_deg: float, dec_deg: float, equinox_year: float | None) -> tuple[float, float]:
    """Precess mean coordinates of ``equinox_year`` to J2000 (≈ ICRS).

    Parameters
    ----------
    ra_deg, dec_deg : float
        Coordinates in degrees in the mean equinox of ``equinox_year``.
    equinox_year : float or None
        Julian epoch of the equinox; None or ~2000 returns the input unchanged.

    Returns
    -------
    (float, float)
        Right ascension in [0, 360) and declination, in degrees.
    """
    if equinox_year is None or abs(equinox_year - 2000.0) < _J2000_TOLERANCE_YEARS:
        return ra_deg, dec_deg
    ra, dec = math.radians(ra_deg), math.radians(dec_deg)
    vector = np.array([math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)])
    # The matrix is orthogonal: its transpose precesses back from the date to J2000.
    x, y, z = precession_matrix_from_j2000(equinox_year).T @ vector
    ra_out = math.degrees(math.atan2(y, x)) % 360.0
    dec_out = math.degrees(math.asin(max(-1.0, min(1.0, z))))
    return ra_out, dec_out
