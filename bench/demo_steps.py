"""The steps of ``make demo`` that issue 9's changes made faster, each against its old way.

Subject and baseline, side by side, on the files and artifacts of one finished demo
(``--demo DIR``; without one, ``activespec demo`` makes it first under the workdir,
``--quick``: a small survey and one round):

Pool map
    openTSNE on the latest round's CNN embedding (PCA to 50 dimensions), with FFT grid
    cells of :data:`activespec.novelty.MAP_GRID_CELL` map units against openTSNE's default
    of 1, and with t-SNE's neighbours found exactly by faiss against openTSNE's own
    (Annoy) search: wall time, and the share of each spectrum's 10 nearest neighbours of
    the 50-D space that stay among its 10 nearest on the map.
First epoch
    The CNN's first and second epoch on 2,362 random 140-point spectra (the demo's round-0
    training set size) in a fresh process, with tf-keras on AutoGraph's do-not-convert
    list (:mod:`models.autograph`) against without it.
Ingestion
    The SpectraIngest executor on the demo's labelled files and on its pool files,
    in-process against the multi-processing DirectRunner with 2 workers.
Statistics
    The latest round's training-set statistics (LabelJoin's splits) and the pool's, by
    TFX's StatisticsGen executor (a Beam pipeline) against the project's, which computes
    them in memory (:mod:`components.statistics_gen.executor`).
Scoring
    The PoolScorer executor on the demo's pool examples with its latest model, in-process
    against 2 worker processes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import json
import multiprocessing
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.harness import (
    REPO_ROOT,
    BenchOptions,
    Report,
    Stopwatch,
    add_common_arguments,
    child_environment,
    options_from_args,
    prepare_environment,
)

NAME = "demo_steps"
QUICK_DEMO = ["--labelled", "300", "--pool", "1500", "--rounds", "1", "--max-epochs", "2"]
#: The demo's round-0 training set (3,000 labelled spectra less the eval split and rejects).
EPOCH_SPECTRA = 2_362
NEIGHBOURS = 10
#: (label, DirectRunner mode, workers): the old way of the heavy steps, then the new.
RUNNING_MODES = (("two_workers", "multi_processing", 2), ("in_process", "in_memory", 1))


def ensure_demo(options: BenchOptions, demo: Path | None) -> Path:
    """``demo`` when it holds a finished demo, else a demo made under the workdir."""
    from activespec.workdir import WorkDir

    demo = demo or options.scratch("demo-quick" if options.quick else "demo") / "workdir"
    if WorkDir(demo).next_round_index() == 0:
        command = [sys.executable, "-m", "activespec", "demo", "--workdir", str(demo)]
        subprocess.run(
            command + (QUICK_DEMO if options.quick else []),
            env=child_environment(),
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return demo


def _latest(pipeline_root: Path, node: str, key: str, accept=lambda uri: True) -> str:
    """The URI of ``node``'s newest ``key`` artifact (highest execution id) ``accept`` takes."""
    runs = [Path(uri) for uri in glob.glob(str(pipeline_root / node / key / "*"))]
    for run in sorted((r for r in runs if r.name.isdigit()), key=lambda r: -int(r.name)):
        if accept(str(run)):
            return str(run)
    raise FileNotFoundError(f"no {node}/{key} artifact under {pipeline_root}")


def latest_embedding(pipeline_root: Path) -> np.ndarray:
    """The CNN embedding the newest PoolScorer run wrote (the run's last round has one)."""
    from components.novelty_scorer.executor import _embedding_matrix, _read_scores

    def matrices(uri):
        return [m for batch in _read_scores(uri) if (m := _embedding_matrix(batch)) is not None]

    uri = _latest(pipeline_root, "PoolScorer", "scores", lambda uri: bool(matrices(uri)))
    return np.concatenate(matrices(uri))


def neighbours_kept(high: np.ndarray, low: np.ndarray, k: int = NEIGHBOURS) -> float:
    """Mean share of each point's ``k`` nearest neighbours in ``high`` that are among its
    ``k`` nearest in ``low``."""
    from sklearn.neighbors import NearestNeighbors

    def knn(x):
        return NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x, return_distance=False)

    a, b = knn(high)[:, 1:], knn(low)[:, 1:]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)]))


