"""Physics of the simulated spectra, measured on what the instruments record."""

import dataclasses

import numpy as np
import pytest

from activespec.constants import H_ALPHA_AIR, H_ALPHA_VACUUM, HE_I_6678_AIR
from activespec.preprocessing.wavelength import vacuum_to_air
from activespec.simulator import instruments, population
from activespec.simulator.sources import SUBTYPE_CLASS
from activespec.simulator.survey import plan_survey, pool_snr

ONDREJOV_PIXEL = instruments.ONDREJOV_STEP


def _draw(subtype, seed, **changes):
    source = population.draw_source(subtype, np.random.default_rng(seed))
    return dataclasses.replace(source, **changes) if changes else source


def _ondrejov(source, seed=0, snr=300.0, water=None):
    return instruments.observe_ondrejov(
        source, snr, np.random.default_rng(seed), normalised=True, water=water
    )


def _lamost(source, seed=0, snr=100.0, water=None):
    return instruments.observe_lamost(source, snr, np.random.default_rng(seed), water=water)


def _normalised(obs):
    return obs.model / obs.continuum


def _equivalent_width(obs, centre, half_width):
    near = np.abs(obs.wave - centre) < half_width
    return float(np.trapz(1.0 - _normalised(obs)[near], obs.wave[near]))


def _line_excess(source, observe, seed=0):
    """Noise-free flux of the circumstellar/nebular lines alone, in continuum units."""
    with_lines = observe(source, seed)
    without = observe(dataclasses.replace(source, circumstellar=[], disks=[]), seed)
    return with_lines.wave, (with_lines.model - without.model) / with_lines.continuum


def _centroid(wave, excess, centre, half_width):
    near = np.abs(wave - centre) < half_width
    return float(np.sum(wave[near] * excess[near]) / np.sum(excess[near]))


def _peak(wave, y, side):
    """Sub-pixel position of the maximum of ``y`` where ``side`` is True."""
    i = int(np.argmax(np.where(side, y, -np.inf)))
    y0, y1, y2 = y[i - 1], y[i], y[i + 1]
    return wave[i] + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) * (wave[i + 1] - wave[i])


@pytest.mark.parametrize("seed", range(6))
def test_a_star_has_deep_halpha_absorption_with_ew_8_to_15(seed):
    source = _draw("A", seed, redshift=0.0)
    drawn = source.params["halpha_abs_ew"]
    assert 8.0 <= drawn <= 15.0
    ondrejov = _ondrejov(source, seed, water=0.0)  # no telluric water lines in the EW
    ew = _equivalent_width(ondrejov, H_ALPHA_AIR, 100.0)
    # Lorentzian wings beyond +-100 Å hold a few per cent of the line.
    assert 7.5 < ew <= 15.0
    assert 0.85 * drawn < ew < 1.03 * drawn
    assert _normalised(ondrejov)[np.abs(ondrejov.wave - H_ALPHA_AIR) < 1].min() < 0.65
    lamost = _lamost(source, seed, water=0.0)
    assert _equivalent_width(lamost, H_ALPHA_VACUUM, 100.0) == pytest.approx(ew, rel=0.03)


@pytest.mark.parametrize("seed", range(3))
def test_halpha_sits_at_vacuum_position_in_lamost_and_air_position_in_ondrejov(seed):
    source = _draw("dme", seed, redshift=0.0)
    wave, excess = _line_excess(source, _lamost, seed)
    assert _centroid(wave, excess, H_ALPHA_VACUUM, 6.0) == pytest.approx(H_ALPHA_VACUUM, abs=0.1)
    wave, excess = _line_excess(source, _ondrejov, seed)
    assert _centroid(wave, excess, H_ALPHA_AIR, 3.0) == pytest.approx(H_ALPHA_AIR, abs=0.02)


@pytest.mark.parametrize("seed", range(6))
def test_be_double_peak_separation_at_ondrejov_resolution(seed):
    source = _draw("be-double", seed, redshift=0.0)
    separation = source.params["peak_separation"]
    assert 4.0 <= separation <= 14.0
    # Without telluric water lines, which can nick a flat-topped peak.
    obs = _ondrejov(source, seed, water=0.0)
    y = _normalised(obs)
    near = np.abs(obs.wave - H_ALPHA_AIR) < separation / 2 + 3.0
    blue = _peak(obs.wave, y, near & (obs.wave < H_ALPHA_AIR))
    red = _peak(obs.wave, y, near & (obs.wave > H_ALPHA_AIR))
    assert red - blue == pytest.approx(separation, abs=2 * ONDREJOV_PIXEL)
    between = (obs.wave > blue) & (obs.wave < red)
    assert y[between].min() < min(np.interp([blue, red], obs.wave, y))


