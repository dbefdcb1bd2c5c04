"""The scale benchmark's fits (growth exponent, projection of a stage's wall time) and its
attribution of memory samples to stages."""

import pytest

from bench.scale import growth_exponent, project, stage_peaks


def test_flat_cost_per_spectrum_has_exponent_one_and_projects_linearly():
    sizes, seconds = (25_000, 100_000, 250_000), (10.0, 40.0, 100.0)
    assert growth_exponent(sizes, seconds) == pytest.approx(1.0)
    assert project(sizes, seconds, 4_000_000) == pytest.approx(1_600.0)


def test_fixed_start_up_shows_as_sublinear_and_quadratic_as_two():
    sizes = (25_000, 100_000, 250_000)
    startup = [30.0 + size / 5_000 for size in sizes]
    assert growth_exponent(sizes, startup) < 0.5
    quadratic = [(size / 25_000) ** 2 for size in sizes]
    assert growth_exponent(sizes, quadratic) == pytest.approx(2.0)


def test_projection_keeps_the_start_up_fixed():
    sizes = (25_000, 100_000)
    seconds = [30.0 + size / 5_000 for size in sizes]  # 30 s start-up, 5,000 spectra/s
    assert project(sizes, seconds, 4_000_000) == pytest.approx(30.0 + 800.0)


def test_missing_or_zero_times_leave_no_fit():
    assert growth_exponent((1_000,), (5.0,)) is None
    assert growth_exponent((1_000, 2_000), (0.0, None)) is None
    assert project((1_000, 2_000), (0.0, 3.0), 10_000) is None


def test_memory_samples_go_to_the_stage_running_when_they_were_taken():
    stages = {
        "PoolIngest": {"started": 100.0, "wall_s": 10.0},
        "Trainer": {"started": 110.5, "wall_s": 5.0},
        "Pusher": {"started": 116.0, "wall_s": 0.01},  # between two samples
        "Old": {"wall_s": 3.0},  # a summary without start times
    }
    timeline = [(99.0, 900.0), (101.0, 1500.0), (109.9, 2100.0), (110.2, 3000.0)]
    timeline += [(111.0, 1200.0), (115.4, 1800.0), (116.5, 700.0)]
    assert stage_peaks(timeline, stages) == {"PoolIngest": 2100.0, "Trainer": 1800.0}
