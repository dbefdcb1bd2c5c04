"""Graph-based semi-supervised label spreading: the method of the 2016 system.

Škoda, Palička, Koza & Shakurova (2016) classified the LAMOST pool by spreading the
labels of the Ondřejov spectra over a k-nearest-neighbour graph of all spectra. This
module holds that method without TFX, in two steps:

* :func:`knn_graph`: the symmetrised kNN graph (squared Euclidean distance) of a set of
  vectors, from an approximate nearest-neighbour search (faiss HNSW; exact search for
  small sets);
* :func:`spread_labels`: label spreading on any symmetric graph (Zhou et al. 2004):
  ``F <- alpha S F + (1 - alpha) Y`` with ``S = D^-1/2 W D^-1/2``, from ``F = Y`` until
  the mean L1 change of a row's class distribution is at most ``tolerance`` or
  ``max_iterations`` is reached.

:func:`label_spreading` chains the two. The result is one class distribution per node,
the input of the same uncertainty measures as the CNN's probabilities
(:mod:`activespec.uncertainty`).

Everything is numpy, scipy.sparse and faiss; a million 140-point vectors fit in a few
GB on two cores (``python -m bench label_spreading``, BENCHMARKS.md).

References
----------
Zhou, D., Bousquet, O., Lal, T. N., Weston, J. & Schölkopf, B. 2004, "Learning with Local
and Global Consistency", NIPS 16, 321.
Škoda, P., Palička, A., Koza, J. & Shakurova, K. 2016, IAU Symp. 325, arXiv:1612.07536.
Malkov, Y. A. & Yashunin, D. A. 2020, IEEE TPAMI 42, 824 (HNSW graphs).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from activespec import constants, errors, neighbours

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_K",
    "DEFAULT_MAX_ITERATIONS",
    "DEFAULT_TOLERANCE",
    "GRAPH_METHODS",
    "LabelSpreadingInputError",
    "SPACES",
    "SPACE_EMBEDDING",
    "SPACE_FLUX",
    "SpreadingResult",
    "UNLABELLED",
    "check_parameters",
    "knn_graph",
    "label_spreading",
    "spread_labels",
]

# The defaults live in activespec.constants, which the configuration reads without
# importing scipy.
DEFAULT_K = constants.DEFAULT_SPREADING_K
DEFAULT_ALPHA = constants.DEFAULT_SPREADING_ALPHA
DEFAULT_MAX_ITERATIONS = constants.DEFAULT_SPREADING_ITERATIONS
DEFAULT_TOLERANCE = constants.DEFAULT_SPREADING_TOLERANCE
SPACES = constants.SPREADING_SPACES
SPACE_FLUX, SPACE_EMBEDDING = SPACES
#: Label of a node without a label (as in scikit-learn).
UNLABELLED = -1
#: ``auto`` searches exactly up to :data:`EXACT_SEARCH_MAX_NODES` nodes, HNSW above.
GRAPH_METHODS = neighbours.METHODS
#: Up to here an exact search costs seconds and gives the same graph on every run.
EXACT_SEARCH_MAX_NODES = 10_000


class LabelSpreadingInputError(errors.ActivespecError, ValueError):
    """Vectors, labels or a graph that label spreading cannot use."""

    code = "label-spreading-input"


@dataclasses.dataclass(frozen=True)
class SpreadingResult:
    """What :func:`spread_labels` returns.

    Attributes
    ----------
    distributions : numpy.ndarray, shape [N, C]
        One class distribution per node (rows sum to 1, float64). A node that no label
        reaches gets the uniform distribution: nothing is known about it.
    iterations : int
        Spreading steps done.
    change : float
        Mean L1 change per row at the last step.
    converged : bool
        Whether ``change <= tolerance`` stopped the iteration (not ``max_iterations``).
    n_unreached : int
        Nodes without any label mass at the end (given the uniform distribution).
    """

    distributions: np.ndarray
    iterations: int
    change: float
    converged: bool
    n_unreached: int


def _check_vectors(vectors) -> np.ndarray:
    """``vectors`` as a C-contiguous float32 matrix, refusing non-finite values."""
    x = np.asarray(vectors)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise LabelSpreadingInputError(
            f"vectors must be a matrix [N, D] with N >= 2, got shape {np.shape(vectors)}"
        )
    if not np.issubdtype(x.dtype, np.number):
        raise LabelSpreadingInputError(f"vectors must be numbers, got dtype {x.dtype}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    finite = np.isfinite(x).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise LabelSpreadingInputError(
            f"{len(bad)} vector(s) contain NaN or infinite values (rows {bad[:5].tolist()}"
            f"{' ...' if len(bad) > 5 else ''}); drop or repair them before building the graph"
        )
    return x


def knn_graph(vectors, k: int = DEFAULT_K, *, method: str = "auto") -> sp.csr_matrix:
    """Symmetrised k-nearest-neighbour graph of a set of vectors.

    Parameters
    ----------
    vectors : array-like, shape [N, D]
        One vector per node (the 140-point flux vectors, or a network's embedding).
        Converted to float32.
    k : int
        Neighbours of each node, itself not counted (``1 <= k < N``).
    method : {"auto", "exact", "hnsw"}
        ``exact``: brute-force search (faiss ``IndexFlatL2``); ``hnsw``: approximate search
        in a hierarchical navigable small-world graph (faiss ``IndexHNSWFlat``);
        ``auto``: exact up to :data:`EXACT_SEARCH_MAX_NODES` nodes, HNSW above.

    Returns
    -------
    scipy.sparse.csr_matrix, shape [N, N]
        Connectivity (``1.0``) between ``i`` and ``j`` when either is among the ``k``
        nearest of the other (squared Euclidean distance), the union that makes the
        graph symmetric; no self loops. So every node has at least ``k`` neighbours,
        and at most ``N - 1``.

    Raises
    ------
    LabelSpreadingInputError
        If ``vectors`` is not a finite numeric matrix of at least two rows, or ``k`` or
        ``method`` is invalid.

    Notes
    -----
    The neighbours are :func:`activespec.neighbours.nearest_others`: a node is never its
    own neighbour, even among identical vectors. HNSW can find fewer than ``k`` on a
    badly connected graph; the edges it did not find are missing.
    """
    x = _check_vectors(vectors)
    n = x.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n:
        raise LabelSpreadingInputError(f"k must be an integer in [1, {n - 1}], got {k!r}")
    if method not in GRAPH_METHODS:
        raise LabelSpreadingInputError(f"method must be one of {GRAPH_METHODS}, got {method!r}")
    method = neighbours.choose_method(method, n, EXACT_SEARCH_MAX_NODES)
    found, _ = neighbours.nearest_others(x, int(k), method)
    keep = found >= 0
    row_index = np.broadcast_to(np.arange(n)[:, np.newaxis], found.shape)[keep]
    col_index = found[keep]
    directed = sp.csr_matrix(
        (np.ones(len(row_index), np.float64), (row_index, col_index)), shape=(n, n)
    )
    # Union of the directed edges; duplicates summed to 2 are reset to 1.
    graph = (directed + directed.T).tocsr()
    graph.data[:] = 1.0
    graph.sort_indices()
    return graph


def _check_labels(labels, n_nodes: int, n_classes: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n_nodes,):
        raise LabelSpreadingInputError(
            f"labels must have one entry per node ({n_nodes}), got shape {np.shape(labels)}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise LabelSpreadingInputError(
            f"labels must be integer class indices (-1 = unlabelled), got dtype {y.dtype}"
        )
    unknown = np.unique(y[(y != UNLABELLED) & ((y < 0) | (y >= n_classes))])
    if len(unknown):
        raise LabelSpreadingInputError(
            f"labels hold unknown class id(s) {unknown[:10].tolist()}: expected 0..{n_classes - 1}"
            f" or {UNLABELLED} (unlabelled)"
        )
    if not (y != UNLABELLED).any():
        raise LabelSpreadingInputError("no node is labelled: label spreading needs at least one")
    return y.astype(np.int64)


def _check_graph(graph, n_nodes: int | None = None) -> sp.csr_matrix:
    if not sp.issparse(graph):
        raise LabelSpreadingInputError(f"graph must be a scipy sparse matrix, got {type(graph)}")
    w = sp.csr_matrix(graph, dtype=np.float64)
    if w.shape[0] != w.shape[1]:
        raise LabelSpreadingInputError(f"graph must be square, got shape {w.shape}")
    if not np.isfinite(w.data).all() or (w.data < 0).any():
        raise LabelSpreadingInputError("graph weights must be finite and non-negative")
    # A tolerance, not exact equality: weights may come from float arithmetic.
    asymmetry = abs(w - w.T)
    if asymmetry.nnz and asymmetry.max() > 1e-12 * max(1.0, abs(w).max()):
        raise LabelSpreadingInputError("graph must be symmetric (W == W.T)")
    return w


def check_parameters(alpha: float, max_iterations: int, tolerance: float) -> None:
    """Refuse spreading parameters out of range (:func:`spread_labels` says what they mean).

    Raises
    ------
    LabelSpreadingInputError
        If ``alpha`` is not in (0, 1), ``max_iterations`` not an integer >= 1 or
        ``tolerance`` negative.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 < alpha < 1.0:
        raise LabelSpreadingInputError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    if (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, (int, np.integer))
        or max_iterations < 1
    ):
        raise LabelSpreadingInputError(
            f"max_iterations must be an integer >= 1, got {max_iterations!r}"
        )
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise LabelSpreadingInputError(f"tolerance must be a number >= 0, got {tolerance!r}")


