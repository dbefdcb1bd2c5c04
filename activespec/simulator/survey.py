"""Simulate a whole survey on disk: a labelled Ondřejov set and a LAMOST pool with ground truth.

Layout written by :func:`simulate_survey`::

    out/
      survey.json                 summary: seed, version, counts per class/subtype/layout
      labelled/                   Ondřejov CCD700 spectra, raw frames and SSAP tables (air)
      labelled/labels.csv         spectrum_id,file,label      (labels possibly noisy)
      pool/                       LAMOST LRS spectra, DR2/DR7 images and DR9 tables (vacuum)
      truth/pool_truth.csv        spectrum_id,file,label,subtype,snr,ra,dec,layout,halpha_ew,redshift
      truth/labelled_truth.csv    the same for the labelled set, plus observed_label,flipped
      truth/README.txt            who may read the truth

``spectrum_id`` is the identifier the readers derive: ``str(OBSID)`` for LAMOST
(``sdss-PLATE-MJD-FIBERID`` for an SDSS-like pool, ``pool_survey="sdss"``), the
publisher DID (``DS_IDPUB``) for Ondřejov SSAP tables and the file stem for raw
Ondřejov frames. ``file`` is the file name inside ``labelled/`` or ``pool/``.

Determinism
    Every spectrum has its own random stream, ``SeedSequence(seed, spawn_key=(set,
    index))``; the class/subtype/layout assignment is drawn in the main process from
    its own stream. Output files and tables are therefore byte-identical for a given
    seed whatever the number of workers.

Label noise
    With ``label_noise = p`` exactly ``round(p * n_labelled)`` labelled spectra get a
    wrong label in ``labels.csv``, mimicking Be-star variability and human error:
    a true "other" becomes "emission" (80 %) or "double-peak" (20 %); "emission"
    becomes "other" (60 %) or "double-peak" (40 %); "double-peak" becomes
    "emission" (80 %) or "other" (20 %). ``labelled_truth.csv`` keeps the true label.
"""

from __future__ import annotations

import concurrent.futures
import csv
import dataclasses
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from activespec import __version__, processes
from activespec.constants import DEFAULT_CLASSES
from activespec.errors import ConfigError
from activespec.simulator import catalog, fits_writers, instruments, population
from activespec.simulator.sources import SUBTYPE_CLASS

GENERATOR = "activespec.simulator"
SIMULATOR_VERSION = 1
STREAM_LABELLED, STREAM_POOL, STREAM_ASSIGN = 1, 2, 3

POOL_LAYOUT_SHARES = {"lamost-dr2-image": 0.25, "lamost-dr7-image": 0.35, "lamost-dr9-table": 0.40}
POOL_GZIP_FRACTION = 0.30
LABELLED_LAYOUT_SHARES = {"ondrejov-raw": 0.5, "ondrejov-ssap": 0.5}
#: Pool surveys: ``"lamost"`` (the LAMOST LRS layouts of :data:`POOL_LAYOUT_SHARES`) or
#: ``"sdss"`` (LAMOST-like LRS spectra, R≈1,800 on a log-linear grid like SDSS's, written
#: as SDSS spec-lite files).
POOL_SURVEYS = ("lamost", "sdss")
SDSS_POOL_LAYOUT = "sdss-spec"
#: Plate numbers of the SDSS-like pool start here (BOSS plates are 3xxx-1xxxx).
SDSS_FIRST_PLATE = 3000
#: Median and log-normal width of the LAMOST r-band S/N per subtype ("*" = default).
POOL_SNR = {
    "*": (35.0, 1.0),
    "galaxy": (10.0, 0.6),
    "galaxy-halpha": (12.0, 0.6),
    "qso": (8.0, 0.6),
    "qso-halpha": (8.0, 0.6),
    "dme": (20.0, 0.8),
    "be-single": (50.0, 0.9),
    "be-double": (50.0, 0.9),
    "be-shell": (50.0, 0.9),
    "be-weak": (50.0, 0.9),
}
LAMOST_SNR_LIMITS = (2.0, 900.0)
LABELLED_SNR = (150.0, 0.5)
LABELLED_SNR_LIMITS = (20.0, 1000.0)
#: Where a flipped label goes (see the module docstring).
LABEL_FLIPS = {
    "other": {"emission": 0.8, "double-peak": 0.2},
    "emission": {"other": 0.6, "double-peak": 0.4},
    "double-peak": {"emission": 0.8, "other": 0.2},
}
TRUTH_FIELDS = (
    "spectrum_id",
    "file",
    "label",
    "subtype",
    "snr",
    "ra",
    "dec",
    "layout",
    "halpha_ew",
    "redshift",
)
TRUTH_README = """\
Ground truth of the simulated survey (activespec simulate).

pool_truth.csv      true class and subtype of every LAMOST pool spectrum
labelled_truth.csv  true class of every labelled Ondřejov spectrum; observed_label is
                    what labelled/labels.csv says (it differs where flipped = 1)

Columns: spectrum_id (as the reader reads it), file (name inside pool/ or labelled/),
label (true class: other / emission / double-peak), subtype (finer object type),
snr (LAMOST SN_R header value, or Ondřejov continuum S/N), ra, dec (deg),
layout, halpha_ew (net equivalent width of the intrinsic spectrum within +-30 Å of
H-alpha 6564.61 Å vacuum; negative = emission), redshift (rv/c or z).

Only the simulated oracle and evaluation code may read these files. The training
pipeline and the active-learning loop must not: the pool is meant to be unlabelled.
"""


