#!/usr/bin/env python
"""Compare approximate-nearest-neighbour libraries for the label-spreading graph.

    .venv/bin/python tools/compare_ann_libraries.py LIBRARY [--n 100000] [--noise 0.05]

``LIBRARY`` is ``faiss-exact``, ``faiss-hnsw`` or ``pynndescent``. Builds the k = 5
nearest-neighbour graph of ``--n`` simulated 140-point vectors
(:func:`bench.label_spreading.simulated_vectors`) and prints the build time (index and
search of every node), the recall@5 against an exact search of 1,000 random nodes, and
the peak RSS. ``faiss-exact`` times the exact search of those 1,000 nodes only and
extrapolates to all. One library per process, so the peak RSS and pynndescent's
just-in-time compilation (timed apart, on 2,000 vectors) are its own.

This is how the library of :mod:`activespec.label_spreading` was chosen (BENCHMARKS.md,
"Label spreading"). Only faiss-cpu is in the lock; for the comparison install pynndescent
somewhere else, e.g. ``uv pip install --target /tmp/ann pynndescent numba llvmlite
--no-deps`` and ``PYTHONPATH=/tmp/ann``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activespec.neighbours import nearest_others  # noqa: E402
from bench.label_spreading import simulated_vectors  # noqa: E402

K = 5
QUERIES = 1_000


def _exact_neighbours(x: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The ``K`` nearest of each query node, itself excluded (faiss brute force)."""
    import faiss

    index = faiss.IndexFlatL2(x.shape[1])
    index.add(x)
    _, found = index.search(x[queries], K + 1)
    return np.array([[j for j in row if j != q][:K] for q, row in zip(queries, found, strict=True)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", choices=["faiss-exact", "faiss-hnsw", "pynndescent"])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--noise", type=float, default=0.05)
    args = parser.parse_args(argv)
    x, _ = simulated_vectors(args.n, noise=args.noise)
    queries = np.random.default_rng(1).choice(args.n, QUERIES, replace=False)
    truth = _exact_neighbours(x, queries)

    if args.library == "faiss-exact":
        started = time.perf_counter()
        _exact_neighbours(x, queries)
        seconds = time.perf_counter() - started
        print(
            f"faiss-exact n={args.n}: {seconds:.1f} s for {QUERIES} queries, "
            f"{seconds * args.n / QUERIES:.0f} s extrapolated to all"
        )
        return 0
    if args.library == "faiss-hnsw":
        started = time.perf_counter()
        # The directed search results (the graph symmetrises them), as pynndescent's are.
        neighbours, _ = nearest_others(x, K, "hnsw")
        seconds = time.perf_counter() - started
        found = [neighbours[q] for q in queries]
        warm_up = 0.0
    else:
        import pynndescent

        started = time.perf_counter()
        pynndescent.NNDescent(x[:2_000], n_neighbors=K + 1, random_state=0)
        warm_up = time.perf_counter() - started
        started = time.perf_counter()
        index = pynndescent.NNDescent(x, n_neighbors=K + 1, random_state=0)
        neighbours, _ = index.neighbor_graph
        seconds = time.perf_counter() - started
        found = [np.array([j for j in neighbours[q] if j != q][:K]) for q in queries]
    recall = np.mean(
        [len(set(f.tolist()) & set(t.tolist())) / K for f, t in zip(found, truth, strict=True)]
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.library} n={args.n} noise={args.noise}: build {seconds:.1f} s "
        f"(+ {warm_up:.1f} s JIT), recall@{K} {recall:.4f}, peak RSS {peak:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
