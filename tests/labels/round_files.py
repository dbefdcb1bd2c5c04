"""Write round folders as the uncertainty sampler does (``query.json``, ``performance_sample.json``).

The rows have the shape of :func:`components.uncertainty_sampler.records.json_record`.
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np

from activespec.constants import DEFAULT_CLASSES


def sampler_row(
    spectrum_id: str,
    *,
    role: str,
    rank: int,
    probabilities,
    class_names=DEFAULT_CLASSES,
    source: str = "",
    designation: str = "",
    ra: float | None = None,
    dec: float | None = None,
    snr: float | None = None,
    survey: str = "LAMOST",
) -> dict:
    """One row of query.json / performance_sample.json, uncertainty measures computed."""
    p = np.asarray(probabilities, dtype=float)
    ordered = np.sort(p)[::-1]
    entropy = float(-np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)))
    return {
        "role": role,
        "rank": rank,
        "spectrum_id": spectrum_id,
        "designation": designation,
        "ra": ra,
        "dec": dec,
        "snr": snr,
        "survey": survey,
        "source": source,
        "predicted_class": class_names[int(np.argmax(p))],
        "probabilities": {name: float(v) for name, v in zip(class_names, p, strict=True)},
        "entropy": round(entropy, 6),
        "margin": round(float(ordered[0] - ordered[1]), 6),
        "least_confidence": round(float(1.0 - ordered[0]), 6),
    }


def random_probabilities(
    rng: np.random.Generator, n_classes: int = 3, concentration: float = 3.0
) -> list[float]:
    """An uncertain-looking probability vector, written as the sampler writes float32."""
    p = rng.dirichlet(np.full(n_classes, concentration))
    return [float(str(np.float32(v))) for v in p]


def write_round(
    workdir: pathlib.Path,
    round_index: int,
    query: list[dict],
    performance: list[dict],
    *,
    class_names=None,
) -> pathlib.Path:
    """Write ``rounds/round-NNN/`` with the two JSON files and a summary.json."""
    folder = pathlib.Path(workdir) / "rounds" / f"round-{round_index:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "query.json").write_text(json.dumps(query, indent=1) + "\n")
    (folder / "performance_sample.json").write_text(json.dumps(performance, indent=1) + "\n")
    summary = {"round": round_index}
    if class_names is not None:
        summary["class_names"] = list(class_names)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return folder


def synthetic_round(
    workdir: pathlib.Path, round_index: int, n_query: int, n_performance: int, seed: int = 0
) -> tuple[list[dict], list[dict]]:
    """A round of made-up LAMOST-like identifiers (for store and CLI tests, no FITS files)."""
    rng = np.random.default_rng(seed + round_index)
    query = [
        sampler_row(
            f"r{round_index}-q{i}",
            role="query",
            rank=i + 1,
            probabilities=random_probabilities(rng),
            designation=f"LAMOST J{rng.integers(0, 24):02d}{rng.integers(0, 60):02d}00+2{i}",
            ra=float(rng.uniform(0, 360)),
            dec=float(rng.uniform(-10, 60)),
            snr=float(rng.uniform(2, 200)),
            source=f"/data/pool/spec-{i}.fits",
        )
        for i in range(n_query)
    ]
    performance = [
        sampler_row(
            f"r{round_index}-p{i}",
            role="performance",
            rank=i + 1,
            probabilities=[0.1, 0.6, 0.3],
            snr=math.nan if i == 0 else 40.0,
        )
        for i in range(n_performance)
    ]
    for row in performance:
        if isinstance(row["snr"], float) and math.isnan(row["snr"]):
            row["snr"] = None  # the sampler writes NaN as null
    write_round(workdir, round_index, query, performance)
    return query, performance
