"""Defects of real survey spectra: cosmic rays, sky residuals, masks, dead segments.

Functions here modify flux / inverse-variance / mask arrays in place. Every
simulated LAMOST spectrum gets the ordinary pipeline behaviour (masked blue end of
faint red stars, zeroed red end, occasional bad pixels, weak sky residuals, a rare
unflagged cosmic ray); the ``junk-*`` subtypes get their defect placed across
H-alpha, where it can fool a classifier.
"""

from __future__ import annotations

import numpy as np

from activespec.constants import H_ALPHA_VACUUM
from activespec.simulator import atmosphere

MASK_BADCCD = 1
MASK_BRIGHTSKY = 8
MASK_NODATA = 32
#: Undocumented ORMASK bit seen on scattered pixels of pipeline 2.7 (DR2) files.
MASK_DR2_EXTRA = 64


def add_cosmic_rays(
    flux, continuum, rng, defects, wave, probability, window=None, amplitude=(0.5, 5.0)
):
    """Add unflagged cosmic-ray hits (1-2 pixel spikes) with the given probability.

    Parameters
    ----------
    flux, continuum : ndarray
        Flux (modified in place) and its noise-free continuum.
    rng : numpy.random.Generator
    defects : list of str
        Receives ``"cosmic@<wavelength>"`` for every hit.
    wave : ndarray
        Pixel wavelengths.
    probability : float
        Probability that the spectrum has any hits (1-4 of them).
    window : (float, float), optional
        Wavelength range the hits must fall in; the whole spectrum by default.
    amplitude : (float, float), optional
        Range of the peak height in units of the continuum.
    """
    if rng.random() >= probability:
        return
    n = len(flux)
    if window is None:
        lo, hi = 0, n - 2
    else:
        lo, hi = (int(v) for v in np.searchsorted(wave, window))
        hi = min(max(hi, lo + 1), n - 2)
    for _ in range(1 if window is not None else int(rng.integers(1, 5))):
        i = int(rng.integers(lo, hi))
        height = rng.uniform(*amplitude) * abs(continuum[i])
        flux[i] += height
        if rng.random() < 0.5:
            flux[i + 1] += height * rng.uniform(0.2, 0.8)
        defects.append(f"cosmic@{wave[i]:.1f}")


def sky_residuals(basis, line_peak, residual_scale, shift_scale, rng):
    """Sky-subtraction residuals of the night-sky emission lines.

    Each line leaves a fraction ``N(0, residual_scale)`` of itself plus a
    derivative-shaped (P-Cygni-like) residual from a wavelength-calibration offset
    of ``N(0, shift_scale)`` Å.

    Parameters
    ----------
    basis : activespec.simulator.atmosphere.SkyLineBasis
        Sky lines on the spectrum's pixel grid.
    line_peak : float
        Peak flux of the brightest sky line (5577 Å) in file units.
    residual_scale, shift_scale : float
    rng : numpy.random.Generator

    Returns
    -------
    ndarray
        Residual flux to add.
    """
    n_lines = len(atmosphere.SKY_LINES)
    fractions = rng.normal(0.0, residual_scale, n_lines)
    shifts = rng.normal(0.0, shift_scale, n_lines)
    return line_peak * basis.spectrum(fractions, shifts)


