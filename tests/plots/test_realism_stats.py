"""Statistics of preprocessed vectors and their per-type comparison."""

from __future__ import annotations

import csv
import dataclasses

import numpy as np
import pytest

from activespec.constants import H_ALPHA_VACUUM
from activespec.errors import ConfigError
from activespec.plots import (
    SpectrumStatistics,
    compare_by_type,
    format_table,
    match_snr,
    measure_spectra,
    simulated_star_files,
    spectral_type_of,
    vector_statistics,
)
from activespec.preprocessing import PreprocessResult, common_grid
from tests.plots.conftest import REAL_A_STAR, REAL_LAMOST


def _result(vector, flux=None, grid=None) -> PreprocessResult:
    grid = common_grid() if grid is None else grid
    vector = np.asarray(vector, dtype=np.float32)
    return PreprocessResult(
        vector=vector,
        grid=grid,
        flux=np.asarray(vector if flux is None else flux, dtype=np.float64),
        bad_fraction=np.zeros(grid.size),
        window_bad_fraction=0.0,
        sigma_pixels=0.0,
        n_repaired=0,
        continuum=None,
    )


def _stats(letter, number, snr, depth, step=0.1, relative=0.3) -> SpectrumStatistics:
    return SpectrumStatistics(
        source=f"{letter}{number}-{snr}",
        subclass=f"{letter}{number}",
        spectral_type=letter,
        subclass_number=float(number),
        snr=snr,
        values={"halpha_depth": depth, "halpha_relative_depth": relative, "mean_abs_step": step},
    )


@pytest.mark.parametrize(
    ("subclass", "expected"),
    [
        ("A4III", ("A", 4.0)),
        ("K3", ("K", 3.0)),
        ("dM2", ("M", 2.0)),
        ("gM0", ("M", 0.0)),
        ("sdK1", ("K", 1.0)),
        ("B9.5V", ("B", 9.5)),
        ("Non", None),
        ("", None),
        (None, None),
        ("WD", None),
    ],
)
def test_spectral_type_of(subclass, expected):
    assert spectral_type_of(subclass) == expected


def test_vector_statistics_by_hand():
    grid = common_grid()
    index = int(np.argmin(np.abs(grid - H_ALPHA_VACUUM)))
    vector = np.full(grid.size, 0.5)
    vector[index] = -1.0
    vector[::2] += 0.1  # alternating steps of 0.1 everywhere
    flux = np.full(grid.size, 200.0)
    flux[index] = 120.0
    stats = vector_statistics(_result(vector, flux))
    assert stats["halpha_depth"] == pytest.approx(vector[index] - np.median(vector), abs=1e-6)
    assert stats["halpha_relative_depth"] == pytest.approx(0.4)
    steps = np.abs(np.diff(vector.astype(np.float32).astype(np.float64)))
    assert stats["mean_abs_step"] == pytest.approx(steps.mean())


def test_vector_statistics_needs_halpha_on_the_grid():
    grid = np.linspace(6000.0, 6200.0, 140)
    with pytest.raises(ConfigError, match="H-alpha"):
        vector_statistics(_result(np.zeros(140), grid=grid))


def test_relative_depth_is_nan_without_positive_median():
    stats = vector_statistics(_result(np.linspace(-1, 1, 140), flux=-np.ones(140)))
    assert np.isnan(stats["halpha_relative_depth"])


def test_measure_spectra_on_real_files_records_rejections():
    zero_flux = REAL_LAMOST / "spec-55862-B6212_sp06-145.fits"  # zero flux across H-alpha
    measured, rejected = measure_spectra([REAL_A_STAR, zero_flux])
    assert [m.subclass for m in measured] == ["A1IV"]
    assert measured[0].spectral_type == "A" and measured[0].subclass_number == 1.0
    # A real A star: H-alpha is the deepest point of its scaled vector.
    assert measured[0].values["halpha_depth"] < -1.5
    assert measured[0].values["halpha_relative_depth"] > 0.3
    assert [(r[0], r[1]) for r in rejected] == [(str(zero_flux), "too-many-bad-pixels")]


