"""Earth's atmosphere: telluric absorption and night-sky emission lines.

Both act in the observer's frame (no Doppler shift). Wavelengths are tabulated in
air, as in the sky-line atlases, and converted to vacuum once at import.
"""

from __future__ import annotations

import numpy as np

from activespec.preprocessing.wavelength import air_to_vacuum
from activespec.simulator import profiles

#: Water-vapour lines around H-alpha seen in Ondřejov spectra (air Å, depth at PWV 10 mm).
_H2O_AIR = (
    (6468.5, 0.02),
    (6476.0, 0.015),
    (6514.7, 0.02),
    (6516.6, 0.03),
    (6517.9, 0.02),
    (6532.4, 0.03),
    (6534.0, 0.02),
    (6543.9, 0.05),
    (6547.7, 0.04),
    (6548.6, 0.03),
    (6552.6, 0.04),
    (6557.2, 0.05),
    (6560.6, 0.02),
    (6563.5, 0.03),
    (6564.2, 0.04),
    (6568.8, 0.02),
    (6572.1, 0.06),
    (6574.8, 0.05),
    (6580.8, 0.03),
    (6586.2, 0.02),
    (6599.3, 0.03),
    (6611.6, 0.02),
    (6614.7, 0.02),
)
H2O_LINES = tuple(
    zip(air_to_vacuum([w for w, _ in _H2O_AIR]), [d for _, d in _H2O_AIR], strict=True)
)
#: O2 and H2O bands (vacuum head [Å], depth at airmass 1, e-folding length [Å]).
TELLURIC_BANDS = (
    (6869.0, 0.20, 10.0),  # O2 B band
    (7160.0, 0.06, 60.0),  # H2O
    (7596.0, 0.50, 14.0),  # O2 A band
    (8130.0, 0.06, 60.0),  # H2O
    (8950.0, 0.10, 80.0),  # H2O
)
#: Night-sky emission lines (air Å) and relative intensity.
_SKY_AIR = (
    (5577.34, 1.0),
    (5889.95, 0.35),
    (5895.92, 0.3),
    (6300.30, 0.45),
    (6363.78, 0.15),
    (6257.96, 0.08),
    (6287.43, 0.1),
    (6306.87, 0.06),
    (6329.75, 0.06),
    (6498.73, 0.1),
    (6533.04, 0.12),
    (6553.62, 0.12),
    (6577.28, 0.13),
    (6596.64, 0.1),
    (6604.28, 0.1),
    (6827.46, 0.18),
    (6834.0, 0.12),
    (6863.96, 0.25),
    (6912.62, 0.25),
    (6923.22, 0.3),
    (6939.52, 0.2),
    (6949.04, 0.25),
    (6969.93, 0.15),
    (7276.41, 0.25),
    (7316.28, 0.35),
    (7340.89, 0.35),
    (7369.25, 0.3),
    (7401.69, 0.25),
    (7750.64, 0.4),
    (7794.11, 0.4),
    (7821.50, 0.35),
    (7853.27, 0.3),
    (7913.71, 0.4),
    (7964.65, 0.4),
    (7993.33, 0.45),
    (8344.60, 0.55),
    (8399.17, 0.55),
    (8430.17, 0.5),
    (8465.21, 0.5),
    (8493.39, 0.5),
    (8827.10, 0.7),
    (8885.85, 0.7),
    (8919.63, 0.6),
    (8943.39, 0.65),
    (8958.09, 0.7),
    (8988.39, 0.6),
    (9001.11, 0.6),
    (9030.4, 0.6),
)
SKY_LINES = tuple(
    zip(air_to_vacuum([w for w, _ in _SKY_AIR]), [i for _, i in _SKY_AIR], strict=True)
)


