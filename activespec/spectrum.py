"""The in-memory spectrum record every reader returns and every later step consumes."""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

Medium = Literal["air", "vacuum"]


@dataclasses.dataclass
class SpectrumMeta:
    """Metadata of one observed spectrum.

    Attributes
    ----------
    spectrum_id : str
        Stable identifier of this spectrum, unique within a survey: the LAMOST
        OBSID when the file has one, otherwise ``LMJD-PLANID-SPID-FIBERID`` from
        the header; for Ondřejov the publisher DID (``DS_IDPUB``) or the file stem;
        ``sdss-PLATE-MJD-FIBERID`` for SDSS; ``desi-SURVEY-PROGRAM-TARGETID`` (or
        ``desi-TARGETID``) for DESI.
        It names the spectrum, not the star (a star observed twice has two); the star
        is ``designation``. Formerly ``object_id``.
    designation : str or None
        Object designation or name (LAMOST ``DESIG``, Ondřejov ``OBJECT``).
    ra, dec : float or None
        ICRS coordinates in degrees.
    survey : str
        ``"LAMOST"``, ``"Ondrejov"``, ``"SDSS"`` or ``"DESI"`` (or ``"simulated"`` tags
        added by the simulator).
    instrument : str
        ``"LAMOST-LRS"``, ``"LAMOST-MRS"``, ``"Ondrejov-CCD700"``, ``"SDSS"``/``"BOSS"``
        or ``"DESI-<camera>"``.
    layout : str
        The detected file layout, e.g. ``"lamost-lrs-dr1"`` (see :mod:`activespec.io`).
    data_release : str or None
        e.g. ``"DR2"``.
    lamost_class, lamost_subclass : str or None
        The survey pipeline's CLASS / SUBCLASS when present (LAMOST, or SDSS's
        spAll/specObj CLASS and SUBCLASS despite the name).
    snr : float or None
        Signal-to-noise ratio per pixel nearest H-alpha (LAMOST and SDSS: S/N in r;
        DESI: the camera's median S/N per √Å times √(pixel width)).
    obsid : int or None
        LAMOST OBSID (DR3 and later).
    resolving_power : float or None
        Nominal R = λ/Δλ of the instrument at H-alpha.
    redshift : float or None
        The survey pipeline's redshift when the file has one (SDSS ``Z``).
    source : str
        Path of the file the spectrum was read from.
    """

    spectrum_id: str
    survey: str
    instrument: str
    layout: str
    source: str
    designation: str | None = None
    ra: float | None = None
    dec: float | None = None
    data_release: str | None = None
    lamost_class: str | None = None
    lamost_subclass: str | None = None
    snr: float | None = None
    obsid: int | None = None
    resolving_power: float | None = None
    redshift: float | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Spectrum:
    """One 1-D spectrum with its uncertainties, bad-pixel mask and metadata.

    Attributes
    ----------
    wave : ndarray of float64
        Wavelengths in Å, strictly increasing, in ``medium``.
    flux : ndarray of float64
        Flux in the file's units (ADU, calibrated flux or continuum-normalised).
    ivar : ndarray of float64 or None
        Inverse variance of ``flux`` when the file has it; 0 marks unusable pixels.
    mask : ndarray of bool
        True where a pixel is bad (file mask, ivar = 0, NaN or inf flux).
    medium : {"air", "vacuum"}
        Medium of ``wave``.
    meta : SpectrumMeta
    """

    wave: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray | None
    mask: np.ndarray
    medium: Medium
    meta: SpectrumMeta

    def __post_init__(self) -> None:
        n = self.wave.shape[0]
        if self.flux.shape != (n,) or self.mask.shape != (n,):
            raise ValueError("wave, flux and mask must be 1-D arrays of the same length")
        if self.ivar is not None and self.ivar.shape != (n,):
            raise ValueError("ivar must have the same length as wave")
        if self.medium not in ("air", "vacuum"):
            raise ValueError(f"medium must be 'air' or 'vacuum', not {self.medium!r}")

    @property
    def n_pixels(self) -> int:
        return int(self.wave.shape[0])
