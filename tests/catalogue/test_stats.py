"""One-sided Clopper–Pearson lower bound of the candidates' precision."""

import numpy as np
import pytest
from scipy import stats

from activespec.catalogue.stats import InvalidCountsError, precision_lower_bound
from activespec.errors import ActivespecError


def test_published_emission_check_92_of_100():
    # 92 of 100 checked emission candidates confirmed: exact 95 % lower bound 0.8603.
    assert precision_lower_bound(92, 100) == pytest.approx(0.86028, abs=1e-4)


@pytest.mark.parametrize(
    ("successes", "n", "confidence", "expected"),
    [
        (70, 81, 0.95, 0.78524),  # double-peak sample of the published check
        (30, 30, 0.95, 0.05 ** (1 / 30)),  # all confirmed: closed form alpha^(1/n)
        (1, 1, 0.90, 0.10),
        (5, 10, 0.95, 0.22244),
    ],
)
def test_known_values(successes, n, confidence, expected):
    assert precision_lower_bound(successes, n, confidence) == pytest.approx(expected, abs=1e-4)


def test_zero_successes_gives_zero():
    assert precision_lower_bound(0, 30) == 0.0


def test_bound_has_its_nominal_coverage():
    """P(X >= k | p = bound) equals 1 - confidence: the defining property of the bound."""
    for k, n in [(3, 10), (21, 30), (92, 100)]:
        bound = precision_lower_bound(k, n, 0.95)
        assert stats.binom.sf(k - 1, n, bound) == pytest.approx(0.05, rel=1e-6)
        assert bound < k / n


def test_bound_grows_with_sample_size_at_fixed_rate():
    bounds = [precision_lower_bound(int(0.9 * n), n) for n in (10, 30, 100, 1000)]
    assert np.all(np.diff(bounds) > 0)


@pytest.mark.parametrize(
    ("successes", "n", "confidence"),
    [
        (5, 0, 0.95),
        (6, 5, 0.95),
        (-1, 5, 0.95),
        (2.5, 5, 0.95),
        (2, 5, 1.0),
        (2, 5, 0.0),
        ("a", 5, 0.9),
    ],
)
def test_invalid_input_raises_typed_error(successes, n, confidence):
    with pytest.raises(InvalidCountsError) as info:
        precision_lower_bound(successes, n, confidence)
    assert isinstance(info.value, ActivespecError)
    assert "\n" not in str(info.value)
