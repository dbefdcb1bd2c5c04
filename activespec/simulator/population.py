"""Priors of the simulated object population: draw a :class:`SourceModel` per subtype.

Each ``draw_*`` function turns a NumPy random generator into one object of its
subtype; :func:`draw_source` dispatches on the subtype name. The mixtures below
give the share of every subtype inside its class for the LAMOST pool and for the
Ondřejov labelled set, and :func:`allocate` turns shares into exact counts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from activespec.simulator import sources as S
from activespec.simulator.profiles import C_KMS
from activespec.simulator.sources import (
    Band,
    Continuum,
    DiskEmission,
    Line,
    PseudoContinuum,
    SourceModel,
)

#: Shares of subtypes within each class in the LAMOST pool.
POOL_MIX: dict[str, dict[str, float]] = {
    "other": {
        "FGK": 0.56,
        "M": 0.14,
        "A": 0.09,
        "B": 0.02,
        "galaxy": 0.05,
        "qso": 0.02,
        "junk-cosmic": 0.02,
        "junk-sky": 0.03,
        "junk-zero": 0.015,
        "junk-badcol": 0.015,
        "junk-lowsnr": 0.04,
    },
    "emission": {
        "be-single": 0.30,
        "be-weak": 0.15,
        "dme": 0.25,
        "nebular": 0.20,
        "galaxy-halpha": 0.06,
        "qso-halpha": 0.04,
    },
    "double-peak": {"be-double": 0.70, "be-shell": 0.30},
}
#: Split of the pool's rare fraction between emission and double-peak.
POOL_RARE_SPLIT = {"emission": 0.75, "double-peak": 0.25}

#: Class balance of the published Ondřejov labelled set (Škoda et al. 2020).
LABELLED_CLASS_SHARES = {"other": 6102, "emission": 5301, "double-peak": 1533}
#: Shares of subtypes within each class in the Ondřejov labelled set.
LABELLED_MIX: dict[str, dict[str, float]] = {
    "other": {"B": 0.45, "A": 0.30, "FGK": 0.20, "M": 0.05},
    "emission": {"be-single": 0.62, "be-weak": 0.25, "nebular": 0.08, "dme": 0.05},
    "double-peak": {"be-double": 0.72, "be-shell": 0.28},
}

_SPECTRAL_TYPES = (  # (Teff upper bound, type)
    (3300, "M4"),
    (3500, "M3"),
    (3650, "M2"),
    (3800, "M1"),
    (3950, "M0"),
    (4200, "K7"),
    (4500, "K5"),
    (4800, "K3"),
    (5100, "K1"),
    (5300, "G8"),
    (5650, "G5"),
    (5900, "G2"),
    (6100, "G0"),
    (6350, "F9"),
    (6600, "F5"),
    (6900, "F2"),
    (7300, "F0"),
    (7800, "A7V"),
    (8300, "A5V"),
    (8900, "A2V"),
    (9800, "A1V"),
    (10500, "A0V"),
    (12000, "B9"),
    (16000, "B6"),
    (100000, "B6"),
)


def spectral_type(teff: float) -> str:
    """LAMOST-pipeline-like subclass for an effective temperature."""
    for bound, name in _SPECTRAL_TYPES:
        if teff < bound:
            return name
    return "B6"


def allocate(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``total`` into integer counts proportional to ``shares`` (largest remainder).

    Parameters
    ----------
    total : int
        Number to split.
    shares : dict of str to float
        Non-negative weights (need not sum to 1).

    Returns
    -------
    dict of str to int
        Counts summing exactly to ``total``, in the key order of ``shares``.
    """
    keys = list(shares)
    weights = np.array([shares[k] for k in keys], dtype=np.float64)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    remainder = total - counts.sum()
    # Ties broken by key order so the result is deterministic.
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    return {k: int(c) for k, c in zip(keys, counts, strict=True)}


# --- building blocks -------------------------------------------------------------------
def _lognormal(rng, median, sigma, lo, hi):
    return float(np.clip(median * np.exp(sigma * rng.standard_normal()), lo, hi))


#: Radial velocities of field stars: a thin-disk-like core and a thick-disk/halo-like
#: tail (share, dispersion [km/s]); overall dispersion ~40 km/s, as the header redshifts
#: of the real LAMOST LRS stars of ``tests/data/real`` show.
_RV_COMPONENTS = ((0.85, 32.0), (0.15, 75.0))