@pytest.mark.parametrize("seed", range(4))
def test_shell_star_has_deep_absorption_between_its_peaks(seed):
    source = _draw("be-shell", seed, redshift=0.0)
    obs = _ondrejov(source, seed)
    y = _normalised(obs)
    half = source.params["peak_separation"] / 2
    blue = y[(obs.wave > H_ALPHA_AIR - half - 2) & (obs.wave < H_ALPHA_AIR)].max()
    red = y[(obs.wave > H_ALPHA_AIR) & (obs.wave < H_ALPHA_AIR + half + 2)].max()
    centre = y[np.abs(obs.wave - H_ALPHA_AIR) < 0.5].min()
    assert centre < min(blue, red) - 0.3
    assert SUBTYPE_CLASS["be-shell"] == "double-peak"


@pytest.mark.parametrize("seed", range(4))
def test_nebular_lines_at_their_wavelengths_with_the_nii_ratio(seed):
    source = _draw("nebular", seed)
    shift = source.params["nebular_doppler"] * (1.0 + source.redshift)
    rest = {
        "Ha": 6564.614,
        "NII_a": 6549.859,
        "NII_b": 6585.269,
        "SII_a": 6718.294,
        "SII_b": 6732.678,
    }
    wave, excess = _line_excess(source, _ondrejov, seed)
    for name, vacuum in rest.items():
        expected = float(vacuum_to_air(vacuum * shift))
        assert _centroid(wave, excess, expected, 1.5) == pytest.approx(expected, abs=0.03), name
    wave, excess = _line_excess(source, _lamost, seed)
    for name, vacuum in rest.items():
        expected = vacuum * shift
        assert _centroid(wave, excess, expected, 5.0) == pytest.approx(expected, abs=0.15), name
    flux = {k: np.sum(excess[np.abs(wave - v * shift) < 5.0]) for k, v in rest.items()}
    assert flux["NII_b"] / flux["NII_a"] == pytest.approx(2.95, rel=0.06)


@pytest.mark.parametrize("head_vacuum", [6160.0, 6652.0])
def test_m_star_shows_tio_band_heads(head_vacuum):
    source = population.draw_m(np.random.default_rng(2), teff=3200.0)
    obs = _lamost(source)
    y = _normalised(obs)
    head = head_vacuum * (1.0 + source.redshift)
    before = y[(obs.wave > head - 10) & (obs.wave < head - 4)].mean()
    after = y[(obs.wave > head + 4) & (obs.wave < head + 10)].mean()
    assert after < 0.85 * before


def test_b_star_has_he_i_6678():
    for seed in range(50):
        source = _draw("B", seed, redshift=0.0)
        if 17000 < source.params["teff"] < 23000:
            break
    obs = _ondrejov(source)
    y = _normalised(obs)
    near = np.abs(obs.wave - HE_I_6678_AIR) < 1.5
    assert y[near].min() < 0.97
    continuum = y[(obs.wave > HE_I_6678_AIR + 15) & (obs.wave < HE_I_6678_AIR + 25)].mean()
    assert continuum == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("subtype", ["galaxy", "qso", "galaxy-halpha", "qso-halpha"])
def test_extragalactic_lines_fall_on_halpha_only_for_the_emission_subtypes(subtype):
    rng = np.random.default_rng(7)
    for _ in range(40):
        source = population.draw_source(subtype, rng)
        observed = [
            line.center * (1.0 + source.redshift) for line in source.circumstellar if line.ew < -1.0
        ]
        distance = min((abs(w - H_ALPHA_VACUUM) for w in observed), default=np.inf)
        if subtype.endswith("-halpha"):
            assert distance < 10.0 and SUBTYPE_CLASS[subtype] == "emission"
        else:
            assert distance > 15.0 and SUBTYPE_CLASS[subtype] == "other"


def test_every_subtype_draws_an_object_of_its_own_kind():
    assert set(population.DRAWERS) == set(SUBTYPE_CLASS)
    rng = np.random.default_rng(0)
    for subtype, label in SUBTYPE_CLASS.items():
        source = population.draw_source(subtype, rng)
        assert source.subtype == subtype and source.label == label
    assert SUBTYPE_CLASS["dme"] == "emission" and SUBTYPE_CLASS["be-weak"] == "emission"
    assert SUBTYPE_CLASS["nebular"] == "emission" and SUBTYPE_CLASS["be-double"] == "double-peak"