def _row_distributions(f: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows of ``f`` scaled to sum 1; rows without mass become uniform."""
    totals = f.sum(axis=1, keepdims=True)
    return np.divide(f, totals, out=np.full_like(f, 1.0 / n_classes), where=totals > 0)


def normalized_affinity(graph) -> sp.csr_matrix:
    """``S = D^-1/2 W D^-1/2`` of a symmetric graph, ``D`` its degrees (row sums).

    The diagonal of ``W`` is ignored (self loops carry no information between nodes);
    an isolated node (degree 0) gets an empty row and column.
    """
    w = _check_graph(graph)
    w = w - sp.diags(w.diagonal())
    w.eliminate_zeros()
    degree = np.asarray(w.sum(axis=1)).ravel()
    scale = np.zeros_like(degree)
    np.divide(1.0, np.sqrt(degree), out=scale, where=degree > 0)
    d = sp.diags(scale)
    return (d @ w @ d).tocsr()


def spread_labels(
    graph,
    labels,
    n_classes: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    tolerance: float = DEFAULT_TOLERANCE,
) -> SpreadingResult:
    """Label spreading (Zhou et al. 2004) on a symmetric graph.

    Parameters
    ----------
    graph : scipy.sparse matrix, shape [N, N]
        Symmetric non-negative weights, e.g. from :func:`knn_graph`.
    labels : array-like of int, shape [N]
        Class index of each labelled node, :data:`UNLABELLED` (-1) for the others.
    n_classes : int
        Number of classes ``C`` (>= 2); class ids run from 0 to ``C - 1``.
    alpha : float
        In (0, 1): the weight of the neighbours; ``1 - alpha`` pulls every labelled node
        back to its own label each step (soft clamping, so a label that disagrees with its
        neighbourhood can yield).
    max_iterations : int
        At most this many steps.
    tolerance : float
        Stop once the mean over nodes of ``sum_c |P_new - P_old|`` is at most this, where
        ``P`` are the rows of ``F`` scaled to sum 1 (uniform while a row has no mass).

    Returns
    -------
    SpreadingResult
        The row-normalised distributions, the steps done and the last change.

    Raises
    ------
    LabelSpreadingInputError
        If the graph is not square, symmetric and non-negative, the labels do not match
        it, hold an id outside ``[0, C)`` besides -1 or label no node at all, or a
        parameter is out of range.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise LabelSpreadingInputError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    check_parameters(alpha, max_iterations, tolerance)
    s = normalized_affinity(graph)
    n = s.shape[0]
    y = _check_labels(labels, n, int(n_classes))

    labelled = np.flatnonzero(y != UNLABELLED)
    seed = np.zeros((n, int(n_classes)), np.float64)
    seed[labelled, y[labelled]] = 1.0
    clamp = (1.0 - alpha) * seed
    # Scaling S once saves a multiplication of F per step.
    alpha_s = (alpha * s).tocsr()

    f = seed
    distributions = _row_distributions(f, int(n_classes))
    change = np.inf
    iterations = 0
    while iterations < max_iterations:
        f = alpha_s @ f
        f += clamp
        # The rule applies to the class distributions, not to F itself: F's entries scale
        # with the share of labelled nodes, so with 0.2 % labelled its mean change fell
        # below 0.001 after 4 steps, before the labels had reached most nodes.
        updated = _row_distributions(f, int(n_classes))
        change = float(np.abs(updated - distributions).sum() / n)
        distributions = updated
        iterations += 1
        if change <= tolerance:
            break

    unreached = f.sum(axis=1) <= 0.0
    return SpreadingResult(
        distributions=distributions,
        iterations=iterations,
        change=change,
        converged=change <= tolerance,
        n_unreached=int(unreached.sum()),
    )


def label_spreading(
    vectors,
    labels,
    n_classes: int,
    *,
    k: int = DEFAULT_K,
    alpha: float = DEFAULT_ALPHA,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    tolerance: float = DEFAULT_TOLERANCE,
    method: str = "auto",
) -> SpreadingResult:
    """:func:`knn_graph` of ``vectors``, then :func:`spread_labels` of ``labels`` over it.

    Parameters and errors are those of the two functions. The labels are checked before
    the graph is built, so a bad label fails in milliseconds, not after the search.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise LabelSpreadingInputError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    check_parameters(alpha, max_iterations, tolerance)
    _check_labels(labels, len(vectors), int(n_classes))
    graph = knn_graph(vectors, k, method=method)
    return spread_labels(
        graph,
        labels,
        n_classes,
        alpha=alpha,
        max_iterations=max_iterations,
        tolerance=tolerance,
    )