#: (label, openTSNE grid cell, neighbour search): the old ways of the map, then the new.
MAP_VARIANTS = (
    ("default", 1.0, "faiss"),
    ("opentsne_neighbours", None, "opentsne"),
    ("project", None, "faiss"),
)


def measure_map(report: Report, embedding: np.ndarray) -> None:
    from activespec import novelty as nv

    mean, axes = nv.pca_basis(embedding.astype(np.float64), nv.MAP_PCA_DIMS)
    reduced = (embedding - mean) @ axes.T
    seconds = {}
    for label, cell, search in MAP_VARIANTS:
        cell = cell or nv.MAP_GRID_CELL
        projection = nv.project_2d(embedding, grid_cell=cell, neighbour_search=search)
        seconds[label] = projection.seconds
        report.figure(
            f"map_{label}_s",
            round(projection.seconds, 1),
            f"map, grid cell {cell:g}, {search} neighbours",
            "s",
        )
        kept = neighbours_kept(reduced, projection.coordinates)
        report.figure(
            f"map_{label}_neighbours_kept_pct",
            round(100 * kept, 2),
            f"  {NEIGHBOURS}-NN kept",
            "%",
        )
    report.ratio(
        "map_speed_up", seconds["default"], seconds["project"], "map: cell 1 / project's cell"
    )
    report.ratio(
        "map_neighbour_search_speed_up",
        seconds["opentsne_neighbours"],
        seconds["project"],
        "map: openTSNE's neighbour search / faiss",
    )


def _epoch_times(skip_keras: bool) -> list[float]:
    """Wall time of the CNN's first two epochs in this (fresh) process."""
    import tf_keras
    from tensorflow.python.autograph.core import config as autograph_config

    from models import cnn
    from models.autograph import KERAS_PACKAGE

    if not skip_keras:  # importing models.cnn put tf_keras on the list: take it off
        autograph_config.CONVERSION_RULES = tuple(
            rule
            for rule in autograph_config.CONVERSION_RULES
            if not (isinstance(rule, autograph_config.DoNotConvert) and rule.matches(KERAS_PACKAGE))
        )
    rng = np.random.default_rng(0)
    flux = rng.normal(size=(EPOCH_SPECTRA, 140)).astype(np.float32)
    labels = rng.integers(0, 3, EPOCH_SPECTRA)
    times: list[float] = []

    class Clock(tf_keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.started)

    model = cnn.build_cnn(n_points=140)
    model.fit({"flux": flux}, labels, batch_size=64, epochs=2, verbose=0, callbacks=[Clock()])
    return times


def measure_first_epoch(report: Report) -> None:
    context = multiprocessing.get_context("spawn")
    first = {}
    for label, skip in (("autograph_keras", False), ("project", True)):
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            epochs = pool.submit(_epoch_times, skip).result()
        first[label] = epochs[0]
        report.figure(f"first_epoch_{label}_s", round(epochs[0], 2), f"first epoch, {label}", "s")
        report.figure(f"second_epoch_{label}_s", round(epochs[1], 2), f"second epoch, {label}", "s")
    report.ratio(
        "first_epoch_speed_up",
        first["autograph_keras"],
        first["project"],
        "first epoch: before / now",
    )


def measure_ingestion(report: Report, demo: Path, scratch: Path) -> None:
    from bench.ingestion import run_ingest_executor
    from pipeline.beam_runners import direct_args
    from pipeline.configs import load_config

    config = load_config(demo / "activespec.toml")
    for name, patterns in (("labelled", config.labelled_patterns), ("pool", config.pool_patterns)):
        paths = sorted({p for pattern in patterns for p in glob.glob(pattern)})
        seconds = {}
        for label, mode, workers in RUNNING_MODES:
            out = scratch / f"ingest-{name}-{label}"
            shutil.rmtree(out, ignore_errors=True)
            args = ["--runner=DirectRunner", *direct_args(mode, workers)]
            n, seconds[label] = run_ingest_executor(paths, out, args)
            shutil.rmtree(out, ignore_errors=True)
            report.figure(
                f"ingest_{name}_{label}_s",
                round(seconds[label], 1),
                f"ingest {name} ({n}), {label}",
                "s",
            )
        report.ratio(
            f"ingest_{name}_speed_up", seconds["two_workers"], seconds["in_process"],
            f"ingest {name}: 2 processes / in-process",
        )  # fmt: skip