def _rng(seed: int, stream: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, index)))


def _lognormal_snr(rng, median, sigma, limits):
    return float(np.clip(median * np.exp(sigma * rng.standard_normal()), *limits))


def pool_snr(subtype: str, rng: np.random.Generator) -> float:
    """Draw the target r-band S/N of a LAMOST pool spectrum of ``subtype``."""
    if subtype == "junk-lowsnr":
        return float(rng.uniform(1.0, 3.0))
    if subtype == "junk-sky":
        return float(rng.uniform(1.0, 5.0))
    median, sigma = POOL_SNR.get(subtype, POOL_SNR["*"])
    return _lognormal_snr(rng, median, sigma, LAMOST_SNR_LIMITS)


def _assign(n: int, class_shares: dict, mix: dict, rng) -> list[str]:
    """Exact subtype quotas for ``n`` spectra, randomly ordered."""
    subtypes: list[str] = []
    for label, n_class in population.allocate(n, class_shares).items():
        for subtype, count in population.allocate(n_class, mix[label]).items():
            subtypes += [subtype] * count
    order = rng.permutation(n)
    return [subtypes[i] for i in order]


def _assign_layouts(n: int, shares: dict, rng) -> list[str]:
    layouts: list[str] = []
    for layout, count in population.allocate(n, shares).items():
        layouts += [layout] * count
    order = rng.permutation(n)
    return [layouts[i] for i in order]


def _assign_flags(n: int, fraction: float, rng) -> list[bool]:
    flags = np.zeros(n, dtype=bool)
    flags[rng.permutation(n)[: int(round(fraction * n))]] = True
    return flags.tolist()


# --- per-spectrum work (runs in worker processes) -------------------------------------------
def _magnitudes(snr, teff, rng):
    """Plausible ugriz + JHK magnitudes for a target of a given S/N."""
    r = 17.0 - 3.2 * np.log10(max(snr, 0.5) / 10.0) + rng.normal(0.0, 0.3)
    cool = 0.0 if teff is None else float(np.clip((7000.0 - teff) / 3500.0, -0.5, 1.2))
    colours = (1.2 + 1.3 * cool, 0.4 + 0.6 * cool, 0.0, -0.15 - 0.4 * cool, -0.25 - 0.7 * cool)
    mags = [round(float(r + c + rng.normal(0, 0.05)), 2) for c in colours]
    mags += [round(float(r - 1.0 - 1.5 * max(cool, 0.0) - k * 0.3), 2) for k in range(2)]
    if rng.random() < 0.3:
        mags[0] = 99.0
    return mags


