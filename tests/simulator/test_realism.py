"""After preprocessing, simulated LAMOST stars look like the real ones of the same type.

Reference: the 47 usable real LAMOST LRS spectra of ``tests/data/real/lamost``
(A1-A9: 9, F0-F9: 13, G0-G8: 9, K1-K7: 11, M0-M2: 4). The simulated sample is every
ordinary star (true subtype B/A/FGK/M) of a 500-spectrum pool, restricted per type
to the real stars' subclass range and then to the 3 simulated stars nearest in S/N
to each real one (:func:`activespec.plots.realism.match_snr`), so that noise is
compared at the real S/N. ``tools/make_readme_figures.py`` prints the full table.

Measured with seeds 11-14 (median Hα depth, simulated minus real): A -0.02..+0.04,
F -0.11..-0.05, G -0.12..-0.07, K -0.37..-0.31, M -0.99..-0.48. Known gaps, which
the tests below record rather than hide:

* M0-M2: the simulated TiO head at 6652 Å is a sharp, deep step, while the real M
  stars decline gradually across the window; the [-1, 1] scaling then puts the
  simulated H-alpha far below the vector's median and the real one above it
  (strict xfail: it fails the day the simulator is fixed, to remove the marker).
* G and K: the simulated H-alpha core is deeper relative to the continuum
  (median relative depth 0.28 vs 0.23 for G, 0.23 vs 0.15 for K), so that overlap is
  not asserted; the scaled depth of K is 0.3-0.4 deeper than real, inside the
  tolerance below but not always inside the real central 80 %.
"""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
import pytest

from activespec.constants import H_ALPHA_VACUUM
from activespec.plots import (
    SpectrumStatistics,
    compare_by_type,
    measure_spectra,
    simulated_star_files,
    vector_statistics,
)
from activespec.preprocessing import preprocess_with_details
from activespec.simulator import simulate_survey
from activespec.simulator.instruments import lamost_wavelengths
from activespec.spectrum import Spectrum, SpectrumMeta

REAL_LAMOST = pathlib.Path(__file__).resolve().parents[1] / "data" / "real" / "lamost"
POOL = {"n_labelled": 0, "n_pool": 500, "seed": 11}
SNR_MATCHED_PER_REAL = 3
#: Largest allowed |simulated - real| median of the scaled H-alpha depth. The 95 %
#: bootstrap interval of the median of 9-13 real spectra is up to ±0.5 wide (G:
#: -1.77..-0.74 around -1.61; K: -1.40..-0.66 around -1.14), so this reference cannot
#: resolve smaller differences. A featureless spectrum has a depth near 0 and an
#: emission line a positive one: 1.1 or more away from every real A-K median.
DEPTH_TOLERANCE = 0.5
TYPES_WITH_HALPHA_ABSORPTION = ("A", "F", "G", "K")
M_STAR_GAP = pytest.mark.xfail(
    strict=True,
    reason="simulated M0-M2 spectra have the wrong shape across the window: TiO 6652 Å head "
    "too sharp, no gradual decline (see module docstring)",
)


@pytest.fixture(scope="module")
def real_stars() -> list[SpectrumStatistics]:
    measured, rejected = measure_spectra(sorted(REAL_LAMOST.glob("spec-*.fits*")))
    # The one LRS file with zero flux across H-alpha cannot be preprocessed.
    assert [pathlib.Path(r[0]).name for r in rejected] == ["spec-55862-B6212_sp06-145.fits"]
    return measured


@pytest.fixture(scope="module")
def simulated_stars(tmp_path_factory) -> list[SpectrumStatistics]:
    out = tmp_path_factory.mktemp("realism") / "survey"
    simulate_survey(out, workers=1, progress=False, **POOL)
    measured, rejected = measure_spectra(simulated_star_files(out))
    assert not rejected, rejected
    return measured


@pytest.fixture(scope="module")
def comparisons(real_stars, simulated_stars) -> dict:
    matched = compare_by_type(real_stars, simulated_stars, snr_matched=SNR_MATCHED_PER_REAL)
    return {c.spectral_type: c for c in matched}


def test_reference_samples_cover_every_type(comparisons):
    real_counts = {t: c.n_real for t, c in comparisons.items()}
    assert real_counts == {"A": 9, "F": 13, "G": 9, "K": 11, "M": 4}
    for comparison in comparisons.values():
        assert comparison.n_simulated == SNR_MATCHED_PER_REAL * comparison.n_real
        # S/N matching worked: the two samples have about the same median S/N.
        ratio = comparison.simulated_snr.median / comparison.real_snr.median
        assert 0.8 < ratio < 1.25


@pytest.mark.parametrize("spectral_type", TYPES_WITH_HALPHA_ABSORPTION)
def test_halpha_depth_median_close_to_real(comparisons, spectral_type):
    comparison = comparisons[spectral_type]
    difference = comparison.median_difference("halpha_depth")
    assert abs(difference) <= DEPTH_TOLERANCE, (
        f"{spectral_type}: simulated median H-alpha depth differs from the real one by "
        f"{difference:+.2f}"
    )


@pytest.mark.parametrize("spectral_type", ["A", "F", "G", pytest.param("M", marks=M_STAR_GAP)])
def test_halpha_depth_distributions_overlap(comparisons, spectral_type):
    assert comparisons[spectral_type].overlaps("halpha_depth")


@pytest.mark.parametrize("spectral_type", ["A", "F", "G", "K", pytest.param("M", marks=M_STAR_GAP)])
def test_noise_proxy_overlaps_at_matched_snr(comparisons, spectral_type):
    assert comparisons[spectral_type].overlaps("mean_abs_step")


@pytest.mark.parametrize("spectral_type", ["A", "F"])
def test_halpha_relative_depth_overlaps(comparisons, spectral_type):
    assert comparisons[spectral_type].overlaps("halpha_relative_depth")


def _a_star_statistics_of(flux: np.ndarray, real_a: SpectrumStatistics) -> SpectrumStatistics:
    wave = lamost_wavelengths()
    spectrum = Spectrum(
        wave=wave,
        flux=flux,
        ivar=np.full(wave.size, 1.0),
        mask=np.zeros(wave.size, dtype=bool),
        medium="vacuum",
        meta=SpectrumMeta(
            object_id="synthetic", survey="test", instrument="LAMOST-LRS", layout="", source=""
        ),
    )
    values = vector_statistics(preprocess_with_details(spectrum))
    return dataclasses.replace(real_a, source="synthetic", values=values)


def test_criteria_reject_featureless_and_emission_a_stars(real_stars):
    """The comparison can fail: A stars without absorption, or in emission, do not pass."""
    rng = np.random.default_rng(0)
    wave = lamost_wavelengths()
    real_a = [s for s in real_stars if s.spectral_type == "A"]
    continuum = 1000.0 * (wave / 6500.0) ** -2
    featureless = continuum * (1.0 + rng.normal(0.0, 1.0 / 40.0, (len(real_a), wave.size)))
    line = np.exp(-0.5 * ((wave - H_ALPHA_VACUUM) / 2.5) ** 2)
    emission = featureless + 0.8 * continuum * line
    for flux in (featureless, emission):
        fake = [_a_star_statistics_of(f, s) for f, s in zip(flux, real_a, strict=True)]
        (comparison,) = compare_by_type(real_stars, fake, types=("A",))
        assert not comparison.overlaps("halpha_depth")
        assert abs(comparison.median_difference("halpha_depth")) > 1.0