def _stellar_rv(rng) -> float:
    share, dispersion = _RV_COMPONENTS[0]
    if rng.random() >= share:
        dispersion = _RV_COMPONENTS[1][1]
    return float(np.clip(rng.normal(0.0, dispersion), -300.0, 300.0))


def _balmer_absorption(halpha_ew, depth, core_sigma, ratios=S.BALMER_RATIO):
    """Balmer lines as a Gaussian core plus Lorentzian (Stark) wings.

    The core carries 45 % of the central depth ``depth``; the wing width follows
    from the remaining equivalent width and depth.
    """
    lines = []
    for center, ratio in zip(S.BALMER, ratios, strict=True):
        ew = halpha_ew * ratio
        core_ew = min(0.45 * depth * core_sigma * np.sqrt(2 * np.pi), 0.6 * ew)
        wing_ew = ew - core_ew
        wing_depth = max(depth - core_ew / (core_sigma * np.sqrt(2 * np.pi)), 0.05)
        gamma = wing_ew / (np.pi * wing_depth)
        lines.append(Line(center, core_ew, core_sigma))
        lines.append(Line(center, wing_ew, core_sigma, gamma))
    return lines


def _metal_lines(scale):
    return [Line(c, ew * scale, 0.12) for c, ew in S.METAL_LINES]


def cool_line_boost(teff: float) -> float:
    """Extra strength of low-excitation neutral lines (Ti I, Ca I 6573) relative to a K0 dwarf.

    Their lower levels are populated more, and their ions less, the cooler the star: the
    factor grows e-fold per 900 K below 5200 K and saturates at 3 in M dwarfs.
    """
    return float(np.clip(np.exp((5200.0 - teff) / 900.0), 0.3, 3.0))


def _cool_lines(teff, metal_scale):
    boost = cool_line_boost(teff) * metal_scale
    return [Line(c, ew * boost, 0.12) for c, ew in S.COOL_LINES]


#: TiO strength (1 = the M2 dwarf of :data:`sources.TIO_BANDS`) against Teff [K]: the fitted
#: strengths of the real M0, M1 and M2 stars at the dwarf Teff of their subclass, continued
#: so that the TiO5 and CaH2 indices follow the dwarf spectral-type relations of Reid,
#: Hawley & Gizis (1995) and Gizis (1997) from K7 to M5.
_TIO_STRENGTH = (
    (2900.0, 2.5),
    (3060.0, 2.1),
    (3210.0, 1.7),
    (3430.0, 1.3),
    (3575.0, 0.92),
    (3725.0, 0.73),
    (3875.0, 0.35),
    (4050.0, 0.12),
    (4400.0, 0.0),
)


def tio_strength(teff: float) -> float:
    """Mean TiO/CaH band strength of a dwarf of effective temperature ``teff`` [K]."""
    return _interpolate(_TIO_STRENGTH, teff)


def _molecular_absorption(strength):
    """Bands and pseudo-continuum of TiO/CaH scaled to ``strength``."""
    if strength <= 0.0:
        return [], None
    bands = [Band(h, strength * tau, scale) for h, tau, scale in S.TIO_BANDS]
    wave, tau = zip(*S.TIO_PSEUDO_CONTINUUM, strict=True)
    return bands, PseudoContinuum(wave, tuple(strength * t for t in tau))


def _interstellar(a_v):
    """Interstellar Na D and diffuse bands, proportional to the extinction."""
    if a_v <= 0.05:
        return []
    return [
        Line(S.NA_D[0], 0.25 * a_v, 0.15),
        Line(S.NA_D[1], 0.2 * a_v, 0.15),
        Line(6285.6, 0.3 * a_v, 1.6),
        Line(6615.6, 0.07 * a_v, 0.5),
    ]


