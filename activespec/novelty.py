"""Novelty of pool spectra and the 2-D map of the pool: the interesting things nobody labelled.

The 2016 system (Škoda, Palička, Koza & Shakurova 2016) showed the pool as a t-SNE map
and found spectra nobody had asked for (quasars, galaxies, artefacts). This module holds
the two measures without TFX:

* :func:`novelty_scores`: the distance of every vector to its ``k``-th nearest other
  vector (Euclidean, in the network's embedding or in the 140-point flux): large where
  the pool is sparse, i.e. for kinds of spectra that are rare in the pool. Nearest
  neighbours by faiss (:mod:`activespec.neighbours`: exact search up to
  :data:`EXACT_SEARCH_MAX_NODES` vectors, HNSW above).
* :func:`project_2d`: a 2-D map of a set of vectors by openTSNE (FFT-accelerated
  t-SNE), after a PCA to at most :data:`MAP_PCA_DIMS` dimensions.

Why the ``k``-th neighbour distance and ``k = 10``: on a simulated pool of 3,941
preprocessed spectra it ranked the injected QSOs and galaxies above the ordinary stars
with an AUC of 0.99 (low-S/N junk 0.96, sky residuals 0.87, cosmic rays 0.82), and the
injected rarities made 90 % of the top 5 % (18 % of the pool); ``k`` from 5 to 50 gave
the same within 0.03, the mean of the ``k`` distances no better, and a local-outlier
ratio much worse (AUC 0.64: it normalises away the sparse regions that *are* the
rarities). BENCHMARKS.md, "Novelty and the pool map".

Everything is numpy and faiss; openTSNE is imported only by :func:`project_2d`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np

from activespec import errors, neighbours

__all__ = [
    "DEFAULT_CONFIDENT_OTHER",
    "DEFAULT_K",
    "DEFAULT_MAP_SIZE",
    "DEFAULT_NOVELTY_SPACE",
    "DEFAULT_NOVEL_LIST_SIZE",
    "MAP_METHODS",
    "MAP_NEIGHBOUR_SEARCHES",
    "NOVELTY_SPACES",
    "NoveltyInputError",
    "SEARCH_METHODS",
    "Projection",
    "map_affinities",
    "map_selection",
    "novel_order",
    "novelty_scores",
    "pca_basis",
    "project_2d",
]

#: Neighbours: the novelty is the distance to the k-th nearest other vector.
DEFAULT_K = 10
#: Pool spectra on the map besides every labelled spectrum and candidate.
DEFAULT_MAP_SIZE = 50_000
#: Spectra in the list of the most unusual ones (report and catalogue).
DEFAULT_NOVEL_LIST_SIZE = 50
#: A spectrum predicted negative with at least this probability is a confident negative
#: ("confident other"), left out of the novelty list.
DEFAULT_CONFIDENT_OTHER = 0.9
#: ``auto``: exact up to :data:`EXACT_SEARCH_MAX_NODES` vectors, HNSW above.
SEARCH_METHODS = neighbours.METHODS
#: ``tsne``: openTSNE; ``none``: no map (novelty only).
MAP_METHODS = ("tsne", "none")
#: Where the novelty is measured: the 140-point flux, or the network's embedding. The
#: flux is the default: on the demo's 19,706-spectrum simulated pool it ranked the QSOs
#: and galaxies above the ordinary stars with AUCs of 0.985 and 0.980, against 0.945 and
#: 0.941 in the round-0 CNN's embedding (trained on stars only, it compresses what does
#: not separate its classes); the map is drawn in the embedding when there is one.
NOVELTY_SPACES = ("flux", "embedding")
DEFAULT_NOVELTY_SPACE = "flux"
#: Up to here an exact search; above, faiss HNSW (:mod:`activespec.neighbours`: recall@5
#: of 1.000 on 100,000 simulated vectors).
EXACT_SEARCH_MAX_NODES = 20_000
#: The vectors are reduced to at most this many principal components, before the
#: neighbour search (memory: 4 M spectra x 64 float32 = 1 GB) and before t-SNE.
PCA_DIMS = 64
MAP_PCA_DIMS = 50
#: How the map finds each vector's neighbours for t-SNE's affinities. ``faiss``: exactly
#: (:mod:`activespec.neighbours`); ``opentsne``: openTSNE's own search, kept as the
#: reference (exact by scikit-learn below 1,000 vectors, where both give the same map;
#: approximate by Annoy above). The demo's 19,706-spectrum map: 19.0 s with faiss against
#: 22.4 s, the same 42.4 % of 10-NN kept (``python -m bench.demo_steps``).
MAP_NEIGHBOUR_SEARCHES = ("faiss", "opentsne")
#: Side of a cell of openTSNE's FFT gradient grid, in map units (``ints_in_interval``;
#: its default is 1). The grid grows with the map's extent, and on real embeddings the
#: last 500 iterations dominated: on the demo's 19,706-spectrum pool (round-2 CNN embedding)
#: 2 gives 10.4 s instead of 51.6 s for them, the whole map ~20 s instead of ~60 s, and
#: keeps 46.1 % of each spectrum's 10 nearest neighbours of the 50-D space against 47.3 %
#: (1.5: 18.5 s, 46.8 %; Barnes-Hut: 32.9 s, 47.4 %). ``python -m bench.demo_steps``.
MAP_GRID_CELL = 2.0
#: Rows the principal components are fitted on (the first rows read).
PCA_FIT_ROWS = 20_000


class NoveltyInputError(errors.ActivespecError, ValueError):
    """Vectors or settings the novelty score or the map cannot use."""

    code = "bad-novelty-input"


def _matrix(vectors) -> np.ndarray:
    x = np.asarray(vectors)
    if x.ndim != 2 or x.shape[1] < 1 or not np.issubdtype(x.dtype, np.number):
        raise NoveltyInputError(f"vectors must be a numeric matrix [N, D], got {np.shape(x)}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise NoveltyInputError("vectors contain NaN or infinite values")
    return x


def pca_basis(
    vectors, n_components: int = PCA_DIMS, fit_rows: int = PCA_FIT_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and principal axes (``[n_components, D]``) of the first ``fit_rows`` vectors.

    ``(vectors - mean) @ axes.T`` projects; with ``D <= n_components`` the axes are the
    identity (nothing is lost).
    """
    x = _matrix(vectors)[:fit_rows].astype(np.float64)
    mean = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    if x.shape[1] <= n_components or len(x) <= n_components:
        return mean.astype(np.float32), np.eye(x.shape[1], dtype=np.float32)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    # Fix the sign of each axis, so that the projection does not depend on LAPACK.
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    vt *= signs[:, np.newaxis]
    return mean.astype(np.float32), vt[:n_components].astype(np.float32)


