"""A fabricated three-round campaign whose candidates point at real LAMOST FITS files.

The rows are written with the sampler's own CSV helpers
(:mod:`components.uncertainty_sampler.records`), so the catalogue reads exactly the
format a real round produces.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import pathlib
import shutil

import numpy as np
import pytest

# The row format of the round files; a light module (its package loads TFX lazily).
from components.uncertainty_sampler import records

CLASSES = ("other", "emission", "double-peak")


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """One pool spectrum of the fabricated campaign."""

    spectrum_id: str
    designation: str
    ra: float
    dec: float
    snr: float
    source: str


@dataclasses.dataclass(frozen=True)
class Campaign:
    """The work directory and what the catalogue built from it must contain."""

    workdir: pathlib.Path
    spectra: dict[str, Spectrum]
    #: spectrum_id -> (predicted class, probability vector) in the latest round.
    latest: dict[str, tuple[str, tuple[float, ...]]]
    first_round: dict[str, int]
    n_rounds: int


def _probabilities(predicted: str, confidence: float) -> tuple[float, ...]:
    rest = (1.0 - confidence) / (len(CLASSES) - 1)
    return tuple(confidence if name == predicted else rest for name in CLASSES)


def _record(spectrum: Spectrum, predicted: str, probabilities: tuple[float, ...]) -> dict:
    p = np.asarray(probabilities, dtype=np.float64)
    top2 = np.sort(p)[-2:]
    return {
        "spectrum_id": spectrum.spectrum_id,
        "designation": spectrum.designation,
        "ra": spectrum.ra,
        "dec": spectrum.dec,
        "snr": spectrum.snr,
        "survey": "LAMOST",
        "source": spectrum.source,
        "probabilities": tuple(float(x) for x in p),
        "predicted_class": predicted,
        "entropy": float(-(p * np.log(p)).sum()),
        "margin": float(top2[1] - top2[0]),
        "least_confidence": float(1.0 - p.max()),
    }


def _write_round(round_dir: pathlib.Path, index: int, rows: list[dict], summary: dict) -> None:
    round_dir.mkdir(parents=True)
    with (round_dir / "candidates.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(records.csv_columns(CLASSES, with_role=False))
        writer.writerows(records.csv_row(row) for row in rows)
    (round_dir / "summary.json").write_text(json.dumps({"round": index, **summary}, indent=2))


def _summary(index: int, pool_counts: dict[str, int], macro_f1: float, labels: int) -> dict:
    matrix = [[50, 3, 1], [4, 40, 2], [1, 3, 20 + index]]
    per_class = {}
    for i, name in enumerate(CLASSES):
        tp = matrix[i][i]
        precision = tp / sum(row[i] for row in matrix)
        recall = tp / sum(matrix[i])
        per_class[name] = {
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall),
            "support": sum(matrix[i]),
        }
    n_perf = 30
    hits = 21 + 3 * index
    return {
        "class_names": list(CLASSES),
        "evaluation": {
            "n": sum(map(sum, matrix)),
            "accuracy": sum(matrix[i][i] for i in range(3)) / sum(map(sum, matrix)),
            "macro_f1": macro_f1,
            "per_class": per_class,
            "confusion_matrix": matrix,
        },
        "sampling": {"num_candidates": pool_counts["emission"] + pool_counts["double-peak"]},
        "labels_so_far": labels,
        "performance": {"n": n_perf, "precision": hits / n_perf},
        "estimated_recall": {
            "value": 0.45 + 0.15 * index,
            "lower": 0.2 + 0.1 * index,
            "upper": 0.8 + 0.05 * index,
            "n": 30,
        },
        "simulated": {"precision": 0.6 + 0.1 * index, "recall": 0.5 + 0.15 * index},
        "class_counts": pool_counts,
    }


@pytest.fixture()
def campaign(tmp_path, real_dir) -> Campaign:
    """A fresh campaign per test (tests may edit its files)."""
    return make_campaign(tmp_path, real_dir)


def make_campaign(tmp_path: pathlib.Path, real_dir: pathlib.Path) -> Campaign:
    """Rounds 0-2; spectra A-F real LAMOST / Ondřejov files, G without coordinates or file."""
    index = {row["file"]: row for row in csv.DictReader((real_dir / "INDEX.csv").open())}
    spectra_dir = tmp_path / "spectra"
    spectra_dir.mkdir()
    files = {
        "A": "lamost/spec-55862-B6212_sp06-018.fits",
        "B": "lamost/spec-56257-GAC089N38V2_sp01-001.fits",
        "C": "lamost/spec-55919-B5591903_sp01-008.fits",
        "D": "lamost/spec-55862-B6212_sp06-125.fits",
        "E": "lamost/spec-58397-EG014118N254444M01_sp03-031.fits",
        "F": "ondrejov/oe270005.fits",
    }
    spectra = {}
    for key, name in files.items():
        copied = spectra_dir / pathlib.Path(name).name
        shutil.copyfile(real_dir / name, copied)
        row = index[name]
        is_lamost = name.startswith("lamost/")
        spectra[key] = Spectrum(
            spectrum_id=f"id-{key}",
            designation=row["object"],
            ra=float(row["ra"]) if is_lamost else 329.32583,
            dec=float(row["dec"]) if is_lamost else 61.29436,
            snr=20.0 + 10 * len(spectra),
            source=str(copied),
        )
    spectra["G"] = Spectrum(
        "id-G", "", math.nan, math.nan, math.nan, str(spectra_dir / "gone.fits")
    )

    rounds = [
        {
            "A": ("emission", 0.55),
            "B": ("double-peak", 0.5),
            "C": ("emission", 0.6),
            "D": ("emission", 0.5),
        },
        {"B": ("double-peak", 0.7), "C": ("emission", 0.8), "E": ("double-peak", 0.6)},
        {
            "A": ("emission", 0.97),
            "B": ("double-peak", 0.91),
            "C": ("emission", 0.88),
            "E": ("double-peak", 0.74),
            "F": ("emission", 0.93),
            "G": ("emission", 0.66),
        },
    ]
    pool_counts = [
        {"other": 700, "emission": 200, "double-peak": 100},
        {"other": 900, "emission": 70, "double-peak": 30},
        {"other": 960, "emission": 28, "double-peak": 12},
    ]
    workdir = tmp_path / "workdir"
    for i, chosen in enumerate(rounds):
        rows = [
            _record(spectra[key], cls, _probabilities(cls, conf))
            for key, (cls, conf) in sorted(chosen.items(), reverse=True)  # unordered like Beam
        ]
        summary = _summary(i, pool_counts[i], macro_f1=0.6 + 0.1 * i, labels=100 * (i + 1))
        _write_round(workdir / "rounds" / f"round-{i:03d}", i, rows, summary)
    latest = {key: (cls, _probabilities(cls, conf)) for key, (cls, conf) in rounds[-1].items()}
    first_round = {"A": 0, "B": 0, "C": 0, "E": 1, "F": 2, "G": 2}
    return Campaign(workdir, spectra, latest, first_round, len(rounds))


def offset_position(ra: float, dec: float, arcsec: float, angle_deg: float) -> tuple[float, float]:
    """The position ``arcsec`` away from (ra, dec) towards position angle ``angle_deg``."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    moved = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(
        angle_deg * u.deg, arcsec * u.arcsec
    )
    return float(moved.ra.deg), float(moved.dec.deg)


