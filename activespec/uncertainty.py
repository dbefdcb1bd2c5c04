"""Uncertainty measures of class-probability vectors, for uncertainty sampling.

All functions take an array of shape ``[N, C]`` (one probability vector per row, or a
single vector of shape ``[C]``) and return one value per row. They are pure NumPy so
that the pool scorer, the query selection and the notebooks compute identical numbers.

Conventions (Settles 2009, "Active Learning Literature Survey"):

* :func:`entropy` -- Shannon entropy in nats; higher means less sure.
* :func:`margin` -- difference of the two largest probabilities; lower means less sure.
* :func:`least_confidence` -- ``1 - max p``; higher means less sure.
* :func:`bald` -- of ``T`` Monte Carlo dropout passes ``[T, N, C]``: the mutual information
  between the prediction and the network's weights (Houlsby et al. 2011, "Bayesian Active
  Learning by Disagreement"; Gal, Islam & Ghahramani 2017), in nats; higher means the
  passes disagree, i.e. a label would teach the model most.
"""

import numpy as np

from activespec import errors

__all__ = ["bald", "entropy", "least_confidence", "margin"]


def _as_probability_matrix(probabilities) -> np.ndarray:
    """Return ``probabilities`` as a float64 matrix ``[N, C]``, rejecting unusable input."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim == 1:
        p = p[np.newaxis, :]
    if p.ndim != 2 or p.shape[1] < 2:
        raise errors.WrongShapeError(
            f"probabilities must have shape [N, C] with C >= 2, got {np.shape(probabilities)}"
        )
    if not np.all(np.isfinite(p)):
        raise errors.RejectedSpectrum(
            "probabilities contain NaN or infinite values", code="non-finite-probabilities"
        )
    return p


def _match_input_rank(values: np.ndarray, probabilities) -> np.ndarray | np.float64:
    """Return a scalar for a single probability vector, the array otherwise."""
    return values[0] if np.ndim(probabilities) == 1 else values


def entropy(probabilities):
    """Shannon entropy of each probability vector, in nats.

    Parameters
    ----------
    probabilities : array-like, shape [N, C] or [C]
        Class probabilities (rows should sum to 1, e.g. a softmax output).

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``-sum_c p_c ln p_c`` per row, shape ``[N]`` (a scalar for a single vector).
        Terms with ``p_c == 0`` contribute 0, so the value is finite at the corners
        of the simplex. The maximum is ``ln C`` for the uniform distribution.

    Raises
    ------
    activespec.errors.WrongShapeError
        If the input is not one or more vectors of at least two classes.
    activespec.errors.RejectedSpectrum
        If the input contains NaN or infinite values.
    """
    p = _as_probability_matrix(probabilities)
    # Clip tiny negative round-off and avoid log(0): 0 * log(0) is taken as 0.
    p = np.clip(p, 0.0, None)
    terms = np.where(p > 0.0, p * np.log(np.where(p > 0.0, p, 1.0)), 0.0)
    return _match_input_rank(-terms.sum(axis=1), probabilities)


def margin(probabilities):
    """Difference between the largest and the second-largest probability.

    Parameters
    ----------
    probabilities : array-like, shape [N, C] or [C]
        Class probabilities.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``p_(1) - p_(2)`` per row, in ``[0, 1]`` for valid probability vectors; small
        values mean the model hesitates between two classes.

    Raises
    ------
    activespec.errors.WrongShapeError
        If the input is not one or more vectors of at least two classes.
    activespec.errors.RejectedSpectrum
        If the input contains NaN or infinite values.
    """
    p = _as_probability_matrix(probabilities)
    # The two largest values per row without a full sort.
    top_two = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return _match_input_rank(top_two[:, 1] - top_two[:, 0], probabilities)


def least_confidence(probabilities):
    """One minus the largest probability.

    Parameters
    ----------
    probabilities : array-like, shape [N, C] or [C]
        Class probabilities.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``1 - max_c p_c`` per row, between 0 (certain) and ``1 - 1/C`` (uniform).

    Raises
    ------
    activespec.errors.WrongShapeError
        If the input is not one or more vectors of at least two classes.
    activespec.errors.RejectedSpectrum
        If the input contains NaN or infinite values.
    """
    p = _as_probability_matrix(probabilities)
    return _match_input_rank(1.0 - p.max(axis=1), probabilities)


def bald(pass_probabilities):
    """BALD score of Monte Carlo dropout passes: ``H(mean_t p_t) - mean_t H(p_t)``.

    Parameters
    ----------
    pass_probabilities : array-like, shape [T, N, C] or [T, C]
        Class probabilities of ``T >= 1`` stochastic forward passes (dropout active) of
        ``N`` spectra.

    Returns
    -------
    numpy.ndarray or numpy.float64
        The mutual information per spectrum, shape ``[N]`` (a scalar for ``[T, C]``), in
        nats, between 0 (every pass agrees) and ``ln C``. Rounding can make the
        difference slightly negative; it is clipped at 0, as the exported
        ``predict_flux_mc`` signature does.

    Raises
    ------
    activespec.errors.WrongShapeError
        If the input is not ``T`` passes of one or more vectors of at least two classes.
    activespec.errors.RejectedSpectrum
        If the input contains NaN or infinite values.
    """
    p = np.asarray(pass_probabilities, dtype=np.float64)
    single = p.ndim == 2
    if single:
        p = p[:, np.newaxis, :]
    if p.ndim != 3 or p.shape[0] < 1 or p.shape[2] < 2:
        raise errors.WrongShapeError(
            "pass probabilities must have shape [T, N, C] with T >= 1 and C >= 2, "
            f"got {np.shape(pass_probabilities)}"
        )
    n_passes, n_rows, n_classes = p.shape
    per_pass = np.asarray(entropy(p.reshape(-1, n_classes))).reshape(n_passes, n_rows)
    values = np.clip(np.asarray(entropy(p.mean(axis=0))) - per_pass.mean(axis=0), 0.0, None)
    return values[0] if single else values