def novelty_scores(vectors, k: int = DEFAULT_K, *, method: str = "auto") -> np.ndarray:
    """Distance of every vector to its ``k``-th nearest other vector.

    Parameters
    ----------
    vectors : array-like, shape [N, D]
        One vector per spectrum (the embedding, or the flux).
    k : int
        ``1 <= k < N``.
    method : {"auto", "exact", "hnsw"}
        faiss ``IndexFlatL2`` or ``IndexHNSWFlat``; ``auto``: exact up to
        :data:`EXACT_SEARCH_MAX_NODES` vectors.

    Returns
    -------
    numpy.ndarray of float32, shape [N]
        Euclidean distances (0 when ``k`` others are identical to the vector).

    Raises
    ------
    NoveltyInputError
        On a bad matrix, ``k`` or ``method``.
    """
    x = _matrix(vectors)
    n = len(x)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n:
        raise NoveltyInputError(f"k must be an integer in [1, {n - 1}], got {k!r} for {n} vectors")
    if method not in SEARCH_METHODS:
        raise NoveltyInputError(f"method must be one of {SEARCH_METHODS}, got {method!r}")
    method = neighbours.choose_method(method, n, EXACT_SEARCH_MAX_NODES)
    found, distances = neighbours.nearest_others(x, int(k), method)
    kth = distances[:, k - 1]
    # HNSW may find fewer than k others on a badly connected graph: use the last found.
    missing = found[:, k - 1] < 0
    if missing.any():
        last = np.where(found >= 0, distances, -np.inf).max(axis=1)
        kth = np.where(missing, last, kth)
    return kth.astype(np.float32)


def _hash_key(seed: int, spectrum_id: str) -> int:
    digest = hashlib.blake2b(f"map\0{seed}\0{spectrum_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def map_selection(
    spectrum_ids: Sequence[str], always: np.ndarray, size: int, seed: int = 0
) -> np.ndarray:
    """Indices of the spectra on the map: every ``always`` one (labelled, candidate,
    unusual) plus a uniform sample of ``size`` of the others (the smallest keyed hashes
    of ``(seed, spectrum_id)``: reproducible, independent of the order), sorted."""
    always = np.asarray(always, bool)
    rest = np.flatnonzero(~always)
    if len(rest) > size:
        keys = np.array([_hash_key(seed, str(spectrum_ids[i])) for i in rest], np.uint64)
        rest = rest[np.argsort(keys, kind="stable")[:size]]
    return np.sort(np.concatenate([np.flatnonzero(always), rest]))


class Projection:
    """A 2-D map: ``coordinates`` ``[N, 2]``, the ``method`` and its wall time."""

    def __init__(self, coordinates: np.ndarray, method: str, seconds: float):
        self.coordinates = coordinates
        self.method = method
        self.seconds = seconds


