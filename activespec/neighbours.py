"""Nearest neighbours of every vector in a set, by faiss: one search for the three users.

The label-spreading graph (:mod:`activespec.label_spreading`), the novelty score and the
t-SNE map's affinities (:mod:`activespec.novelty`) all need, for every vector, its ``k``
nearest *other* vectors in Euclidean distance. :func:`nearest_others` finds them by an
exact search (faiss ``IndexFlatL2``) or an approximate one in a hierarchical navigable
small-world graph (faiss ``IndexHNSWFlat``); each user picks the method by its own size
rule.

faiss is imported on use: nothing else in :mod:`activespec` needs it.

References
----------
Malkov, Y. A. & Yashunin, D. A. 2020, IEEE TPAMI 42, 824 (HNSW graphs).
Johnson, J., Douze, M. & Jégou, H. 2021, IEEE Trans. Big Data 7, 535 (faiss).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "HNSW_EF_CONSTRUCTION",
    "HNSW_EF_SEARCH",
    "HNSW_M",
    "METHODS",
    "SEARCH_METHODS",
    "choose_method",
    "nearest_others",
]

#: ``exact``: brute force; ``hnsw``: approximate.
SEARCH_METHODS = ("exact", "hnsw")
#: What the callers accept: ``auto`` is resolved by :func:`choose_method` with the
#: caller's own size limit.
METHODS = ("auto", *SEARCH_METHODS)
#: HNSW links per node and candidate-list sizes: recall@5 was 1.000 on 100,000 simulated
#: 140-point vectors with these (BENCHMARKS.md, "Label spreading"). The search list is at
#: least twice the results asked for.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 32


def choose_method(method: str, n: int, exact_up_to: int) -> str:
    """``method``, with ``auto`` resolved: the exact search up to ``exact_up_to`` vectors
    (seconds, and the same result on every run), HNSW above."""
    if method != "auto":
        return method
    return "exact" if n <= exact_up_to else "hnsw"


def nearest_others(x: np.ndarray, k: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other vectors of every vector, nearest first.

    Parameters
    ----------
    x : numpy.ndarray of float32, shape [N, D]
        Finite, C-contiguous (the callers check their input and say what is wrong).
    k : int
        ``1 <= k < N``.
    method : {"exact", "hnsw"}
        See :data:`SEARCH_METHODS`.

    Returns
    -------
    indices : numpy.ndarray of int64, shape [N, k]
        ``-1`` where an HNSW search found fewer than ``k`` others (a badly connected
        graph).
    distances : numpy.ndarray of float32, shape [N, k]
        Euclidean distances; ``inf`` where the index is ``-1``.

    Notes
    -----
    Identical vectors are at distance 0, so a vector need not come first among its own
    results: it is dropped wherever it appears, and the ``k + 1``-th result when it does
    not appear at all.
    """
    if method not in SEARCH_METHODS:
        raise ValueError(f"method must be one of {SEARCH_METHODS}, got {method!r}")
    import faiss

    n, dim = x.shape
    if method == "exact":
        index = faiss.IndexFlatL2(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(x)
    if method == "hnsw":
        index.hnsw.efSearch = max(HNSW_EF_SEARCH, 2 * (k + 1))
    squared, found = index.search(x, k + 1)

    is_self = found == np.arange(n)[:, np.newaxis]
    is_self[~is_self.any(axis=1), k] = True
    keep = ~is_self
    indices = found[keep].reshape(n, k).astype(np.int64, copy=False)
    squared = squared[keep].reshape(n, k)
    distances = np.where(indices >= 0, np.sqrt(np.maximum(squared, 0.0)), np.inf)
    return indices, distances.astype(np.float32)