def _cool_star_extras(teff, metal_scale):
    """Strong lines of FGKM stars outside the H-alpha window."""
    cool = float(np.clip((6500.0 - teff) / 2500.0, 0.0, 1.4))
    lines = [
        Line(S.CA_II_HK[0], 3.0 + 9.0 * cool, 1.0, 0.8),
        Line(S.CA_II_HK[1], 2.5 + 7.0 * cool, 1.0, 0.7),
        Line(S.CA_I_4227, 0.3 + 1.5 * cool * metal_scale, 0.4),
        Line(S.G_BAND, 1.0 + 3.0 * cool * metal_scale, 8.0),
    ]
    lines += [Line(c, (0.3 + 0.9 * cool) * metal_scale, 0.25) for c in S.MG_B]
    lines += [Line(c, (0.3 + 1.2 * cool) * metal_scale, 0.2) for c in S.NA_D]
    # The Ca II triplet has broad damping wings, so at LAMOST resolution it is only
    # 10-25 % deep in the real G-M stars of tests/data/real.
    irt_ew = (0.6 + 0.6 * min(cool, 0.8)) * metal_scale
    lines += [Line(c, irt_ew, 0.6, 1.5) for c in S.CA_II_IRT]
    return lines


def _b_photosphere(rng, teff, vsini, a_v):
    late = float(np.clip((28000.0 - teff) / 17000.0, 0.0, 1.0))
    halpha_ew = 2.5 + 5.0 * late + rng.normal(0.0, 0.3)
    photosphere = _balmer_absorption(max(halpha_ew, 2.0), rng.uniform(0.3, 0.5), 1.0)
    he = 0.7 * np.exp(-(((teff - 20000.0) / 6500.0) ** 2))
    photosphere += [Line(c, he * r, 0.3) for c, r in zip(S.HE_I, S.HE_I_REL, strict=True)]
    if teff > 14000:
        photosphere += [Line(S.C_II[0], 0.08, 0.2), Line(S.C_II[1], 0.05, 0.2)]
    else:
        photosphere += [Line(S.SI_II[0], 0.15, 0.2), Line(S.SI_II[1], 0.1, 0.2)]
    photosphere.append(Line(S.MG_II_4481, 0.3, 0.3))
    model = SourceModel(
        subtype="B",
        redshift=_stellar_rv(rng) / C_KMS,
        continuum=Continuum("planck", teff=teff, a_v=a_v),
        vsini=vsini,
        photosphere=photosphere,
        circumstellar=_interstellar(a_v),
        lamost_subclass=spectral_type(teff),
        teff=teff,
    )
    model.params.update(teff=teff, vsini=vsini, halpha_abs_ew=float(max(halpha_ew, 2.0)))
    return model


# --- normal stars ------------------------------------------------------------------------
def draw_b(rng) -> SourceModel:
    """B star: Teff 11-28 kK, vsini 50-350 km/s, H-alpha EW 2.5-7.5 Å, He I lines."""
    return _b_photosphere(
        rng, rng.uniform(11000, 28000), rng.uniform(50, 350), rng.exponential(0.8)
    )


def draw_a(rng) -> SourceModel:
    """A star: H-alpha absorption with EW drawn uniformly in 8-15 Å and broad Stark wings."""
    teff = rng.uniform(7400, 10500)
    vsini = rng.uniform(20, 250)
    a_v = rng.exponential(0.7)
    halpha_ew = rng.uniform(8.0, 15.0)
    photosphere = _balmer_absorption(halpha_ew, rng.uniform(0.55, 0.7), rng.uniform(1.0, 1.5))
    photosphere += _metal_lines(0.08)
    photosphere += [Line(c, 0.12, 0.2) for c in S.SI_II]
    photosphere += [Line(c, 0.06, 0.2) for c in S.FE_II_BE]
    photosphere.append(Line(S.CA_II_HK[0], rng.uniform(1.0, 4.0), 0.8, 0.3))
    model = SourceModel(
        subtype="A",
        redshift=_stellar_rv(rng) / C_KMS,
        continuum=Continuum("planck", teff=teff, a_v=a_v),
        vsini=vsini,
        photosphere=photosphere,
        circumstellar=_interstellar(a_v),
        lamost_subclass=spectral_type(teff),
        teff=teff,
    )
    model.params.update(teff=teff, vsini=vsini, halpha_abs_ew=halpha_ew)
    return model


#: Photospheric H-alpha EW [Å] of F-K dwarfs against Teff [K] (linear in between):
#: weak in K dwarfs, whose n = 2 level is barely populated, rising steeply through the Fs.
#: Matched to the H-alpha profiles of the real LAMOST LRS F, G and K stars of
#: ``tests/data/real`` in their rest frames.
_FGK_HALPHA_EW = (
    (4000.0, 0.7),
    (4400.0, 1.0),
    (4800.0, 1.4),
    (5300.0, 1.75),
    (5900.0, 2.15),
    (6300.0, 2.9),
    (6800.0, 3.55),
    (7300.0, 4.0),
)