def _check_neighbour_search(neighbour_search: str) -> None:
    if neighbour_search not in MAP_NEIGHBOUR_SEARCHES:
        raise NoveltyInputError(
            f"neighbour_search must be one of {MAP_NEIGHBOUR_SEARCHES}, got {neighbour_search!r}"
        )


def map_affinities(
    reduced: np.ndarray, neighbour_search: str = "faiss", *, n_jobs: int = 2, seed: int = 0
):
    """t-SNE's affinities (openTSNE ``PerplexityBasedNN``: perplexity 30, or a third of
    the other vectors when fewer) of the PCA-reduced vectors of a map, their neighbours
    found by ``neighbour_search`` (:data:`MAP_NEIGHBOUR_SEARCHES`).

    Raises
    ------
    NoveltyInputError
        On an unknown neighbour search.
    """
    _check_neighbour_search(neighbour_search)
    from openTSNE import affinity, nearest_neighbors

    perplexity = float(min(30.0, max(1.0, (len(reduced) - 1) / 3.0)))
    if neighbour_search == "opentsne":
        return affinity.PerplexityBasedNN(
            np.asarray(reduced, np.float64),
            perplexity=perplexity,
            method="auto",
            n_jobs=n_jobs,
            random_state=seed,
        )
    # As many neighbours as openTSNE's own search finds for this perplexity.
    k = min(len(reduced) - 1, int(3 * perplexity))
    found, distances = neighbours.nearest_others(
        np.ascontiguousarray(reduced, np.float32), k, "exact"
    )
    knn_index = nearest_neighbors.PrecomputedNeighbors(found, distances.astype(np.float64))
    return affinity.PerplexityBasedNN(perplexity=perplexity, knn_index=knn_index, n_jobs=n_jobs)


def project_2d(
    vectors,
    *,
    method: str = "tsne",
    seed: int = 0,
    n_jobs: int = 2,
    grid_cell: float = MAP_GRID_CELL,
    neighbour_search: str = MAP_NEIGHBOUR_SEARCHES[0],
) -> Projection:
    """A 2-D map of ``vectors`` (after a PCA to at most :data:`MAP_PCA_DIMS` dimensions).

    ``tsne``: openTSNE (perplexity 30 on each vector's 90 nearest neighbours, FFT
    gradients on a grid of cells of side ``grid_cell`` map units, :data:`MAP_GRID_CELL`
    by default; PCA initialisation, ``seed`` fixes the result on one machine). Fewer
    than 4 vectors are laid out on a line.

    ``neighbour_search``: ``faiss``, an exact search (:mod:`activespec.neighbours`), or
    ``opentsne``, openTSNE's own (the reference; see :data:`MAP_NEIGHBOUR_SEARCHES`).

    Raises
    ------
    NoveltyInputError
        On a bad matrix, method or neighbour search.
    """
    if method not in MAP_METHODS or method == "none":
        raise NoveltyInputError(f"method must be one of {MAP_METHODS[:-1]}, got {method!r}")
    _check_neighbour_search(neighbour_search)  # before the PCA, not after it
    x = _matrix(vectors)
    started = time.perf_counter()
    if len(x) < 4:
        coordinates = np.stack([np.arange(len(x), dtype=np.float32)] * 2, axis=1)
        return Projection(coordinates, method, time.perf_counter() - started)
    mean, axes = pca_basis(x, MAP_PCA_DIMS)
    reduced = np.ascontiguousarray((x - mean) @ axes.T, dtype=np.float32)
    # openTSNE: only when a map is drawn.
    from openTSNE import TSNE

    affinities = map_affinities(reduced, neighbour_search, n_jobs=n_jobs, seed=seed)
    embedding = TSNE(
        n_jobs=n_jobs,
        random_state=seed,
        initialization="pca",
        ints_in_interval=grid_cell,
    ).fit(reduced.astype(np.float64), affinities=affinities)
    coordinates = np.asarray(embedding, dtype=np.float32)
    return Projection(coordinates, method, time.perf_counter() - started)


def novel_order(
    novelty: np.ndarray,
    eligible: np.ndarray,
    spectrum_ids: Sequence[str],
    size: int = DEFAULT_NOVEL_LIST_SIZE,
) -> np.ndarray:
    """Indices of the ``size`` most novel ``eligible`` spectra, most novel first (ties
    by spectrum id; NaN never listed)."""
    novelty = np.asarray(novelty, np.float64)
    candidates = np.flatnonzero(np.asarray(eligible, bool) & np.isfinite(novelty))
    order = sorted(candidates, key=lambda i: (-novelty[i], str(spectrum_ids[i])))
    return np.asarray(order[:size], np.int64)
