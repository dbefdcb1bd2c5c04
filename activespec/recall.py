"""Recall (completeness) of the candidates, estimated from labelled random samples.

Precision is measured on a uniform random sample of the candidates (the performance
sample). Recall needs the positives the model *missed*, which hide among the tens of
thousands of spectra predicted ``other``; a uniform sample of those would almost never
meet one. The recall sample is therefore **stratified by the positive score**
``s = sum of p over the positive classes``: strata are fixed ranges of ``s``, so the few
spectra just below the decision boundary, where missed positives concentrate, are sampled
densely and the huge stratum of confident negatives sparsely, but every stratum is sampled.

This module holds the design shared by the UncertaintySampler and the estimator:

* :func:`stratum_index` and :func:`stratum_bounds`: the strata;
* :func:`allocate`: how a sample size is split across strata;
* :func:`estimate_recall`: recall with an interval, from the labelled samples.

Everything is plain Python and numpy, so the Beam workers and the campaign share it.

References
----------
Cochran, W. G. 1977, *Sampling Techniques*, 3rd ed., Wiley (stratified sampling, optimum
allocation, sections 5.5 and 5.9).
Clopper, C. J. & Pearson, E. S. 1934, Biometrika 26, 404.
Fay, M. P., Proschan, M. A. & Brittain, E. 2015, Biometrics 71, 146 (melding confidence
distributions of independent samples for a function monotone in each parameter).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from activespec.errors import ConfigError

#: Fields of a recall-sample row besides the sampler's usual ones: its positive score,
#: its stratum (index and score bounds), and the stratum's population ``N_h`` and sample
#: size ``n_h``, which weight the estimate. ``recall_strata.json`` has the same keys.
POSITIVE_SCORE = "positive_score"
STRATUM = "stratum"
STRATUM_LOWER = "stratum_lower"
STRATUM_UPPER = "stratum_upper"
STRATUM_POPULATION = "stratum_population"
STRATUM_SAMPLE_SIZE = "stratum_sample_size"
RECALL_COLUMNS = (
    POSITIVE_SCORE,
    STRATUM,
    STRATUM_LOWER,
    STRATUM_UPPER,
    STRATUM_POPULATION,
    STRATUM_SAMPLE_SIZE,
)

#: Positive rate assumed of a stratum when allocating, at least: the model's own mean
#: score may understate how many positives it misses (the failure being measured).
ALLOCATION_RATE_FLOOR = 0.01
#: Labels every non-empty stratum gets before the rest is allocated (fewer if the stratum
#: or the sample is smaller).
MIN_PER_STRATUM = 2
#: Monte Carlo draws of the estimator; the percentiles' Monte Carlo error is ~0.002.
DEFAULT_DRAWS = 20_000
#: Positive rate of the point estimate in a stratum without any label.
UNLABELLED_RATE = 0.5


def check_strata(bounds: Sequence[float], key: str = "recall_strata") -> tuple[float, ...]:
    """Validate the inner bounds of the strata: increasing numbers strictly in (0, 1).

    Parameters
    ----------
    bounds : sequence of float
        ``(b_1, ..., b_m)`` makes ``m + 1`` strata ``[0, b_1), [b_1, b_2), ... [b_m, 1]``;
        empty makes one stratum.
    key : str, optional
        The setting's name, for the error message.

    Returns
    -------
    tuple of float

    Raises
    ------
    activespec.errors.ConfigError
        If a bound is not a number in (0, 1) or the bounds do not increase.
    """
    if isinstance(bounds, (str, bytes)):
        raise ConfigError(f"{key}: expected a list of numbers, got {bounds!r}")
    values = []
    for value in bounds:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected numbers, got {value!r}")
        if not 0.0 < value < 1.0:
            raise ConfigError(f"{key}: every bound must lie strictly between 0 and 1, got {value}")
        values.append(float(value))
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ConfigError(f"{key}: bounds must increase, got {values}")
    return tuple(values)


def stratum_index(score: float, bounds: Sequence[float]) -> int:
    """The stratum of a positive score: 0 for ``s < bounds[0]`` up to ``len(bounds)``.

    A NaN score (no probabilities) falls in the lowest stratum.
    """
    if math.isnan(score):
        return 0
    return bisect.bisect_right(bounds, score)


def stratum_bounds(index: int, bounds: Sequence[float]) -> tuple[float, float]:
    """``(lower, upper)`` score bounds of stratum ``index``; the top one includes 1."""
    edges = (0.0, *bounds, 1.0)
    return edges[index], edges[index + 1]


def allocate(
    size: int,
    populations: Sequence[int],
    mean_scores: Sequence[float],
    *,
    minimum: int = MIN_PER_STRATUM,
    rate_floor: float = ALLOCATION_RATE_FLOOR,
) -> list[int]:
    """Split a sample of ``size`` across strata (optimum allocation with a floor).

    Every non-empty stratum first gets ``minimum`` labels (or all its spectra). The rest
    go one at a time to the stratum whose estimated number of missed positives
    ``N_h p_h`` gains most precision from it, which is Neyman's optimum allocation
    ``n_h ∝ N_h sqrt(p_h (1 - p_h))`` in whole numbers (Cochran 1977, 5.5). ``p_h`` is
    the stratum's mean positive score, at least ``rate_floor``: a model that misses
    positives underrates them, so confident negatives are never left unsampled.

    Parameters
    ----------
    size : int
        Labels to allocate (>= 0).
    populations : sequence of int
        Spectra per stratum, ``N_h``.
    mean_scores : sequence of float
        Mean positive score per stratum (ignored for empty strata).
    minimum : int, optional
    rate_floor : float, optional

    Returns
    -------
    list of int
        ``n_h <= N_h``, summing to ``min(size, sum(N_h))``. Ties go to the higher stratum.
    """
    if len(populations) != len(mean_scores):
        raise ValueError("populations and mean_scores differ in length")
    counts = [0] * len(populations)
    remaining = min(int(size), int(sum(populations)))
    weights = []
    for population, score in zip(populations, mean_scores, strict=True):
        rate = min(max(float(score) if math.isfinite(score) else 0.0, rate_floor), 0.5)
        weights.append(population * population * rate * (1.0 - rate))

    def priority(h: int) -> tuple:
        if counts[h] >= populations[h]:
            return (-1, 0.0, 0.0, h)
        if counts[h] < minimum:
            # The minimum goes round the strata, the most important first.
            return (1, -counts[h], weights[h], h)
        # The variance of N_h times the sample mean drops from w/n to w/(n + 1).
        return (0, weights[h] / (counts[h] * (counts[h] + 1)), weights[h], h)

    while remaining > 0:
        best = max(range(len(counts)), key=priority)
        counts[best] += 1
        remaining -= 1
    return counts


@dataclasses.dataclass(frozen=True)
class Stratum:
    """The labelled recall sample of one stratum.

    Attributes
    ----------
    population : int
        Unlabelled spectra predicted negative in the stratum, ``N_h``.
    labelled : int
        Sampled spectra of the stratum with a label, ``n_h``.
    positives : int
        Of those, labelled positive, ``k_h``.
    """

    population: int
    labelled: int
    positives: int


@dataclasses.dataclass(frozen=True)
class RecallEstimate:
    """Estimated recall of the candidates with its interval.

    Attributes
    ----------
    value : float or None
        The stratified point estimate ``TP / (TP + FN)`` (None when undefined).
    lower, upper : float or None
        The interval at the requested confidence; it always contains ``value``.
    n : int
        Labelled spectra of the recall sample used.
    true_positives, false_negatives : float or None
        Point estimates of the positives among the candidates and among the predicted
        negatives (known ones included).
    known_found, known_missed : int
        The positives known exactly, included in the two above.
    """

    value: float | None
    lower: float | None
    upper: float | None
    n: int
    true_positives: float | None = None
    false_negatives: float | None = None
    known_found: int = 0
    known_missed: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def estimate_recall(
    num_candidates: int,
    performance_positives: int,
    performance_labelled: int,
    strata: Sequence[Stratum],
    *,
    known_found: int = 0,
    known_missed: int = 0,
    confidence: float = 0.95,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> RecallEstimate:
    """Recall of the candidates, ``TP / (TP + FN)``, with an equal-tailed interval.

    ``TP`` is the number of true positives among the ``num_candidates`` candidates,
    known from the performance sample (a uniform sample of the candidates);
    ``FN = sum_h`` of the positives among the ``N_h`` predicted negatives of each stratum,
    known from the recall sample. Positives whose fate is known exactly (e.g. labelled
    earlier, so neither scored nor sampled) enter as ``known_found`` / ``known_missed``.

    **Point estimate**: the stratified estimator ``TP = C k/n``,
    ``FN = sum_h N_h k_h / n_h`` (Cochran 1977, 5.2); a stratum without a label counts
    at its prior mean, half positive.

    **Interval**: melded confidence distributions (Fay, Proschan & Brittain 2015),
    by Monte Carlo over the finite-population counts. For each sampled population (the
    candidates, each stratum) with ``k`` positives among ``n`` labels, the positive rate
    of the ``N - n`` spectra not labelled is drawn from its lower confidence
    distribution ``Beta(k, n - k + 1)`` or its upper one ``Beta(k + 1, n - k)``, whose
    quantiles are the exact Clopper-Pearson bounds, and their positives are
    ``Binomial(N - n, rate)``; a stratum labelled in full is known exactly. Recall rises
    with ``TP`` and falls with ``FN``, so the lower bound is the ``(1 - confidence) / 2``
    percentile of ``draws`` recalls made from lower draws of ``TP`` and upper draws of
    every ``FN_h``, and the upper bound the ``(1 + confidence) / 2`` percentile of the
    opposite. The interval is then widened to contain the point estimate if need be.
    It is conservative, like Clopper-Pearson: the tests measure its coverage on
    simulated surveys. Jeffreys posteriors instead covered only ~83 % there, because
    they put no mass on a zero rate in a stratum with no positive found.

    The width is set by the largest stratum: with ``n`` labels and no positive among
    ``N`` confident negatives, up to ``N (1 - 0.025^(1/n))`` of them may still be
    positive, which bounds the lower end of the interval.

    Parameters
    ----------
    num_candidates : int
        Candidates, ``C`` (the population of the performance sample).
    performance_positives, performance_labelled : int
        Labelled performance-sample spectra that are positive, and all labelled ones.
    strata : sequence of Stratum
        The recall sample per stratum; their populations are all the predicted negatives.
    known_found, known_missed : int, optional
        Positives outside both sampled populations, counted as found or as missed.
    confidence : float, optional
        Two-sided level of the interval.
    draws : int, optional
        Monte Carlo draws.
    seed : int, optional
        Seed of the draws: the same labels give the same interval.

    Returns
    -------
    RecallEstimate
        All None (``n`` aside) when there are predicted negatives but no labelled recall
        sample, or candidates but no labelled performance sample: the data say nothing.

    Raises
    ------
    ValueError
        On negative counts, more positives than labels, more labels than population,
        or a confidence outside (0, 1).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    _check_sample(num_candidates, performance_labelled, performance_positives, "performance")
    for h, stratum in enumerate(strata):
        _check_sample(stratum.population, stratum.labelled, stratum.positives, f"stratum {h}")
    if known_found < 0 or known_missed < 0:
        raise ValueError("known positives cannot be negative")
    n_recall = int(sum(s.labelled for s in strata))
    negatives = sum(s.population for s in strata)
    if (negatives > 0 and n_recall == 0) or (num_candidates > 0 and performance_labelled == 0):
        return RecallEstimate(
            None, None, None, n_recall, known_found=known_found, known_missed=known_missed
        )

    true_positives = known_found + _point(
        num_candidates, performance_labelled, performance_positives
    )
    false_negatives = known_missed + sum(
        _point(s.population, s.labelled, s.positives) for s in strata
    )
    total = true_positives + false_negatives
    value = true_positives / total if total > 0 else None

    # Melded confidence distributions: recall rises with TP and falls with FN, so its
    # lower bound comes from low draws of TP and high draws of FN, its upper bound from
    # the opposite ones.
    rng = np.random.default_rng(seed)
    tail = 100.0 * (1.0 - confidence) / 2.0
    bounds = []
    for tp_side, fn_side, percentile in ((_LOW, _HIGH, tail), (_HIGH, _LOW, 100.0 - tail)):
        tp = known_found + _count_draws(
            rng, num_candidates, performance_labelled, performance_positives, tp_side, draws
        )
        fn = np.full(draws, float(known_missed))
        for stratum in strata:
            fn += _count_draws(
                rng, stratum.population, stratum.labelled, stratum.positives, fn_side, draws
            )
        total_draws = tp + fn
        # A draw without any positive leaves recall undefined: it carries no information.
        recall = np.divide(tp, total_draws, out=np.full(draws, np.nan), where=total_draws > 0)
        finite = recall[np.isfinite(recall)]
        bounds.append(float(np.percentile(finite, percentile)) if finite.size else None)
    lower, upper = bounds
    if value is not None:
        lower = value if lower is None else min(lower, value)
        upper = value if upper is None else max(upper, value)
    return RecallEstimate(
        value, lower, upper, n_recall, true_positives, false_negatives, known_found, known_missed
    )