def fgk_halpha_ew(teff: float) -> float:
    """Mean photospheric H-alpha EW [Å] of an F-K dwarf of effective temperature ``teff``."""
    return _interpolate(_FGK_HALPHA_EW, teff)


def _interpolate(table: tuple[tuple[float, float], ...], x: float) -> float:
    """Linear interpolation in a table of ``(x, y)`` rows sorted by x (clamped at the ends)."""
    xs, ys = zip(*table, strict=True)
    return float(np.interp(x, xs, ys))


def fgk_metal_scale(teff: float) -> float:
    """Strength of the metal lines of a solar-metallicity F-K dwarf relative to the line table.

    Rises linearly from the F0s to the late Ks. At LAMOST resolution every listed line is a
    blend with unlisted weaker ones, so the real G and K stars of ``tests/data/real`` show
    about 1.7 times the absorption of the listed solar-like EWs (e.g. the Ca I/Fe I/Ba II
    blend at 6494-6500 Å is 1-1.5 Å deep in K dwarfs).
    """
    return float(np.clip((7600.0 - teff) / 1400.0, 0.15, 2.6))


def draw_fgk(rng) -> SourceModel:
    """F/G/K dwarf: H-alpha EW 0.7-4 Å rising with Teff, metal lines scaled by Teff and [Fe/H].

    Late K dwarfs (Teff < 4400 K) also get weak TiO bands (:func:`tio_strength`).
    """
    teff = rng.uniform(4000, 7300)
    feh = float(np.clip(rng.normal(-0.2, 0.3), -2.0, 0.5))
    metal_scale = fgk_metal_scale(teff) * 10.0 ** (0.7 * feh)
    halpha_ew = float(np.clip(fgk_halpha_ew(teff) * (1.0 + rng.normal(0, 0.08)), 0.5, 4.5))
    vsini = rng.uniform(1, 15) if teff < 6300 else rng.uniform(5, 60)
    a_v = rng.exponential(0.7)
    photosphere = _balmer_absorption(
        halpha_ew, rng.uniform(0.5, 0.75), 0.5, ratios=(1.0, 1.0, 0.9, 0.8, 0.6, 0.5)
    )
    photosphere += _metal_lines(metal_scale)
    photosphere += _cool_lines(teff, metal_scale)
    photosphere += _cool_star_extras(teff, metal_scale)
    strength = tio_strength(teff)
    bands, pseudo_continuum = _molecular_absorption(strength)
    model = SourceModel(
        subtype="FGK",
        redshift=_stellar_rv(rng) / C_KMS,
        continuum=Continuum("planck", teff=teff, a_v=a_v),
        vsini=vsini,
        photosphere=photosphere,
        bands=bands,
        pseudo_continuum=pseudo_continuum,
        circumstellar=_interstellar(a_v),
        lamost_subclass=spectral_type(teff),
        teff=teff,
    )
    model.params.update(
        teff=teff, vsini=vsini, feh=feh, halpha_abs_ew=halpha_ew, tio_strength=strength
    )
    return model


def draw_m(rng, teff=None) -> SourceModel:
    """M dwarf: weak H-alpha absorption, TiO/CaH bands and the TiO pseudo-continuum.

    The bands (heads near 6159, 6651, 6714, 7054 and 7126 Å among others) and the
    pseudo-continuum scale with :func:`tio_strength` times a star-to-star scatter of
    about 12 % (metallicity, gravity).
    """
    teff = rng.uniform(2900, 3950) if teff is None else teff
    strength = tio_strength(teff) * float(np.exp(rng.normal(0.0, 0.12)))
    halpha_ew = rng.uniform(0.2, 0.6)
    photosphere = [Line(S.H_ALPHA, halpha_ew, 0.6, 0.3)]
    photosphere += _metal_lines(1.8)
    photosphere += _cool_lines(teff, 1.8)
    photosphere += _cool_star_extras(teff, 1.6)
    bands, pseudo_continuum = _molecular_absorption(strength)
    model = SourceModel(
        subtype="M",
        redshift=_stellar_rv(rng) / C_KMS,
        continuum=Continuum("planck", teff=teff, a_v=rng.exponential(0.2)),
        vsini=rng.uniform(0, 5),
        photosphere=photosphere,
        bands=bands,
        pseudo_continuum=pseudo_continuum,
        lamost_subclass=spectral_type(teff),
        teff=teff,
    )
    model.params.update(teff=teff, tio_strength=strength, halpha_abs_ew=halpha_ew)
    return model


