"""Novelty and the pool map: does the novelty find the injected rarities, and which 2-D
map (openTSNE or UMAP) to draw.

Subject
    :func:`activespec.novelty.novelty_scores` (distance to the 10th nearest pool spectrum)
    on the preprocessed flux of a simulated pool (4,000 spectra, seed 2016; ``--quick``:
    900), whose truth file names every spectrum's subtype; and
    :func:`activespec.novelty.project_2d` (openTSNE after a PCA to 50 dimensions) of
    50,000 vectors (``--quick``: 5,000), in a fresh process for its peak memory.
Measure
    The AUC of the novelty of each injected rarity (QSOs, galaxies with lines away from
    H-alpha, the ``junk-*`` artefacts) against the ordinary stars (FGK, M, A, B), and the
    share of rarities among the 5 % most novel; the map's wall time and peak resident
    memory, and how well it keeps the subtypes apart (share of each spectrum's 10
    nearest neighbours on the map of its own subtype group, on the simulated pool).
Baseline
    For the novelty: the inverse S/N (a noisy spectrum also looks unusual; the novelty
    must do better than noise alone). For the map: UMAP (umap-learn, when importable; it
    is not a dependency of activespec: install it beside the lock's scikit-learn 1.5 with
    ``uv pip install --python .venv/bin/python --target /tmp/umap umap-learn==0.5.6
    pynndescent==0.5.13 numba==0.60.0 llvmlite==0.43.0 --no-deps`` and run with
    ``PYTHONPATH=/tmp/umap``), on the same vectors, and the neighbour agreement in the
    50-D space the maps start from.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import resource
import subprocess
import sys
import time

import numpy as np

from bench.harness import (
    REPO_ROOT,
    BenchOptions,
    Report,
    add_common_arguments,
    child_environment,
    options_from_args,
    prepare_environment,
)

NAME = "novelty"
FULL = {"pool": 4000, "map_points": 50_000}
QUICK = {"pool": 900, "map_points": 5_000}
SEED = 2016
K = 10
GROUPS = {
    "qso": ("qso", "qso-halpha"),
    "galaxy": ("galaxy", "galaxy-halpha"),
    "junk-lowsnr": ("junk-lowsnr",),
    "junk-sky": ("junk-sky",),
    "junk-cosmic": ("junk-cosmic",),
    "junk-badcol": ("junk-badcol",),
}
ORDINARY = ("FGK", "M", "A", "B")
RARE = tuple(s for group in GROUPS.values() for s in group) + ("junk-zero",)


def _peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _auc(scores: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> float:
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([scores[positive], scores[negative]]))
    n1, n0 = int(positive.sum()), int(negative.sum())
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def simulated_pool(options: BenchOptions, n_pool: int):
    """Preprocessed flux, subtypes and S/N of a simulated pool (cached in the workdir)."""
    from activespec import errors
    from activespec.io import read_spectrum
    from activespec.preprocessing import preprocess, should_degrade
    from activespec.simulator import simulate_survey

    survey = options.scratch("surveys", f"novelty-p{n_pool}-s{SEED}")
    if (
        not (survey / "survey.json").is_file()
        or '"running"' in (survey / "survey.json").read_text()
    ):
        simulate_survey(survey, n_labelled=0, n_pool=n_pool, seed=SEED, progress=False)
    vectors, subtypes, snr = [], [], []
    with (survey / "truth" / "pool_truth.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                spectrum = read_spectrum(survey / "pool" / row["file"])
                vectors.append(preprocess(spectrum, degrade=should_degrade(spectrum)))
            except (errors.SpectrumReadError, errors.RejectedSpectrum):
                continue
            subtypes.append(row["subtype"])
            snr.append(float(row["snr"]))
    return np.stack(vectors), np.array(subtypes), np.array(snr)


def _map_child(method: str, n: int) -> dict:
    """Time and peak memory of one map of ``n`` synthetic vectors (this process)."""
    from bench.label_spreading import simulated_vectors

    vectors, _ = simulated_vectors(n, seed=7)
    before = _peak_rss_mib()
    started = time.perf_counter()
    _project(method, vectors)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mib": _peak_rss_mib(),
        "rss_before_mib": before,
    }


def _project(method: str, vectors: np.ndarray) -> np.ndarray:
    from activespec import novelty as nv

    if method == "tsne":
        return nv.project_2d(vectors, seed=0).coordinates
    import umap

    mean, axes = nv.pca_basis(vectors, nv.MAP_PCA_DIMS)
    return umap.UMAP(n_jobs=2, low_memory=True).fit_transform((vectors - mean) @ axes.T)


def _run_child(method: str, n: int) -> dict:
    command = [sys.executable, "-m", f"bench.{NAME}", "--child-map", method, str(n)]
    run = subprocess.run(
        command, cwd=REPO_ROOT, env=child_environment(), capture_output=True, text=True
    )
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def _agreement(points: np.ndarray, groups: np.ndarray) -> float:
    """Share of each point's 10 nearest neighbours (in ``points``) of its own group."""
    import faiss

    x = np.ascontiguousarray(points, np.float32)
    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    _, found = index.search(x, 11)
    return float((groups[found[:, 1:]] == groups[:, None]).mean())


