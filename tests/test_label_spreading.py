"""Label spreading without TFX (activespec.label_spreading): the graph, the spreading
against scikit-learn, the stopping rule and the refusal of unusable input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import kneighbors_graph
from sklearn.semi_supervised import LabelSpreading

from activespec import label_spreading as ls


def _clusters(n, dim=140, n_clusters=3, seed=0, spread=0.3):
    """``n`` vectors around ``n_clusters`` random centres, and their cluster ids."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    ids = rng.integers(n_clusters, size=n)
    return (centres[ids] + spread * rng.normal(size=(n, dim))).astype(np.float32), ids


def _ring(n, jitter=0.01, seed=0):
    """Points on a circle, slightly jittered: their kNN relation (k even, k < n / 2) is
    symmetric, so a kNN graph needs no symmetrisation."""
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * (np.arange(n) + jitter * rng.uniform(-1, 1, n)) / n
    return np.column_stack([np.cos(angle), np.sin(angle)])


# -- the graph ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["exact", "hnsw"])
def test_graph_is_symmetric_without_self_loops_and_every_node_has_k_neighbours(method):
    x, _ = _clusters(3_000)
    k = 5
    graph = ls.knn_graph(x, k, method=method)
    assert graph.shape == (3_000, 3_000)
    assert (graph != graph.T).nnz == 0
    assert graph.diagonal().sum() == 0
    assert set(np.unique(graph.data)) == {1.0}
    degrees = np.diff(graph.indptr)
    assert degrees.min() >= k
    # The union adds the nodes that chose i without i choosing them, never more than that.
    assert degrees.sum() <= 2 * k * len(x)


def test_exact_graph_is_the_symmetrised_exact_knn_graph_of_scikit_learn():
    x, _ = _clusters(500, seed=1)
    directed = kneighbors_graph(x, 5, mode="connectivity", include_self=False)
    expected = directed.maximum(directed.T)
    graph = ls.knn_graph(x, 5, method="exact")
    assert (graph != expected).nnz == 0


def test_hnsw_graph_finds_nearly_all_exact_neighbours():
    # The approximate search is what runs above EXACT_SEARCH_MAX_NODES nodes.
    x, _ = _clusters(4_000, seed=2)
    approximate = ls.knn_graph(x, 5, method="hnsw")
    exact = ls.knn_graph(x, 5, method="exact")
    recall = approximate.multiply(exact).nnz / exact.nnz
    assert recall >= 0.99


def test_duplicate_vectors_still_give_k_neighbours_and_no_self_loop():
    x, _ = _clusters(200, seed=3)
    x[50:60] = x[50]  # ten identical spectra: the node itself need not come first
    graph = ls.knn_graph(x, 4, method="exact")
    assert graph.diagonal().sum() == 0
    assert np.diff(graph.indptr).min() >= 4


# -- the spreading -----------------------------------------------------------------------


def _sklearn_distributions(x, y, n_neighbors, alpha, max_iter, **kwargs):
    model = LabelSpreading(
        kernel="knn", n_neighbors=n_neighbors, alpha=alpha, max_iter=max_iter, tol=0.0, **kwargs
    )
    with warnings.catch_warnings():
        # tol = 0 runs exactly max_iter steps, which scikit-learn reports as not converged.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    return model


