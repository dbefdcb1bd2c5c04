"""Cool-star physics of the simulator: TiO/CaH bands, H-alpha by Teff, metal lines, velocities.

Measured on noise-free LAMOST observations (``Observation.model``), with the molecular
indices of Reid, Hawley & Gizis (1995) (air band and continuum passbands); the dwarf
relations they are compared with are SpT = -9.64 TiO5 + 7.76 (Gizis 1997) and
SpT = 7.91 CaH2**2 - 20.63 CaH2 + 10.71 (Gizis 1997), SpT 0 = M0.
"""

import dataclasses

import numpy as np
import pytest

from activespec.constants import H_ALPHA_VACUUM
from activespec.preprocessing.wavelength import air_to_vacuum
from activespec.simulator import instruments, population
from activespec.simulator.profiles import C_KMS
from activespec.simulator.sources import Band, PseudoContinuum

#: Index passbands (air Å): feature, continuum.
INDICES = {
    "TiO5": ((7126.0, 7135.0), (7042.0, 7046.0)),
    "CaH2": ((6814.0, 6846.0), (7042.0, 7046.0)),
}
#: Dwarf Teff [K] of M subclasses (Pecaut & Mamajek 2013).
DWARF_TEFF = {0: 3850.0, 1: 3660.0, 2: 3560.0, 3: 3430.0, 4: 3210.0}


def _noise_free(source, seed=0):
    """Continuum-normalised, noise-free LAMOST spectrum in the star's rest frame."""
    source = dataclasses.replace(source, redshift=0.0)
    obs = instruments.observe_lamost(source, 100.0, np.random.default_rng(seed), water=0.0)
    return obs.wave, obs.model / obs.continuum


def _mean(wave, flux, band_air):
    lo, hi = air_to_vacuum(np.array(band_air))
    return float(flux[(wave > lo) & (wave < hi)].mean())


def _index(wave, flux, name):
    feature, continuum = INDICES[name]
    return _mean(wave, flux, feature) / _mean(wave, flux, continuum)


def _dwarf_tio5(subclass):
    return (7.76 - subclass) / 9.64


def _dwarf_cah2(subclass):
    a, b, c = 7.91, -20.63, 10.71 - subclass
    return (-b - np.sqrt(b * b - 4.0 * a * c)) / (2.0 * a)


def _m_dwarf(teff, strength):
    source = population.draw_m(np.random.default_rng(1), teff=teff)
    bands, pseudo_continuum = population._molecular_absorption(strength)
    return dataclasses.replace(source, bands=bands, pseudo_continuum=pseudo_continuum)


@pytest.mark.parametrize("subclass", sorted(DWARF_TEFF))
def test_m_dwarf_molecular_indices_follow_the_dwarf_spectral_type_relations(subclass):
    teff = DWARF_TEFF[subclass]
    wave, flux = _noise_free(_m_dwarf(teff, population.tio_strength(teff)))
    assert _index(wave, flux, "TiO5") == pytest.approx(_dwarf_tio5(subclass), abs=0.07)
    assert _index(wave, flux, "CaH2") == pytest.approx(_dwarf_cah2(subclass), abs=0.07)


def test_tio_strength_grows_towards_cooler_stars_and_vanishes_in_early_k():
    teffs = np.linspace(2900.0, 4600.0, 60)
    strengths = np.array([population.tio_strength(t) for t in teffs])
    assert np.all(np.diff(strengths) <= 0.0)
    assert population.tio_strength(3560.0) == pytest.approx(0.92, abs=0.05)  # M2: reference
    assert population.tio_strength(4450.0) == 0.0
    for seed in range(40):
        source = population.draw_fgk(np.random.default_rng(seed))
        if source.teff > 4400.0:
            assert not source.bands and source.pseudo_continuum is None
        else:
            assert source.bands and source.params["tio_strength"] > 0.0


def test_m_dwarf_window_declines_through_the_gamma_band_heads():
    """From 6530 to 6720 Å an M2 dwarf loses ~30 % (heads at 6651, 6681, 6714 Å air)."""
    wave, flux = _noise_free(_m_dwarf(3560.0, 1.0))
    blue = _mean(wave, flux, (6523.0, 6556.0))
    steps = [
        _mean(wave, flux, (h - 9.0, h - 3.0)) / _mean(wave, flux, (h + 3.0, h + 9.0))
        for h in (6651.0, 6714.0)
    ]
    red = _mean(wave, flux, (6703.0, 6728.0))
    assert 0.55 < red / blue < 0.75
    assert all(1.03 < step < 1.3 for step in steps)  # sharp heads, not a cliff
    # The band recovers redward: the flux just below the 7054 Å head is back above 6550 Å.
    assert _mean(wave, flux, (7035.0, 7050.0)) > blue