def run(options: BenchOptions) -> dict:
    from activespec import novelty as nv

    sizes = QUICK if options.quick else FULL
    report = Report(NAME, options, {**sizes, "k": K, "seed": SEED})
    vectors, subtypes, snr = simulated_pool(options, sizes["pool"])
    started = time.perf_counter()
    novelty = nv.novelty_scores(vectors, K)
    report.figure("novelty_s", round(time.perf_counter() - started, 3), "novelty of the pool", "s")
    noise = 1.0 / np.maximum(snr, 1e-3)
    ordinary = np.isin(subtypes, ORDINARY)
    rare = np.isin(subtypes, RARE)
    report.figure("n_spectra", len(subtypes), "pool spectra preprocessed")
    report.figure("rare_share_percent", round(100 * rare.mean(), 1), "injected rarities", "%")
    for name, members in (("all_rare", RARE), *GROUPS.items()):
        group = np.isin(subtypes, members)
        if not group.any():
            continue
        report.figure(
            f"auc_{name}",
            round(_auc(novelty, group, ordinary), 3),
            f"AUC novelty, {name} ({int(group.sum())}) vs ordinary stars",
        )
        report.figure(
            f"auc_{name}_inverse_snr",
            round(_auc(noise, group, ordinary), 3),
            "  baseline 1/S/N",
        )
    top = np.argsort(-novelty)[: len(novelty) // 20]
    report.figure(
        "top5_rare_percent", round(100 * rare[top].mean(), 1), "rarities in the top 5 %", "%"
    )
    top_noise = np.argsort(-noise)[: len(noise) // 20]
    report.figure(
        "top5_rare_percent_inverse_snr",
        round(100 * rare[top_noise].mean(), 1),
        "  baseline 1/S/N",
        "%",
    )

    # Which map keeps the subtypes apart, on the simulated spectra.
    group_of = np.array(
        [next((g for g, m in GROUPS.items() if s in m), s) for s in subtypes], object
    )
    mean, axes = nv.pca_basis(vectors, nv.MAP_PCA_DIMS)
    report.figure(
        "agreement_50d_percent",
        round(100 * _agreement((vectors - mean) @ axes.T, group_of), 1),
        "10-NN subtype agreement in the 50-D PCA space",
        "%",
    )
    methods = ["tsne"] + (["umap"] if importlib.util.find_spec("umap") else [])
    for method in methods:
        started = time.perf_counter()
        xy = _project(method, vectors)
        report.figure(
            f"agreement_{method}_percent",
            round(100 * _agreement(xy, group_of), 1),
            f"  on the {method} map ({time.perf_counter() - started:.0f} s)",
            "%",
        )
    for method in methods:
        result = _run_child(method, sizes["map_points"])
        prefix = f"map_{method}_n{sizes['map_points']}"
        report.figure(f"{prefix}_s", result["seconds"], f"{method} of {sizes['map_points']:,}", "s")
        report.figure(f"{prefix}_peak_rss_mib", result["peak_rss_mib"], "  peak RSS", "MiB")
    if "umap" not in methods:
        report.note("umap-learn not importable: no UMAP baseline (see the module docstring)")
    return report.save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bench.{NAME}", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--child-map", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    prepare_environment()
    if args.child_map:
        method, n = args.child_map
        print(json.dumps(_map_child(method, int(n))), flush=True)
        return 0
    run(options_from_args(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
