"""The rounds of a work directory as the labelling tools see them.

A round folder ``WORKDIR/rounds/round-NNN/`` holds the sampler's ``query.json``,
``performance_sample.json`` and ``recall_sample.json`` (lists of rows, see
:func:`components.uncertainty_sampler.records.json_record`) and the round's
``summary.json``. The label store of the whole campaign is ``WORKDIR/labels.sqlite``.
The layout and file names are :mod:`activespec.workdir`'s.
"""

from __future__ import annotations

import json
import os
import pathlib

from activespec.constants import DEFAULT_CLASSES
from activespec.labels.errors import RoundFilesError
from activespec.labels.records import SAMPLED_ROLES, SELECTION_NAMES
from activespec.labels.store import LabelStore
from activespec.workdir import SUMMARY_FILENAME, WorkDir, round_dir, store_path

#: Sampler outputs shown for labelling, with the role of their rows.
SELECTION_FILES: tuple[tuple[str, str], ...] = tuple(
    (f"{SELECTION_NAMES[role]}.json", role) for role in SAMPLED_ROLES
)


def list_rounds(workdir: str | os.PathLike) -> list[int]:
    """Indices of the round folders that have a query or a performance sample, ascending."""
    return [
        index
        for index, folder in WorkDir(workdir).round_folders()
        if any((folder / name).is_file() for name, _ in SELECTION_FILES)
    ]


def latest_round(workdir: str | os.PathLike) -> int:
    """The highest round index with a query or performance sample.

    Raises
    ------
    RoundFilesError
        If the work directory has no such round.
    """
    rounds = list_rounds(workdir)
    if not rounds:
        raise RoundFilesError(
            f"{workdir}: no round to label (no rounds/round-NNN/query.json or "
            "performance_sample.json); run a round first"
        )
    return rounds[-1]


def read_round_rows(workdir: str | os.PathLike, round_index: int) -> list[dict]:
    """The rows of a round's query, performance sample and recall sample, in that order,
    each by rank.

    Each row gets its ``role`` from the file it is in.

    Raises
    ------
    RoundFilesError
        If the round has neither file, or a file is not a JSON list of rows with a
        ``spectrum_id``.
    """
    folder = round_dir(workdir, round_index)
    present = [(folder / name, role) for name, role in SELECTION_FILES if (folder / name).is_file()]
    if not present:
        raise RoundFilesError(
            f"round {round_index}: {folder} has no query.json or performance_sample.json"
        )
    rows: list[dict] = []
    for path, role in present:
        payload = _read_json(path)
        if not isinstance(payload, list):
            raise RoundFilesError(f"{path}: expected a JSON list of rows")
        for position, row in enumerate(payload, start=1):
            if not isinstance(row, dict):
                raise RoundFilesError(f"{path}: row {position} is not a JSON object")
            spectrum_id = row.get("spectrum_id")
            if not isinstance(spectrum_id, str) or not spectrum_id.strip():
                raise RoundFilesError(f"{path}: row {position} has no spectrum_id")
            if row.get("role", role) != role:
                raise RoundFilesError(
                    f"{path}: row {position} ({spectrum_id}) has role {row.get('role')!r}, "
                    f"expected {role!r}"
                )
            rows.append({**row, "role": role})
    return rows


def round_class_names(workdir: str | os.PathLike, round_index: int) -> tuple[str, ...]:
    """The class names of a round.

    Taken from ``summary.json`` (key ``class_names``) when present, else from the order of
    the probabilities in the query / performance-sample rows, else
    :data:`activespec.constants.DEFAULT_CLASSES`.

    Raises
    ------
    RoundFilesError
        If ``summary.json`` is malformed or its class names disagree with the rows'
        probabilities.
    """
    folder = round_dir(workdir, round_index)
    from_summary = None
    summary_path = folder / SUMMARY_FILENAME
    if summary_path.is_file():
        summary = _read_json(summary_path)
        names = summary.get("class_names") if isinstance(summary, dict) else None
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise RoundFilesError(f"{summary_path}: class_names must be a list of names")
            from_summary = tuple(names)
    from_rows = None
    try:
        rows = read_round_rows(workdir, round_index)
    except RoundFilesError:
        rows = []
    for row in rows:
        probabilities = row.get("probabilities")
        if isinstance(probabilities, dict) and probabilities:
            from_rows = tuple(probabilities)
            break
    if from_summary is not None and from_rows is not None and set(from_rows) != set(from_summary):
        raise RoundFilesError(
            f"round {round_index}: summary.json names the classes {', '.join(from_summary)} "
            f"but the sampled rows have probabilities of {', '.join(from_rows)}"
        )
    return from_summary or from_rows or tuple(DEFAULT_CLASSES)


def workdir_class_names(workdir: str | os.PathLike) -> tuple[str, ...]:
    """The class names of the latest round, or the defaults when there is no round yet."""
    rounds = list_rounds(workdir)
    return round_class_names(workdir, rounds[-1]) if rounds else tuple(DEFAULT_CLASSES)


def open_workdir_store(
    workdir: str | os.PathLike, *, register: bool = True
) -> tuple[LabelStore, list[int]]:
    """Open ``WORKDIR/labels.sqlite`` and register every round's rows in it.

    Parameters
    ----------
    workdir : path-like
    register : bool, optional
        Register the query and sample rows of every round folder
        (idempotent), so that their spectra can be labelled and imported.

    Returns
    -------
    (LabelStore, list of int)
        The open store and the rounds found on disk.

    Raises
    ------
    RoundFilesError
        If the work directory does not exist or a round's files are malformed.
    StoreMismatchError
        If the store was made for other class names.
    """
    root = pathlib.Path(workdir)
    if not root.is_dir():
        raise RoundFilesError(f"work directory {root} does not exist")
    rounds = list_rounds(root)
    store = LabelStore(store_path(root), workdir_class_names(root))
    if register:
        try:
            for index in rounds:
                names = round_class_names(root, index)
                if names != store.class_names:
                    raise RoundFilesError(
                        f"round {index} has the classes {', '.join(names)} but the latest "
                        f"round has {', '.join(store.class_names)}; one label store holds "
                        "one set of classes"
                    )
                store.register_round(index, read_round_rows(root, index))
        except BaseException:
            store.close()
            raise
    return store, rounds


def _read_json(path: pathlib.Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RoundFilesError(f"cannot read {path}: {err.strerror or err}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RoundFilesError(f"{path}: not valid JSON ({err})") from None
