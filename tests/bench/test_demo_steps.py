"""The helpers of ``python -m bench.demo_steps`` (the benchmark itself is not run here)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.demo_steps import _latest, neighbours_kept


def test_neighbours_kept_is_one_for_a_faithful_map_and_near_chance_for_a_random_one():
    rng = np.random.default_rng(0)
    high = rng.normal(size=(400, 20))
    assert neighbours_kept(high, high * 3.0) == 1.0
    shuffled = rng.normal(size=(400, 2))
    assert neighbours_kept(high, shuffled) < 0.1


def test_latest_takes_the_highest_execution_id_the_filter_accepts(tmp_path):
    for execution in ("9", "12", "100", "notes"):
        (tmp_path / "PoolScorer" / "scores" / execution).mkdir(parents=True)
    assert _latest(tmp_path, "PoolScorer", "scores").endswith("/100")
    assert _latest(tmp_path, "PoolScorer", "scores", lambda uri: not uri.endswith("100")).endswith(
        "/12"
    )
    with pytest.raises(FileNotFoundError, match="Trainer/model"):
        _latest(tmp_path, "Trainer", "model")