@pytest.fixture()
def known_entries(campaign) -> list[tuple[str, float, float]]:
    return make_known_entries(campaign)


def make_known_entries(campaign: Campaign) -> list[tuple[str, float, float]]:
    """(name, ra, dec): 1 arcsec from A (a match), 10 arcsec from B (none), one far away."""
    a, b = campaign.spectra["A"], campaign.spectra["B"]
    return [
        ("Known near A", *offset_position(a.ra, a.dec, 1.0, 45.0)),
        ("Known near B", *offset_position(b.ra, b.dec, 10.0, 120.0)),
        ("Far away", 200.0, -30.0),
    ]


@pytest.fixture()
def known_files(tmp_path, known_entries) -> dict[str, pathlib.Path]:
    return make_known_files(tmp_path, known_entries)


def make_known_files(tmp_path: pathlib.Path, known_entries) -> dict[str, pathlib.Path]:
    """The known objects as a CSV, a VOTable (with UCDs) and a FITS binary table."""
    from astropy import units as u
    from astropy.table import Table

    names = [e[0] for e in known_entries]
    ra = np.array([e[1] for e in known_entries])
    dec = np.array([e[2] for e in known_entries])
    folder = tmp_path / "known"
    folder.mkdir()
    files = {}

    with (folder / "known.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "RA", "Dec", "V"])
        writer.writerows([n, f"{r:.8f}", f"{d:.8f}", "11.2"] for n, r, d in known_entries)
    files["csv"] = folder / "known.csv"

    table = Table()
    table["main_id"] = names
    table["RAJ2000"] = ra * u.deg
    table["DEJ2000"] = dec * u.deg
    table["RAJ2000"].meta["ucd"] = "pos.eq.ra;meta.main"
    table["DEJ2000"].meta["ucd"] = "pos.eq.dec;meta.main"
    table.write(folder / "known.vot", format="votable")
    files["votable"] = folder / "known.vot"

    fits_table = Table({"OBJECT": names, "RA_ICRS": ra, "DE_ICRS": dec})
    fits_table["RA_ICRS"].unit = u.deg
    fits_table["DE_ICRS"].unit = u.deg
    fits_table.write(folder / "known.fits", format="fits")
    files["fits"] = folder / "known.fits"
    return files


@dataclasses.dataclass
class SampHub:
    """An isolated astropy SAMP hub with one recording client."""

    lockfile: pathlib.Path
    received: list[tuple[str, dict]]

    @property
    def lockurl(self) -> str:
        return f"std-lockurl:{self.lockfile.as_uri()}"


@pytest.fixture()
def samp_hub(tmp_path, monkeypatch):
    """A hub whose lockfile lives in ``tmp_path`` (never ``~/.samp``) and a receiver.

    The receiver, named ``receiver``, subscribes to ``table.load.votable`` and
    ``spectrum.load.ssa-generic``, records each call and replies ``samp.ok``.
    HOME is redirected so that astropy's lockfile housekeeping cannot touch the user's.
    """
    from astropy.samp import SAMPHubServer, SAMPIntegratedClient, conf

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SAMP_HUB", raising=False)
    (tmp_path / "home").mkdir()
    lockfile = tmp_path / "samp-lockfile"
    received: list[tuple[str, dict]] = []
    with conf.set_temp("use_internet", False):  # bind to 127.0.0.1, probe no web site
        hub = SAMPHubServer(web_profile=False, lockfile=str(lockfile), pool_size=1, timeout=120)
        receiver = SAMPIntegratedClient(name="receiver")
        hub.start()
        try:
            receiver.connect(hub=hub, pool_size=1)

            def on_call(private_key, sender_id, msg_id, mtype, params, extra):
                received.append((mtype, params))
                receiver.ereply(msg_id, "samp.ok", result={})

            for mtype in ("table.load.votable", "spectrum.load.ssa-generic"):
                receiver.bind_receive_call(mtype, on_call)
            yield SampHub(lockfile, received)
        finally:
            if receiver.is_connected:
                receiver.disconnect()
            hub.stop()