def _lamost_values(plate, slot, source, obs, ra, dec, x, y, layout, filename, rng) -> dict:
    values = dict(plate.header)
    dr2 = layout == "lamost-dr2-image"
    # Everything derives from the coordinates as written (6 decimals), DESIG included.
    ra, dec = round(ra, 6), round(dec, 6)
    mags = _magnitudes(obs.snr, source.teff, rng)
    unknown = source.lamost_class == "Unknown"
    z_err = abs(rng.normal(0.0, 3e-4 / max(obs.snr, 1.0))) + 1e-6
    z = -9999.0 if unknown else source.redshift + rng.normal(0.0, z_err)
    values.update(
        {
            "FILENAME": filename.removesuffix(".gz"),
            "OBSID": slot.obsid,
            "DATA_V": "LAMOST DR7" if layout == "lamost-dr7-image" else "LAMOST LRS DR9",
            "RA": ra,
            "DEC": dec,
            "OBS_RA": ra,
            "OBS_DEC": dec,
            "RA_OBS": ra,
            "DEC_OBS": dec,
            "DESIG": catalog.designation(ra, dec),
            "FIBERID": str(slot.fiberid) if dr2 else slot.fiberid,
            "CELL_ID": f"{'EF'[slot.fiberid % 2]}{slot.spid * 2 + slot.fiberid // 125:02d}{slot.fiberid % 16:02d}",
            "X_VALUE": round(x, 9) if dr2 else f"{x:.10f}",
            "Y_VALUE": round(y, 9) if dr2 else f"{y:.10f}",
            "OBJNAME": str(int(rng.integers(10**14, 3 * 10**14))),
            "OBJTYPE": source.objtype if not dr2 else source.objtype.lower(),
            "OBJSOURC": "PILOT" if plate.lmjd < 56200 else "LEGAS",
            "T_INFO": "NULL",
            "T_FROM": str(rng.choice(["SDSS", "PPMXL", "UCAC4", "2MASS"])),
            "TSOURCE": str(rng.choice(["LEGAS", "LEGAS_SSY", "HIP", "GAC"])),
            "TCOMMENT": str(int(rng.integers(10**17, 2 * 10**18))),
            "TFROM": str(rng.choice(["P15", "SGP", "GAC", "HIP"])),
            "SPID": slot.spid,
            "SPRA": plate.spectrograph_centres[slot.spid - 1][0],
            "SPDEC": plate.spectrograph_centres[slot.spid - 1][1],
            "HELIO_RV": round(plate.helio_rv + 0.5 * (dec - plate.dec), 5),
            "CLASS": source.lamost_class,
            "SUBCLASS": source.lamost_subclass,
            "Z": z,
            "Z_ERR": -9999.0 if unknown else z_err,
        }
    )
    if dr2:
        values["Z"] = float(f"{values['Z']:.4G}") if not unknown else -9999.0
        values["Z_ERR"] = float(f"{values['Z_ERR']:.4G}") if not unknown else -9999.0
    else:
        values["HUMIDITY"] = 100.0 * values["HUMIDITY"]
    for i, m in enumerate(mags, start=1):
        values[f"MAG{i}"] = m
    for band in "ugriz":
        sn = round(float(obs.band_snr[band]), 2)
        values[f"SN_{band.upper()}"] = sn
        values[f"SNR{band.upper()}"] = sn
    return values


def _sdss_values(plate, slot, source, obs, ra, dec, rng) -> dict:
    """SPALL row and header values of an SDSS-like pool spectrum on a LAMOST-like plate."""
    unknown = source.lamost_class == "Unknown"
    z_err = abs(rng.normal(0.0, 3e-4 / max(obs.snr, 1.0))) + 1e-6
    sdss_class = {"Unknown": "", "GALAXY": "GALAXY", "QSO": "QSO"}.get(source.lamost_class)
    band_snr = [round(float(obs.band_snr[band]), 2) for band in "ugriz"]
    return {
        "PLATE": SDSS_FIRST_PLATE + plate.number,
        "MJD": plate.lmjd,
        "FIBERID": catalog.FIBRES_PER_SPECTROGRAPH * (slot.spid - 1) + slot.fiberid,
        "PLUG_RA": round(ra, 6),
        "PLUG_DEC": round(dec, 6),
        "RA": plate.ra,
        "DEC": plate.dec,
        "CLASS": "STAR" if sdss_class is None else sdss_class,
        "SUBCLASS": "" if unknown else str(source.lamost_subclass or ""),
        "Z": 0.0 if unknown else float(source.redshift + rng.normal(0.0, z_err)),
        "SN_MEDIAN": band_snr,
        "SN_MEDIAN_ALL": float(np.median(band_snr)),
    }


def _simulate_sdss_pool_spectrum(rng, slot, plate, ra, dec, source, snr, gzipped, out_dir):
    obs = instruments.observe_lamost(source, snr, rng)
    values = _sdss_values(plate, slot, source, obs, ra, dec, rng)
    stem = f"spec-{values['PLATE']:04d}-{values['MJD']}-{values['FIBERID']:04d}"
    filename = f"{stem}.fits.gz" if gzipped else f"{stem}.fits"
    fits_writers.write_sdss_spec(
        Path(out_dir) / filename,
        obs.wave, obs.flux, obs.ivar, obs.andmask, obs.ormask, values, gzipped,
    )  # fmt: skip
    return obs, values, filename, stem.replace("spec-", "sdss-", 1)


