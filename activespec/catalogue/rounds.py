"""Reading the per-round outputs of a campaign: ``WORKDIR/rounds/round-NNN/``.

Each finished round leaves ``summary.json`` (figures of the round) and
``candidates.csv`` (every pool spectrum predicted to be of a positive class, one row
per spectrum in the column order of
:func:`components.uncertainty_sampler.records.csv_columns`). Rows are unordered: the
file is written by parallel workers.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import math
import os
import pathlib

import numpy as np

from activespec.catalogue.errors import CatalogueError
from activespec.workdir import (
    CANDIDATES_FILENAME,
    PROBABILITY_PREFIX,
    SUMMARY_FILENAME,
    WorkDir,
)

#: Columns every candidates.csv must have; the others are optional.
_REQUIRED_COLUMNS = ("spectrum_id", "predicted_class")
_TEXT_COLUMNS = (
    "spectrum_id",
    "designation",
    "survey",
    "source",
    "predicted_class",
    "status",
    "confirmed_label",
)
_NUMBER_COLUMNS = ("ra", "dec", "snr", "entropy", "margin", "least_confidence")


@dataclasses.dataclass(frozen=True)
class RoundFiles:
    """The output folder of one round.

    Attributes
    ----------
    index : int
        Round number, from the folder name ``round-NNN``.
    path : pathlib.Path
        The folder.
    """

    index: int
    path: pathlib.Path

    @property
    def summary_path(self) -> pathlib.Path:
        return self.path / SUMMARY_FILENAME

    @property
    def candidates_path(self) -> pathlib.Path:
        return self.path / CANDIDATES_FILENAME


@dataclasses.dataclass
class CandidateRows:
    """The content of one ``candidates.csv``, column-wise.

    Attributes
    ----------
    text : dict of str to ndarray of str
        ``spectrum_id``, ``designation``, ``survey``, ``source``, ``predicted_class``,
        ``status`` and ``confirmed_label`` (empty strings where the file has no such
        column, e.g. rounds written before confirmed finds were listed).
    numbers : dict of str to ndarray of float64
        ``ra``, ``dec``, ``snr``, ``entropy``, ``margin``, ``least_confidence`` (NaN for
        an empty cell or a missing column).
    probabilities : ndarray of float64, shape (n_rows, n_classes)
        One column per ``p_<class>`` column, in file order.
    class_names : tuple of str
        The classes of the probability columns.
    """

    text: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]
    probabilities: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.text["spectrum_id"].shape[0])


def list_rounds(workdir: str | os.PathLike) -> list[RoundFiles]:
    """The round folders of a work directory, in increasing round order.

    Parameters
    ----------
    workdir : path-like
        The campaign's work directory (the one holding ``rounds/``).

    Returns
    -------
    list of RoundFiles
        Possibly empty; folders whose name is not ``round-<digits>`` are ignored.

    Raises
    ------
    CatalogueError
        If ``workdir`` is not a directory.
    """
    root = pathlib.Path(workdir)
    if not root.is_dir():
        raise CatalogueError(f"work directory {str(root)!r} does not exist")
    return [RoundFiles(index, folder) for index, folder in WorkDir(root).round_folders()]


def read_summary(round_files: RoundFiles) -> dict:
    """The round's ``summary.json`` as a dict; ``{}`` when the round has none.

    Raises
    ------
    CatalogueError
        If the file exists but is not a JSON object.
    """
    path = round_files.summary_path
    if not path.is_file():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CatalogueError(f"{path}: unreadable summary ({_one_line(err)})") from None
    if not isinstance(summary, dict):
        raise CatalogueError(f"{path}: the summary is not a JSON object")
    return summary


def scan_candidates(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Only the ``spectrum_id`` and ``predicted_class`` columns of a ``candidates.csv``.

    A cheap pass over earlier rounds (which may list hundreds of thousands of spectra).

    Returns
    -------
    ids, classes : ndarray of str

    Raises
    ------
    CatalogueError
        If the file is unreadable or lacks one of the two columns.
    """
    with _open_csv(path) as (reader, header):
        id_column = _column_index(header, "spectrum_id", path)
        class_column = _column_index(header, "predicted_class", path)
        width = max(id_column, class_column) + 1
        pairs = [(row[id_column], row[class_column]) for row in reader if len(row) >= width]
    if not pairs:
        return np.array([], dtype=str), np.array([], dtype=str)
    ids, classes = zip(*pairs, strict=True)
    return np.array(ids, dtype=str), np.array(classes, dtype=str)


def read_candidates(path: str | os.PathLike) -> CandidateRows:
    """Parse a ``candidates.csv`` into typed columns.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    CandidateRows

    Raises
    ------
    CatalogueError
        If the file is missing, lacks ``spectrum_id`` / ``predicted_class`` or any
        ``p_<class>`` column, has a row of the wrong length, or a non-numeric value in
        a numeric column.
    """
    with _open_csv(path) as (reader, header):
        for name in _REQUIRED_COLUMNS:
            _column_index(header, name, path)
        prob_columns = [i for i, name in enumerate(header) if name.startswith(PROBABILITY_PREFIX)]
        if not prob_columns:
            raise CatalogueError(f"{path}: no probability columns ({PROBABILITY_PREFIX}<class>)")
        rows = []
        for line_number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise CatalogueError(
                    f"{path}:{line_number}: {len(row)} fields where the header has {len(header)}"
                )
            rows.append(row)
    # Column by column, so that each array is only as wide as its own longest value.
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    position = {name: i for i, name in enumerate(header)}
    empty = np.array([""] * len(rows), dtype=str)
    text = {
        name: np.array(columns[position[name]], dtype=str) if name in position else empty
        for name in _TEXT_COLUMNS
    }
    numbers = {
        name: (
            _to_float(np.array(columns[position[name]], dtype=str), path, name)
            if name in position
            else np.full(len(rows), np.nan)
        )
        for name in _NUMBER_COLUMNS
    }
    probabilities = np.stack(
        [_to_float(np.array(columns[i], dtype=str), path, header[i]) for i in prob_columns],
        axis=1,
    ).reshape(len(rows), len(prob_columns))
    class_names = tuple(header[i][len(PROBABILITY_PREFIX) :] for i in prob_columns)
    return CandidateRows(text, numbers, probabilities, class_names)


@contextlib.contextmanager
def _open_csv(path: str | os.PathLike):
    """Yield a csv reader positioned after the header, and the stripped header."""
    path = pathlib.Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise CatalogueError(f"{path}: empty file, no header")
            yield reader, [name.strip() for name in header]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise CatalogueError(f"{path}: unreadable CSV ({_one_line(err)})") from None


def _column_index(header: list[str], name: str, path) -> int:
    try:
        return header.index(name)
    except ValueError:
        raise CatalogueError(f"{path}: no {name!r} column in the header") from None


def _to_float(cells: np.ndarray, path, name: str) -> np.ndarray:
    """Cells to float64; an empty cell is NaN (how the sampler writes unknown values)."""
    stripped = np.char.strip(cells)
    filled = np.where(stripped == "", "nan", stripped)
    try:
        return filled.astype(np.float64)
    except ValueError:
        bad = next(c for c in filled if not _is_number(c))
        raise CatalogueError(f"{path}: column {name!r} holds a non-number {bad!r}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def finite_or_none(value) -> float | None:
    """A JSON number as float, or None when missing, null or not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None
