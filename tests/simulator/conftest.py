"""Fixtures of the simulator tests: one small simulated survey shared by the session."""

from __future__ import annotations

import csv
import pathlib

import pytest

from activespec.simulator import simulate_survey

SMALL_SURVEY = {"n_labelled": 40, "n_pool": 240, "seed": 3, "emission_fraction": 0.1}


@pytest.fixture(scope="session")
def small_survey(tmp_path_factory) -> tuple[pathlib.Path, dict]:
    """A 40 + 240 spectrum survey (10 % rare objects in the pool) and its summary."""
    out = tmp_path_factory.mktemp("simulator") / "survey"
    summary = simulate_survey(out, workers=1, progress=False, **SMALL_SURVEY)
    return out, summary


def read_csv(path: pathlib.Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