def test_spreading_matches_scikit_learn_label_spreading_on_a_knn_graph():
    """Like with like. scikit-learn's ``kernel="knn"`` graph is the directed kNN graph with
    each point counted among its own ``n_neighbors`` (so k = n_neighbors - 1 others); it
    is not symmetrised, and its normalisation ignores the diagonal and divides by the
    in-degrees. On a jittered ring every point's k = 4 nearest are its two neighbours on
    each side, so that graph is already symmetric and equals ours: the normalisations
    then coincide. Both start from F = Y and step F <- alpha S F + (1 - alpha) Y with soft
    clamping; tol = 0 in scikit-learn and tolerance = 0 here run the same 30 steps (its
    stopping rule is the total L1 change, ours the mean per row), and both normalise rows
    at the end."""
    x = _ring(60)
    k = 4
    directed = kneighbors_graph(x, k, include_self=False)
    assert (directed != directed.T).nnz == 0  # the premise of the comparison
    graph = ls.knn_graph(x, k, method="exact")
    assert (graph != directed).nnz == 0

    y = np.full(60, ls.UNLABELLED)
    y[[0, 13, 31, 45]] = [0, 1, 2, 1]
    model = _sklearn_distributions(x, y, k + 1, alpha=0.8, max_iter=30)
    ours = ls.spread_labels(graph, y, 3, alpha=0.8, max_iterations=30, tolerance=0.0)
    assert ours.iterations == model.n_iter_ == 30
    np.testing.assert_allclose(ours.distributions, model.label_distributions_, atol=1e-12)


