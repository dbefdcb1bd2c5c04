"""The common 140-point grid."""

import numpy as np
import pytest

from activespec.errors import ConfigError
from activespec.preprocessing import common_grid, grid_edges


def test_default_grid_is_the_published_one():
    grid = common_grid()
    assert grid.shape == (140,)
    assert grid[0] == 6519.0
    assert grid[-1] == 6732.0
    step = np.diff(grid)
    assert round(float(step.mean()), 3) == 1.532
    np.testing.assert_allclose(step, step[0], rtol=1e-9)


def test_grid_is_a_fresh_copy_each_call():
    grid = common_grid()
    grid[0] = -1.0
    assert common_grid()[0] == 6519.0


@pytest.mark.parametrize(("start", "stop", "n"), [(6732.0, 6519.0, 140), (6519.0, 6732.0, 1)])
def test_invalid_grid_raises_config_error(start, stop, n):
    with pytest.raises(ConfigError):
        common_grid(start, stop, n)


def test_edges_are_midpoints_with_half_steps_outside():
    grid = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(grid_edges(grid), [0.5, 1.5, 3.0, 5.0])
    edges = grid_edges(common_grid())
    assert edges.size == 141
    assert edges[0] == pytest.approx(6519.0 - 0.766, abs=1e-3)
    assert edges[-1] == pytest.approx(6732.0 + 0.766, abs=1e-3)