_OTHER_STARS = (("FGK", 0.6), ("A", 0.15), ("M", 0.2), ("B", 0.05))


def _draw_other_star(rng) -> SourceModel:
    names, weights = zip(*_OTHER_STARS, strict=True)
    name = names[rng.choice(len(names), p=np.array(weights) / sum(weights))]
    return _STELLAR[name](rng)


# --- emission-line stars -----------------------------------------------------------------
def _be_net_ew(rng):
    return -_lognormal(rng, 12.0, 0.8, 1.0, 60.0)


def _be_base(rng, subtype, teff_range=(13000, 28000), vsini_range=(150, 400)):
    model = _b_photosphere(
        rng, rng.uniform(*teff_range), rng.uniform(*vsini_range), rng.exponential(1.0)
    )
    model.subtype = subtype
    # The LAMOST pipeline has no Be templates: it calls them early-type stars.
    model.lamost_subclass = str(rng.choice(["B6", "B9", "A0V", "A1V", "A2V"]))
    return model


def _be_extras(rng, model, emission_ew, width):
    """H-beta and (for strong emitters) Fe II emission that accompany H-alpha emission."""
    model.circumstellar.append(Line(S.BALMER[1], 0.15 * emission_ew, 0.8 * width))
    if emission_ew < -20.0:
        model.circumstellar += [
            Line(c, -rng.uniform(0.1, 0.4), rng.uniform(1.0, 2.0)) for c in S.FE_II_BE
        ]


def draw_be_single(rng) -> SourceModel:
    """Be star with a single-peaked H-alpha emission (net EW -1 to -60 Å) on its trough."""
    model = _be_base(rng, "be-single")
    net = _be_net_ew(rng)
    emission_ew = net - model.params["halpha_abs_ew"]
    fwhm_kms = rng.uniform(150, 450)
    sigma = fwhm_kms / C_KMS * S.H_ALPHA / 2.3548
    model.circumstellar.append(Line(S.H_ALPHA, emission_ew, sigma, rng.uniform(0.15, 0.5) * sigma))
    _be_extras(rng, model, emission_ew, sigma)
    model.params.update(target_net_ew=net, emission_ew=emission_ew, emission_fwhm_kms=fwhm_kms)
    return model


def _disk(rng, emission_ew, separation, shell=False):
    return DiskEmission(
        S.H_ALPHA,
        emission_ew,
        separation,
        v_over_r=rng.uniform(0.7, 1.4),
        outer_radius=rng.uniform(3.0, 12.0),
        emissivity_index=rng.uniform(2.0, 3.2),
        local_sigma=rng.uniform(0.05, 0.12),
        shell_depth=rng.uniform(0.5, 0.9) if shell else 0.0,
        shell_sigma=rng.uniform(0.08, 0.18),
    )


def draw_be_double(rng) -> SourceModel:
    """Be star with a double-peaked disk profile: separation 4-14 Å, V/R 0.7-1.4."""
    model = _be_base(rng, "be-double")
    net = _be_net_ew(rng)
    emission_ew = net - model.params["halpha_abs_ew"]
    disk = _disk(rng, emission_ew, rng.uniform(4.0, 14.0))
    model.disks.append(disk)
    model.calibrate_disk_peaks()
    _be_extras(rng, model, emission_ew, 0.5 * disk.separation)
    model.params.update(
        target_net_ew=net,
        emission_ew=emission_ew,
        peak_separation=disk.separation,
        v_over_r=disk.v_over_r,
    )
    return model


def draw_be_shell(rng) -> SourceModel:
    """Shell star: double-peaked emission with a deep central absorption and shell lines."""
    model = _be_base(rng, "be-shell", vsini_range=(250, 450))
    net = _be_net_ew(rng)
    emission_ew = net - model.params["halpha_abs_ew"]
    disk = _disk(rng, emission_ew, rng.uniform(7.0, 14.0), shell=True)
    model.disks.append(disk)
    model.circumstellar += [
        Line(c, rng.uniform(0.03, 0.15), rng.uniform(0.3, 0.5)) for c in S.FE_II_BE
    ]
    model.calibrate_disk_peaks()
    _be_extras(rng, model, emission_ew, 0.5 * disk.separation)
    model.params.update(
        target_net_ew=net,
        emission_ew=emission_ew,
        peak_separation=disk.separation,
        v_over_r=disk.v_over_r,
        shell_depth=disk.shell_depth,
    )
    return model


