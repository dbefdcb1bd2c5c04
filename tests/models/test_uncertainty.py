"""Uncertainty measures against hand-computed values and against SciPy."""

import numpy as np
import pytest
from scipy import stats

from activespec import errors, uncertainty

KNOWN = [
    # p, entropy [nats], margin, least confidence
    ([1 / 3, 1 / 3, 1 / 3], np.log(3.0), 0.0, 2 / 3),
    ([1.0, 0.0, 0.0], 0.0, 1.0, 0.0),
    ([0.5, 0.5, 0.0], np.log(2.0), 0.0, 0.5),
    ([0.7, 0.2, 0.1], 0.8018185525433373, 0.5, 0.3),
    ([0.1, 0.3, 0.6], 0.8979457248567798, 0.3, 0.4),
]


@pytest.mark.parametrize(("p", "h", "m", "lc"), KNOWN)
def test_known_values_for_single_vectors(p, h, m, lc):
    assert uncertainty.entropy(p) == pytest.approx(h, abs=1e-12)
    assert uncertainty.margin(p) == pytest.approx(m, abs=1e-12)
    assert uncertainty.least_confidence(p) == pytest.approx(lc, abs=1e-12)
    assert np.ndim(uncertainty.entropy(p)) == 0


def test_vectorised_over_rows_equals_row_by_row():
    matrix = np.array([row[0] for row in KNOWN])
    np.testing.assert_allclose(uncertainty.entropy(matrix), [row[1] for row in KNOWN], atol=1e-12)
    np.testing.assert_allclose(uncertainty.margin(matrix), [row[2] for row in KNOWN], atol=1e-12)
    np.testing.assert_allclose(
        uncertainty.least_confidence(matrix), [row[3] for row in KNOWN], atol=1e-12
    )


def test_entropy_matches_scipy_and_is_finite_at_zero():
    p = np.random.default_rng(3).dirichlet([0.3, 0.3, 0.3], size=2000)
    p[:5] = [1.0, 0.0, 0.0]  # exact zeros must not give NaN
    h = uncertainty.entropy(p)
    np.testing.assert_allclose(h, stats.entropy(p, axis=1), atol=1e-12)
    assert np.all(np.isfinite(h)) and h.min() >= 0 and h.max() <= np.log(3) + 1e-12


def test_two_class_measures_rank_spectra_identically():
    # With two classes all three measures are monotonic in max p.
    p1 = np.random.default_rng(4).uniform(0.0, 1.0, 500)
    p = np.column_stack([p1, 1.0 - p1])
    by_entropy = np.argsort(-uncertainty.entropy(p), kind="stable")
    np.testing.assert_array_equal(by_entropy, np.argsort(uncertainty.margin(p), kind="stable"))
    np.testing.assert_array_equal(
        by_entropy, np.argsort(-uncertainty.least_confidence(p), kind="stable")
    )


def test_float32_softmax_output_is_accepted():
    p = np.array([[0.25, 0.25, 0.5]], dtype=np.float32)
    assert uncertainty.entropy(p)[0] == pytest.approx(1.0397207708399179, rel=1e-6)
    assert uncertainty.margin(p)[0] == pytest.approx(0.25, rel=1e-6)


@pytest.mark.parametrize("bad", [[0.4], [[[0.5, 0.5]]], np.zeros((3, 1))])
def test_wrong_shapes_raise_typed_error(bad):
    with pytest.raises(errors.WrongShapeError):
        uncertainty.entropy(bad)


def test_non_finite_probabilities_raise_typed_error():
    with pytest.raises(errors.RejectedSpectrum) as info:
        uncertainty.margin([[0.5, np.nan, 0.5]])
    assert info.value.code == "non-finite-probabilities"


def test_bald_is_zero_when_passes_agree_and_maximal_when_they_disagree_confidently():
    agree = np.tile([[0.2, 0.3, 0.5]], (6, 1))  # 6 passes, one spectrum ([T, C])
    assert uncertainty.bald(agree) == pytest.approx(0.0, abs=1e-12)
    # Confident but contradicting passes: all of the entropy is disagreement.
    disagree = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert uncertainty.bald(disagree) == pytest.approx(np.log(2.0), abs=1e-12)
    # Equally unsure passes: high entropy, no disagreement.
    unsure = np.full((4, 2), 0.5)
    assert uncertainty.bald(unsure) == pytest.approx(0.0, abs=1e-12)


def test_bald_is_the_entropy_of_the_mean_minus_the_mean_entropy():
    rng = np.random.default_rng(8)
    passes = rng.dirichlet([0.5, 0.5, 0.5], size=(10, 300))  # [T, N, C]
    expected = stats.entropy(passes.mean(axis=0), axis=1) - np.mean(
        [stats.entropy(p, axis=1) for p in passes], axis=0
    )
    values = uncertainty.bald(passes)
    np.testing.assert_allclose(values, expected, atol=1e-12)
    assert values.shape == (300,) and values.min() >= 0.0
    assert uncertainty.bald(passes[:1]) == pytest.approx(np.zeros(300), abs=1e-12)


@pytest.mark.parametrize("bad", [[0.5, 0.5], np.zeros((2, 3, 1)), np.zeros((0, 3, 2))])
def test_bald_refuses_wrong_shapes(bad):
    with pytest.raises(errors.WrongShapeError):
        uncertainty.bald(bad)