_LOW, _HIGH = "low", "high"


def _point(population: int, labelled: int, positives: int) -> float:
    rate = positives / labelled if labelled else UNLABELLED_RATE
    return population * rate if population > labelled else float(positives)


def _count_draws(
    rng: np.random.Generator, population: int, labelled: int, positives: int, side: str, draws: int
) -> np.ndarray:
    """Draws of the positives in a population of which ``labelled`` are known.

    The positive rate of the spectra not labelled is drawn from the lower confidence
    distribution ``Beta(k, n - k + 1)`` (``side="low"``) or the upper one
    ``Beta(k + 1, n - k)`` (``"high"``), whose quantiles are the Clopper-Pearson bounds;
    the count of positives among them is binomial with that rate.
    """
    unseen = population - labelled
    if unseen <= 0:
        return np.full(draws, float(positives))
    a, b = (
        (positives, labelled - positives + 1)
        if side == _LOW
        else (positives + 1, labelled - positives)
    )
    if a == 0:
        return np.full(draws, float(positives))
    rate = np.ones(draws) if b == 0 else rng.beta(a, b, size=draws)
    return positives + rng.binomial(unseen, rate).astype(float)


def _check_sample(population: int, labelled: int, positives: int, name: str) -> None:
    for value in (population, labelled, positives):
        if isinstance(value, bool) or int(value) != value or value < 0:
            raise ValueError(f"{name}: counts must be non-negative whole numbers")
    if positives > labelled:
        raise ValueError(f"{name}: {positives} positives among {labelled} labels")
    if labelled > population:
        raise ValueError(f"{name}: {labelled} labels in a population of {population}")