def _chi(obs):
    """Residuals over the reported sigma, 5000-8000 Å, unmasked pixels."""
    good = (obs.ivar > 0) & (obs.andmask == 0) & (obs.wave > 5000) & (obs.wave < 8000)
    return ((obs.flux - obs.model) * np.sqrt(obs.ivar))[good]


def _robust_sigma(x):
    return 1.4826 * float(np.median(np.abs(x - np.median(x))))


@pytest.mark.parametrize("snr", [10.0, 40.0, 150.0])
def test_lamost_header_snr_is_the_requested_one(snr):
    assert _lamost(_draw("FGK", 4), seed=5, snr=snr).snr == pytest.approx(snr, rel=0.1)


# At higher S/N, sky-subtraction residuals rather than pixel noise dominate the residuals.
@pytest.mark.parametrize("snr", [10.0, 40.0])
def test_lamost_pixel_noise_correlates_like_real_files(snr):
    chi = _chi(_lamost(_draw("FGK", 4), seed=5, snr=snr))
    # Co-adding resampled exposures correlates neighbouring pixels (lag k: 0.4**k).
    lag1 = np.corrcoef(chi[1:], chi[:-1])[0, 1]
    lag3 = np.corrcoef(chi[3:], chi[:-3])[0, 1]
    assert lag1 == pytest.approx(instruments.LAMOST_NOISE_CORRELATION, abs=0.07)
    assert abs(lag3) < 0.15


def test_lamost_ivar_overstates_the_noise_of_faint_targets_as_in_real_files():
    """Reported variance holds a conservative background term, large for faint targets."""
    source = _draw("FGK", 4)
    scatter = {snr: _robust_sigma(_chi(_lamost(source, seed=5, snr=snr))) for snr in (10, 150)}
    assert 0.55 < scatter[10] < 0.85
    assert 0.85 < scatter[150] < 1.03


def test_correlated_noise_has_unit_variance_and_geometric_correlation():
    noise = instruments.correlated_noise(np.random.default_rng(0), 200_000, 0.4)
    assert noise.std() == pytest.approx(1.0, abs=0.01)
    assert np.corrcoef(noise[1:], noise[:-1])[0, 1] == pytest.approx(0.4, abs=0.01)
    assert np.corrcoef(noise[2:], noise[:-2])[0, 1] == pytest.approx(0.16, abs=0.01)
    starts = [
        instruments.correlated_noise(np.random.default_rng(i), 2, 0.4)[0] for i in range(4000)
    ]
    assert np.std(starts) == pytest.approx(1.0, abs=0.05)  # stationary from the first pixel


def test_lamost_snr_distribution_is_log_normal_like_with_a_realistic_median():
    plan = plan_survey(0, 5000, seed=1)
    rng = np.random.default_rng(1)
    snr = np.array([pool_snr(subtype, rng) for subtype in plan.pool_subtypes])
    assert 25.0 < np.median(snr) < 50.0
    assert snr.min() >= 1.0 and np.percentile(snr, 99) > 150.0
    assert 0.05 < np.mean(snr < 10.0) < 0.4
    log_snr = np.log(snr[snr > 5])
    assert abs(np.mean(log_snr) - np.median(log_snr)) < 0.15  # roughly symmetric in log


def test_junk_defects_sit_on_halpha():
    rng = np.random.default_rng(8)
    zero = instruments.observe_lamost(population.draw_source("junk-zero", rng), 30.0, rng)
    i = int(np.searchsorted(zero.wave, H_ALPHA_VACUUM))
    assert zero.flux[i] == 0.0 and zero.ivar[i] == 0.0

    bad = instruments.observe_lamost(population.draw_source("junk-badcol", rng), 30.0, rng)
    near = np.abs(bad.wave - H_ALPHA_VACUUM) < 45.0
    flagged = near & ((bad.andmask & 1) > 0)
    assert flagged.any() and np.all(bad.ivar[flagged] == 0.0)

    source = population.draw_source("junk-cosmic", rng)
    cosmic = instruments.observe_lamost(source, 30.0, rng)
    centre = H_ALPHA_VACUUM * (1.0 + source.redshift)
    near = np.abs(cosmic.wave - centre) < 16.0
    excess = (cosmic.flux - cosmic.model) / cosmic.continuum
    hit = np.flatnonzero(near)[np.argmax(excess[near])]
    assert excess[hit] > 0.4 and cosmic.ivar[hit] > 0 and cosmic.andmask[hit] == 0