def lamost_pipeline_masks(wave, model, sigma, flux, ivar, andmask, ormask, rng, extra_ormask):
    """Ordinary LAMOST pipeline behaviour seen in real files (all arrays in place).

    * ivar = 0 at the blue end where the expected S/N per pixel is below 1 (cool stars);
    * the last 0-60 pixels zeroed (flux and ivar) in half of the spectra;
    * ivar = 0 across the O2 A band in some spectra;
    * flux = ivar = 0 across the dichroic overlap (5580-5900 Å) in 5 % of spectra;
    * the 5577 Å sky line flagged BRIGHTSKY in ORMASK (sometimes ANDMASK too);
    * a few bad-CCD pixels (ANDMASK and ORMASK bit 1, ivar = 0) in 10 % of spectra;
    * with ``extra_ormask``, 20-40 scattered pixels with ORMASK bit 64 (DR2 files).
    """
    n = len(wave)
    faint_blue = (wave < 4600.0) & (model < sigma)
    ivar[faint_blue] = 0.0
    if rng.random() < 0.5:
        ivar[: int(rng.integers(1, 9))] = 0.0
    if rng.random() < 0.5:
        tail = int(rng.integers(1, 61))
        flux[-tail:] = 0.0
        ivar[-tail:] = 0.0
    if rng.random() < 0.15:
        ivar[(wave > 7580.0) & (wave < 7680.0)] = 0.0
    if rng.random() < 0.05:  # no data in the dichroic overlap (seen in DR1/DR2 files)
        gap = (wave > rng.uniform(5560.0, 5600.0)) & (wave < rng.uniform(5880.0, 5920.0))
        flux[gap] = 0.0
        ivar[gap] = 0.0
    if rng.random() < 0.3:
        sky = np.abs(wave - 5578.9) < 3.5
        ormask[sky] |= MASK_BRIGHTSKY
        if rng.random() < 0.3:
            andmask[sky] |= MASK_BRIGHTSKY
            ivar[sky] = 0.0
    if rng.random() < 0.1:
        for _ in range(int(rng.integers(1, 4))):
            i = int(rng.integers(0, n - 3))
            width = int(rng.integers(1, 4))
            andmask[i : i + width] |= MASK_BADCCD
            ormask[i : i + width] |= MASK_BADCCD
            ivar[i : i + width] = 0.0
    if extra_ormask:
        ormask[rng.integers(0, n, int(rng.integers(20, 41)))] |= MASK_DR2_EXTRA


def apply_lamost_defects(
    subtype, wave, redshift, continuum, flux, ivar, andmask, ormask, rng, defects
):
    """Apply the defect that defines a ``junk-*`` subtype (or the base cosmic-ray rate).

    Parameters
    ----------
    subtype : str
        Object subtype; only ``junk-cosmic``, ``junk-zero`` and ``junk-badcol`` act
        here (``junk-sky`` and ``junk-lowsnr`` are made by the noise model).
    wave : ndarray
        Vacuum wavelengths.
    redshift : float
        Doppler shift of the source (the defect is placed on its H-alpha).
    continuum, flux, ivar, andmask, ormask : ndarray
        Arrays of the spectrum; all but ``continuum`` are modified in place.
    rng : numpy.random.Generator
    defects : list of str
        Receives a short description of each defect.
    """
    centre = H_ALPHA_VACUUM * (1.0 + redshift)
    if subtype == "junk-cosmic":
        add_cosmic_rays(flux, continuum, rng, defects, wave, 1.0, (centre - 15.0, centre + 15.0))
        add_cosmic_rays(flux, continuum, rng, defects, wave, 0.5)
    elif subtype == "junk-zero":
        lo = centre - rng.uniform(20.0, 700.0)
        hi = centre + rng.uniform(20.0, 1200.0)
        seg = (wave > lo) & (wave < hi)
        flux[seg] = 0.0
        ivar[seg] = 0.0
        if rng.random() < 0.8:
            andmask[seg] |= MASK_BADCCD
            ormask[seg] |= MASK_BADCCD
        defects.append(f"zero@{lo:.0f}-{hi:.0f}")
    elif subtype == "junk-badcol":
        for _ in range(int(rng.integers(1, 4))):
            i = int(np.searchsorted(wave, centre + rng.uniform(-40.0, 40.0)))
            width = int(rng.integers(1, 5))
            seg = slice(i, min(i + width, len(wave)))
            kind = rng.integers(3)
            level = np.abs(continuum[seg])
            if kind == 0:
                flux[seg] = level * rng.uniform(5.0, 50.0)
            elif kind == 1:
                flux[seg] = -level * rng.uniform(1.0, 10.0)
            else:
                flux[seg] = rng.uniform(0.0, 3.0) * float(np.mean(level))
            ivar[seg] = 0.0
            andmask[seg] |= MASK_BADCCD
            ormask[seg] |= MASK_BADCCD
            defects.append(f"badcol@{wave[i]:.1f}")
    else:
        add_cosmic_rays(flux, continuum, rng, defects, wave, 0.03)
