"""Label spreading at scale: graph build, iteration time and peak memory at 100k and 1M nodes.

Subject
    :func:`activespec.label_spreading.knn_graph` (faiss HNSW, k = 5, symmetrised) and
    :func:`activespec.label_spreading.spread_labels` (the 2016 defaults: alpha, at most
    100 steps, mean L1 change per row <= 0.001) on 100,000 and 1,000,000 simulated
    140-point vectors, 0.2 % of them labelled (about the 2016 share: ~1,600 labelled
    spectra beside a 2^20-spectrum pool), each size in a fresh subprocess.
Measure
    Wall time of the graph build and of the iteration, the steps done, the recall@5 of the
    approximate graph against an exact search of 1,000 random nodes, and the peak resident
    memory of the subprocess (``ru_maxrss``, read before the recall check; the vectors
    themselves are 560 MB at 1M).
Baseline
    The 100,000-node run: the growth ratios 1M / 100k of the times and of the peak memory,
    against the tenfold growth of the data (an exact kNN search would grow a hundredfold).

The vectors are a mixture of a few clusters, each a smooth random curve plus a few smooth
random modes and white noise (:func:`simulated_vectors`), generated in chunks; not
spectra, but a set whose neighbourhoods are as clear as those of preprocessed spectra.
"""

from __future__ import annotations

import argparse
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

NAME = "label_spreading"
FULL_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (5_000, 20_000)
N_POINTS = 140
N_CLUSTERS = 8
N_CLASSES = 3
LABELLED_FRACTION = 0.002
#: Random nodes whose approximate neighbours are checked against an exact search.
RECALL_QUERIES = 1_000
CHUNK = 100_000
SEED = 2016
MIB = 2**20


