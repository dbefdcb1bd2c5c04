"""The layout of a campaign's work directory and the names of its round files.

The one place that knows where things live under WORKDIR; TensorFlow-free, so that the
labelling tools, the catalogue, the oracle and the tests read it in milliseconds::

    WORKDIR/
      tfx/pipeline_root/            TFX artifacts of every round
      tfx/metadata.sqlite           ML Metadata (what ran, what it produced, the cache)
      serving_model/<ver>/          the pushed TF Serving model (blessed rounds only)
      rounds/round-NNN/             human-readable outputs of each round: summary.json,
                                    query.csv/json, performance_sample.csv/json,
                                    recall_sample.csv/json, recall_strata.json,
                                    candidates.csv, rejected-labelled.csv, rejected-pool.csv
      labels.sqlite                 the label store of the whole campaign
      labels/snapshot-round-NNN.csv the pool labels round NNN trains on
      history.json                  one record per round of ``activespec run``
      tensorboard/                  the same figures as TensorBoard scalars
      catalogue/                    ``activespec candidates``: the merged catalogue, report
      logs/activespec-<time>.log    the libraries' logs (TensorFlow, TFX, Beam) of one
                                    ``activespec round``, ``run`` or ``demo``

A simulated survey keeps the ground truth of its pool in ``SURVEY/truth/pool_truth.csv``
(:func:`survey_truth_path`).

The rows of ``query``, ``performance_sample`` and ``recall_sample`` (``.csv`` and
``.json``) and of ``candidates.csv`` are written by
:mod:`components.uncertainty_sampler.records`; their per-class probability columns are
named by :func:`probability_column`.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re

#: Folder of the round folders, and the name of one round's folder.
ROUNDS_DIRNAME = "rounds"
ROUND_DIRNAME_PATTERN = re.compile(r"^round-(\d+)$")
#: Figures of a finished round; a round folder without one is incomplete.
SUMMARY_FILENAME = "summary.json"
#: Base names of the sampler's selections: ``<name>.csv`` and ``<name>.json`` each.
QUERY_BASENAME = "query"
PERFORMANCE_SAMPLE_BASENAME = "performance_sample"
RECALL_SAMPLE_BASENAME = "recall_sample"
#: The strata of the recall sample (bounds, population, sample size), beside it.
RECALL_STRATA_FILENAME = "recall_strata.json"
#: Every pool spectrum predicted to be of a positive class (``<name>.csv``).
CANDIDATES_BASENAME = "candidates"
CANDIDATES_FILENAME = f"{CANDIDATES_BASENAME}.csv"
#: The NoveltyScorer's files: the most unusual pool spectra (neither labelled, candidates
#: nor confident negatives), the 2-D map of the pool and the map's settings and timing.
NOVEL_FILENAME = "novel.csv"
POOL_MAP_FILENAME = "pool_map.csv"
POOL_MAP_META = "pool_map.json"
#: The spectra ingestion rejected, of the labelled set and of the pool.
REJECTED_LABELLED_FILENAME = "rejected-labelled.csv"
REJECTED_POOL_FILENAME = "rejected-pool.csv"
#: Prefix of the per-class probability columns of the CSV rows (``p_<class>``).
PROBABILITY_PREFIX = "p_"

STORE_FILENAME = "labels.sqlite"
SNAPSHOTS_DIRNAME = "labels"
HISTORY_FILENAME = "history.json"
TENSORBOARD_DIRNAME = "tensorboard"
CATALOGUE_DIRNAME = "catalogue"
REPORT_FILENAME = "report.html"
SERVING_MODEL_DIRNAME = "serving_model"
TFX_DIRNAME = "tfx"
#: The libraries' logs of each command that runs the pipeline (:mod:`activespec.console`).
LOGS_DIRNAME = "logs"

#: Where a simulated survey keeps the true class of every pool spectrum.
TRUTH_RELATIVE_PATH = os.path.join("truth", "pool_truth.csv")


def round_dirname(index: int) -> str:
    """``round-NNN``."""
    return f"round-{index:03d}"


def round_index_of(name: str) -> int | None:
    """The index of a folder named ``round-<digits>``; None for any other name."""
    match = ROUND_DIRNAME_PATTERN.match(name)
    return int(match.group(1)) if match else None


def probability_column(class_name: str) -> str:
    """``p_<class>``: the CSV column of one class's probability."""
    return f"{PROBABILITY_PREFIX}{class_name}"