class TelluricModel:
    """Telluric optical depths pre-computed on a fixed wavelength grid.

    The transmission is ``exp(-airmass * (tau_O2 + water * tau_H2O))``
    (Beer-Lambert with optical depth proportional to airmass and water column).

    Parameters
    ----------
    wave_vac : ndarray
        Observed vacuum wavelengths [Å], increasing.
    sigma : float, optional
        Gaussian broadening [Å] applied analytically (0 on a fine grid).
    """

    def __init__(self, wave_vac, sigma: float = 0.0):
        wave_vac = np.asarray(wave_vac, dtype=np.float64)
        self.tau_dry = np.zeros_like(wave_vac)
        self.tau_wet = np.zeros_like(wave_vac)
        for head, depth, scale in TELLURIC_BANDS:
            lo = int(np.searchsorted(wave_vac, head - 6.0 * sigma - 1.0))
            hi = int(np.searchsorted(wave_vac, head + 10.0 * scale + 6.0 * sigma))
            if hi <= lo:
                continue
            shape = profiles.band_head(wave_vac[lo:hi] - head, scale, sigma)
            tau = -np.log1p(-min(depth, 0.95) * shape)
            target = self.tau_dry if head in (6869.0, 7596.0) else self.tau_wet
            target[lo:hi] += tau
        line_sigma = 0.06  # intrinsic width of the water lines [Å]
        width = float(np.hypot(line_sigma, sigma))
        for center, depth in H2O_LINES:
            lo = int(np.searchsorted(wave_vac, center - 7.0 * width))
            hi = int(np.searchsorted(wave_vac, center + 7.0 * width))
            if hi <= lo:
                continue
            d = min(depth, 0.6) * line_sigma / width
            g = np.exp(-0.5 * ((wave_vac[lo:hi] - center) / width) ** 2)
            self.tau_wet[lo:hi] += -np.log1p(-d * g)

    def transmission(self, airmass: float, water: float):
        """Transmission in (0, 1] for ``airmass`` (>= 1) and water relative to 10 mm PWV."""
        return np.exp(-airmass * (self.tau_dry + water * self.tau_wet))


class SkyLineBasis:
    """Night-sky emission lines pre-evaluated on a fixed pixel grid.

    Evaluating some fifty Gaussians per spectrum is a hot spot of the simulator;
    on a fixed grid (LAMOST) the line shapes are computed once and every spectrum
    only re-weights them.

    Parameters
    ----------
    wave : ndarray
        Pixel vacuum wavelengths [Å], increasing.
    sigma : ndarray
        Gaussian line width (the instrument LSF) at each pixel [Å].
    """

    def __init__(self, wave, sigma):
        self.n_pixels = len(wave)
        pixels, lines, shapes, slopes = [], [], [], []
        for k, (center, _) in enumerate(SKY_LINES):
            lo = int(np.searchsorted(wave, center - 12.0))
            hi = int(np.searchsorted(wave, center + 12.0))
            if hi <= lo:
                continue
            x = (wave[lo:hi] - center) / sigma[lo:hi]
            g = np.exp(-0.5 * x * x)
            pixels.append(np.arange(lo, hi))
            lines.append(np.full(hi - lo, k))
            shapes.append(g)
            slopes.append(x * g / sigma[lo:hi])  # d(shape)/d(shift) per Å of shift
        self.pixels = np.concatenate(pixels) if pixels else np.zeros(0, int)
        self.lines = np.concatenate(lines) if lines else np.zeros(0, int)
        self.shapes = np.concatenate(shapes) if shapes else np.zeros(0)
        self.slopes = np.concatenate(slopes) if slopes else np.zeros(0)
        self.intensity = np.array([i for _, i in SKY_LINES])

    def spectrum(self, amplitudes=None, shifts=None):
        """Sum of the lines, each scaled by ``amplitudes`` and shifted by ``shifts`` [Å].

        Parameters
        ----------
        amplitudes : ndarray, optional
            Multiplier of each line of :data:`SKY_LINES` (default 1).
        shifts : ndarray, optional
            Small wavelength offsets of each line, applied to first order.

        Returns
        -------
        ndarray
            Flux with the 5577 Å line peaking at ``amplitudes[0]``.
        """
        amp = self.intensity if amplitudes is None else self.intensity * amplitudes
        weights = amp[self.lines] * self.shapes
        if shifts is not None:
            weights = weights + self.intensity[self.lines] * shifts[self.lines] * self.slopes
        return np.bincount(self.pixels, weights=weights, minlength=self.n_pixels)