def simulated_vectors(
    n: int,
    n_points: int = N_POINTS,
    n_clusters: int = N_CLUSTERS,
    seed: int = SEED,
    noise: float = 0.05,
    chunk: int = CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` float32 vectors of a mixture of ``n_clusters`` clusters, and their cluster ids.

    Each cluster is a smooth random curve in [-1, 1] (like a scaled spectrum window) plus
    four smooth random modes with normal coefficients (the variety within a class);
    every vector adds white noise of standard deviation ``noise``. Made ``chunk`` rows at
    a time, so no temporary array of the full size exists besides the result.
    """
    rng = np.random.default_rng(seed)
    grid = np.linspace(0.0, 1.0, n_points)
    cosines = np.stack([np.cos(np.pi * (j + 1) * grid) for j in range(6)])
    centres = np.tanh(rng.normal(size=(n_clusters, 6)) @ cosines)
    modes = rng.normal(size=(n_clusters, 4, n_points)).cumsum(axis=2) / np.sqrt(n_points)
    vectors = np.empty((n, n_points), np.float32)
    clusters = np.empty(n, np.int64)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        ids = rng.integers(n_clusters, size=m)
        coefficients = rng.normal(scale=0.3, size=(m, 4))
        block = vectors[start : start + m]
        block[:] = rng.standard_normal(size=(m, n_points), dtype=np.float32)
        block *= noise
        # Cluster by cluster: a [m, 4, n_points] temporary would be 450 MB per chunk.
        for cluster in range(n_clusters):
            rows = ids == cluster
            block[rows] += centres[cluster] + coefficients[rows] @ modes[cluster]
        clusters[start : start + m] = ids
    return vectors, clusters


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _graph_recall(vectors: np.ndarray, graph, k: int, seed: int) -> float:
    """Share of the exact ``k`` nearest neighbours of random nodes present in the graph."""
    import faiss

    rng = np.random.default_rng(seed)
    queries = rng.choice(len(vectors), size=min(RECALL_QUERIES, len(vectors)), replace=False)
    index = faiss.IndexFlatL2(vectors.shape[1])
    index.add(vectors)
    _, exact = index.search(vectors[queries], k + 1)
    found = total = 0
    for node, row in zip(queries, exact, strict=True):
        truth = [j for j in row if j != node][:k]
        neighbours = set(graph.indices[graph.indptr[node] : graph.indptr[node + 1]].tolist())
        found += sum(j in neighbours for j in truth)
        total += len(truth)
    return found / total


def measure(n: int) -> dict:
    """Build the graph of ``n`` simulated vectors and spread labels over it (this process)."""
    from activespec import label_spreading as ls

    started = time.perf_counter()
    vectors, clusters = simulated_vectors(n)
    simulate_s = time.perf_counter() - started
    rss_data = _peak_rss_mib()

    started = time.perf_counter()
    graph = ls.knn_graph(vectors, ls.DEFAULT_K, method="hnsw")
    graph_s = time.perf_counter() - started
    rss_graph = _peak_rss_mib()

    labels = np.full(n, ls.UNLABELLED, np.int64)
    labelled = np.random.default_rng(SEED).choice(n, max(1, int(LABELLED_FRACTION * n)), False)
    labels[labelled] = clusters[labelled] % N_CLASSES
    started = time.perf_counter()
    result = ls.spread_labels(graph, labels, N_CLASSES)
    spread_s = time.perf_counter() - started

    # Before the recall check, whose exact index holds another copy of the vectors.
    peak_rss = _peak_rss_mib()
    recall = _graph_recall(vectors, graph, ls.DEFAULT_K, SEED)
    accuracy = float((result.distributions.argmax(axis=1) == clusters % N_CLASSES).mean())
    return {
        "n": n,
        "simulate_s": round(simulate_s, 2),
        "graph_s": round(graph_s, 2),
        "spread_s": round(spread_s, 2),
        "iterations": result.iterations,
        "final_change": result.change,
        "converged": result.converged,
        "n_unreached": result.n_unreached,
        "edges": int(graph.nnz // 2),
        "graph_recall_at_k_percent": round(100 * recall, 2),
        "accuracy_percent": round(100 * accuracy, 2),
        "rss_after_data_mib": rss_data,
        "rss_after_graph_mib": rss_graph,
        "peak_rss_mib": peak_rss,
    }


def _run_child(n: int) -> dict:
    """:func:`measure` in a fresh process, so each size's peak memory is its own."""
    command = [sys.executable, "-m", f"bench.{NAME}", "--child", str(n)]
    run = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def run(options: BenchOptions) -> dict:
    """Measure, print and record graph build, iteration and memory at two sizes."""
    sizes = QUICK_SIZES if options.quick else FULL_SIZES
    report = Report(
        NAME,
        options,
        {"nodes": list(sizes), "dimensions": N_POINTS, "labelled_fraction": LABELLED_FRACTION},
    )
    results = {}
    for n in sizes:
        result = results[n] = _run_child(n)
        prefix = f"n{n}"
        report.figure(f"{prefix}_graph_s", result["graph_s"], f"{n:,} nodes: kNN graph build", "s")
        report.figure(
            f"{prefix}_spread_s",
            result["spread_s"],
            f"  label spreading ({result['iterations']} steps, change "
            f"{result['final_change']:.2g})",
            "s",
        )
        report.figure(f"{prefix}_iterations", result["iterations"], "  steps")
        report.figure(
            f"{prefix}_peak_rss_mib",
            result["peak_rss_mib"],
            "  peak RSS (data, graph, spreading)",
            "MiB",
        )
        report.figure(
            f"{prefix}_rss_after_data_mib",
            result["rss_after_data_mib"],
            "  peak RSS after data",
            "MiB",
        )
        report.figure(
            f"{prefix}_rss_after_graph_mib",
            result["rss_after_graph_mib"],
            "  peak RSS after the graph",
            "MiB",
        )
        report.figure(
            f"{prefix}_graph_recall_at_k_percent",
            result["graph_recall_at_k_percent"],
            "  recall@5 of the graph (1,000 nodes vs exact)",
            "%",
        )
        report.figure(
            f"{prefix}_accuracy_percent",
            result["accuracy_percent"],
            "  argmax = simulated class",
            "%",
        )
        report.figure(f"{prefix}_n_unreached", result["n_unreached"], "  nodes no label reached")
        report.figure(f"{prefix}_edges", result["edges"], "  undirected edges")
    small, large = sizes
    for key, label in (
        ("graph_s", "graph build time"),
        ("spread_s", "spreading time"),
        ("peak_rss_mib", "peak RSS"),
    ):
        report.ratio(
            f"{key}_{large}_vs_{small}",
            results[large][key],
            results[small][key],
            f"{label} {large:,} / {small:,}",
        )
    per_step = {n: results[n]["spread_s"] / results[n]["iterations"] for n in sizes}
    report.ratio(
        f"spread_step_s_{large}_vs_{small}",
        per_step[large],
        per_step[small],
        f"time per spreading step {large:,} / {small:,}",
    )
    report.note(
        f"data grow {large // small}x; an exact kNN search would grow {(large // small) ** 2}x"
    )
    return report.save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bench.{NAME}", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--child", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    prepare_environment()
    if args.child:
        print(json.dumps(measure(args.child)), flush=True)
        return 0
    run(options_from_args(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
