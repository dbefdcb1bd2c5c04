"""How each sampling strategy chooses the query, beyond ranking by one measure.

The strategies (the list is :data:`activespec.settings.SAMPLING_STRATEGIES`):

``entropy``, ``margin``, ``least_confidence``
    The ``query_size`` most uncertain spectra by the measure
    (:func:`records.query_sort_key`); need only the probabilities.
``bald``
    The highest BALD scores: the mutual information between the prediction and the
    network's weights, estimated from Monte Carlo dropout passes (Houlsby et al. 2011;
    Gal, Islam & Ghahramani 2017). High where the dropout sub-networks *disagree*, low
    where they agree that a spectrum is ambiguous (noise, junk), which entropy cannot
    tell apart. Needs the ``bald`` score (:data:`EXTRA_SCORES`).
``diverse_entropy``
    A batch-diverse query (after Zhdanov 2019, "Diverse mini-batch active learning"):
    the ``diversity_factor * query_size`` most uncertain spectra by entropy are clustered
    with k-means into ``query_size`` clusters in the network's embedding (the output
    layer's input), and the most uncertain spectrum of each cluster is queried, so that
    one round does not spend its labels on many near-copies of one kind of spectrum.
    Needs the ``embedding`` score.
``random``
    A uniform sample of the unlabelled pool, the baseline: the smallest keyed hashes of
    ``("query", seed, round_index, spectrum_id)`` (:func:`random_query_key`), independent
    of the performance and recall samples, reproducible and runner-independent.

Everything here is deterministic for a ``(seed, round_index)``: ties are broken by
spectrum id and k-means is seeded and single-threaded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from activespec.errors import ConfigError
from components import score_features as sf

from . import records

BALD = "bald"
DIVERSE_ENTROPY = "diverse_entropy"
RANDOM = "random"
#: Strategies that rank by one measure of the score records (most uncertain first).
RANKING_STRATEGIES = (sf.ENTROPY, sf.MARGIN, sf.LEAST_CONFIDENCE, BALD)

#: The optional scores (:data:`components.score_features.EXTRA_SCORES`) each strategy
#: needs from the PoolScorer; absent = none.
EXTRA_SCORES = {BALD: (sf.BALD,), DIVERSE_ENTROPY: (sf.EMBEDDING,)}

#: Column of a ``diverse_entropy`` query: the spectrum's k-means cluster (0 = the cluster
#: of the most uncertain spectrum).
CLUSTER = "cluster"
#: Salt of the random query's keyed hash (the performance sample has none, the recall
#: sample ``"recall"``): the three samples are independent.
RANDOM_QUERY_SALT = "query"
#: k-means restarts (the best inertia wins); fixed so that the query is reproducible.
KMEANS_RESTARTS = 4


def extra_scores_for(strategy: str) -> tuple[str, ...]:
    """The optional score-record keys ``strategy`` needs (``()`` for the plain measures)."""
    return EXTRA_SCORES.get(strategy, ())


def query_columns(strategy: str) -> tuple[str, ...]:
    """Columns the query files carry beyond the usual ones, for ``strategy``."""
    if strategy == BALD:
        return (sf.BALD,)
    if strategy == DIVERSE_ENTROPY:
        return (CLUSTER,)
    return ()


def random_query_key(record: dict, seed: int, round_index: int) -> tuple[int, str]:
    """Sort key of the ``random`` strategy: the smallest keys form a uniform sample."""
    return records.sample_sort_key(record, seed, round_index, salt=RANDOM_QUERY_SALT)


def entropy_key(record: dict) -> tuple[float, str]:
    """Most uncertain by entropy first, ties by spectrum id."""
    return records.query_sort_key(record, sf.ENTROPY)


def candidate_pool_size(query_size: int, diversity_factor: int) -> int:
    """How many of the most uncertain spectra ``diverse_entropy`` clusters."""
    return query_size * diversity_factor


def kmeans_seed(seed: int, round_index: int) -> int:
    """The k-means random state of a round: a 32-bit integer from ``(seed, round_index)``."""
    return int(np.random.SeedSequence([seed, round_index]).generate_state(1)[0])


def kmeans_labels(points: np.ndarray, n_clusters: int, random_state: int) -> np.ndarray:
    """Cluster index of every row of ``points`` by k-means (SciPy's ``kmeans2``, k-means++
    seeding), the best of :data:`KMEANS_RESTARTS` seeded runs by inertia.

    Plain NumPy, single-threaded: the result does not depend on the machine's thread
    count, and no native thread pool is reconfigured inside a process that also runs
    TensorFlow (scikit-learn's KMeans needed threadpoolctl for that, and a worker that
    had done so crashed in a later garbage collection); the input is small
    (``diversity_factor * query_size`` rows).
    """
    # SciPy's cluster module is only needed by diverse_entropy
    from scipy.cluster.vq import kmeans2

    data = np.asarray(points, dtype=np.float64)
    rng = np.random.default_rng(random_state)
    best_labels, best_inertia = None, np.inf
    for _ in range(KMEANS_RESTARTS):
        centroids, labels = kmeans2(data, n_clusters, iter=50, minit="++", seed=rng)
        inertia = float(((data - centroids[labels]) ** 2).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels


def diverse_selection(
    candidates: Sequence[dict], query_size: int, seed: int, round_index: int
) -> list[dict]:
    """The ``diverse_entropy`` query from the most uncertain spectra.

    Parameters
    ----------
    candidates : sequence of dict
        Score records with ``entropy``, ``spectrum_id`` and ``embedding`` (the
        ``diversity_factor * query_size`` most uncertain, in any order).
    query_size : int
        Number of clusters, and of spectra queried.
    seed, round_index : int
        Fix the k-means initialisation.

    Returns
    -------
    list of dict
        ``min(query_size, len(candidates))`` records, most uncertain first, each with a
        :data:`CLUSTER` index (clusters numbered by their most uncertain member, 0 first).
        Each cluster gives its most uncertain spectrum; if k-means leaves fewer non-empty
        clusters than ``query_size`` (identical embeddings), the most uncertain of the
        rest fill the query and share their cluster's index.

    Raises
    ------
    activespec.errors.ConfigError
        If a record has no embedding or the embeddings differ in length.
    """
    ranked = sorted(candidates, key=entropy_key)
    if not ranked:
        return []
    points = _embeddings(ranked)
    n_distinct = len(np.unique(points, axis=0))
    if n_distinct <= query_size:
        # As many or fewer distinct points than clusters: each distinct point is one.
        _, labels = np.unique(points, axis=0, return_inverse=True)
        labels = np.asarray(labels).reshape(-1)
    else:
        labels = kmeans_labels(points, query_size, kmeans_seed(seed, round_index))

    labels = [int(label) for label in labels]
    first_of: dict[int, int] = {}
    for position, label in enumerate(labels):
        first_of.setdefault(label, position)
    # Positions in the ranking of each cluster's most uncertain member.
    representatives = sorted(first_of.values())
    cluster_number = {labels[p]: n for n, p in enumerate(representatives)}
    chosen = representatives[:query_size]
    if len(chosen) < query_size:
        taken = set(chosen)
        rest = [p for p in range(len(ranked)) if p not in taken]
        chosen = sorted(chosen + rest[: query_size - len(chosen)])
    return [{**ranked[p], CLUSTER: cluster_number[labels[p]]} for p in chosen]


def _embeddings(ranked: Sequence[dict]) -> np.ndarray:
    lengths = set()
    for record in ranked:
        embedding = record.get(sf.EMBEDDING)
        if embedding is None or len(embedding) == 0:
            raise ConfigError(
                f"diverse_entropy: score record {record[sf.SPECTRUM_ID]!r} has no embedding"
            )
        lengths.add(len(embedding))
    if len(lengths) != 1:
        raise ConfigError(f"diverse_entropy: embeddings of different lengths {sorted(lengths)}")
    return np.array([record[sf.EMBEDDING] for record in ranked], dtype=np.float64)