def survey_truth_path(survey_dir: str | os.PathLike) -> pathlib.Path:
    """``SURVEY/truth/pool_truth.csv`` of a simulated survey."""
    return pathlib.Path(survey_dir) / TRUTH_RELATIVE_PATH


@dataclasses.dataclass(frozen=True)
class WorkDir:
    """Paths of a campaign's work directory (see the module docstring).

    Attributes
    ----------
    root : pathlib.Path
        The work directory (any path-like is turned into a Path).
    """

    root: pathlib.Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", pathlib.Path(self.root))

    @property
    def pipeline_root(self) -> pathlib.Path:
        return self.root / TFX_DIRNAME / "pipeline_root"

    @property
    def metadata_path(self) -> pathlib.Path:
        return self.root / TFX_DIRNAME / "metadata.sqlite"

    @property
    def serving_model_dir(self) -> pathlib.Path:
        return self.root / SERVING_MODEL_DIRNAME

    @property
    def rounds_dir(self) -> pathlib.Path:
        return self.root / ROUNDS_DIRNAME

    @property
    def store_path(self) -> pathlib.Path:
        return self.root / STORE_FILENAME

    @property
    def history_path(self) -> pathlib.Path:
        return self.root / HISTORY_FILENAME

    @property
    def tensorboard_dir(self) -> pathlib.Path:
        return self.root / TENSORBOARD_DIRNAME

    @property
    def catalogue_dir(self) -> pathlib.Path:
        return self.root / CATALOGUE_DIRNAME

    @property
    def report_path(self) -> pathlib.Path:
        """``WORKDIR/catalogue/report.html``."""
        return self.catalogue_dir / REPORT_FILENAME

    @property
    def logs_dir(self) -> pathlib.Path:
        """``WORKDIR/logs``: one log file per pipeline command (:mod:`activespec.console`)."""
        return self.root / LOGS_DIRNAME

    def log_path(self, stamp: str) -> pathlib.Path:
        """``WORKDIR/logs/activespec-<stamp>.log``."""
        return self.logs_dir / f"activespec-{stamp}.log"

    def round_dir(self, index: int) -> pathlib.Path:
        """``WORKDIR/rounds/round-NNN``."""
        return self.rounds_dir / round_dirname(index)

    def summary_path(self, index: int) -> pathlib.Path:
        """``WORKDIR/rounds/round-NNN/summary.json``."""
        return self.round_dir(index) / SUMMARY_FILENAME

    def snapshot_path(self, index: int) -> pathlib.Path:
        """``WORKDIR/labels/snapshot-round-NNN.csv``: the pool labels round NNN trains on."""
        return self.root / SNAPSHOTS_DIRNAME / f"snapshot-{round_dirname(index)}.csv"

    def round_folders(self) -> list[tuple[int, pathlib.Path]]:
        """``(index, folder)`` of every ``rounds/round-<digits>`` folder, by index."""
        if not self.rounds_dir.is_dir():
            return []
        found = []
        for entry in self.rounds_dir.iterdir():
            index = round_index_of(entry.name)
            if index is not None and entry.is_dir():
                found.append((index, entry))
        return sorted(found)

    def completed_rounds(self) -> list[int]:
        """Indices of the rounds that finished (their folder has a ``summary.json``)."""
        return [
            index for index, folder in self.round_folders() if (folder / SUMMARY_FILENAME).is_file()
        ]

    def next_round_index(self) -> int:
        """One past the highest completed round; 0 when none has completed.

        A missing earlier folder (deleted, or a campaign started at a later index) does
        not make a later round's index reused; an unfinished round folder above the
        highest completed one is run again.
        """
        completed = self.completed_rounds()
        return completed[-1] + 1 if completed else 0


def round_dir(workdir: str | os.PathLike, index: int) -> pathlib.Path:
    """``WORKDIR/rounds/round-NNN``."""
    return WorkDir(workdir).round_dir(index)


def store_path(workdir: str | os.PathLike) -> pathlib.Path:
    """``WORKDIR/labels.sqlite``."""
    return WorkDir(workdir).store_path
