"""The campaign benchmark's figures: the ceiling's threshold sweep and the two settings."""

import numpy as np
import pytest

from activespec import constants
from bench.campaign import sampling_of, threshold_figures


def test_threshold_figures_match_a_direct_sweep():
    rng = np.random.default_rng(5)
    truth = rng.random(2000) < 0.05
    score = np.where(truth, rng.beta(5, 2, 2000), rng.beta(1, 8, 2000))
    figures = threshold_figures(score, truth)

    best_f1, recall_at_90 = 0.0, 0.0
    for threshold in np.unique(score):
        listed = score >= threshold
        hits = (listed & truth).sum()
        precision, recall = hits / listed.sum(), hits / truth.sum()
        if hits:
            best_f1 = max(best_f1, 2 * precision * recall / (precision + recall))
        if precision >= 0.9:
            recall_at_90 = max(recall_at_90, recall)
    assert figures["best_f1"] == pytest.approx(best_f1, abs=1e-4)
    assert figures["recall_at_precision_0.9"] == pytest.approx(recall_at_90, abs=1e-4)
    assert figures["test_positives"] == truth.sum()


def test_a_perfect_score_reaches_f1_one_and_a_useless_one_does_not():
    truth = np.array([True] * 10 + [False] * 90)
    assert threshold_figures(truth.astype(float), truth)["best_f1"] == 1.0
    assert threshold_figures(np.zeros(100), truth)["recall_at_precision_0.9"] == 0.0


def test_the_published_setting_and_the_defaults_differ_as_documented():
    published, default = sampling_of("published"), sampling_of("default")
    assert (published.query_size, published.performance_sample_size) == (100, 30)
    assert published.recall_sample_size == 0 and published.reexamine_size == 0
    assert not published.candidate_memory
    assert default.query_size == constants.DEFAULT_QUERY_SIZE
    assert default.recall_sample_size == constants.DEFAULT_RECALL_SAMPLE_SIZE
    assert default.reexamine_size == constants.DEFAULT_REEXAMINE_SIZE
    assert default.candidate_memory
    # Both ask the oracle for the same number of labels per round.
    assert published.query_size + published.performance_sample_size == (
        default.query_size + default.performance_sample_size + default.recall_sample_size
    )
