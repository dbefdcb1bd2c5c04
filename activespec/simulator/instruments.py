"""Instrument models: turn a :class:`~activespec.simulator.sources.SourceModel` into pixels.

Near H-alpha the spectrum is computed at full fidelity: the source is evaluated on a
fine vacuum grid uniform in ln(wavelength), multiplied by the telluric transmission,
convolved with a Gaussian line-spread function of the instrument's resolving power
(constant width in ln(wavelength) = constant R) and integrated over each detector
pixel. Ondřejov pixels are defined in air, so the fine grid is converted with
:func:`activespec.preprocessing.wavelength.vacuum_to_air` before integration.

Away from H-alpha (LAMOST only) the same source is evaluated directly at pixel
centres with analytic broadening (:meth:`SourceModel.normalised_coarse`).

Then the instrument's continuum (flux calibration residuals for LAMOST, a blaze-like
response for raw Ondřejov frames), photon and sky noise at a requested S/N, sky
subtraction residuals, pipeline masks and the defects of the ``junk-*`` subtypes
are applied (:mod:`activespec.simulator.artifacts`).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from scipy.signal import lfilter

from activespec.constants import H_ALPHA_AIR, H_ALPHA_VACUUM, R_LAMOST_LRS, R_ONDREJOV
from activespec.preprocessing.wavelength import air_to_vacuum, vacuum_to_air
from activespec.simulator import artifacts, atmosphere, profiles
from activespec.simulator.sources import SourceModel

#: LAMOST LRS log-linear vacuum grid: log10(lambda) = 3.5682 + 1e-4 * i.
LAMOST_LOG10_START = 3.5682
LAMOST_LOG10_STEP = 1e-4
LAMOST_N_PIXELS = 3909
#: Vacuum range [Å] of a LAMOST spectrum simulated at full fidelity.
LAMOST_FINE_WINDOW = (6000.0, 7000.0)
#: Ondřejov CCD700: linear air grid of 1997 pixels of ~0.2567 Å.
ONDREJOV_N_PIXELS = 1997
ONDREJOV_STEP = 0.25670607904715
ONDREJOV_GAIN = 1.07  # electrons per ADU
ONDREJOV_READ_NOISE = 7.0  # electrons per pixel
#: Fine-grid samples per LSF sigma.
OVERSAMPLE = {"LAMOST": 5.0, "Ondrejov": 5.0}
#: LAMOST pixel mask bits (ANDMASK / ORMASK).
MASK_BADCCD, MASK_BADPROFILE, MASK_NOSKY, MASK_BRIGHTSKY, MASK_BADCENTER, MASK_NODATA = (
    1,
    2,
    4,
    8,
    16,
    32,
)
#: How the noise of real LAMOST LRS spectra differs from what their inverse variance says,
#: measured on the A-K files of ``tests/data/real``: differences of pixels 1, 2 and 3 apart
#: scatter 0.55-0.65, 0.7-0.8 and 0.8-0.85 times what ivar predicts at S/N 10-20, and
#: more (0.7-0.9 at lag 1) at S/N 35-60. Two effects reproduce both trends: the pipeline
#: resamples and co-adds the exposures onto the log-linear grid, which correlates
#: neighbouring pixels (AR(1) with this lag-1 coefficient) without shrinking the reported
#: variance; and the reported variance of the sky continuum and of the read-out /
#: scattered-light floor is conservative: only this share of it is real noise. The
#: background grows relative to the target for fainter targets (flux ~ S/N**1.3 at a
#: fixed exposure), so faint spectra are noisier in ivar than in fact.
LAMOST_NOISE_CORRELATION = 0.4
LAMOST_BACKGROUND_NOISE_SHARE = 0.3
#: r-band S/N at which the sky and floor terms have their drawn size.
LAMOST_BACKGROUND_REFERENCE_SNR = 50.0
#: Filter ranges [Å] for the LAMOST S/N keywords.
LAMOST_BANDS = {
    "u": (3700.0, 4000.0),
    "g": (4000.0, 5500.0),
    "r": (5500.0, 6900.0),
    "i": (6900.0, 8400.0),
    "z": (8400.0, 9100.0),
}


def lamost_wavelengths(n_pixels: int = LAMOST_N_PIXELS) -> np.ndarray:
    """Vacuum wavelengths [Å] of the LAMOST LRS pixels."""
    return 10.0 ** (LAMOST_LOG10_START + LAMOST_LOG10_STEP * np.arange(n_pixels))


def ondrejov_wavelengths(crval1: float, cdelt1: float = ONDREJOV_STEP) -> np.ndarray:
    """Air wavelengths [Å] of the Ondřejov CCD700 pixels."""
    return crval1 + cdelt1 * np.arange(ONDREJOV_N_PIXELS)


@dataclasses.dataclass
class Observation:
    """A simulated spectrum as the instrument records it.

    Attributes
    ----------
    wave : ndarray
        Pixel wavelengths [Å] in ``medium``.
    flux : ndarray
        Observed flux (noise and defects included) in file units.
    ivar : ndarray or None
        Inverse variance (LAMOST only); 0 marks unusable pixels.
    andmask, ormask : ndarray of int32 or None
        LAMOST pixel masks.
    model : ndarray
        Noise-free flux in file units (no noise, no defects).
    continuum : ndarray
        Noise-free continuum in file units (``model / continuum`` is the normalised
        spectrum).
    medium : {"air", "vacuum"}
    snr : float
        S/N per pixel: LAMOST median S/N in r; Ondřejov continuum S/N.
    band_snr : dict
        LAMOST S/N per filter (u, g, r, i, z).
    halpha_ew : float
        Net equivalent width [Å] of the H-alpha region of the source (negative for
        emission), measured on the noise-free, intrinsic (before telluric absorption
        and LSF) fine-grid spectrum within +-30 Å of 6564.61 Å vacuum.
    defects : list of str
        Defects applied (e.g. ``"cosmic@6570.2"``).
    """

    wave: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray | None
    andmask: np.ndarray | None
    ormask: np.ndarray | None
    model: np.ndarray
    continuum: np.ndarray
    medium: str
    snr: float
    band_snr: dict
    halpha_ew: float
    defects: list


# --- shared rendering --------------------------------------------------------------------
def _pixel_edges(centres: np.ndarray, log: bool) -> np.ndarray:
    x = np.log(centres) if log else centres
    mid = 0.5 * (x[1:] + x[:-1])
    edges = np.concatenate(([2 * x[0] - mid[0]], mid, [2 * x[-1] - mid[-1]]))
    return np.exp(edges) if log else edges


def _integrate_pixels(x, y, edges):
    """Mean of ``y(x)`` over each pixel bounded by ``edges`` (trapezoidal cumulative)."""
    cumulative = np.concatenate(([0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))))
    at_edges = np.interp(edges, x, cumulative)
    return np.diff(at_edges) / np.diff(edges)


@dataclasses.dataclass(frozen=True, eq=False)
class FineGrid:
    """A fine vacuum grid uniform in ln(wavelength) with its cached helpers."""

    wave: np.ndarray
    wave_air: np.ndarray
    step_ln: float
    telluric: atmosphere.TelluricModel
    kernel: np.ndarray
    halpha: slice


@functools.lru_cache(maxsize=16)
def fine_grid(lo: float, hi: float, resolving_power: float, oversample: float) -> FineGrid:
    """Fine grid valid on ``[lo, hi]`` (vacuum Å) after LSF convolution (cached).

    The grid extends 25 Å plus six LSF widths beyond the range so that rotational
    broadening (< 450 km/s) and the LSF are complete inside it.
    """
    sigma_ln = 1.0 / (profiles.FWHM_PER_SIGMA * resolving_power)
    step = sigma_ln / oversample
    margin = 25.0 + 6.0 * hi * sigma_ln
    wave = np.exp(np.arange(np.log(lo - margin), np.log(hi + margin), step))
    wave.setflags(write=False)
    # The net H-alpha EW is measured where the classifier looks: +-30 Å of 6564.61 Å.
    halpha = slice(
        int(np.searchsorted(wave, H_ALPHA_VACUUM - 30.0)),
        int(np.searchsorted(wave, H_ALPHA_VACUUM + 30.0)),
    )
    return FineGrid(
        wave,
        vacuum_to_air(wave),
        step,
        atmosphere.TelluricModel(wave),
        profiles.gaussian_kernel(oversample),
        halpha,
    )


def render_fine(source: SourceModel, grid: FineGrid, airmass: float, water: float):
    """Evaluate ``source`` on a fine grid, apply telluric absorption and the LSF.

    Parameters
    ----------
    source : SourceModel
    grid : FineGrid
        From :func:`fine_grid`; fixes the resolving power.
    airmass, water : float
        Telluric absorption parameters (see :class:`atmosphere.TelluricModel`).

    Returns
    -------
    observed : ndarray
        Normalised spectrum after telluric absorption and LSF convolution, on ``grid.wave``.
    halpha_ew : float
        Net equivalent width [Å] of the intrinsic spectrum within +-30 Å of H-alpha.
    """
    intrinsic = source.normalised_fine(grid.wave, grid.step_ln)
    near = grid.halpha
    if near.stop - near.start > 1:
        halpha_ew = float(np.trapz(1.0 - intrinsic[near], grid.wave[near]))
    else:
        halpha_ew = 0.0
    observed = intrinsic * grid.telluric.transmission(airmass, water)
    n = len(grid.kernel) // 2
    padded = np.concatenate((np.full(n, observed[0]), observed, np.full(n, observed[-1])))
    return np.convolve(padded, grid.kernel, mode="valid"), halpha_ew


# --- LAMOST ------------------------------------------------------------------------------
_LAMOST_WAVE = lamost_wavelengths()
_LAMOST_EDGES = _pixel_edges(_LAMOST_WAVE, log=True)
_LAMOST_LSF_SIGMA = _LAMOST_WAVE / (profiles.FWHM_PER_SIGMA * R_LAMOST_LRS)
_LAMOST_SKY = atmosphere.SkyLineBasis(_LAMOST_WAVE, _LAMOST_LSF_SIGMA)


@functools.lru_cache(maxsize=4)
def _lamost_coarse_telluric(n_pixels: int) -> atmosphere.TelluricModel:
    """Telluric model on the LAMOST pixels, broadened by the LSF at 7500 Å."""
    return atmosphere.TelluricModel(
        _LAMOST_WAVE[:n_pixels], 7500.0 / (profiles.FWHM_PER_SIGMA * R_LAMOST_LRS)
    )


#: Effective LAMOST LRS throughput (detected counts per unit of calibrated flux, 1 at
#: 6500 Å) at vacuum wavelengths [Å]: the median of flux x ivar over the real LRS files of
#: ``tests/data/real`` (A-K stars, 200 Å bins, telluric bands bridged). The blue arm
#: collects ~2.5 times fewer counts than the red one, the dichroic crossover near 5700 Å
#: is a deep minimum and the red arm keeps rising to ~7500 Å. So the S/N near H-alpha is
#: ~1.25 times the median S/N over the r band (1.5 times for M dwarfs) in real files.
_LAMOST_THROUGHPUT_KNOTS = (
    (3600.0, 0.008),
    (3900.0, 0.03),
    (4100.0, 0.065),
    (4300.0, 0.115),
    (4500.0, 0.19),
    (4700.0, 0.26),
    (4900.0, 0.31),
    (5100.0, 0.36),
    (5300.0, 0.395),
    (5450.0, 0.40),
    (5600.0, 0.30),
    (5700.0, 0.21),
    (5800.0, 0.26),
    (5900.0, 0.40),
    (6100.0, 0.63),
    (6300.0, 0.78),
    (6500.0, 1.0),
    (6700.0, 1.22),
    (6900.0, 1.35),
    (7100.0, 1.48),
    (7400.0, 1.60),
    (7700.0, 1.60),
    (8000.0, 1.52),
    (8300.0, 1.40),
    (8500.0, 1.20),
    (8700.0, 1.02),
    (8900.0, 0.80),
    (9200.0, 0.55),
)


def _lamost_throughput(wave):
    """Relative system throughput of the two LAMOST arms (dichroic near 5700 Å)."""
    knots, values = zip(*_LAMOST_THROUGHPUT_KNOTS, strict=True)
    return np.interp(wave, knots, values)


_LAMOST_THROUGHPUT = _lamost_throughput(_LAMOST_WAVE)


def _lamost_calibration(rng, wave):
    """Residual flux-calibration slope/curvature and blue/red arm mismatch."""
    x = (wave - 6400.0) / 2700.0
    poly = 1.0 + rng.normal(0.0, 0.08) * x + rng.normal(0.0, 0.05) * x * x
    arm_step = 1.0 + rng.normal(0.0, 0.03) / (1.0 + np.exp(-(wave - 5900.0) / 15.0))
    return np.clip(poly, 0.3, None) * arm_step


def correlated_noise(rng: np.random.Generator, n: int, correlation: float) -> np.ndarray:
    """Stationary unit-variance AR(1) noise whose neighbouring samples correlate by ``correlation``.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Number of samples.
    correlation : float
        Lag-1 correlation coefficient, in [0, 1).

    Returns
    -------
    ndarray
        ``n`` samples; the correlation at lag k is ``correlation**k``.
    """
    innovations = rng.standard_normal(n)
    # The first sample keeps unit variance, so the series is stationary from its start.
    innovations[1:] *= np.sqrt(1.0 - correlation**2)
    return lfilter([1.0], [1.0, -correlation], innovations)


def observe_lamost(
    source: SourceModel,
    snr: float,
    rng: np.random.Generator,
    *,
    n_pixels: int = LAMOST_N_PIXELS,
    extra_ormask: bool = False,
    airmass: float | None = None,
    water: float | None = None,
) -> Observation:
    """Observe ``source`` with the LAMOST low-resolution spectrograph.

    Parameters
    ----------
    source : SourceModel
    snr : float
        Target median S/N per pixel in the r band (5500-6900 Å).
    rng : numpy.random.Generator
    n_pixels : int, optional
        Length of the spectrum (3909 in DR2+; a few DR2 plans have 3899).
    extra_ormask : bool, optional
        Sprinkle ORMASK bit 64 on a few pixels, as DR2 (pipeline 2.7) files show.
    airmass, water : float, optional
        Telluric absorption: airmass (drawn in 1-1.8) and water vapour relative to
        10 mm (drawn in 0.3-2; 0 removes the water lines and bands).

    Returns
    -------
    Observation
        Vacuum wavelengths, calibrated flux, inverse variance and masks.
    """
    wave = _LAMOST_WAVE[:n_pixels]
    edges = _LAMOST_EDGES[: n_pixels + 1]
    drawn_airmass, drawn_water = rng.uniform(1.0, 1.8), rng.uniform(0.3, 2.0)
    airmass = drawn_airmass if airmass is None else airmass
    water = drawn_water if water is None else water
    lo, hi = LAMOST_FINE_WINDOW
    grid = fine_grid(lo, hi, R_LAMOST_LRS, OVERSAMPLE["LAMOST"])
    fine, halpha_ew = render_fine(source, grid, airmass, water)
    first = int(np.searchsorted(edges, lo))  # first pixel whose blue edge is >= lo
    last = int(np.searchsorted(edges, hi, side="right")) - 1  # pixels [first, last) fit
    normalised = np.empty(n_pixels)
    normalised[first:last] = _integrate_pixels(grid.wave, fine, edges[first : last + 1])
    outside = np.ones(n_pixels, dtype=bool)
    outside[first:last] = False
    telluric = _lamost_coarse_telluric(n_pixels).transmission(airmass, water)
    normalised[outside] = source.normalised_coarse(wave[outside], R_LAMOST_LRS) * telluric[outside]

    level = 4.0 * snr**1.3 * np.exp(rng.normal(0.0, 0.3))
    continuum = (
        level * source.continuum.shape(wave, source.redshift) * _lamost_calibration(rng, wave)
    )
    model = normalised * continuum

    defects: list[str] = []
    sky_fraction = rng.uniform(0.01, 0.3)
    residual_scale, shift_scale = 0.02, 0.05
    if source.subtype == "junk-sky":
        sky_fraction = rng.uniform(5.0, 40.0)
        residual_scale, shift_scale = rng.uniform(0.03, 0.1), rng.uniform(0.1, 0.4)
        defects.append("sky-dominated")
    r_band = (wave > LAMOST_BANDS["r"][0]) & (wave < LAMOST_BANDS["r"][1])
    reference = float(np.median(np.abs(model[r_band]))) or 1.0
    line_peak = sky_fraction * reference * 20.0  # 5577 Å peak over the sky continuum
    sky_lines = line_peak * _LAMOST_SKY.spectrum()[:n_pixels]

    # Photon, sky and detector noise. In detector counts N = k T F the variance is
    # k T (F + sky) + read**2, with the read/scattered-light floor a fraction of the
    # r-band counts; every term scales with k, so k follows from the target r-band S/N.
    # The floor is what makes the blue end of red stars so noisy in real files. Sky
    # continuum and floor are drawn for an S/N 50 target and grow for fainter ones.
    faintness = (max(snr, 1.0) / LAMOST_BACKGROUND_REFERENCE_SNR) ** -1.3
    sky_continuum = faintness * sky_fraction * reference * (0.6 + 0.4 * wave / 6500.0)
    throughput = _LAMOST_THROUGHPUT[:n_pixels]
    signal = np.clip(model, 0.0, None)
    floor = faintness * rng.uniform(0.1, 0.4) * float(np.median((throughput * signal)[r_band]))
    source_per_k = (signal + sky_lines) / throughput
    background_per_k = sky_continuum / throughput + floor / throughput**2
    variance_per_k = source_per_k + background_per_k
    unit_snr = signal / np.sqrt(variance_per_k)
    k = (snr / max(float(np.median(unit_snr[r_band])), 1e-12)) ** 2
    sigma = np.sqrt(variance_per_k / k)  # what the pipeline reports
    true_sigma = np.sqrt((source_per_k + LAMOST_BACKGROUND_NOISE_SHARE * background_per_k) / k)
    noise = correlated_noise(rng, n_pixels, LAMOST_NOISE_CORRELATION)
    flux = model + true_sigma * noise
    residuals = artifacts.sky_residuals(_LAMOST_SKY, line_peak, residual_scale, shift_scale, rng)
    flux += residuals[:n_pixels]
    ivar = 1.0 / sigma**2
    andmask = np.zeros(n_pixels, dtype=np.int32)
    ormask = np.zeros(n_pixels, dtype=np.int32)

    artifacts.lamost_pipeline_masks(
        wave, model, sigma, flux, ivar, andmask, ormask, rng, extra_ormask
    )
    artifacts.apply_lamost_defects(
        source.subtype, wave, source.redshift, continuum, flux, ivar, andmask, ormask, rng, defects
    )

    band_snr = {}
    for name, (b_lo, b_hi) in LAMOST_BANDS.items():
        sel = (wave >= b_lo) & (wave < b_hi) & (ivar > 0)
        band_snr[name] = float(np.median(flux[sel] * np.sqrt(ivar[sel]))) if sel.any() else 0.0
    return Observation(
        wave=wave,
        flux=flux,
        ivar=ivar,
        andmask=andmask,
        ormask=ormask,
        model=model,
        continuum=continuum,
        medium="vacuum",
        snr=max(band_snr["r"], 0.0),
        band_snr=band_snr,
        halpha_ew=halpha_ew,
        defects=defects,
    )


# --- Ondřejov -----------------------------------------------------------------------------
#: Air range [Å] covered by every simulated Ondřejov frame (CRVAL1 in 6255-6276 Å).
ONDREJOV_RANGE = (6254.0, 6276.0 + ONDREJOV_STEP * ONDREJOV_N_PIXELS + 1.0)


def _ondrejov_normalised(source, wave_air, airmass, water):
    edges_air = _pixel_edges(wave_air, log=False)
    lo, hi = ONDREJOV_RANGE
    if edges_air[0] < lo or edges_air[-1] > hi:  # a frame outside the usual setting
        lo, hi = float(np.floor(edges_air[0])), float(np.ceil(edges_air[-1]))
    grid = fine_grid(
        float(air_to_vacuum(lo)), float(air_to_vacuum(hi)), R_ONDREJOV, OVERSAMPLE["Ondrejov"]
    )
    fine, halpha_ew = render_fine(source, grid, airmass, water)
    return _integrate_pixels(grid.wave_air, fine, edges_air), halpha_ew


def archive_pseudo_continuum(norm: np.ndarray, degree: int = 3, iterations: int = 8) -> np.ndarray:
    """Upper-envelope polynomial through a spectrum, as an archive's continuum fit draws it.

    A polynomial in pixel index is fitted repeatedly, each time to the pixels that lie
    neither more than one robust sigma below the previous fit nor three above it, so
    absorption lines and molecular band structure are rejected and the fit rides on the
    pseudo-continuum, while an emission line does not lift it.

    Parameters
    ----------
    norm : ndarray
        Spectrum of one frame (any positive units).
    degree : int, optional
        Degree of the polynomial.
    iterations : int, optional
        Rejection passes.

    Returns
    -------
    ndarray
        The fitted pseudo-continuum, same length as ``norm``.
    """
    x = np.linspace(-1.0, 1.0, norm.size)
    keep = np.ones(norm.size, dtype=bool)
    fit = np.ones_like(norm)
    for _ in range(iterations):
        fit = np.polynomial.polynomial.polyval(
            x, np.polynomial.polynomial.polyfit(x[keep], norm[keep], degree)
        )
        residual = norm - fit
        scatter = 1.4826 * float(np.median(np.abs(residual[keep] - np.median(residual[keep]))))
        scatter = max(scatter, 1e-6)
        keep = (residual > -scatter) & (residual < 3.0 * scatter)
    return fit


def _blaze(rng, n):
    """Smooth instrumental response of a raw CCD700 frame (grating + flat residuals)."""
    x = np.linspace(-1.0, 1.0, n)
    shape = 1.0 + rng.normal(-0.1, 0.08) * x + rng.normal(-0.12, 0.05) * x * x
    shape *= 1.0 + rng.normal(0.0, 0.01) * np.sin(np.pi * (3.0 * x + rng.uniform(0, 2)))
    return shape


def observe_ondrejov(
    source: SourceModel,
    snr: float,
    rng: np.random.Generator,
    *,
    normalised: bool,
    crval1: float | None = None,
    airmass: float | None = None,
    water: float | None = None,
) -> Observation:
    """Observe ``source`` with the Ondřejov 2-m CCD700 spectrograph.

    Parameters
    ----------
    source : SourceModel
    snr : float
        S/N per pixel in the continuum near H-alpha.
    rng : numpy.random.Generator
    normalised : bool
        True for the continuum-normalised SSAP product, False for a raw frame in ADU.
    crval1 : float, optional
        Air wavelength of the first pixel (drawn in 6255-6276 Å if not given).
    airmass : float, optional
        Airmass of the observation (drawn in 1-2.2 if not given).
    water : float, optional
        Water vapour column relative to 10 mm (drawn in 0.3-2.5 if not given; 0 removes
        the telluric water lines around H-alpha).

    Returns
    -------
    Observation
        Air wavelengths and either ADU (raw) or normalised flux; ``ivar`` and masks
        are None, as in the real files.
    """
    crval1 = rng.uniform(6255.0, 6276.0) if crval1 is None else crval1
    drawn_airmass, drawn_water = rng.uniform(1.0, 2.2), rng.uniform(0.3, 2.5)
    airmass = drawn_airmass if airmass is None else airmass
    water = drawn_water if water is None else water
    wave = ondrejov_wavelengths(crval1)
    norm, halpha_ew = _ondrejov_normalised(source, wave, airmass, water)
    n = len(wave)
    star = source.continuum.shape(air_to_vacuum(wave), source.redshift)
    defects: list[str] = []
    if normalised:
        if source.bands or source.pseudo_continuum is not None:
            # Cool stars have no true continuum in the frame: the archive normalises
            # them to the pseudo-continuum above their molecular bands.
            norm = norm / archive_pseudo_continuum(norm)
        # Continuum fitting by the archive leaves percent-level ripples.
        x = np.linspace(-1.0, 1.0, n)
        continuum = 1.0 + rng.normal(0.0, 0.01) * x + rng.normal(0.0, 0.008) * (x * x - 0.33)
        model = norm * continuum
        sigma = np.sqrt(np.clip(model, 1e-3, None)) / snr
        flux = model + sigma * rng.standard_normal(n)
    else:
        # Continuum level in electrons is snr**2 (photon noise dominated).
        continuum = (snr**2 / ONDREJOV_GAIN) * (star / star[n // 2]) * _blaze(rng, n)
        model = norm * continuum
        electrons = np.clip(model, 0.0, None) * ONDREJOV_GAIN
        sigma = np.sqrt(electrons + 20.0 * ONDREJOV_READ_NOISE**2) / ONDREJOV_GAIN
        flux = model + sigma * rng.standard_normal(n)
    artifacts.add_cosmic_rays(
        flux, continuum, rng, defects, wave, probability=0.35, amplitude=(0.3, 3.0)
    )
    centre = H_ALPHA_AIR * (1.0 + source.redshift)
    cont_px = np.abs(wave - centre) > 40.0
    measured = float(np.median(model[cont_px] / sigma[cont_px]))
    return Observation(
        wave=wave,
        flux=flux,
        ivar=None,
        andmask=None,
        ormask=None,
        model=model,
        continuum=continuum,
        medium="air",
        snr=measured,
        band_snr={},
        halpha_ew=halpha_ew,
        defects=defects,
    )