def _simulate_pool_spectrum(seed, index, subtype, layout, gzipped, out_dir) -> dict:
    rng = _rng(seed, STREAM_POOL, index)
    slot = catalog.lamost_slot(index)
    plate = catalog.lamost_plate(seed, slot.plate)
    ra, dec, x, y = catalog.lamost_position(plate, slot.spid, rng)
    source = population.draw_source(subtype, rng)
    snr = pool_snr(subtype, rng)
    if layout == SDSS_POOL_LAYOUT:
        obs, values, filename, spectrum_id = _simulate_sdss_pool_spectrum(
            rng, slot, plate, ra, dec, source, snr, gzipped, out_dir
        )
        return {
            "spectrum_id": spectrum_id,
            "file": filename,
            "label": SUBTYPE_CLASS[subtype],
            "subtype": subtype,
            "snr": f"{values['SN_MEDIAN'][2]:.2f}",
            "ra": f"{values['PLUG_RA']:.6f}",
            "dec": f"{values['PLUG_DEC']:.6f}",
            "layout": layout,
            "halpha_ew": f"{obs.halpha_ew:.3f}",
            "redshift": f"{source.redshift:.6g}",
        }
    short = layout == "lamost-dr2-image" and rng.random() < 0.2  # some DR2 plans have 3899 px
    obs = instruments.observe_lamost(
        source,
        snr,
        rng,
        n_pixels=3899 if short else instruments.LAMOST_N_PIXELS,
        extra_ormask=layout == "lamost-dr2-image",
    )
    filename = catalog.lamost_filename(plate, slot, gzipped)
    values = _lamost_values(plate, slot, source, obs, ra, dec, x, y, layout, filename, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.where(obs.continuum != 0, obs.flux / obs.continuum, 0.0)
    fits_writers.write_lamost(
        Path(out_dir) / filename,
        layout,
        obs.wave,
        obs.flux,
        obs.ivar,
        obs.andmask,
        obs.ormask,
        normalised,
        values,
        gzipped,
    )
    return {
        "spectrum_id": str(slot.obsid),
        "file": filename,
        "label": SUBTYPE_CLASS[subtype],
        "subtype": subtype,
        "snr": f"{values['SN_R']:.2f}",
        "ra": f"{values['RA']:.6f}",
        "dec": f"{values['DEC']:.6f}",
        "layout": layout,
        "halpha_ew": f"{obs.halpha_ew:.3f}",
        "redshift": f"{source.redshift:.6g}",
    }


_OBSERVERS = ("BudKa", "Skoda", "Slechta", "Kubat", "Korcakova", "Votruba", "Sloup", "Kabath")


def _ondrejov_values(frame, source, obs, ra, dec, exptime, airmass, rng) -> dict:
    start_seconds = int(rng.integers(19 * 3600, 24 * 3600 + 3 * 3600)) % 86400
    start = dt.datetime.combine(frame.night, dt.time()) + dt.timedelta(seconds=start_seconds)
    middle = start + dt.timedelta(seconds=exptime / 2)
    processed = start + dt.timedelta(days=int(rng.integers(1, 6)), hours=int(rng.integers(8, 18)))
    jd = _julian_date(middle)
    ra_text, dec_text = catalog.sexagesimal(ra, dec)
    crval1 = float(obs.wave[0])
    cdelt1 = float(obs.wave[1] - obs.wave[0])
    neighbour = frame.stem[:-4]
    frac = rng.uniform(0.3, 0.7)
    vhelio = float(rng.uniform(-30.0, 30.0))
    counts = float(np.sum(np.clip(obs.model, 0, None)) * instruments.ONDREJOV_GAIN / 1e6)
    zd = float(np.degrees(np.arccos(1.0 / airmass)))
    stamp = processed.strftime("%b %d %H:%M")
    return {
        "IRAF-TLM": processed.strftime("%H:%M:%S (%d/%m/%Y)"),
        "OBJECT": source.params.get("name", ""),
        "DATE": processed.strftime("%Y-%m-%dT%H:%M:%S"),
        "OBSERVER": str(rng.choice(_OBSERVERS)),
        "FILENAME": f"{frame.stem}.fit",
        "EXPTIME": exptime,
        "DARKTIME": exptime + float(rng.integers(0, 120)),
        "EXPVAL": counts,
        "DATE-OBS": start.strftime("%Y-%m-%d"),
        "TM_START": start_seconds,
        "TM_START#comment": start.strftime("%H:%M:%S"),
        "TM_END": (start_seconds + int(exptime)) % 86400,
        "TM_END#comment": (start + dt.timedelta(seconds=exptime)).strftime("%H:%M:%S"),
        "UT": start.strftime("%H:%M:%S"),
        "CCDTEMP": round(float(rng.uniform(-110.0, -95.0)), 1),
        "RA": ra_text,
        "RA#comment": f"{ra / 15.0:.6f}",
        "DEC": dec_text,
        "DEC#comment": f"{dec:.6f}",
        "ST": catalog.sexagesimal(float(rng.uniform(0, 360)), 0.0)[0],
        "AZIMUTH": float(rng.uniform(0.0, 360.0)),
        "ZD": zd,
        "TRIM": f"{stamp} Trim data section is [16:2012,430:570]",
        "OVERSCAN": f"{stamp} Overscan section is [6:12,1:800] with mean={rng.uniform(600, 650):.4f}",
        "ZEROCOR": f"{stamp} Zero level correction image is Zero",
        "FLATCOR": f"{stamp} Flat field image is Flat10889.fit with scale={rng.uniform(2e4, 4e4):.2f}",
        "CCDPROC": f"{stamp} CCD processing done",
        "JD": round(jd, 8),
        "LJD": float(np.floor(jd)),
        "AIRMASS": round(airmass, 6),
        "UTMIDDLE": middle.strftime("%H:%M:%S.0"),
        "APNUM1": f"1 1 {rng.uniform(30, 38):.2f} {rng.uniform(50, 58):.2f}",
        "CRVAL1": crval1,
        "CDELT1": cdelt1,
        "CD1_1": cdelt1,
        "DCLOG1": f"REFSPEC1 = {frame.stem}{neighbour}{frame.frame - 1:04d}.ms {frac:.8f}",
        "DCLOG2": f"REFSPEC2 = {frame.stem}{neighbour}{frame.frame + 1:04d}.ms {1 - frac:.8f}",
        "HJD": round(jd - 0.0016, 8),
        "VHELIO": vhelio,
        "VLSR": vhelio + float(rng.uniform(5.0, 20.0)),
        "DS_IDPUB": frame.did,
    }


def _julian_date(when) -> float:
    """Julian date of a naive UTC datetime."""
    delta = when - dt.datetime(2000, 1, 1, 12)
    return 2_451_545.0 + delta.total_seconds() / 86400.0


def _simulate_labelled_spectrum(seed, index, subtype, layout, frame, out_dir) -> dict:
    rng = _rng(seed, STREAM_LABELLED, index)
    ra, dec = catalog.random_sky_position(rng, catalog.ONDREJOV_DEC_RANGE)
    name = f"HD {int(rng.integers(1, 359_084))}"
    source = population.draw_source(subtype, rng)
    source.params["name"] = name
    snr = _lognormal_snr(rng, *LABELLED_SNR, LABELLED_SNR_LIMITS)
    exptime = float(rng.choice([600.0, 900.0, 1200.0, 1800.0, 2400.0, 3600.0]))
    airmass = float(rng.uniform(1.0, 2.2))
    raw = layout == "ondrejov-raw"
    obs = instruments.observe_ondrejov(source, snr, rng, normalised=not raw, airmass=airmass)
    values = _ondrejov_values(frame, source, obs, ra, dec, exptime, airmass, rng)
    if raw:
        filename = f"{frame.stem}.fits"
        spectrum_id = frame.stem
        fits_writers.write_ondrejov_raw(Path(out_dir) / filename, obs.flux, values)
    else:
        filename = f"{frame.stem}_ssap.fits"
        spectrum_id = frame.did
        ssap = dict(values, RA=round(ra, 6), DEC=round(dec, 6), EXPTIME=exptime)
        ssap["DATE-OBS"] = f"{values['DATE-OBS']}T{values['UT']}"
        fits_writers.write_ondrejov_ssap(Path(out_dir) / filename, obs.wave, obs.flux, ssap)
    return {
        "spectrum_id": spectrum_id,
        "file": filename,
        "label": SUBTYPE_CLASS[subtype],
        "subtype": subtype,
        "snr": f"{obs.snr:.2f}",
        "ra": f"{ra:.6f}",
        "dec": f"{dec:.6f}",
        "layout": layout,
        "halpha_ew": f"{obs.halpha_ew:.3f}",
        "redshift": f"{source.redshift:.6g}",
    }


def _simulate_chunk(task: dict) -> list[dict]:
    """Simulate and write one chunk of spectra (runs in a worker process)."""
    rows = []
    seed, out_dir, start = task["seed"], task["out_dir"], task["start"]
    for k, subtype in enumerate(task["subtypes"]):
        index = start + k
        if task["set"] == "pool":
            rows.append(
                _simulate_pool_spectrum(
                    seed, index, subtype, task["layouts"][k], task["gzip"][k], out_dir
                )
            )
        else:
            frame = catalog.OndrejovFrame(*task["frames"][k])
            rows.append(
                _simulate_labelled_spectrum(
                    seed, index, subtype, task["layouts"][k], frame, out_dir
                )
            )
    return rows


# --- orchestration --------------------------------------------------------------------------
@dataclasses.dataclass
class SurveyPlan:
    """What every spectrum of a survey will be, decided before any is simulated.

    Attributes
    ----------
    labelled_subtypes, labelled_layouts : list of str
        Per labelled spectrum (index order).
    frames : list of activespec.simulator.catalog.OndrejovFrame
        Archive names of the labelled spectra.
    pool_subtypes, pool_layouts : list of str
        Per pool spectrum.
    pool_gzip : list of bool
        Whether each pool file is gzip-compressed.
    """

    labelled_subtypes: list
    labelled_layouts: list
    frames: list
    pool_subtypes: list
    pool_layouts: list
    pool_gzip: list

    def class_counts(self, which: str) -> dict[str, int]:
        """Spectra per class in ``"labelled"`` or ``"pool"``."""
        subtypes = self.labelled_subtypes if which == "labelled" else self.pool_subtypes
        counts = dict.fromkeys(DEFAULT_CLASSES, 0)
        for subtype in subtypes:
            counts[SUBTYPE_CLASS[subtype]] += 1
        return counts


def plan_survey(
    n_labelled: int,
    n_pool: int,
    *,
    seed: int = 0,
    emission_fraction: float = 0.02,
    pool_survey: str = "lamost",
) -> SurveyPlan:
    """Assign subtype, layout and compression to every spectrum (exact quotas, shuffled).

    The labelled set follows the published Ondřejov class balance
    (:data:`population.LABELLED_CLASS_SHARES`); the pool has ``emission_fraction``
    emission + double-peak (split :data:`population.POOL_RARE_SPLIT`). Within each
    class subtypes follow :data:`population.LABELLED_MIX` / :data:`population.POOL_MIX`.
    Counts are exact (largest remainder), so the pool's rare fraction equals
    ``emission_fraction`` up to rounding. With ``pool_survey="sdss"`` every pool spectrum
    is written as an SDSS spec-lite file (the draws stay those of the LAMOST pool).
    """
    assign = _rng(seed, STREAM_ASSIGN, 0)
    rare = {k: v * emission_fraction for k, v in population.POOL_RARE_SPLIT.items()}
    plan = SurveyPlan(
        labelled_subtypes=_assign(
            n_labelled, population.LABELLED_CLASS_SHARES, population.LABELLED_MIX, assign
        ),
        labelled_layouts=_assign_layouts(n_labelled, LABELLED_LAYOUT_SHARES, assign),
        frames=catalog.ondrejov_frames(n_labelled),
        pool_subtypes=_assign(
            n_pool, {"other": 1.0 - emission_fraction, **rare}, population.POOL_MIX, assign
        ),
        pool_layouts=_assign_layouts(n_pool, POOL_LAYOUT_SHARES, assign),
        pool_gzip=_assign_flags(n_pool, POOL_GZIP_FRACTION, assign),
    )
    if pool_survey == "sdss":
        plan.pool_layouts = [SDSS_POOL_LAYOUT] * n_pool
    return plan


def is_simulation_dir(path: str | os.PathLike) -> bool:
    """True if ``path`` holds a ``survey.json`` written by this simulator."""
    marker = Path(path) / "survey.json"
    try:
        return json.loads(marker.read_text()).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def _prepare_output(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output path {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not is_simulation_dir(out):
            raise ConfigError(
                f"output directory {out} is not empty and is not a previous activespec "
                "simulation; refusing to overwrite it"
            )
        for name in ("labelled", "pool", "truth"):
            shutil.rmtree(out / name, ignore_errors=True)
        (out / "survey.json").unlink(missing_ok=True)
    for name in ("labelled", "pool", "truth"):
        (out / name).mkdir(parents=True, exist_ok=True)


def _validate(
    n_labelled, n_pool, seed, workers, emission_fraction, label_noise, pool_survey="lamost"
) -> None:
    if pool_survey not in POOL_SURVEYS:
        raise ConfigError(f"pool_survey must be one of {POOL_SURVEYS}, got {pool_survey!r}")
    for name, value in (("n_labelled", n_labelled), ("n_pool", n_pool)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if workers is not None and (not isinstance(workers, (int, np.integer)) or workers < 1):
        raise ConfigError(f"workers must be a positive integer, got {workers!r}")
    if not 0.0 <= emission_fraction <= 1.0:
        raise ConfigError(f"emission_fraction must be within [0, 1], got {emission_fraction}")
    if not 0.0 <= label_noise < 1.0:
        raise ConfigError(f"label_noise must be within [0, 1), got {label_noise}")


def _flip_labels(labels: list[str], fraction: float, rng) -> list[str]:
    observed = list(labels)
    for i in rng.permutation(len(labels))[: int(round(fraction * len(labels)))]:
        targets = LABEL_FLIPS[labels[i]]
        names = list(targets)
        observed[i] = names[rng.choice(len(names), p=list(targets.values()))]
    return observed


def _write_csv(path: Path, fields, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _count(rows, key) -> dict:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[key]] = counts.get(row[key], 0) + 1
    return dict(sorted(counts.items()))


def _run_tasks(tasks, workers, total, progress) -> list[dict]:
    rows: list[dict] = []
    bar = None
    if total:
        bar = tqdm(
            total=total,
            unit="spectra",
            desc="simulate",
            file=sys.stderr,
            disable=not (progress and sys.stderr.isatty()),
        )
    try:
        if workers == 1:
            for task in tasks:
                chunk = _simulate_chunk(task)
                rows += chunk
                if bar is not None:
                    bar.update(len(chunk))
        else:
            with concurrent.futures.ProcessPoolExecutor(
                workers, mp_context=processes.context()
            ) as executor:
                futures = {executor.submit(_simulate_chunk, t): i for i, t in enumerate(tasks)}
                results: dict[int, list[dict]] = {}
                for future in concurrent.futures.as_completed(futures):
                    results[futures[future]] = future.result()
                    if bar is not None:
                        bar.update(len(results[futures[future]]))
            for i in range(len(tasks)):
                rows += results[i]
    finally:
        if bar is not None:
            bar.close()
    return rows


def _chunks(n: int, workers: int) -> list[tuple[int, int]]:
    size = max(8, min(250, -(-n // max(1, workers * 8))))
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def simulate_survey(
    out_dir,
    *,
    n_labelled: int,
    n_pool: int,
    seed: int = 0,
    workers: int | None = None,
    emission_fraction: float = 0.02,
    label_noise: float = 0.0,
    progress: bool = True,
    pool_survey: str = "lamost",
) -> dict:
    """Simulate a labelled Ondřejov set and a LAMOST pool with ground truth on disk.

    Parameters
    ----------
    out_dir : path-like
        Output directory; must be empty, absent, or a previous simulation (which is
        replaced). See the module docstring for the layout.
    n_labelled : int
        Number of labelled Ondřejov spectra (class balance of the published set:
        6,102 other : 5,301 emission : 1,533 double-peak).
    n_pool : int
        Number of LAMOST pool spectra.
    seed : int, optional
        Master seed (non-negative); the output depends on nothing else.
    workers : int, optional
        Worker processes (default: CPUs available). 1 runs in this process.
    emission_fraction : float, optional
        Share of the pool that is emission or double-peak (split 75:25).
    label_noise : float, optional
        Share of labelled spectra whose label in ``labels.csv`` is wrong.
    progress : bool, optional
        Show a progress bar on stderr (only when it is a terminal).
    pool_survey : {"lamost", "sdss"}, optional
        Write the pool as LAMOST LRS files (default) or as SDSS spec-lite files
        (identifiers ``sdss-PLATE-MJD-FIBERID``; see :data:`POOL_SURVEYS`).

    Returns
    -------
    dict
        The content of ``survey.json`` plus ``elapsed_s``, ``spectra_per_s``,
        ``workers`` and ``out_dir``.

    Raises
    ------
    activespec.errors.ConfigError
        For invalid arguments or an output directory holding other data.
    """
    _validate(n_labelled, n_pool, seed, workers, emission_fraction, label_noise, pool_survey)
    n_labelled, n_pool, seed = int(n_labelled), int(n_pool), int(seed)
    workers = int(workers) if workers else (len(os.sched_getaffinity(0)) or 1)
    out = Path(out_dir)
    _prepare_output(out)
    settings = {
        "generator": GENERATOR,
        "simulator_version": SIMULATOR_VERSION,
        "activespec_version": __version__,
        "seed": seed,
        "n_labelled": n_labelled,
        "n_pool": n_pool,
        "emission_fraction": emission_fraction,
        "label_noise": label_noise,
    }
    if pool_survey != "lamost":  # survey.json of LAMOST pools stays as it was
        settings["pool_survey"] = pool_survey
    (out / "survey.json").write_text(json.dumps({**settings, "status": "running"}, indent=2))
    started = time.perf_counter()

    plan = plan_survey(
        n_labelled,
        n_pool,
        seed=seed,
        emission_fraction=emission_fraction,
        pool_survey=pool_survey,
    )
    tasks = []
    for start, stop in _chunks(n_labelled, workers):
        tasks.append(
            {
                "set": "labelled",
                "seed": seed,
                "out_dir": str(out / "labelled"),
                "start": start,
                "subtypes": plan.labelled_subtypes[start:stop],
                "layouts": plan.labelled_layouts[start:stop],
                "frames": [(f.stem, f.night, f.frame) for f in plan.frames[start:stop]],
            }
        )
    for start, stop in _chunks(n_pool, workers):
        tasks.append(
            {
                "set": "pool",
                "seed": seed,
                "out_dir": str(out / "pool"),
                "start": start,
                "subtypes": plan.pool_subtypes[start:stop],
                "layouts": plan.pool_layouts[start:stop],
                "gzip": plan.pool_gzip[start:stop],
            }
        )
    rows = _run_tasks(tasks, workers, n_labelled + n_pool, progress)
    labelled_rows, pool_rows = rows[:n_labelled], rows[n_labelled:]

    flips = _rng(seed, STREAM_ASSIGN, 1)
    observed = _flip_labels([r["label"] for r in labelled_rows], label_noise, flips)
    for row, label in zip(labelled_rows, observed, strict=True):
        row["observed_label"] = label
        row["flipped"] = int(label != row["label"])
    _write_csv(
        out / "labelled" / "labels.csv",
        ("spectrum_id", "file", "label"),
        [{**r, "label": r["observed_label"]} for r in labelled_rows],
    )
    _write_csv(
        out / "truth" / "labelled_truth.csv",
        TRUTH_FIELDS + ("observed_label", "flipped"),
        labelled_rows,
    )
    _write_csv(out / "truth" / "pool_truth.csv", TRUTH_FIELDS, pool_rows)
    (out / "truth" / "README.txt").write_text(TRUTH_README, encoding="utf-8")

    def classes(rows_, key="label"):
        counts = _count(rows_, key)
        return {c: counts.get(c, 0) for c in DEFAULT_CLASSES}

    summary = {
        **settings,
        "status": "complete",
        "classes": list(DEFAULT_CLASSES),
        "counts": {
            "labelled": classes(labelled_rows),
            "labelled_observed": classes(labelled_rows, "observed_label"),
            "pool": classes(pool_rows),
        },
        "subtypes": {
            "labelled": _count(labelled_rows, "subtype"),
            "pool": _count(pool_rows, "subtype"),
        },
        "layouts": {
            "labelled": _count(labelled_rows, "layout"),
            "pool": _count(pool_rows, "layout"),
        },
        "pool_gzipped": int(sum(plan.pool_gzip)),
        "labels_flipped": int(sum(r["flipped"] for r in labelled_rows)),
        "paths": {
            "labelled": "labelled",
            "labels": "labelled/labels.csv",
            "pool": "pool",
            "pool_truth": "truth/pool_truth.csv",
            "labelled_truth": "truth/labelled_truth.csv",
        },
    }
    (out / "survey.json").write_text(json.dumps(summary, indent=2) + "\n")
    elapsed = time.perf_counter() - started
    total = n_labelled + n_pool
    return {
        **summary,
        "out_dir": str(out),
        "workers": workers,
        "elapsed_s": elapsed,
        "spectra_per_s": total / elapsed if elapsed > 0 else float("nan"),
    }
