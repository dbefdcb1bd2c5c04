"""Confidence bounds of a precision estimated from a checked random sample."""

from __future__ import annotations

import math

from scipy import stats

from activespec.errors import ActivespecError


class InvalidCountsError(ActivespecError, ValueError):
    """Counts or a confidence level that do not describe a binomial sample."""

    code = "invalid-counts"


def precision_lower_bound(successes: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper–Pearson lower confidence bound of a binomial proportion.

    Used for the per-round precision of the candidates: ``n`` spectra drawn at random
    among the predicted positives are checked by the oracle and ``successes`` of them
    are confirmed. The bound is exact (never below its nominal coverage), unlike the
    normal approximation, which matters for the small samples (tens of spectra) checked
    per round.

    Parameters
    ----------
    successes : int
        Number of confirmed candidates, ``0 <= successes <= n``.
    n : int
        Sample size, at least 1.
    confidence : float, optional
        One-sided confidence level in (0, 1); default 0.95.

    Returns
    -------
    float
        The largest ``p`` such that observing ``successes`` or more out of ``n`` has
        probability at most ``1 - confidence``: the ``1 - confidence`` quantile of
        Beta(successes, n - successes + 1); 0 when ``successes == 0``.

    Raises
    ------
    InvalidCountsError
        If the counts are not integers with ``0 <= successes <= n`` and ``n >= 1``, or the
        confidence is not strictly between 0 and 1.

    Examples
    --------
    >>> round(precision_lower_bound(92, 100), 3)
    0.86
    """
    successes_int, n_int = _as_count(successes, "successes"), _as_count(n, "n")
    if n_int < 1:
        raise InvalidCountsError(f"sample size n must be at least 1, not {n}")
    if successes_int > n_int:
        raise InvalidCountsError(f"successes ({successes}) exceed the sample size ({n})")
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0):
        raise InvalidCountsError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    if successes_int == 0:
        return 0.0
    return float(stats.beta.ppf(1.0 - confidence, successes_int, n_int - successes_int + 1))


def _as_count(value, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidCountsError(f"{name} must be a whole number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidCountsError(f"{name} must be a whole number, not {value!r}") from None
    if not math.isfinite(number) or number != int(number) or number < 0:
        raise InvalidCountsError(f"{name} must be a non-negative whole number, not {value!r}")
    return int(number)