def test_band_and_pseudo_continuum_are_optical_depths():
    band = Band(6652.0, 0.5, 100.0)
    x = np.array([-1.0, 0.0, 100.0])
    assert band.transmission(x) == pytest.approx([1.0, np.exp(-0.5), np.exp(-0.5 / np.e)])
    haze = PseudoContinuum((5000.0, 6000.0), (1.0, 0.0))
    assert haze.transmission(np.array([4000.0, 5500.0, 7000.0])) == pytest.approx(
        [np.exp(-1.0), np.exp(-0.5), 1.0]
    )


def _halpha_ew(source):
    """H-alpha EW [Å] against the pseudo-continuum 18-28 Å either side."""
    wave, flux = _noise_free(source)
    side = (np.abs(wave - H_ALPHA_VACUUM) > 18.0) & (np.abs(wave - H_ALPHA_VACUUM) < 28.0)
    continuum = np.polyval(np.polyfit(wave[side], flux[side], 1), wave)
    near = np.abs(wave - H_ALPHA_VACUUM) < 15.0
    return float(np.trapz(1.0 - flux[near] / continuum[near], wave[near]))


def test_fgk_halpha_weakens_from_g_to_late_k():
    ews = {}
    for seed in range(300):
        source = population.draw_fgk(np.random.default_rng(seed))
        for name, (lo, hi) in {"G": (5500, 5900), "K3": (4500, 4800), "K7": (4000, 4200)}.items():
            if lo < source.teff < hi and abs(source.params["feh"] + 0.2) < 0.2:
                ews.setdefault(name, []).append(_halpha_ew(source))
        if all(len(ews.get(n, [])) >= 3 for n in ("G", "K3", "K7")):
            break
    median = {name: float(np.median(values)) for name, values in ews.items()}
    # Real LAMOST stars of tests/data/real, same measurement: G ~2.0, K ~1.5 Å.
    assert 1.6 < median["G"] < 2.6
    assert 1.0 < median["K3"] < 1.9
    assert median["K7"] < median["K3"] < median["G"]


def test_metal_lines_strengthen_towards_k_dwarfs():
    assert population.fgk_metal_scale(4650.0) > 1.5 * population.fgk_metal_scale(6600.0)
    assert population.cool_line_boost(3600.0) > population.cool_line_boost(4650.0) > 1.0
    # The Ca I / Fe I / Ba II blend at 6494-6500 Å (air) is ~10-25 % deep in K3 dwarfs.
    for seed in range(200):
        source = population.draw_fgk(np.random.default_rng(seed))
        if 4550 < source.teff < 4750 and abs(source.params["feh"] + 0.1) < 0.15:
            break
    wave, flux = _noise_free(source)
    assert 0.72 < _mean(wave, flux, (6494.0, 6499.0)) < 0.92


def test_stellar_radial_velocities_have_the_spread_of_real_lamost_stars():
    rng = np.random.default_rng(0)
    rv = np.array([population.draw_fgk(rng).redshift * C_KMS for _ in range(1500)])
    assert np.std(rv) == pytest.approx(40.0, rel=0.15)
    assert np.median(np.abs(rv)) == pytest.approx(24.0, rel=0.2)
    assert abs(np.mean(rv)) < 4.0


def test_archive_normalisation_rides_on_the_pseudo_continuum():
    x = np.linspace(6260.0, 6770.0, 1997)
    envelope = 1.0 - 0.3 * (x - 6260.0) / 510.0
    lines = 1.0 - 0.4 * np.exp(-0.5 * ((x[:, None] - np.arange(6280.0, 6760.0, 25.0)) / 1.0) ** 2)
    emission = 1.0 + 2.0 * np.exp(-0.5 * ((x - 6563.0) / 1.5) ** 2)
    spectrum = envelope * lines.prod(axis=1) * emission
    fit = instruments.archive_pseudo_continuum(spectrum)
    assert fit == pytest.approx(envelope, abs=0.01)
