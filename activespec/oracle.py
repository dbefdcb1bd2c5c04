"""The simulated oracle: answers label queries from a simulated survey's ground truth.

This module and the measurements of simulated runs are the only readers of
``truth/pool_truth.csv``; training never sees it. A human oracle uses the labelling page
(``activespec label serve``) instead.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable

from activespec.errors import ConfigError
from activespec.workdir import survey_truth_path


class SimulatedOracle:
    """Labels pool spectra with their true class.

    Parameters
    ----------
    truth_path : path-like
        The simulator's ``truth/pool_truth.csv`` (columns ``spectrum_id``, ``label``,
        optionally ``subtype``, ...).
    class_names : sequence of str
        Configured classes; a truth label outside them is an error.

    Raises
    ------
    activespec.errors.ConfigError
        If the file is missing, lacks the columns, or holds an unknown class.
    """

    labeller = "simulated-oracle"

    def __init__(self, truth_path, class_names: Iterable[str]):
        self.class_names = tuple(class_names)
        try:
            with open(truth_path, newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                if not {"spectrum_id", "label"} <= set(reader.fieldnames or ()):
                    raise ConfigError(f"{truth_path}: needs the columns spectrum_id and label")
                rows = list(reader)
        except FileNotFoundError:
            raise ConfigError(
                f"no ground truth at {truth_path}: the simulated oracle needs a survey written "
                "by `activespec simulate`"
            ) from None
        self._truth = {row["spectrum_id"]: row["label"] for row in rows}
        # A truth table without subtypes makes each class its own subtype.
        self._subtype = {row["spectrum_id"]: row.get("subtype") or row["label"] for row in rows}
        unknown = set(self._truth.values()) - set(self.class_names)
        if unknown:
            raise ConfigError(f"{truth_path}: classes {sorted(unknown)} are not configured")

    @classmethod
    def of_survey(cls, survey_dir: str | os.PathLike, class_names: Iterable[str]):
        """The oracle of a simulated survey, from its ``truth/pool_truth.csv``."""
        return cls(survey_truth_path(survey_dir), class_names)

    def __len__(self) -> int:
        return len(self._truth)

    def answer(self, spectrum_id: str) -> str:
        """The true class of one pool spectrum (KeyError-free: unknown ids raise ConfigError)."""
        try:
            return self._truth[spectrum_id]
        except KeyError:
            raise ConfigError(f"spectrum {spectrum_id!r} is not in the simulated pool") from None

    def positives(self, positive_classes: Iterable[str]) -> set[str]:
        """Identifiers of all pool spectra whose true class is positive."""
        wanted = set(positive_classes)
        return {sid for sid, label in self._truth.items() if label in wanted}

    def positives_by_subtype(self, positive_classes: Iterable[str]) -> dict[str, set[str]]:
        """Identifiers of the positive pool spectra, per simulated subtype, sorted by name."""
        grouped: dict[str, set[str]] = {}
        for sid in self.positives(positive_classes):
            grouped.setdefault(self._subtype[sid], set()).add(sid)
        return dict(sorted(grouped.items()))