def draw_be_weak(rng) -> SourceModel:
    """Be star whose weak emission (EW -0.5 to -2.5 Å) only fills in the absorption trough.

    The emission is broad (FWHM 300-500 km/s, or a disk with peaks 4-10 Å apart), so
    it rises at most a few tenths of the continuum above the trough.
    """
    model = _be_base(rng, "be-weak")
    emission_ew = -rng.uniform(0.5, 2.5)
    if rng.random() < 0.5:
        model.disks.append(_disk(rng, emission_ew, rng.uniform(4.0, 10.0)))
    else:
        sigma = rng.uniform(300, 500) / C_KMS * S.H_ALPHA / 2.3548
        model.circumstellar.append(Line(S.H_ALPHA, emission_ew, sigma))
    model.params.update(emission_ew=emission_ew)
    return model


def draw_dme(rng) -> SourceModel:
    """Active M dwarf: narrow H-alpha emission (EW -1 to -20 Å) on an M-star spectrum."""
    model = draw_m(rng, teff=rng.uniform(2900, 3700))
    model.subtype = "dme"
    model.photosphere = [ln for ln in model.photosphere if ln.center != S.H_ALPHA]
    emission_ew = -_lognormal(rng, 4.0, 0.7, 1.0, 20.0)
    sigma = rng.uniform(0.35, 0.8)
    model.circumstellar += [
        Line(S.H_ALPHA, emission_ew, sigma, 0.1),
        Line(S.BALMER[1], 1.2 * emission_ew, sigma),
        Line(S.CA_II_HK[0], 0.8 * emission_ew, 0.4),
        Line(S.CA_II_HK[1], 0.6 * emission_ew, 0.4),
    ]
    model.lamost_subclass = "d" + model.lamost_subclass
    model.params.update(emission_ew=emission_ew)
    return model


def draw_nebular(rng) -> SourceModel:
    """Star seen through an H II region or planetary nebula: narrow H-alpha, [N II], [S II]."""
    host = ("B", "A", "FGK")[rng.choice(3, p=[0.3, 0.3, 0.4])]
    model = _STELLAR[host](rng)
    model.subtype = "nebular"
    halpha = -_lognormal(rng, 8.0, 0.8, 1.5, 60.0)
    planetary = rng.random() < 0.2
    n_ratio = rng.uniform(0.8, 3.0) if planetary else rng.uniform(0.1, 0.5)
    s_total = rng.uniform(0.03, 0.15) if planetary else rng.uniform(0.08, 0.45)
    s_ratio = rng.uniform(0.5, 1.4)  # [S II] 6716 / 6731, density sensitive
    o3 = rng.uniform(1.0, 8.0) if planetary else rng.uniform(0.05, 1.5)
    # Nebular velocity differs from the star's; lines are given in the star's frame.
    doppler = 1.0 + (rng.normal(0.0, 20.0) / C_KMS - model.redshift)
    turb = rng.uniform(8.0, 30.0)

    def width(center, thermal_kms):
        return center * np.hypot(turb, thermal_kms) / C_KMS

    h, n, s = 9.1, 2.4, 1.6  # thermal velocity dispersions at 10^4 K [km/s]
    model.circumstellar += [
        Line(S.H_ALPHA * doppler, halpha, width(S.H_ALPHA, h)),
        Line(S.N_II[1] * doppler, n_ratio * halpha, width(S.N_II[1], n)),
        Line(S.N_II[0] * doppler, n_ratio * halpha / 2.95, width(S.N_II[0], n)),
        Line(S.S_II[0] * doppler, s_total * halpha * s_ratio / (1 + s_ratio), width(S.S_II[0], s)),
        Line(S.S_II[1] * doppler, s_total * halpha / (1 + s_ratio), width(S.S_II[1], s)),
        Line(S.BALMER[1] * doppler, halpha / 3.5, width(S.BALMER[1], h)),
        Line(S.O_III[1] * doppler, o3 * halpha / 3.5, width(S.O_III[1], 2.0)),
        Line(S.O_III[0] * doppler, o3 * halpha / 3.5 / 2.98, width(S.O_III[0], 2.0)),
    ]
    if planetary:
        model.circumstellar.append(Line(S.HE_I[5] * doppler, 0.02 * halpha, width(6680, 4.5)))
    model.params.update(
        host=host,
        nebular_halpha_ew=halpha,
        n_ii_ratio=n_ratio,
        s_ii_ratio=s_ratio,
        planetary=planetary,
        nebular_doppler=doppler,
    )
    return model


