"""Fixtures for the preprocessing tests: real FITS spectra and a small physical simulator.

The real files are read here directly with astropy (layouts as described in
``tests/data/real/README.md``), so these tests do not depend on the readers in
:mod:`activespec.io`.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from astropy.io import fits

from activespec.constants import H_ALPHA_VACUUM, HE_I_6678_VACUUM, R_LAMOST_LRS, R_ONDREJOV
from activespec.preprocessing.resolution import FWHM_PER_SIGMA
from activespec.preprocessing.wavelength import air_to_vacuum
from activespec.spectrum import Spectrum, SpectrumMeta

REAL_DIR = pathlib.Path(__file__).resolve().parents[1] / "data" / "real"

#: LAMOST LRS log-linear wavelength solution: log10(λ) = 3.5682 + 1e-4 · i.
LAMOST_LOG_START = 3.5682
LAMOST_LOG_STEP = 1e-4
LAMOST_PIXELS = 3909
#: Ondřejov CCD700 linear air wavelengths (from oe270005.fits).
ONDREJOV_START_AIR = 6265.01713266358
ONDREJOV_STEP = 0.25670607904715
ONDREJOV_PIXELS = 1997


# ----------------------------------------------------------------------------- real files
def read_lamost_lrs(path: pathlib.Path) -> Spectrum:
    """A LAMOST LRS DR1-DR8 5 x N image as a Spectrum (bad = ivar <= 0 or ANDMASK set)."""
    with fits.open(path) as hdul:
        header = hdul[0].header
        data = np.asarray(hdul[0].data, dtype=np.float64)
    flux, ivar, row2, and_mask = data[0], data[1], data[2], data[3]
    if np.nanmax(row2) > 1000.0:  # DR2 and later: the third row is the wavelength
        wave = row2
    else:  # DR1: third row is the continuum-normalised flux, wavelength from COEFF0/COEFF1
        wave = 10.0 ** (header["COEFF0"] + header["COEFF1"] * np.arange(flux.size))
    meta = SpectrumMeta(
        spectrum_id=path.stem,
        survey="LAMOST",
        instrument="LAMOST-LRS",
        layout="test-lamost-lrs-image",
        source=str(path),
        designation=header.get("DESIG"),
        lamost_class=header.get("CLASS"),
        lamost_subclass=header.get("SUBCLASS"),
        resolving_power=R_LAMOST_LRS,
    )
    mask = ~(ivar > 0) | (and_mask != 0)
    return Spectrum(wave=wave, flux=flux, ivar=ivar, mask=mask, medium="vacuum", meta=meta)


def read_ondrejov_image(path: pathlib.Path) -> Spectrum:
    """An Ondřejov CCD700 1-D IRAF image (air, linear CRVAL1/CDELT1) as a Spectrum."""
    with fits.open(path) as hdul:
        header = hdul[0].header
        flux = np.asarray(hdul[0].data, dtype=np.float64)
    pixel = np.arange(flux.size) + 1.0
    wave = header["CRVAL1"] + header["CDELT1"] * (pixel - header.get("CRPIX1", 1.0))
    meta = SpectrumMeta(
        spectrum_id=path.stem,
        survey="Ondrejov",
        instrument="Ondrejov-CCD700",
        layout="test-ondrejov-image",
        source=str(path),
        designation=header.get("OBJECT"),
        resolving_power=R_ONDREJOV,
    )
    mask = np.zeros(flux.size, dtype=bool)
    return Spectrum(wave=wave, flux=flux, ivar=None, mask=mask, medium="air", meta=meta)


@pytest.fixture(scope="session")
def lamost_a5v() -> Spectrum:
    """LAMOST DR2 A5V star: deep, broad H-alpha absorption."""
    return read_lamost_lrs(REAL_DIR / "lamost" / "spec-56257-GAC089N38V2_sp01-001.fits")


@pytest.fixture(scope="session")
def lamost_zero_flux() -> Spectrum:
    """LAMOST DR1 K7 star whose flux is zero (ivar 0, masked) across H-alpha."""
    return read_lamost_lrs(REAL_DIR / "lamost" / "spec-55862-B6212_sp06-145.fits")


@pytest.fixture(scope="session")
def ondrejov_hd208905() -> Spectrum:
    """Ondřejov 2m CCD700 spectrum of HD 208905 (B1V, absorption), ADU, air."""
    return read_ondrejov_image(REAL_DIR / "ondrejov" / "oe270005.fits")


# ----------------------------------------------------------------------------- simulator
def gaussian(wave, center, sigma, amplitude=1.0):
    return amplitude * np.exp(-0.5 * ((wave - center) / sigma) ** 2)


def lamost_wave() -> np.ndarray:
    return 10.0 ** (LAMOST_LOG_START + LAMOST_LOG_STEP * np.arange(LAMOST_PIXELS))


def ondrejov_wave_air() -> np.ndarray:
    return ONDREJOV_START_AIR + ONDREJOV_STEP * np.arange(ONDREJOV_PIXELS)


#: (centre [Å vacuum], depth, intrinsic σ [Å]) of an A star's lines; negative depth = emission.
A_STAR_LINES = ((H_ALPHA_VACUUM, 0.55, 6.0), (HE_I_6678_VACUUM, 0.1, 1.5))
#: A Be star: the photospheric trough plus a narrow, strong single-peaked emission.
BE_STAR_LINES = (
    (H_ALPHA_VACUUM, 0.4, 6.0),
    (H_ALPHA_VACUUM, -1.5, 1.2),
    (HE_I_6678_VACUUM, 0.1, 1.5),
)


def star_flux(wave_vacuum: np.ndarray, resolving_power: float, lines=A_STAR_LINES) -> np.ndarray:
    """Noise-free stellar spectrum seen at ``resolving_power``.

    A sloped continuum times (1 - sum of Gaussian lines); each line is convolved
    with the Gaussian line-spread function of FWHM λ/R analytically (variances
    add, equivalent width is conserved).
    """
    continuum = 1.0 + 0.25 * (wave_vacuum - 6625.0) / 100.0
    profile = np.zeros_like(wave_vacuum)
    for center, depth, sigma in lines:
        sigma_lsf = center / resolving_power / FWHM_PER_SIGMA
        sigma_total = np.hypot(sigma, sigma_lsf)
        profile += gaussian(wave_vacuum, center, sigma_total, depth * sigma / sigma_total)
    return continuum * (1.0 - profile)


def make_spectrum(
    wave,
    flux,
    *,
    medium="vacuum",
    ivar=None,
    mask=None,
    resolving_power=None,
    survey="simulated",
) -> Spectrum:
    wave = np.asarray(wave, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    meta = SpectrumMeta(
        spectrum_id="sim-1",
        survey=survey,
        instrument="simulated",
        layout="simulated",
        source="<memory>",
        resolving_power=resolving_power,
    )
    mask = np.zeros(wave.size, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    return Spectrum(wave=wave, flux=flux, ivar=ivar, mask=mask, medium=medium, meta=meta)


@pytest.fixture()
def simulated_lamost_a_star() -> Spectrum:
    """The A star at R = 1,800 on the LAMOST log-linear vacuum grid, flux ~ 300, with ivar."""
    wave = lamost_wave()
    flux = 300.0 * star_flux(wave, R_LAMOST_LRS)
    return make_spectrum(
        wave, flux, ivar=np.full(wave.size, 0.01), resolving_power=R_LAMOST_LRS, survey="LAMOST"
    )


@pytest.fixture()
def simulated_ondrejov_a_star() -> Spectrum:
    """The same A star at R = 13,000 on the Ondřejov linear air grid, in ADU (~1e5)."""
    wave_air = ondrejov_wave_air()
    flux = 1.0e5 * star_flux(air_to_vacuum(wave_air), R_ONDREJOV)
    return make_spectrum(
        wave_air, flux, medium="air", resolving_power=R_ONDREJOV, survey="Ondrejov"
    )