def test_spreading_matches_scikit_learn_on_a_symmetrised_graph_of_spectra_like_vectors():
    """The general case: our symmetrised graph of 140-point vectors given to scikit-learn
    as a callable kernel, so both spread over the same graph."""
    x, ids = _clusters(300, seed=4, spread=0.5)
    graph = ls.knn_graph(x, 5, method="exact")
    y = np.full(300, ls.UNLABELLED)
    labelled = np.random.default_rng(5).choice(300, 30, replace=False)
    y[labelled] = ids[labelled]
    model = LabelSpreading(kernel=lambda a, b=None: graph, alpha=0.99, max_iter=100, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    ours = ls.spread_labels(graph, y, 3, alpha=0.99, max_iterations=100, tolerance=0.0)
    np.testing.assert_allclose(ours.distributions, model.label_distributions_, atol=1e-10)
    # The labels reach the clusters they belong to.
    assert (ours.distributions.argmax(axis=1) == ids).mean() > 0.95


def test_converged_spreading_is_the_closed_form_solution():
    # Zhou et al. 2004: the fixed point is (1 - alpha) (I - alpha S)^-1 Y.
    x, _ = _clusters(200, seed=6)
    graph = ls.knn_graph(x, 5)
    y = np.full(200, ls.UNLABELLED)
    y[:6] = [0, 1, 2, 0, 1, 2]
    result = ls.spread_labels(graph, y, 3, alpha=0.9, max_iterations=10_000, tolerance=1e-13)
    assert result.converged
    s = ls.normalized_affinity(graph)
    seed = np.zeros((200, 3))
    seed[np.arange(6), y[:6]] = 1
    fixed = sp.linalg.spsolve((sp.identity(200) - 0.9 * s).tocsc(), 0.1 * seed)
    totals = fixed.sum(axis=1, keepdims=True)
    # Small components without a label stay at zero: uniform, as spread_labels makes them.
    fixed = np.divide(fixed, totals, out=np.full_like(fixed, 1 / 3), where=totals > 0)
    assert result.n_unreached == int((totals == 0).sum())
    np.testing.assert_allclose(result.distributions, fixed, atol=1e-9)


def test_iteration_stops_at_the_first_mean_l1_change_within_tolerance():
    x, _ = _clusters(500, seed=7)
    graph = ls.knn_graph(x, 5)
    y = np.full(500, ls.UNLABELLED)
    y[:10] = np.arange(10) % 2
    result = ls.spread_labels(graph, y, 2, tolerance=1e-3)
    assert result.converged and result.change <= 1e-3
    assert 1 < result.iterations < ls.DEFAULT_MAX_ITERATIONS
    # One step fewer had not met the rule: the change then is larger than the tolerance.
    before = ls.spread_labels(graph, y, 2, max_iterations=result.iterations - 1, tolerance=1e-3)
    assert not before.converged and before.change > 1e-3
    assert before.iterations == result.iterations - 1


def test_iteration_cap_is_reported_as_not_converged():
    x, _ = _clusters(500, seed=8)
    graph = ls.knn_graph(x, 5)
    y = np.full(500, ls.UNLABELLED)
    y[0] = 1
    result = ls.spread_labels(graph, y, 2, max_iterations=3, tolerance=0.0)
    assert result.iterations == 3 and not result.converged
    np.testing.assert_allclose(result.distributions.sum(axis=1), 1.0)


def test_nodes_no_label_reaches_get_the_uniform_distribution():
    # Two components; only the first has a label.
    block = sp.csr_matrix(np.ones((3, 3)) - np.eye(3))
    graph = sp.block_diag([block, block]).tocsr()
    y = np.array([0, -1, -1, -1, -1, -1])
    result = ls.spread_labels(graph, y, 3)
    assert result.n_unreached == 3
    np.testing.assert_allclose(result.distributions[3:], 1 / 3)
    assert (result.distributions[:3].argmax(axis=1) == 0).all()


def test_label_spreading_chains_graph_and_spreading():
    x, ids = _clusters(400, seed=9)
    y = np.full(400, ls.UNLABELLED)
    y[:20] = ids[:20]
    result = ls.label_spreading(x, y, 3)
    expected = ls.spread_labels(ls.knn_graph(x, ls.DEFAULT_K), y, 3)
    np.testing.assert_array_equal(result.distributions, expected.distributions)


# -- bad input ---------------------------------------------------------------------------


def test_nan_vectors_are_refused_with_their_rows():
    x, _ = _clusters(50)
    x[7, 3] = np.nan
    x[9, 0] = np.inf
    with pytest.raises(ls.LabelSpreadingInputError, match=r"2 vector\(s\).*rows \[7, 9\]"):
        ls.knn_graph(x, 5)


def test_no_labelled_node_is_refused():
    x, _ = _clusters(50)
    with pytest.raises(ls.LabelSpreadingInputError, match="no node is labelled"):
        ls.label_spreading(x, np.full(50, ls.UNLABELLED), 3)


def test_unknown_class_ids_are_refused():
    graph = ls.knn_graph(_clusters(50)[0], 5)
    y = np.full(50, ls.UNLABELLED)
    y[:3] = [0, 3, -2]
    with pytest.raises(ls.LabelSpreadingInputError, match=r"unknown class id\(s\) \[-2, 3\]"):
        ls.spread_labels(graph, y, 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x, y, g: ls.knn_graph(x, 0), "k must be"),
        (lambda x, y, g: ls.knn_graph(x, 50), "k must be"),
        (lambda x, y, g: ls.knn_graph(x[:, :, None], 5), "matrix"),
        (lambda x, y, g: ls.knn_graph(x, 5, method="kd"), "method"),
        (lambda x, y, g: ls.spread_labels(g, y[:-1], 3), "one entry per node"),
        (lambda x, y, g: ls.spread_labels(g, y.astype(float), 3), "integer class"),
        (lambda x, y, g: ls.spread_labels(g, y, 3, alpha=1.0), "alpha"),
        (lambda x, y, g: ls.spread_labels(g, y, 3, max_iterations=0), "max_iterations"),
        (lambda x, y, g: ls.spread_labels(g, y, 3, tolerance=-1), "tolerance"),
        (lambda x, y, g: ls.spread_labels(g, y, 1), "n_classes"),
        (lambda x, y, g: ls.spread_labels(sp.triu(g).tocsr(), y, 3), "symmetric"),
        (lambda x, y, g: ls.spread_labels(g.toarray(), y, 3), "sparse"),
        (lambda x, y, g: ls.spread_labels(-g, y, 3), "non-negative"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(call, message):
    x, _ = _clusters(50)
    y = np.full(50, ls.UNLABELLED)
    y[0] = 1
    graph = ls.knn_graph(x, 5)
    with pytest.raises(ls.LabelSpreadingInputError, match=message):
        call(x, y, graph)