def measure_statistics(report: Report, demo: Path, scratch: Path) -> None:
    """The latest round's training-set statistics (LabelJoin's three splits) and the pool's,
    by TFX's StatisticsGen executor (a Beam pipeline) and by the project's (in memory)."""
    from tfx.components.statistics_gen import executor as tfx_executor
    from tfx.types import artifact_utils, standard_artifacts

    from activespec.settings import DEFAULT_LABELLED_SPLITS
    from activespec.workdir import WorkDir
    from components.spectra_ingest.params import DEFAULT_POOL_SPLITS
    from components.statistics_gen import executor as project_executor

    root = WorkDir(demo).pipeline_root
    for name, node, splits in (
        ("labelled", "LabelJoin", list(DEFAULT_LABELLED_SPLITS)),
        ("pool", "PoolIngest", list(DEFAULT_POOL_SPLITS)),
    ):
        examples = standard_artifacts.Examples()
        examples.uri = _latest(root, node, "examples")
        examples.split_names = artifact_utils.encode_split_names(splits)
        seconds = {}
        for label, executor in (("beam", tfx_executor), ("in_memory", project_executor)):
            out = scratch / f"statistics-{name}-{label}"
            shutil.rmtree(out, ignore_errors=True)
            statistics = standard_artifacts.ExampleStatistics()
            statistics.uri = str(out)
            with Stopwatch() as clock:
                executor.Executor().Do({"examples": [examples]}, {"statistics": [statistics]}, {})
            shutil.rmtree(out, ignore_errors=True)
            seconds[label] = clock.seconds
            report.figure(
                f"statistics_{name}_{label}_s",
                round(clock.seconds, 2),
                f"statistics of the {name} examples, {label}",
                "s",
            )
        report.ratio(
            f"statistics_{name}_speed_up",
            seconds["beam"],
            seconds["in_memory"],
            f"statistics {name}: Beam / in memory",
        )


def measure_scoring(report: Report, demo: Path, scratch: Path) -> None:
    from tfx.types import standard_artifacts

    from activespec.workdir import WorkDir
    from bench.scoring import run_scorer

    root = WorkDir(demo).pipeline_root
    examples = standard_artifacts.Examples()
    examples.uri = _latest(root, "PoolIngest", "examples")
    examples.split_names = json.dumps(["pool"])
    model = standard_artifacts.Model()
    model.uri = _latest(root, "Trainer", "model")
    seconds = {}
    for label, mode, workers in RUNNING_MODES:
        out = scratch / f"score-{label}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        with Stopwatch() as clock:
            n = run_scorer(examples, model, out / "scores", mode, workers)
        shutil.rmtree(out, ignore_errors=True)
        seconds[label] = clock.seconds
        report.figure(
            f"score_{label}_s", round(clock.seconds, 1), f"score the pool ({n}), {label}", "s"
        )
    report.ratio(
        "score_speed_up",
        seconds["two_workers"],
        seconds["in_process"],
        "score: 2 processes / in-process",
    )


def run(options: BenchOptions, demo: Path | None = None) -> dict:
    from activespec.workdir import WorkDir

    demo = ensure_demo(options, demo)
    report = Report(NAME, options, {"demo": str(demo)})
    scratch = options.scratch(NAME)
    measure_map(report, latest_embedding(WorkDir(demo).pipeline_root))
    measure_first_epoch(report)
    measure_ingestion(report, demo, scratch)
    measure_statistics(report, demo, scratch)
    measure_scoring(report, demo, scratch)
    return report.save()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bench.{NAME}", description=__doc__)
    add_common_arguments(parser)
    parser.add_argument("--demo", type=Path, help="a finished `activespec demo` work directory")
    args = parser.parse_args(argv)
    prepare_environment()
    run(options_from_args(args), args.demo.resolve() if args.demo else None)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    sys.exit(main())
