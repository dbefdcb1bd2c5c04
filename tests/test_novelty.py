"""activespec.novelty: the k-th neighbour distance finds the rarities a simulated survey
injected (QSOs, galaxies with redshifted lines, artefacts), and the map's helpers."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from activespec import errors
from activespec import novelty as nv

#: Pool subtypes the simulator injects as rarities (activespec.simulator.population):
#: quasars and galaxies whose lines miss H-alpha, and the artefacts (junk-*).
EXTRAGALACTIC = ("qso", "galaxy")
ARTEFACTS = ("junk-cosmic", "junk-sky", "junk-badcol", "junk-zero", "junk-lowsnr")
#: Ordinary stars, the bulk of the pool.
ORDINARY = ("FGK", "M", "A", "B")


def _auc(scores: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a positive outranks a negative (Mann-Whitney), ties half."""
    pos, neg = scores[positive], scores[negative]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


@pytest.fixture(scope="module", params=[11, 12, 13])
def simulated_pool(request, tmp_path_factory):
    """Preprocessed flux vectors (as ingestion makes them) and the true subtypes of a
    simulated pool of 900 spectra, one per seed."""
    from activespec.io import read_spectrum
    from activespec.preprocessing import preprocess, should_degrade
    from activespec.simulator import simulate_survey

    out = tmp_path_factory.mktemp(f"survey{request.param}")
    simulate_survey(out, n_labelled=0, n_pool=900, seed=request.param, workers=1, progress=False)
    vectors, subtypes = [], []
    with (out / "truth" / "pool_truth.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                spectrum = read_spectrum(out / "pool" / row["file"])
                vectors.append(preprocess(spectrum, degrade=should_degrade(spectrum)))
            except (errors.SpectrumReadError, errors.RejectedSpectrum):
                continue  # ingestion rejects them too (e.g. junk-zero)
            subtypes.append(row["subtype"])
    return np.stack(vectors), np.array(subtypes)


def test_injected_rarities_rank_high(simulated_pool):
    vectors, subtypes = simulated_pool
    novelty = nv.novelty_scores(vectors, nv.DEFAULT_K)
    ordinary = np.isin(subtypes, ORDINARY)
    extragalactic = np.isin(subtypes, EXTRAGALACTIC)
    rare = extragalactic | np.isin(subtypes, ARTEFACTS)
    assert extragalactic.sum() >= 20 and ordinary.sum() >= 500
    # QSOs and galaxies: almost every one above almost every ordinary star.
    assert _auc(novelty, extragalactic, ordinary) > 0.95
    assert _auc(novelty, rare, ordinary) > 0.85
    # The most novel 5 % are mostly rarities, at least three times their share.
    top = np.argsort(-novelty)[: len(novelty) // 20]
    assert rare[top].mean() > max(0.6, 3 * rare.mean())
    # A score blind to the spectra (the S/N-free vector norm would not be) fails this.
    shuffled = np.random.default_rng(0).permutation(novelty)
    assert _auc(shuffled, extragalactic, ordinary) < 0.7


def test_novelty_is_the_kth_neighbour_distance():
    points = np.array([[0.0], [1.0], [3.0], [10.0]], np.float32)
    assert nv.novelty_scores(points, 1).tolist() == [1.0, 1.0, 2.0, 7.0]
    assert nv.novelty_scores(points, 2).tolist() == [3.0, 2.0, 3.0, 9.0]
    # Duplicates: k identical neighbours give 0.
    same = np.zeros((5, 3), np.float32)
    assert nv.novelty_scores(same, 3).tolist() == [0.0] * 5


def test_hnsw_agrees_with_the_exact_search():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 20)).astype(np.float32)
    exact = nv.novelty_scores(x, 10, method="exact")
    approximate = nv.novelty_scores(x, 10, method="hnsw")
    assert np.corrcoef(exact, approximate)[0, 1] > 0.99


@pytest.mark.parametrize(
    "vectors, k",
    [(np.zeros((3, 2)), 3), (np.zeros((3, 2)), 0), (np.array([[np.nan, 1.0], [0, 0]]), 1)],
)
def test_bad_input_is_refused(vectors, k):
    with pytest.raises(nv.NoveltyInputError):
        nv.novelty_scores(vectors, k)


def test_map_selection_keeps_the_special_and_samples_the_rest():
    ids = [f"s{i}" for i in range(1000)]
    always = np.zeros(1000, bool)
    always[[3, 500, 999]] = True
    chosen = nv.map_selection(ids, always, 100, seed=4)
    assert len(chosen) == 103 and {3, 500, 999} <= set(chosen.tolist())
    assert chosen.tolist() == sorted(chosen.tolist())
    # Independent of the order of the input.
    order = np.random.default_rng(0).permutation(1000)
    again = nv.map_selection([ids[i] for i in order], always[order], 100, seed=4)
    assert sorted(ids[order[i]] for i in again) == sorted(ids[i] for i in chosen)
    assert nv.map_selection(ids, always, 5000).tolist() == list(range(1000))


def test_project_2d_separates_clusters():
    pytest.importorskip("openTSNE")
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(size=(150, 30)), rng.normal(size=(150, 30)) + 8.0])
    projection = nv.project_2d(x, seed=1)
    xy = projection.coordinates
    assert xy.shape == (300, 2) and projection.method == "tsne"
    # Each point's nearest neighbour on the map is of its own cluster.
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d, np.inf)
    assert ((d.argmin(axis=1) < 150) == (np.arange(300) < 150)).mean() > 0.99
    assert np.allclose(nv.project_2d(x, seed=1).coordinates, xy)


@pytest.mark.parametrize("n", [4, 7, 40])
def test_project_2d_lays_out_small_sets(n):
    """Few vectors: the perplexity shrinks to fit the neighbours there are."""
    pytest.importorskip("openTSNE")
    x = np.random.default_rng(n).normal(size=(n, 8))
    xy = nv.project_2d(x, seed=0).coordinates
    assert xy.shape == (n, 2) and np.isfinite(xy).all()
    assert len(np.unique(xy.round(6), axis=0)) == n


def test_novel_order_skips_ineligible_and_nan():
    novelty = np.array([5.0, np.nan, 9.0, 7.0, 7.0])
    eligible = np.array([True, True, False, True, True])
    assert nv.novel_order(novelty, eligible, ["a", "b", "c", "e", "d"], 3).tolist() == [4, 3, 0]


def test_map_affinities_from_faiss_are_opentsnes_own_where_both_search_exactly():
    """Below 1,000 vectors openTSNE searches exactly (scikit-learn): the same neighbours
    give the same affinities, to float32 rounding of the distances."""
    pytest.importorskip("openTSNE")
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(size=(300, 20)), rng.normal(size=(300, 20)) + 4.0])
    ours = nv.map_affinities(x, "faiss").P.toarray()
    reference = nv.map_affinities(x, "opentsne").P.toarray()
    assert ((ours > 0) == (reference > 0)).mean() > 0.999
    np.testing.assert_allclose(ours, reference, atol=1e-4 * reference.max())
    with pytest.raises(nv.NoveltyInputError, match="neighbour_search"):
        nv.project_2d(x, neighbour_search="annoy")
