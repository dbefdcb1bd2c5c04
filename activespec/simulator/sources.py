"""Astrophysical sources of the simulated survey: what arrives at the telescope.

A :class:`SourceModel` describes one object as a continuum shape times a
continuum-normalised spectrum built from line components, all at rest-frame
**vacuum** wavelengths, plus a redshift (``rv / c`` for stars). It can be
evaluated in two ways that describe the same spectrum:

* :meth:`SourceModel.normalised_fine` on a fine grid uniform in ln(wavelength):
  photospheric lines are rotationally broadened by numerical convolution and
  circumstellar/nebular components are added unbroadened; the instrument then
  convolves with its line-spread function (see :mod:`activespec.simulator.instruments`).
* :meth:`SourceModel.normalised_coarse` directly on instrument pixels, with the
  rotational and instrumental broadening applied analytically to each line; used
  for the parts of a LAMOST spectrum far from H-alpha.

Object subtypes and their classes
---------------------------------
Every object has a ``subtype`` and a class among :data:`activespec.constants.DEFAULT_CLASSES`
given by :data:`SUBTYPE_CLASS`:

=================  ============  ===============================================================
subtype            class         H-alpha region
=================  ============  ===============================================================
``B``              other         rotationally broadened absorption (EW 2.5-5 Å), He I 6678, C II
``A``              other         deep absorption, EW 8-15 Å, broad Stark (Lorentzian) wings
``FGK``            other         EW 0.7-4 Å rising with Teff, metal lines, weak TiO in late K
``M``              other         weak absorption on TiO/CaH bands (heads 6159, 6651, 6714 Å ...)
``galaxy``         other         redshifted galaxy, no emission line within 15 Å of H-alpha
``qso``            other         redshifted broad-line QSO, no broad line at H-alpha
``junk-cosmic``    other         normal star with an unflagged 1-2 px cosmic-ray spike near H-alpha
``junk-sky``       other         faint fibre dominated by sky-subtraction residuals
``junk-zero``      other         zero-flux segment across H-alpha (ivar = 0, mostly ANDMASK'ed)
``junk-badcol``    other         bad CCD columns near H-alpha (flagged, ivar = 0, garbage flux)
``junk-lowsnr``    other         normal star at S/N 1-3
``be-single``      emission      single-peaked emission (EW -1 to -60 Å) on a B-star trough
``be-weak``        emission      weak emission (EW -0.5 to -2.5 Å) filling in the absorption trough
``dme``            emission      narrow emission on an M dwarf
``nebular``        emission      star + narrow nebular H-alpha, [N II] 6548/6583, [S II] 6716/6731
``galaxy-halpha``  emission      galaxy with an emission line within a few Å of H-alpha
``qso-halpha``     emission      QSO with a redshifted broad line on H-alpha
``be-double``      double-peak   Keplerian-disk profile, peak separation 4-14 Å, V/R 0.7-1.4
``be-shell``       double-peak   disk profile with deep central shell absorption
=================  ============  ===============================================================

The rule behind the table: *emission* is any single-peaked (or unresolved)
emission at the H-alpha position, including dMe stars, weak fill-in, nebular
lines and redshifted galaxy/QSO lines that happen to fall on H-alpha;
*double-peak* is a resolved double-peaked disk profile including shell profiles;
everything else, including galaxies and QSOs whose lines lie elsewhere, is
*other*.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.signal import fftconvolve

from activespec.constants import H_ALPHA_VACUUM
from activespec.preprocessing.wavelength import air_to_vacuum
from activespec.simulator import profiles
from activespec.simulator.profiles import C_KMS

#: subtype -> true class (see the module docstring for the rule).
SUBTYPE_CLASS: dict[str, str] = {
    "B": "other",
    "A": "other",
    "FGK": "other",
    "M": "other",
    "galaxy": "other",
    "qso": "other",
    "junk-cosmic": "other",
    "junk-sky": "other",
    "junk-zero": "other",
    "junk-badcol": "other",
    "junk-lowsnr": "other",
    "be-single": "emission",
    "be-weak": "emission",
    "dme": "emission",
    "nebular": "emission",
    "galaxy-halpha": "emission",
    "qso-halpha": "emission",
    "be-double": "double-peak",
    "be-shell": "double-peak",
}

JUNK_SUBTYPES = tuple(s for s in SUBTYPE_CLASS if s.startswith("junk-"))

# --- rest-frame vacuum wavelengths [Å] -------------------------------------------------
H_ALPHA = H_ALPHA_VACUUM
BALMER = (6564.614, 4862.691, 4341.691, 4102.899, 3971.202, 3890.158)
#: EW of the higher Balmer lines relative to H-alpha in early-type stars.
BALMER_RATIO = (1.0, 1.15, 1.05, 0.95, 0.75, 0.55)
HE_I = tuple(air_to_vacuum([4026.19, 4471.48, 4921.93, 5015.68, 5875.62, 6678.15, 7065.19]))
HE_I_REL = (0.8, 1.0, 0.6, 0.4, 1.0, 0.7, 0.5)
C_II = tuple(air_to_vacuum([6578.05, 6582.88]))
SI_II = tuple(air_to_vacuum([6347.11, 6371.37]))
MG_II_4481 = float(air_to_vacuum(4481.13))
FE_II_BE = tuple(air_to_vacuum([6317.99, 6383.72, 6432.68, 6456.38, 6516.08]))
N_II = (6549.859, 6585.269)
S_II = (6718.294, 6732.678)
O_III = (4960.295, 5008.240)
O_II = (3727.092, 3729.875)
O_I = (6302.046, 6365.536)
CA_II_HK = tuple(air_to_vacuum([3933.66, 3968.47]))
CA_II_IRT = tuple(air_to_vacuum([8498.02, 8542.09, 8662.14]))
NA_D = tuple(air_to_vacuum([5889.95, 5895.92]))
MG_B = tuple(air_to_vacuum([5167.32, 5172.68, 5183.60]))
CA_I_4227 = float(air_to_vacuum(4226.73))
G_BAND = float(air_to_vacuum(4305.0))
QSO_LINES = {  # rest vacuum wavelength: (rest EW [Å], broad?)
    1215.67: (-70.0, True),
    1240.14: (-10.0, True),
    1549.06: (-30.0, True),
    1908.73: (-20.0, True),
    2798.75: (-30.0, True),
    4341.69: (-30.0, True),
    4862.69: (-60.0, True),
    4960.30: (-5.0, False),
    5008.24: (-15.0, False),
    6564.61: (-250.0, True),
}

#: Metal lines of cool stars (air Å) with their EW [Å] in a K0 dwarf at Teff ~ 5200 K.
_METAL_LINES_AIR = (
    (6102.72, 0.15),
    (6122.22, 0.22),
    (6136.61, 0.13),
    (6137.69, 0.12),
    (6141.71, 0.15),
    (6154.23, 0.04),
    (6155.13, 0.06),
    (6160.75, 0.06),
    (6162.17, 0.25),
    (6166.44, 0.07),
    (6169.04, 0.09),
    (6169.56, 0.10),
    (6191.56, 0.13),
    (6230.72, 0.14),
    (6252.56, 0.13),
    (6265.13, 0.08),
    (6318.02, 0.08),
    (6335.33, 0.09),
    (6393.60, 0.14),
    (6400.00, 0.14),
    (6411.65, 0.10),
    (6421.35, 0.10),
    (6430.85, 0.10),
    (6439.08, 0.18),
    (6462.57, 0.20),
    (6493.78, 0.12),
    (6494.98, 0.18),
    (6496.90, 0.12),
    (6499.65, 0.09),
    (6516.08, 0.05),
    (6518.37, 0.07),
    (6533.93, 0.05),
    (6546.24, 0.11),
    (6551.68, 0.03),
    (6569.21, 0.08),
    (6575.02, 0.07),
    (6581.21, 0.03),
    (6586.31, 0.04),
    (6592.91, 0.11),
    (6593.87, 0.09),
    (6597.56, 0.045),
    (6598.60, 0.025),
    (6604.60, 0.035),
    (6609.11, 0.07),
    (6627.54, 0.03),
    (6633.75, 0.05),
    (6635.12, 0.025),
    (6643.63, 0.10),
    (6663.44, 0.06),
    (6677.99, 0.14),
    (6696.02, 0.04),
    (6698.67, 0.02),
    (6703.57, 0.05),
    (6705.10, 0.05),
    (6710.32, 0.03),
    (6713.74, 0.025),
    (6717.68, 0.14),
    (6721.85, 0.04),
    (6725.36, 0.02),
    (6726.67, 0.05),
    (6733.15, 0.03),
    (6750.15, 0.08),
    (6752.71, 0.03),
    (6767.77, 0.08),
    (6810.26, 0.06),
    (6945.20, 0.07),
    (6978.85, 0.08),
    (5269.54, 0.35),
    (5328.04, 0.30),
    (5528.40, 0.25),
    (5270.39, 0.25),
    (4383.55, 0.40),
    (4404.75, 0.30),
    (7699.0, 0.15),
    (7664.9, 0.20),
    (8183.26, 0.10),
    (8194.82, 0.12),
)
METAL_LINES = tuple(
    (float(w), ew)
    for w, ew in zip(
        air_to_vacuum([w for w, _ in _METAL_LINES_AIR]),
        [e for _, e in _METAL_LINES_AIR],
        strict=True,
    )
)
#: Low-excitation lines of neutral atoms (air Å) with their EW [Å] in a K0 dwarf; they
#: strengthen much faster towards cooler stars than the lines above (see ``cool_line_boost``).
_COOL_LINES_AIR = (
    (6258.10, 0.05),
    (6261.10, 0.05),
    (6554.22, 0.04),
    (6556.06, 0.03),
    (6572.78, 0.07),
    (6599.11, 0.02),
    (6743.12, 0.02),
)
COOL_LINES = tuple(
    (float(w), ew)
    for w, ew in zip(
        air_to_vacuum([w for w, _ in _COOL_LINES_AIR]),
        [e for _, e in _COOL_LINES_AIR],
        strict=True,
    )
)

#: Molecular bands of M and late-K dwarfs: (head [vacuum Å], optical depth at the head,
#: e-folding length of the absorption redward of the head [Å]) at TiO strength 1 (an M2
#: dwarf, Teff ~ 3560 K). Heads are the laboratory TiO alpha, gamma' and gamma band heads
#: (air 4955-7666 Å), the TiO delta/epsilon heads near 8206-8859 Å and the CaH bands at
#: 6382 and 6750-6908 Å. Depths and lengths are fitted (least squares, robust loss) to the
#: M0-M2 LAMOST LRS spectra of ``tests/data/real`` with a Planck continuum, the
#: pseudo-continuum below and the atomic lines of :func:`population.draw_m`: at LAMOST
#: resolution the gamma bands at 6651, 6681 and 6714 Å and the CaH band at 6750 Å overlap
#: into a staircase that declines for ~300 Å before recovering towards the 7054 Å head.
_MOLECULAR_BANDS_AIR = (
    (4955.0, 0.30, 450.0),
    (5167.0, 0.64, 23.0),
    (5448.0, 0.34, 437.0),
    (5847.0, 0.79, 97.0),
    (6159.0, 0.50, 182.0),
    (6187.0, 0.19, 79.0),
    (6215.0, 0.38, 55.0),
    (6269.0, 0.13, 16.0),
    (6382.0, 0.41, 11.0),
    (6569.0, 0.13, 396.0),
    (6596.0, 0.10, 401.0),
    (6629.0, 0.15, 244.0),
    (6651.0, 0.18, 233.0),
    (6681.0, 0.22, 278.0),
    (6714.0, 0.23, 303.0),
    (6750.0, 0.19, 280.0),
    (6815.0, 0.27, 103.0),
    (6908.0, 0.11, 41.0),
    (7054.0, 0.21, 78.0),
    (7088.0, 0.36, 49.0),
    (7126.0, 0.48, 124.0),
    (7589.0, 0.10, 70.0),
    (7666.0, 0.30, 293.0),
    (8206.0, 0.12, 450.0),
    (8432.0, 0.09, 450.0),
    (8859.0, 0.09, 159.0),
)
TIO_BANDS = tuple(
    (float(w), tau, scale)
    for w, (_, tau, scale) in zip(
        air_to_vacuum([w for w, _, _ in _MOLECULAR_BANDS_AIR]), _MOLECULAR_BANDS_AIR, strict=True
    )
)
#: Smooth molecular pseudo-continuum of M dwarfs at TiO strength 1: optical depth at
#: vacuum wavelengths [Å] (linear in between, constant blueward, 0 redward). The blend of
#: unresolved TiO lines makes an M2 dwarf ~25 % fainter at 6550 Å than its 7500 Å peak
#: suggests; fitted together with :data:`TIO_BANDS`.
TIO_PSEUDO_CONTINUUM = (
    (4500.0, 1.05),
    (5000.0, 1.03),
    (5500.0, 0.66),
    (6000.0, 0.50),
    (6250.0, 0.46),
    (6500.0, 0.31),
    (6750.0, 0.05),
    (7000.0, 0.00),
)


@dataclasses.dataclass(frozen=True)
class Line:
    """A spectral line with a Voigt profile.

    Attributes
    ----------
    center : float
        Rest-frame vacuum wavelength [Å].
    ew : float
        Equivalent width [Å]: positive for absorption, negative for emission.
    sigma : float
        Gaussian standard deviation [Å].
    gamma : float
        Lorentzian half width [Å] (0 for a Gaussian).
    """

    center: float
    ew: float
    sigma: float
    gamma: float = 0.0

    def reach(self, extra_sigma: float = 0.0) -> float:
        """Half-width [Å] beyond which the profile is negligible."""
        return 7.0 * float(np.hypot(self.sigma, extra_sigma)) + 60.0 * self.gamma


@dataclasses.dataclass(frozen=True)
class Band:
    """A molecular band: sharp head at ``head`` [Å, rest vacuum] degrading to the red.

    The optical depth is ``optical_depth`` at the head and falls off redward with the
    e-folding length ``scale`` [Å], so overlapping bands multiply.
    """

    head: float
    optical_depth: float
    scale: float

    def reach(self, extra_sigma: float = 0.0) -> tuple[float, float]:
        """(blueward, redward) half-widths [Å] outside which the band is negligible."""
        return 6.0 * extra_sigma, 10.0 * self.scale + 6.0 * extra_sigma

    def transmission(self, x, extra_sigma: float = 0.0):
        """Transmitted fraction at offsets ``x`` [Å] from the head."""
        return np.exp(-self.optical_depth * profiles.band_head(x, self.scale, extra_sigma))


@dataclasses.dataclass(frozen=True)
class PseudoContinuum:
    """Smooth absorption by unresolved molecular lines, as optical depth at knots.

    Attributes
    ----------
    wave : tuple of float
        Rest vacuum wavelengths [Å] of the knots, increasing.
    optical_depth : tuple of float
        Optical depth at the knots; linear in between, the first value blueward and the
        last one redward.
    """

    wave: tuple
    optical_depth: tuple

    def transmission(self, rest):
        """Transmitted fraction at rest vacuum wavelengths ``rest`` [Å]."""
        return np.exp(-np.interp(rest, self.wave, self.optical_depth))


class DiskEmission:
    """Double-peaked H-alpha emission of a Be-star decretion disk, optionally with a shell.

    The profile is a Keplerian-disk profile (:func:`profiles.keplerian_disk_profile`)
    tilted to the requested V/R ratio, times a shell absorption if requested, and
    scaled in wavelength so that its two peaks are exactly ``separation`` apart.

    Parameters
    ----------
    center : float
        Rest vacuum wavelength of the line [Å].
    ew : float
        Equivalent width of the emission [Å] (negative).
    separation : float
        Distance between the violet and red peaks [Å, rest frame].
    v_over_r : float
        Height of the violet peak over the red one.
    outer_radius : float
        Disk outer radius in units of the stellar radius.
    emissivity_index : float
        Emissivity power-law index.
    local_sigma : float
        Local line broadening in units of the outer-edge velocity.
    shell_depth : float, optional
        Fractional depth (0-1) of the central shell absorption; 0 for none.
    shell_sigma : float, optional
        Width of the shell absorption in units of the outer-edge velocity.
    """

    #: Share of the emission given extra broadening, and that broadening (units of u).
    WING_FRACTION = 0.35
    WING_SIGMA = 0.3

    def __init__(
        self,
        center: float,
        ew: float,
        separation: float,
        v_over_r: float,
        outer_radius: float,
        emissivity_index: float,
        local_sigma: float,
        shell_depth: float = 0.0,
        shell_sigma: float = 0.15,
    ):
        self.center = center
        self.ew = ew
        self.separation = separation
        self.v_over_r = v_over_r
        self.shell_depth = shell_depth
        self.shell_sigma = shell_sigma
        reach = np.sqrt(outer_radius) + 6.0 * max(local_sigma, self.WING_SIGMA)
        self._u = np.linspace(-reach, reach, 4001)
        base = profiles.keplerian_disk_profile(self._u, outer_radius, emissivity_index, local_sigma)
        # Electron scattering and non-Keplerian motions smooth the wings: a share of
        # the emission is broadened further, so the profile has no sharp inner-edge step.
        du = self._u[1] - self._u[0]
        smooth = fftconvolve(base, profiles.gaussian_kernel(self.WING_SIGMA / du), mode="same")
        base = (1.0 - self.WING_FRACTION) * base + self.WING_FRACTION * smooth
        u_peak = abs(self._u[np.argmax(np.where(self._u < 0, base, -np.inf))])
        # Linear tilt (1 + t u) giving the requested ratio of the peak heights.
        tilt = (1.0 - v_over_r) / (u_peak * (1.0 + v_over_r))
        tilted = np.clip(base * (1.0 + tilt * self._u), 0.0, None)
        self._profile = tilted / (tilted.sum() * (self._u[1] - self._u[0]))
        blue, red = self._peaks(self._profile * self._shell(self._u))
        #: Å per unit of u, chosen so that the observed peaks are ``separation`` apart.
        self.scale = separation / (red - blue)

    def _shell(self, u):
        if self.shell_depth <= 0.0:
            return np.ones_like(u)
        return 1.0 - self.shell_depth * np.exp(-0.5 * (u / self.shell_sigma) ** 2)

    def _peaks(self, y):
        """Sub-grid positions of the highest maximum left and right of the centre."""
        u = self._u
        positions = []
        for side in (u < 0.0, u > 0.0):
            i = int(np.argmax(np.where(side, y, -np.inf)))
            i = min(max(i, 1), len(u) - 2)
            y0, y1, y2 = y[i - 1], y[i], y[i + 1]
            denom = y0 - 2.0 * y1 + y2
            shift = 0.5 * (y0 - y2) / denom if denom != 0.0 else 0.0
            positions.append(u[i] + shift * (u[1] - u[0]))
        return positions[0], positions[1]

    def reach(self) -> float:
        return float(self._u[-1] * self.scale)

    def emission(self, x):
        """Emission above the continuum (normalised units) at offsets ``x`` [Å]."""
        u = x / self.scale
        return -self.ew * np.interp(u, self._u, self._profile, left=0.0, right=0.0) / self.scale

    def transmission(self, x):
        """Shell transmission (multiplies the whole normalised spectrum)."""
        return self._shell(x / self.scale)


@dataclasses.dataclass
class Continuum:
    """Continuum shape, normalised to about 1 near H-alpha.

    ``kind`` is ``"planck"`` (stars; ``teff``), ``"galaxy"`` (old population with a
    4000 Å break plus a young fraction), ``"qso"`` (power law of slope ``alpha``
    in f_lambda) or ``"flat"``. ``a_v`` is the foreground extinction [mag].
    """

    kind: str
    teff: float = 5800.0
    a_v: float = 0.0
    alpha: float = -1.5
    young_fraction: float = 0.0

    def shape(self, wave_obs, redshift: float = 0.0):
        """Continuum at observed wavelengths ``wave_obs`` [Å], 1 at observed 6564.6 Å."""
        wave_obs = np.asarray(wave_obs, dtype=np.float64)
        ref = self._rest_shape(np.array([H_ALPHA / (1.0 + redshift)]))[0]
        out = self._rest_shape(wave_obs / (1.0 + redshift)) / ref
        return (
            out
            * profiles.extinction_factor(wave_obs, self.a_v)
            / float(profiles.extinction_factor(np.array([H_ALPHA]), self.a_v)[0])
        )

    def _rest_shape(self, rest):
        if self.kind == "planck":
            return profiles.planck_shape(rest, self.teff)
        if self.kind == "galaxy":
            old = profiles.planck_shape(rest, 4600.0)
            old = old * (0.5 + 0.5 / (1.0 + np.exp(-(rest - 4000.0) / 30.0)))  # 4000 Å break
            return old + self.young_fraction * profiles.planck_shape(rest, 15000.0)
        if self.kind == "qso":
            out = (rest / 3000.0) ** self.alpha
            return np.where(rest < 1216.0, 0.55 * out, out)  # mean Ly-alpha forest decrement
        return np.ones_like(rest)


@dataclasses.dataclass
class SourceModel:
    """One simulated object.

    Attributes
    ----------
    subtype : str
        Key of :data:`SUBTYPE_CLASS`.
    redshift : float
        Doppler shift (``rv / c`` for stars, cosmological z for galaxies/QSOs).
    continuum : Continuum
    vsini : float
        Projected rotation velocity [km/s] applied to ``photosphere`` and ``bands``.
    photosphere : list of Line
        Stellar absorption lines (rotationally broadened).
    bands : list of Band
        Molecular bands (rotationally broadened).
    pseudo_continuum : PseudoContinuum or None
        Smooth molecular absorption of cool stars.
    circumstellar : list of Line
        Emission and shell/nebular lines that are not rotationally broadened.
    disks : list of DiskEmission
    lamost_class, lamost_subclass, objtype : str
        What the LAMOST pipeline and input catalogue would call the object.
    teff : float or None
    params : dict
        Drawn parameters worth recording (e.g. ``peak_separation``).
    """

    subtype: str
    redshift: float
    continuum: Continuum
    vsini: float = 0.0
    photosphere: list = dataclasses.field(default_factory=list)
    bands: list = dataclasses.field(default_factory=list)
    pseudo_continuum: PseudoContinuum | None = None
    circumstellar: list = dataclasses.field(default_factory=list)
    disks: list = dataclasses.field(default_factory=list)
    lamost_class: str = "STAR"
    lamost_subclass: str = "Non"
    objtype: str = "Star"
    teff: float | None = None
    params: dict = dataclasses.field(default_factory=dict)

    @property
    def label(self) -> str:
        return SUBTYPE_CLASS[self.subtype]

    def calibrate_disk_peaks(self, iterations: int = 3) -> None:
        """Rescale disk profiles so the *whole* H-alpha profile peaks ``separation`` apart.

        The photospheric absorption trough under a disk-emission profile tilts its
        horns outward; without this step the observed peak separation of a weak or
        broad double peak would exceed the drawn one by up to about 1 Å. The whole
        intrinsic profile (rotated photosphere, disk, shell) is evaluated on a
        0.026 Å grid and the disk's wavelength scale is corrected by fixed-point
        iteration.
        """
        step = 4e-6
        for disk in self.disks:
            lo, hi = np.log(disk.center - 50.0), np.log(disk.center + 50.0)
            rest = np.exp(np.arange(lo, hi, step))
            for _ in range(iterations):
                profile = self.normalised_fine(rest * (1.0 + self.redshift), step)
                near = np.abs(rest - disk.center) < disk.separation
                blue = _peak_position(rest, profile, near & (rest < disk.center))
                red = _peak_position(rest, profile, near & (rest > disk.center))
                if not (np.isfinite(blue) and np.isfinite(red)) or red <= blue:
                    break
                disk.scale *= disk.separation / (red - blue)

    # -- evaluation --------------------------------------------------------------------
    def normalised_fine(self, wave_obs, step_ln: float):
        """Continuum-normalised spectrum on a fine grid uniform in ln(wavelength).

        Parameters
        ----------
        wave_obs : ndarray
            Observed-frame vacuum wavelengths [Å], uniform in ln.
        step_ln : float
            The grid step in ln(wavelength).

        Returns
        -------
        ndarray
            Normalised flux (continuum = 1) before the instrument.
        """
        rest = np.asarray(wave_obs, dtype=np.float64) / (1.0 + self.redshift)
        photosphere = np.ones_like(rest)
        # Widths are floored at the grid step (in quadrature) so that no line is
        # undersampled and every equivalent width is preserved.
        _add_lines(photosphere, rest, self.photosphere, step_ln)
        np.clip(photosphere, 0.02, None, out=photosphere)
        for band in self.bands:
            _mul_local(photosphere, rest, band.head, *band.reach(), band.transmission)
        if self.pseudo_continuum is not None:
            photosphere *= self.pseudo_continuum.transmission(rest)
        kernel = profiles.rotation_kernel(self.vsini, step_ln)
        if kernel is not None:
            photosphere = _convolve_same(photosphere, kernel)
        flux = photosphere
        _add_lines(flux, rest, self.circumstellar, step_ln)
        for disk in self.disks:
            _add_local(flux, rest, disk.center, disk.reach(), disk.emission)
        for disk in self.disks:
            if disk.shell_depth > 0.0:
                reach = disk.reach()
                _mul_local(flux, rest, disk.center, reach, reach, disk.transmission)
        return np.clip(flux, 0.0, None, out=flux)

    def normalised_coarse(self, wave_obs, resolving_power: float):
        """Continuum-normalised spectrum evaluated directly at pixel centres.

        Rotation and the Gaussian line-spread function of resolving power
        ``resolving_power`` are applied analytically to every component, so no
        fine grid is needed. Disk profiles are approximated by Gaussians of the
        same area and width (this path is used away from H-alpha only).
        """
        rest = np.asarray(wave_obs, dtype=np.float64) / (1.0 + self.redshift)
        lsf = 1.0 / (profiles.FWHM_PER_SIGMA * resolving_power)  # sigma in ln(lambda)
        rot = 0.47 * self.vsini / C_KMS
        photospheric = float(np.hypot(lsf, rot))
        flux = np.ones_like(rest)
        _add_lines(flux, rest, self.photosphere, photospheric)
        np.clip(flux, 0.02, None, out=flux)
        for band in self.bands:
            extra = band.head * photospheric
            _mul_local(
                flux,
                rest,
                band.head,
                *band.reach(extra),
                lambda x, b=band, e=extra: b.transmission(x, e),
            )
        if self.pseudo_continuum is not None:
            flux *= self.pseudo_continuum.transmission(rest)
        disks = [Line(d.center, d.ew, 0.5 * d.separation) for d in self.disks]
        _add_lines(flux, rest, self.circumstellar + disks, lsf)
        return np.clip(flux, 0.0, None, out=flux)


def _peak_position(x, y, where) -> float:
    """Sub-sample position of the maximum of ``y`` among ``where`` (NaN if none)."""
    if not where.any():
        return float("nan")
    i = int(np.argmax(np.where(where, y, -np.inf)))
    if i == 0 or i == len(y) - 1:
        return float(x[i])
    y0, y1, y2 = y[i - 1], y[i], y[i + 1]
    denom = y0 - 2.0 * y1 + y2
    shift = 0.5 * (y0 - y2) / denom if denom != 0.0 else 0.0
    return float(x[i] + shift * 0.5 * (x[i + 1] - x[i - 1]))


def _add_lines(flux, rest, lines, extra_ln: float) -> None:
    """Add the contributions of ``lines`` to ``flux`` (in place).

    ``extra_ln`` is an additional Gaussian broadening in ln(wavelength) units, so a
    line at ``c`` gets ``c * extra_ln`` Å added in quadrature to its Gaussian width.
    """
    if not lines:
        return
    params = np.array([(ln.center, ln.ew, ln.sigma, ln.gamma) for ln in lines])
    centers, ews, sigmas, gammas = params.T
    sigmas = np.hypot(sigmas, centers * extra_ln)
    reach = 7.0 * sigmas + 60.0 * gammas
    los = rest.searchsorted(centers - reach)
    his = rest.searchsorted(centers + reach)
    present = his > los
    voigt = present & (gammas > 0.0)
    for i in np.flatnonzero(voigt):
        lo, hi = los[i], his[i]
        flux[lo:hi] -= ews[i] * profiles.pseudo_voigt(
            rest[lo:hi] - centers[i], sigmas[i], gammas[i]
        )
    # Gaussian lines all at once: gather every (pixel, line) pair and scatter-add.
    gauss = np.flatnonzero(present & (gammas <= 0.0))
    if gauss.size:
        lengths = his[gauss] - los[gauss]
        line = np.repeat(gauss, lengths)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        pixel = np.repeat(los[gauss], lengths) + (np.arange(lengths.sum()) - starts)
        s = sigmas[line]
        values = ews[line] * profiles.gaussian(rest[pixel] - centers[line], s)
        flux -= np.bincount(pixel, weights=values, minlength=len(flux))


def _add_local(flux, rest, center, reach, func):
    """Add ``func(rest - center)`` to ``flux`` where ``|rest - center| < reach``."""
    lo = int(rest.searchsorted(center - reach))
    hi = int(rest.searchsorted(center + reach))
    if hi > lo:
        flux[lo:hi] += func(rest[lo:hi] - center)


def _mul_local(flux, rest, center, blue_reach, red_reach, func):
    """Multiply ``flux`` by ``func(rest - center)`` on ``[center - blue_reach, center + red_reach]``."""
    lo = int(rest.searchsorted(center - blue_reach))
    hi = int(rest.searchsorted(center + red_reach))
    if hi > lo:
        flux[lo:hi] *= func(rest[lo:hi] - center)


def _convolve_same(y, kernel):
    """Convolution with edge values extended, same length as ``y``."""
    n = len(kernel) // 2
    padded = np.concatenate((np.full(n, y[0]), y, np.full(n, y[-1])))
    if len(kernel) > 63:
        return fftconvolve(padded, kernel, mode="valid")
    return np.convolve(padded, kernel, mode="valid")
