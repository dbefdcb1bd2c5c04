"""The recall sample's design (strata, allocation) and the recall estimator's coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from activespec.constants import DEFAULT_RECALL_SAMPLE_SIZE, DEFAULT_RECALL_STRATA
from activespec.errors import ConfigError
from activespec.recall import (
    MIN_PER_STRATUM,
    Stratum,
    allocate,
    check_strata,
    estimate_recall,
    stratum_bounds,
    stratum_index,
)

BOUNDS = DEFAULT_RECALL_STRATA


def test_strata_are_half_open_score_ranges():
    assert [stratum_index(s, BOUNDS) for s in (0.0, 0.009, 0.01, 0.2, 0.49, 0.5, 1.0)] == [
        0,
        0,
        1,
        3,
        3,
        4,
        4,
    ]
    assert stratum_index(math.nan, BOUNDS) == 0
    assert stratum_bounds(0, BOUNDS) == (0.0, 0.01)
    assert stratum_bounds(len(BOUNDS), BOUNDS) == (0.5, 1.0)
    assert check_strata([0.1, 0.3]) == (0.1, 0.3)
    assert check_strata([]) == ()


@pytest.mark.parametrize(
    "bounds, message",
    [([0.2, 0.1], "must increase"), ([0.0, 0.5], "strictly between"), (["x"], "numbers")],
)
def test_bad_strata_are_refused(bounds, message):
    with pytest.raises(ConfigError, match=message):
        check_strata(bounds)


def test_allocation_samples_every_stratum_and_favours_the_large_ones():
    populations = [17_000, 1_500, 600, 200, 0, 3]
    scores = [0.001, 0.02, 0.1, 0.3, math.nan, 0.7]
    counts = allocate(DEFAULT_RECALL_SAMPLE_SIZE, populations, scores)
    assert sum(counts) == DEFAULT_RECALL_SAMPLE_SIZE
    assert counts[4] == 0 and counts[5] == MIN_PER_STRATUM
    assert all(c >= MIN_PER_STRATUM for c, n in zip(counts, populations, strict=True) if n)
    assert counts[0] == max(counts)
    assert all(c <= n for c, n in zip(counts, populations, strict=True))
    # Small or empty pools: everything, capped by the population.
    assert allocate(50, [10, 1, 0], [0.0, 0.5, 0.0]) == [10, 1, 0]
    assert allocate(0, [10, 1], [0.0, 0.5]) == [0, 0]
    # Fewer labels than strata: the strata that matter most come first.
    assert allocate(2, [100, 10_000, 5], [0.01, 0.001, 0.6]) == [1, 1, 0]


def test_a_census_is_exact_and_the_point_estimate_is_the_stratified_one():
    exact = estimate_recall(10, 8, 10, [Stratum(5, 5, 2), Stratum(3, 3, 0)])
    assert exact.value == pytest.approx(0.8)
    assert exact.lower == pytest.approx(0.8) and exact.upper == pytest.approx(0.8)
    estimate = estimate_recall(
        200, 15, 30, [Stratum(10_000, 20, 0), Stratum(400, 5, 1), Stratum(50, 5, 2)]
    )
    tp, fn = 200 * 15 / 30, 400 / 5 + 50 * 2 / 5
    assert estimate.value == pytest.approx(tp / (tp + fn))
    assert (estimate.true_positives, estimate.false_negatives) == (pytest.approx(tp), fn)
    assert estimate.lower < estimate.value < estimate.upper
    assert estimate.n == 30
    # The same labels give the same interval.
    again = estimate_recall(
        200, 15, 30, [Stratum(10_000, 20, 0), Stratum(400, 5, 1), Stratum(50, 5, 2)]
    )
    assert again == estimate
    # Positives known to be missed (labelled earlier) lower the recall exactly.
    known = estimate_recall(10, 8, 10, [Stratum(5, 5, 2)], known_missed=2)
    assert known.value == pytest.approx(8 / 12) == known.lower


def test_no_labels_no_estimate():
    assert estimate_recall(100, 0, 0, [Stratum(1000, 5, 0)]).value is None
    nothing = estimate_recall(100, 5, 10, [Stratum(1000, 0, 0)])
    assert (nothing.value, nothing.lower, nothing.upper, nothing.n) == (None, None, None, 0)
    with pytest.raises(ValueError, match="3 positives among 2 labels"):
        estimate_recall(100, 3, 2, [Stratum(10, 1, 0)])
    with pytest.raises(ValueError, match="11 labels in a population of 10"):
        estimate_recall(100, 3, 5, [Stratum(10, 11, 0)])


def _survey(rng):
    """A pool as the sampler sees it: candidates and the predicted negatives' scores, with
    the truth; hidden positives sit mostly near the boundary, sometimes among confident
    negatives (a model that misses a kind of emitter altogether)."""
    n_candidates = int(rng.choice([40, 150, 600, 2_500]))
    candidates = rng.random(n_candidates) < rng.uniform(0.1, 1.0)
    negatives = int(rng.integers(5_000, 25_000))
    # Positive scores of the predicted negatives: mostly tiny, a tail towards 0.5+.
    scores = np.minimum(rng.beta(0.3, 12.0, size=negatives), 0.99)
    mix = rng.choice([0.0, 0.3, 1.0, 3.0])
    rate = np.minimum(mix * (0.002 + 0.6 * scores), 0.95)
    if rng.random() < 0.25:  # a kind of emitter the model rates as confident junk
        rate = np.where(scores < 0.01, rate + rng.uniform(0.002, 0.01), rate)
    missed = rng.random(negatives) < rate
    known_missed = int(rng.choice([0, 0, 5, 40]))
    return candidates, scores, missed, known_missed


def _draw_and_estimate(rng, candidates, scores, missed, known_missed, seed):
    """Draw the performance and recall samples as the sampler does, label them, estimate."""
    n_perf = min(30, candidates.size)
    perf = rng.choice(candidates.size, n_perf, replace=False)
    strata_of = np.array([stratum_index(s, BOUNDS) for s in scores])
    n_strata = len(BOUNDS) + 1
    populations = [int(np.sum(strata_of == h)) for h in range(n_strata)]
    means = [
        float(scores[strata_of == h].mean()) if populations[h] else 0.0 for h in range(n_strata)
    ]
    sizes = allocate(DEFAULT_RECALL_SAMPLE_SIZE, populations, means)
    strata = []
    for h in range(n_strata):
        members = np.flatnonzero(strata_of == h)
        drawn = rng.choice(members, sizes[h], replace=False)
        strata.append(Stratum(populations[h], sizes[h], int(missed[drawn].sum())))
    return estimate_recall(
        candidates.size,
        int(candidates[perf].sum()),
        n_perf,
        strata,
        known_missed=known_missed,
        draws=4_000,
        seed=seed,
    )


def test_the_95_percent_interval_covers_the_true_recall():
    rng = np.random.default_rng(8)
    covered, trials, widths = 0, 0, []
    for repetition in range(300):
        candidates, scores, missed, known_missed = _survey(rng)
        positives = candidates.sum() + missed.sum() + known_missed
        if positives == 0:
            continue
        truth = candidates.sum() / positives
        estimate = _draw_and_estimate(rng, candidates, scores, missed, known_missed, repetition)
        assert estimate.lower <= estimate.value <= estimate.upper
        trials += 1
        covered += estimate.lower <= truth <= estimate.upper
        widths.append(estimate.upper - estimate.lower)
    coverage = covered / trials
    # Measured 0.993 (median width 0.78) with this seed: conservative, like the
    # Clopper-Pearson bounds it melds; 30 labels cannot bound a large stratum tightly.
    assert coverage >= 0.9, coverage
    assert np.median(widths) < 0.9
