"""The one nearest-neighbour search (activespec.neighbours) against scikit-learn's exact one."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from activespec.neighbours import nearest_others


def _clusters(n, dim=50, seed=0):
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.normal(size=(4, dim))
    return (centres[rng.integers(4, size=n)] + rng.normal(size=(n, dim))).astype(np.float32)


def test_exact_search_is_scikit_learns_without_the_vector_itself():
    x = _clusters(1_500)
    indices, distances = nearest_others(x, 12, "exact")
    reference_distances, reference = NearestNeighbors(n_neighbors=13).fit(x).kneighbors(x)
    assert indices.shape == distances.shape == (1_500, 12)
    assert indices.dtype == np.int64 and distances.dtype == np.float32
    assert not (indices == np.arange(1_500)[:, None]).any()
    assert (indices == reference[:, 1:]).mean() > 0.999  # float32 ties may swap
    np.testing.assert_allclose(distances, reference_distances[:, 1:], rtol=1e-4, atol=1e-3)
    assert (np.diff(distances, axis=1) >= 0).all()


def test_identical_vectors_are_neighbours_but_never_their_own():
    x = _clusters(300, seed=1)
    x[100:110] = x[100]  # ten identical spectra: a vector need not come first in its results
    indices, distances = nearest_others(x, 4, "exact")
    assert not (indices == np.arange(300)[:, None]).any()
    for row in range(100, 110):
        assert set(indices[row]) <= set(range(100, 110))
        assert (distances[row] == 0).all()


def test_hnsw_finds_nearly_all_exact_neighbours():
    x = _clusters(4_000, seed=2)
    exact, _ = nearest_others(x, 10, "exact")
    approximate, distances = nearest_others(x, 10, "hnsw")
    found = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approximate, exact, strict=True)])
    assert found >= 0.99
    assert np.isfinite(distances[approximate >= 0]).all()


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="exact"):
        nearest_others(_clusters(20), 3, "annoy")
