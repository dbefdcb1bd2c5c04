"""Typed, forgiving access to FITS header keywords spread over one or more HDUs.

Survey headers disagree on types (LAMOST DR2 writes ``FIBERID = '1'`` as a string,
DR1 as an integer), leave values blank, or move keywords between the primary HDU
and the first extension. :class:`HeaderLookup` hides those differences: it
searches several headers in order and converts values, returning None for
anything missing, blank or unparsable instead of raising.
"""

from __future__ import annotations

import math

from astropy.io import fits


class HeaderLookup:
    """Look keywords up in several headers, first match wins.

    Parameters
    ----------
    *headers : astropy.io.fits.Header or None
        Headers in priority order; None entries are skipped.
    """

    def __init__(self, *headers: fits.Header | None):
        self._headers = [h for h in headers if h is not None]

    def raw(self, *keys: str):
        """The first present, non-blank value of any of ``keys`` (strings stripped)."""
        for key in keys:
            for header in self._headers:
                if key not in header:
                    continue
                try:
                    value = header[key]
                except Exception:  # an unparsable card reads as missing, not as a failure
                    continue
                if value is None or isinstance(value, fits.card.Undefined):
                    continue
                if isinstance(value, str):
                    value = value.strip()
                    if not value:
                        continue
                return value
        return None

    def string(self, *keys: str) -> str | None:
        """First value of ``keys`` as a stripped string, or None."""
        value = self.raw(*keys)
        return None if value is None else str(value)

    def number(self, *keys: str) -> float | None:
        """First value of ``keys`` that parses as a finite float, or None."""
        for key in keys:
            value = self.raw(key)
            if value is None or isinstance(value, bool):
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number):
                return number
        return None

    def integer(self, *keys: str) -> int | None:
        """First value of ``keys`` that is a whole number (also when written as text)."""
        for key in keys:
            number = self.number(key)
            if number is not None and number == int(number):
                return int(number)
        return None

    def flag(self, *keys: str) -> bool | None:
        """First value of ``keys`` as a boolean (FITS logical, or T/F/yes/no text)."""
        value = self.raw(*keys)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            text = value.upper()
            if text in ("T", "TRUE", "Y", "YES", "1"):
                return True
            if text in ("F", "FALSE", "N", "NO", "0"):
                return False
        return None
