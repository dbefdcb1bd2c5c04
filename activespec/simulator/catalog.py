"""Survey bookkeeping of the simulator: plates, fibres, coordinates, names and identifiers.

LAMOST pool
    Spectra are grouped into observing plans ("plates") of 16 spectrographs x 250
    fibres. A plate has a centre inside the LAMOST footprint (Dec -10..+60 deg),
    an observing night (LMJD), a ``PLANID`` built from its centre
    (``HD054512N292841B01`` style) and observing conditions. Objects lie within the
    2.5 deg radius of the focal plane. The identifier is ``OBSID``, unique by
    construction: ``(1000 + plate) * 100000 + spid * 1000 + fiberid`` (real OBSIDs
    have the same structure, e.g. 677503031 = plan 6775, spectrograph 03, fibre 031).
    Files are named ``spec-LMJD-PLANID_spSS-FFF.fits[.gz]``.

Ondřejov labelled set
    Frames are named like the archive's ``oe270005``: ``o`` + month letter (a =
    January) + day + 4-digit frame number. The frame counter of a calendar day
    keeps increasing across years so that every stem is unique. The SSAP
    publisher DID is ``ivo://asu.cas.cz/stel/ccd700/<stem>``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import numpy as np

FIBRES_PER_SPECTROGRAPH = 250
SPECTROGRAPHS = 16
FIBRES_PER_PLATE = FIBRES_PER_SPECTROGRAPH * SPECTROGRAPHS
PLATE_RADIUS_DEG = 2.5
FOCAL_PLANE_MM_PER_DEG = 1750.0 / 5.0  # ~1.75 m focal surface over 5 deg
LAMOST_DEC_RANGE = (-10.0, 60.0)
ONDREJOV_DEC_RANGE = (-15.0, 85.0)
FIRST_LMJD = 55_859  # start of the LAMOST pilot survey, 2011-10-24
_MJD_EPOCH = dt.datetime(1858, 11, 17)
#: Random-stream tags for numpy SeedSequence spawn keys.
STREAM_PLATE = 7
ONDREJOV_DID_PREFIX = "ivo://asu.cas.cz/stel/ccd700/"


def mjd_to_datetime(mjd: float) -> dt.datetime:
    """Calendar date-time (UTC) of a Modified Julian Date."""
    return _MJD_EPOCH + dt.timedelta(days=float(mjd))


def designation(ra: float, dec: float) -> str:
    """LAMOST designation ``LAMOST JHHMMSS.ss+DDMMSS.s`` (coordinates truncated, IAU style)."""
    centi_seconds = int(np.floor((ra % 360.0) / 15.0 * 3600.0 * 100.0 + 1e-6))
    hh, rem = divmod(centi_seconds, 3600 * 100)
    mm, rem = divmod(rem, 60 * 100)
    sign = "-" if dec < 0 else "+"
    deci_arcsec = int(np.floor(abs(dec) * 3600.0 * 10.0 + 1e-6))
    dd, drem = divmod(deci_arcsec, 3600 * 10)
    dm, drem = divmod(drem, 60 * 10)
    return f"LAMOST J{hh:02d}{mm:02d}{rem // 100:02d}.{rem % 100:02d}{sign}{dd:02d}{dm:02d}{drem // 10:02d}.{drem % 10:d}"


def sexagesimal(ra: float, dec: float) -> tuple[str, str]:
    """RA as ``hh:mm:ss.s`` and Dec as ``[-]dd:mm:ss.s`` (rounded to 0.1 s / 0.1")."""
    tenths = int(round((ra % 360.0) / 15.0 * 36000.0)) % (24 * 36000)
    h, rem = divmod(tenths, 36000)
    m, rem = divmod(rem, 600)
    ra_text = f"{h:02d}:{m:02d}:{rem // 10:02d}.{rem % 10:d}"
    tenths = int(round(abs(dec) * 36000.0))
    d, rem = divmod(tenths, 36000)
    m, rem = divmod(rem, 600)
    sign = "-" if dec < 0 else ""
    return ra_text, f"{sign}{d:02d}:{m:02d}:{rem // 10:02d}.{rem % 10:d}"


def random_sky_position(rng, dec_range) -> tuple[float, float]:
    """Uniform position on the sphere within a declination band [deg]."""
    lo, hi = np.sin(np.radians(dec_range))
    dec = float(np.degrees(np.arcsin(rng.uniform(lo, hi))))
    return float(rng.uniform(0.0, 360.0)), dec


# --- LAMOST --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LamostSlot:
    """Where pool spectrum ``index`` sits: plate number, spectrograph and fibre."""

    plate: int
    spid: int
    fiberid: int

    @property
    def obsid(self) -> int:
        return (1000 + self.plate) * 100_000 + self.spid * 1000 + self.fiberid


def lamost_slot(index: int) -> LamostSlot:
    """Plate/spectrograph/fibre of the ``index``-th pool spectrum."""
    plate, within = divmod(int(index), FIBRES_PER_PLATE)
    spid, fibre = divmod(within, FIBRES_PER_SPECTROGRAPH)
    return LamostSlot(plate, spid + 1, fibre + 1)


@dataclasses.dataclass(frozen=True)
class LamostPlate:
    """One simulated LAMOST observing plan and its header values."""

    number: int
    planid: str
    lmjd: int
    ra: float
    dec: float
    spectrograph_centres: tuple
    helio_rv: float
    header: dict


def _planid(rng, ra, dec) -> str:
    prefix = str(rng.choice(["HD", "EG", "KP", "GAC", "HIP"], p=[0.45, 0.2, 0.1, 0.15, 0.1]))
    hours = ra / 15.0
    h = int(hours)
    m = int((hours - h) * 60)
    s = int(((hours - h) * 60 - m) * 60)
    sign = "N" if dec >= 0 else "S"
    d = int(abs(dec))
    dm = int((abs(dec) - d) * 60)
    ds = int(((abs(dec) - d) * 60 - dm) * 60)
    suffix = str(rng.choice(["B", "M", "F", "V"], p=[0.45, 0.3, 0.15, 0.1]))
    return f"{prefix}{h:02d}{m:02d}{s:02d}{sign}{d:02d}{dm:02d}{ds:02d}{suffix}{int(rng.integers(1, 4)):02d}"


@functools.lru_cache(maxsize=64)
def lamost_plate(seed: int, number: int) -> LamostPlate:
    """Deterministic plate ``number`` of the survey simulated with ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(STREAM_PLATE, number)))
    lo, hi = LAMOST_DEC_RANGE
    ra, dec = random_sky_position(rng, (lo + PLATE_RADIUS_DEG, hi - PLATE_RADIUS_DEG))
    # Plates are observed in sequence, a few per night.
    lmjd = FIRST_LMJD + int(number * 0.9) + int(rng.integers(0, 3))
    mjd = lmjd - 1
    n_exp = int(rng.integers(2, 5))
    exposure = float(rng.choice([600.0, 900.0, 1200.0, 1800.0]))
    start_minute = int(rng.integers(20 * 60, 27 * 60))  # local start, 20:00-03:00
    local_start = mjd_to_datetime(mjd) + dt.timedelta(minutes=start_minute)
    duration = dt.timedelta(seconds=n_exp * (exposure + 180.0))
    local_end = local_start + duration
    utc_mid = local_start + duration / 2 - dt.timedelta(hours=8)
    minutes = [
        lmjd * 1440 + start_minute - 1440 + k * int((exposure + 180) / 60) for k in range(n_exp)
    ]
    created = mjd_to_datetime(mjd + int(rng.integers(400, 1200)) + rng.uniform(0, 1))
    planid = _planid(rng, ra, dec)
    centres = []
    for _ in range(SPECTROGRAPHS):
        r = PLATE_RADIUS_DEG * 0.6 * np.sqrt(rng.uniform())
        theta = rng.uniform(0, 2 * np.pi)
        sdec = dec + r * np.cos(theta)
        centres.append(((ra + r * np.sin(theta) / np.cos(np.radians(sdec))) % 360.0, sdec))
    n_std = int(rng.integers(3, 8))
    header = {
        "DATE": created.strftime("%Y-%m-%dT%H:%M:%S"),
        "DATE-OBS": utc_mid.strftime("%Y-%m-%dT%H:%M:%S"),
        "DATE-BEG": local_start.strftime("%Y-%m-%dT%H:%M:%S.0"),
        "DATE-END": local_end.strftime("%Y-%m-%dT%H:%M:%S.0"),
        "LMJD": lmjd,
        "MJD": mjd,
        "LMJMLIST": "-".join(str(m) for m in minutes),
        "PLANID": planid,
        "SEEING": round(float(rng.uniform(2.0, 4.5)), 1),
        "MOONPHA": round(float(rng.uniform(0.0, 29.5)), 2),
        "TEMP_AIR": round(float(rng.uniform(-15.0, 25.0)), 1),
        "DEWPOINT": round(float(rng.uniform(-25.0, 10.0)), 1),
        "HUMIDITY": round(float(rng.uniform(0.1, 0.9)), 2),
        "WINDD": round(float(rng.uniform(0.0, 360.0)), 1),
        "WINDS": round(float(rng.uniform(0.0, 8.0)), 1),
        "NEXP": n_exp,
        "NEXP_B": n_exp,
        "NEXP_R": n_exp,
        "EXPT_B": n_exp * exposure,
        "EXPT_R": n_exp * exposure,
        "EXPTIME": n_exp * exposure,
        "BESTEXP": minutes[0],
        "SCAMEAN": round(float(rng.uniform(2.0, 10.0)), 1),
        "NSKIES": int(rng.integers(10, 30)),
        "SKYCHI2": round(float(rng.uniform(1.5, 2.5)), 1),
        "SCHI2MIN": round(float(rng.uniform(1.2, 1.5)), 1),
        "SCHI2MAX": round(float(rng.uniform(2.5, 3.2)), 1),
        "NSTD": n_std,
        "FSTAR": "-".join(str(int(f)) for f in rng.choice(np.arange(1, 251), n_std, replace=False)),
        "FCBY": str(rng.choice(["auto", "catalog", "manual"], p=[0.5, 0.45, 0.05])),
    }
    helio_rv = float(rng.uniform(-30.0, 30.0))
    return LamostPlate(number, planid, lmjd, ra, dec, tuple(centres), helio_rv, header)


def lamost_position(plate: LamostPlate, spid: int, rng) -> tuple[float, float, float, float]:
    """Object coordinates near its spectrograph's patch, and focal-plane x, y [mm]."""
    sra, sdec = plate.spectrograph_centres[spid - 1]
    r = 0.9 * np.sqrt(rng.uniform())
    theta = rng.uniform(0, 2 * np.pi)
    dec = float(np.clip(sdec + r * np.cos(theta), *LAMOST_DEC_RANGE))
    ra = float((sra + r * np.sin(theta) / np.cos(np.radians(dec))) % 360.0)
    dra = ((ra - plate.ra + 180.0) % 360.0 - 180.0) * np.cos(np.radians(plate.dec))
    x = dra * FOCAL_PLANE_MM_PER_DEG
    y = (dec - plate.dec) * FOCAL_PLANE_MM_PER_DEG
    return ra, dec, float(x), float(y)


def lamost_filename(plate: LamostPlate, slot: LamostSlot, gzipped: bool) -> str:
    """``spec-LMJD-PLANID_spSS-FFF.fits`` (plus ``.gz``)."""
    name = f"spec-{plate.lmjd}-{plate.planid}_sp{slot.spid:02d}-{slot.fiberid:03d}.fits"
    return name + ".gz" if gzipped else name


# --- Ondřejov ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class OndrejovFrame:
    """Name and night of one Ondřejov exposure."""

    stem: str
    night: dt.date
    frame: int

    @property
    def did(self) -> str:
        """SSAP publisher DID (the reader's ``spectrum_id`` for SSAP files)."""
        return ONDREJOV_DID_PREFIX + self.stem


def ondrejov_frames(n: int, spectra_per_night: int = 12) -> list[OndrejovFrame]:
    """Unique frame names for ``n`` labelled spectra, observed night after night.

    Nights are four days apart from 2003-01-01 (the CCD700 archive years).

    Raises
    ------
    ValueError
        If more than 9,999 frames would share a calendar day.
    """
    counters: dict[tuple[int, int], int] = {}
    frames = []
    start = dt.date(2003, 1, 1)
    for i in range(n):
        night = start + dt.timedelta(days=4 * (i // spectra_per_night))
        key = (night.month, night.day)
        counters[key] = counters.get(key, 0) + 1
        number = counters[key]
        if number > 9999:
            raise ValueError("too many Ondřejov frames for unique archive-style names")
        stem = f"o{'abcdefghijkl'[night.month - 1]}{night.day:02d}{number:04d}"
        frames.append(OndrejovFrame(stem, night, number))
    return frames