# --- extragalactic -----------------------------------------------------------------------
_GALAXY_EMISSION = (  # rest vacuum, EW relative to H-alpha
    (S.H_ALPHA, 1.0),
    (S.N_II[1], None),
    (S.N_II[0], None),
    (S.S_II[0], 0.12),
    (S.S_II[1], 0.09),
    (S.BALMER[1], 0.3),
    (S.BALMER[2], 0.12),
    (S.O_III[1], None),
    (S.O_III[0], None),
    (S.O_II[0], 0.5),
    (S.O_II[1], 0.7),
    (S.O_I[0], 0.04),
)

#: Half-window around H-alpha [Å] in which no line of an "other" galaxy/QSO may fall.
CLEAR_OF_HALPHA = 15.0


def _galaxy(rng, subtype, redshift, star_forming) -> SourceModel:
    dispersion = rng.uniform(80, 250)
    photosphere = [
        Line(S.CA_II_HK[0], rng.uniform(8, 18), 1.0),
        Line(S.CA_II_HK[1], rng.uniform(6, 15), 1.0),
        Line(S.G_BAND, rng.uniform(2, 5), 8.0),
        Line(S.H_ALPHA, rng.uniform(1.0, 2.0), 2.0),
        Line(S.BALMER[1], rng.uniform(1.5, 3.0), 2.0),
        Line(S.BALMER[3], rng.uniform(1.0, 4.0), 2.0),
    ]
    photosphere += [Line(c, rng.uniform(1.0, 1.8), 0.5) for c in S.MG_B]
    photosphere += [Line(c, rng.uniform(1.0, 2.0), 0.5) for c in S.NA_D]
    photosphere += [Line(c, ew * 1.2, 0.3) for c, ew in S.METAL_LINES]
    circumstellar = []
    if star_forming:
        halpha = -_lognormal(rng, 25.0, 0.8, 5.0, 150.0)
        n_ratio = rng.uniform(0.1, 0.5)
        o3 = rng.uniform(0.1, 1.5)
        sigma_v = rng.uniform(50, 150)
        for center, ratio in _GALAXY_EMISSION:
            if center == S.N_II[1]:
                ratio = n_ratio
            elif center == S.N_II[0]:
                ratio = n_ratio / 2.95
            elif center == S.O_III[1]:
                ratio = o3
            elif center == S.O_III[0]:
                ratio = o3 / 2.98
            circumstellar.append(Line(center, ratio * halpha, center * sigma_v / C_KMS))
    young = rng.uniform(0.3, 1.5) if star_forming else rng.uniform(0.0, 0.1)
    model = SourceModel(
        subtype=subtype,
        redshift=redshift,
        continuum=Continuum("galaxy", a_v=rng.exponential(0.1), young_fraction=young),
        vsini=dispersion / 0.47,  # rotation kernel of equal dispersion
        photosphere=photosphere,
        circumstellar=circumstellar,
        lamost_class="GALAXY",
        lamost_subclass="Non",
        objtype="galaxy",
    )
    model.params.update(z=redshift, star_forming=star_forming)
    return model


def _lines_clear_of_halpha(model, broad_margin=0.0) -> bool:
    for line in model.circumstellar:
        observed = line.center * (1.0 + model.redshift)
        margin = CLEAR_OF_HALPHA + 3.0 * line.sigma * (1.0 + model.redshift)
        if line.ew < 0 and abs(observed - S.H_ALPHA) < margin + broad_margin:
            return False
    return True


def draw_galaxy(rng) -> SourceModel:
    """Galaxy at z 0.02-0.5 (passive or star-forming) with no emission line at H-alpha."""
    star_forming = rng.random() < 0.6
    for _ in range(100):
        z = _lognormal(rng, 0.1, 0.6, 0.02, 0.5)
        model = _galaxy(rng, "galaxy", z, star_forming)
        if _lines_clear_of_halpha(model):
            return model
    raise RuntimeError("could not place galaxy lines away from H-alpha")  # pragma: no cover