def test_simulated_star_files_keeps_only_ordinary_stars(small_pool):
    with open(small_pool / "truth" / "pool_truth.csv", newline="", encoding="utf-8") as handle:
        subtype_of = {row["file"]: row["subtype"] for row in csv.DictReader(handle)}
    files = simulated_star_files(small_pool)
    assert files and all(path.is_file() for path in files)
    assert {subtype_of[path.name] for path in files} == {"B", "A", "FGK", "M"}
    assert len(files) == sum(s in ("B", "A", "FGK", "M") for s in subtype_of.values())
    m_stars = simulated_star_files(small_pool, subtypes=("M",))
    assert m_stars and {subtype_of[path.name] for path in m_stars} == {"M"}


def test_simulated_star_files_rejects_other_folders(tmp_path):
    with pytest.raises(ConfigError, match="not a simulated survey"):
        simulated_star_files(tmp_path)


def test_compare_by_type_restricts_simulated_to_real_subclass_range():
    real = [_stats("M", 0, 20, 0.2), _stats("M", 2, 30, 0.3)]
    simulated = [_stats("M", n, 25, -0.5) for n in (0, 1, 2, 3, 4)] + [_stats("K", 3, 25, -1.5)]
    (m_type,) = compare_by_type(real, simulated, types=("M",))
    assert m_type.subclass_range == (0.0, 2.0)
    assert (m_type.n_real, m_type.n_simulated) == (2, 3)
    assert m_type.real["halpha_depth"].median == pytest.approx(0.25)
    assert m_type.median_difference("halpha_depth") == pytest.approx(-0.75)
    assert not m_type.overlaps("halpha_depth")


def test_overlap_is_mutual_containment_of_medians():
    real = [_stats("A", 1, 40, d) for d in (-1.8, -1.7, -1.6, -1.5, -1.4)]
    close = [_stats("A", 1, 40, d) for d in (-1.75, -1.65, -1.55, -1.45)]
    featureless = [_stats("A", 1, 40, d) for d in (-0.1, 0.0, 0.05, 0.1)]
    assert compare_by_type(real, close, types=("A",))[0].overlaps("halpha_depth")
    assert not compare_by_type(real, featureless, types=("A",))[0].overlaps("halpha_depth")


def test_empty_sample_cannot_be_compared():
    (empty,) = compare_by_type([_stats("A", 1, 40, -1.6)], [], types=("A",))
    assert empty.n_simulated == 0 and empty.simulated["halpha_depth"] is None
    with pytest.raises(ConfigError, match="non-empty"):
        empty.overlaps("halpha_depth")
    with pytest.raises(ConfigError, match="unknown statistic"):
        empty.overlaps("colour")


def test_match_snr_takes_nearest_without_repeats():
    real = [_stats("G", 2, snr, -1.6) for snr in (10.0, 100.0)]
    pool = [_stats("G", 2, snr, -1.6) for snr in (9.0, 11.0, 12.0, 50.0, 90.0, 120.0, 300.0)]
    chosen = match_snr(real, pool, per_real=2)
    assert sorted(s.snr for s in chosen) == [9.0, 11.0, 90.0, 120.0]
    assert len({id(s) for s in chosen}) == len(chosen)
    # More asked for than there is: every simulated spectrum at most once.
    assert len(match_snr(real, pool, per_real=10)) == len(pool)
    with pytest.raises(ConfigError):
        match_snr(real, pool, per_real=0)


def test_snr_matched_comparison_has_the_real_snr_distribution():
    real = [_stats("F", 5, snr, -1.6) for snr in (15.0, 30.0, 60.0)]
    pool = [_stats("F", 5, float(snr), -1.6) for snr in np.geomspace(3, 300, 60)]
    (matched,) = compare_by_type(real, pool, types=("F",), snr_matched=2)
    assert matched.n_simulated == 6
    assert matched.simulated_snr.median == pytest.approx(matched.real_snr.median, rel=0.15)


def test_format_table_one_row_per_type():
    real = [_stats("A", 1, 40, -1.7), _stats("A", 9, 20, -1.3)]
    simulated = [dataclasses.replace(_stats("A", 5, 30, -1.6), source="x")]
    table = format_table(compare_by_type(real, simulated, types=("A", "F")))
    lines = table.strip().splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| A | A1-A9 | 2 | 1 | 30 [22, 38] | 30 [30, 30] | -1.50 [")
    assert lines[3].startswith("| F | - | 0 | 0 | - | - | - |")