def draw_galaxy_halpha(rng) -> SourceModel:
    """Emission-line galaxy with a line on H-alpha: local H II galaxy, or H-beta/[O III] at z."""
    choice = rng.choice(3, p=[0.5, 0.2, 0.3])
    if choice == 0:
        z = rng.uniform(0.0003, 0.0015)  # Local-Group/nearby star-forming region
    elif choice == 1:
        z = S.H_ALPHA / S.BALMER[1] - 1.0 + rng.normal(0.0, 0.0006)
    else:
        z = S.H_ALPHA / S.O_III[1] - 1.0 + rng.normal(0.0, 0.0006)
    model = _galaxy(rng, "galaxy-halpha", z, star_forming=True)
    model.params["line_on_halpha"] = ("H-alpha", "H-beta", "[O III] 5007")[choice]
    return model


def _qso(rng, subtype, redshift) -> SourceModel:
    fwhm = rng.uniform(2500, 8000)
    scale = np.exp(rng.normal(0.0, 0.4))
    circumstellar = []
    for center, (ew, broad) in S.QSO_LINES.items():
        sigma = center * (fwhm if broad else rng.uniform(300, 600)) / C_KMS / 2.3548
        circumstellar.append(Line(center, ew * scale, sigma))
    model = SourceModel(
        subtype=subtype,
        redshift=redshift,
        continuum=Continuum("qso", alpha=rng.uniform(-2.0, -0.8), a_v=rng.exponential(0.05)),
        circumstellar=circumstellar,
        lamost_class="QSO",
        lamost_subclass="Non",
        objtype="QSO",
    )
    model.params.update(z=redshift, fwhm_kms=fwhm)
    return model


def draw_qso(rng) -> SourceModel:
    """QSO at z 0.15-3.9 with broad lines, none of them on H-alpha."""
    for _ in range(200):
        z = _lognormal(rng, 1.3, 0.6, 0.15, 3.9)
        model = _qso(rng, "qso", z)
        if _lines_clear_of_halpha(model):
            return model
    raise RuntimeError("could not place QSO lines away from H-alpha")  # pragma: no cover


def draw_qso_halpha(rng) -> SourceModel:
    """QSO whose broad Mg II, H-beta, C III] or C IV line is redshifted onto H-alpha."""
    rest = (2798.75, 4862.69, 1908.73, 1549.06)[rng.integers(4)]
    z = S.H_ALPHA / rest - 1.0 + rng.normal(0.0, 0.0008)
    model = _qso(rng, "qso-halpha", z)
    model.params["line_on_halpha"] = rest
    return model


# --- junk ----------------------------------------------------------------------------------
def _draw_junk(subtype):
    def draw(rng) -> SourceModel:
        model = _draw_other_star(rng)
        model.params["host"] = model.subtype
        model.subtype = subtype
        if subtype in ("junk-sky", "junk-lowsnr"):
            model.lamost_class, model.lamost_subclass = "Unknown", "Non"
        return model

    draw.__doc__ = f"{subtype}: an ordinary star; the instrument stage adds the defect."
    return draw


_STELLAR: dict[str, Callable] = {"B": draw_b, "A": draw_a, "FGK": draw_fgk, "M": draw_m}

DRAWERS: dict[str, Callable] = {
    **_STELLAR,
    "galaxy": draw_galaxy,
    "qso": draw_qso,
    "be-single": draw_be_single,
    "be-weak": draw_be_weak,
    "dme": draw_dme,
    "nebular": draw_nebular,
    "galaxy-halpha": draw_galaxy_halpha,
    "qso-halpha": draw_qso_halpha,
    "be-double": draw_be_double,
    "be-shell": draw_be_shell,
    **{name: _draw_junk(name) for name in S.JUNK_SUBTYPES},
}


def draw_source(subtype: str, rng: np.random.Generator) -> SourceModel:
    """Draw one object of ``subtype``.

    Parameters
    ----------
    subtype : str
        A key of :data:`activespec.simulator.sources.SUBTYPE_CLASS`.
    rng : numpy.random.Generator

    Returns
    -------
    SourceModel
    """
    try:
        drawer = DRAWERS[subtype]
    except KeyError:
        raise ValueError(f"unknown subtype {subtype!r}") from None
    return drawer(rng)
