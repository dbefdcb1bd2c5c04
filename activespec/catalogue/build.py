"""The candidate catalogue: the latest round's predicted positives, cross-matched.

One row per spectrum of the latest round's ``candidates.csv``, with the round in which
the spectrum first became a candidate, and whether it lies within the match radius of
an object of a user's catalogue of known objects (:mod:`activespec.catalogue.crossmatch`).
Every column carries a unit where it has one, a UCD and a description, so that the
VOTable written from it is self-describing in TOPCAT or Aladin.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import numpy as np

from activespec.catalogue.crossmatch import (
    NO_COORDINATES_NOTE,
    KnownCatalogue,
    MatchResult,
    check_radius,
    crossmatch,
    load_known_catalogue,
)
from activespec.catalogue.errors import CatalogueError
from activespec.catalogue.rounds import (
    CandidateRows,
    RoundFiles,
    list_rounds,
    read_candidates,
    read_summary,
    scan_candidates,
)

CATALOGUE_DESCRIPTION = (
    "Emission-line candidates found by activespec (active deep learning on the H-alpha "
    "profile): every pool spectrum the latest round's classifier assigns to a positive "
    "class, with its probability, the round in which it first became a candidate and its "
    "cross-match with a catalogue of known objects."
)


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """Name, unit, UCD, description and display format of one catalogue column."""

    name: str
    ucd: str
    description: str
    unit: str | None = None
    format: str | None = None


#: The catalogue's columns, in order.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("spectrum_id", "meta.id;meta.main", "Spectrum identifier (LAMOST obsid or file id)"),
    ColumnSpec("designation", "meta.id", "Object designation from the survey header"),
    ColumnSpec("ra", "pos.eq.ra;meta.main", "Right ascension (ICRS)", "deg", ".6f"),
    ColumnSpec("dec", "pos.eq.dec;meta.main", "Declination (ICRS)", "deg", ".6f"),
    ColumnSpec("predicted_class", "meta.code.class", "Class predicted from the H-alpha profile"),
    ColumnSpec(
        "probability", "stat.probability", "Softmax probability of the predicted class", None, ".4f"
    ),
    ColumnSpec(
        "status",
        "meta.code.status",
        "confirmed: labelled positive by the expert; predicted: the model's candidate",
    ),
    ColumnSpec("confirmed_label", "meta.code.class", "Class the expert gave (empty if predicted)"),
    ColumnSpec("entropy", "stat.value", "Entropy of the class probabilities (nats)", None, ".4f"),
    ColumnSpec(
        "first_round", "meta.number", "First active-learning round listing it as a candidate"
    ),
    ColumnSpec(
        "snr", "stat.snr", "Signal-to-noise ratio near H-alpha (LAMOST S/N in r)", None, ".1f"
    ),
    ColumnSpec("survey", "meta.dataset", "Survey the spectrum comes from"),
    ColumnSpec("source", "meta.ref;meta.file", "Path of the spectrum's FITS file"),
    ColumnSpec(
        "known", "meta.code", "True if a known-catalogue object lies within the match radius"
    ),
    ColumnSpec("known_name", "meta.id.cross", "Name of the matched known object, empty if new"),
    ColumnSpec(
        "separation_arcsec",
        "pos.angDistance",
        "Distance to the nearest known-catalogue object",
        "arcsec",
        ".2f",
    ),
    ColumnSpec("note", "meta.note", "Remark on the cross-match (e.g. missing coordinates)"),
)
COLUMN_NAMES = tuple(spec.name for spec in COLUMNS)


def build_catalogue(
    workdir: str | os.PathLike,
    *,
    known: str | os.PathLike | KnownCatalogue | None = None,
    radius_arcsec: float = 3.0,
):
    """Build the candidate catalogue of a campaign from its latest round.

    Parameters
    ----------
    workdir : path-like
        The campaign's work directory (holding ``rounds/round-NNN/candidates.csv``).
    known : path-like, KnownCatalogue or remote catalogue, optional
        Catalogue of already known objects (CSV, VOTable or FITS; see
        :func:`~activespec.catalogue.crossmatch.load_known_catalogue`), or an object
        with ``path``, ``size`` and ``crossmatch(ra, dec, radius_arcsec)`` returning a
        :class:`~activespec.catalogue.crossmatch.MatchResult` (a TAP service:
        :class:`activespec.vo.tap.TapCatalogue`). Without it no spectrum is marked known
        and ``separation_arcsec`` is NaN.
    radius_arcsec : float, optional
        Largest separation of a cross-match, default 3 arcsec.

    Returns
    -------
    astropy.table.Table
        Columns :data:`COLUMN_NAMES` with units, UCDs (``meta["ucd"]``) and
        descriptions, sorted by class (in the configured class order) and then by
        decreasing probability. ``meta`` holds ``description``, ``round``,
        ``workdir``, ``class_names``, ``positive_classes``, ``known_catalogue``,
        ``radius_arcsec`` and ``candidate_counts`` (per round: candidates per class).

    Raises
    ------
    CatalogueError
        If no round has a ``candidates.csv``, or the latest one is malformed.
    activespec.errors.ConfigError
        If the known catalogue cannot be used or the radius is not positive.
    """
    # astropy.table is slow to import; only a known catalogue needs it
    from astropy.table import Table

    radius = check_radius(radius_arcsec)
    if known is not None and not isinstance(known, KnownCatalogue) and not _is_remote(known):
        known = load_known_catalogue(known)
    rounds = [r for r in list_rounds(workdir) if r.candidates_path.is_file()]
    if not rounds:
        raise CatalogueError(
            f"no rounds/round-NNN/candidates.csv under {str(workdir)!r}: run a round first"
        )
    latest = rounds[-1]
    rows = read_candidates(latest.candidates_path)
    summary = read_summary(latest)
    class_names = _class_names(summary, rows)
    probability = _predicted_probability(rows, latest)
    first_round, candidate_counts = _first_rounds(rounds, rows)
    match = _match(rows, known, radius)

    table = Table(meta={})
    values = {
        "spectrum_id": rows.text["spectrum_id"],
        "designation": rows.text["designation"],
        "ra": rows.numbers["ra"],
        "dec": rows.numbers["dec"],
        "predicted_class": rows.text["predicted_class"],
        "probability": probability,
        "status": np.where(rows.text["status"] == "", "predicted", rows.text["status"]),
        "confirmed_label": rows.text["confirmed_label"],
        "entropy": rows.numbers["entropy"],
        "first_round": first_round,
        "snr": rows.numbers["snr"],
        "survey": rows.text["survey"],
        "source": rows.text["source"],
        "known": match.known,
        "known_name": match.known_name,
        "separation_arcsec": match.separation_arcsec,
        "note": match.note,
    }
    for spec in COLUMNS:
        table[spec.name] = values[spec.name]
        column = table[spec.name]
        column.unit = spec.unit
        column.description = spec.description
        column.format = spec.format
        column.meta["ucd"] = spec.ucd
    table = table[_sort_order(table, class_names)]
    # Classes ever predicted positive; before any candidate exists, all but the first
    # (the "other" class by convention).
    seen = {name for per_class in candidate_counts.values() for name in per_class}
    positive = [c for c in class_names if c in seen] or list(class_names[1:])
    table.meta.update(
        {
            "description": CATALOGUE_DESCRIPTION,
            "round": latest.index,
            "workdir": str(pathlib.Path(workdir).resolve()),
            "class_names": list(class_names),
            "positive_classes": positive,
            "known_catalogue": known.path if known is not None else None,
            "known_catalogue_size": _size(known),
            "radius_arcsec": radius,
            "candidate_counts": candidate_counts,
        }
    )
    return table


def top_candidates(table, n: int):
    """The ``n`` most probable candidates of each predicted class, in catalogue order.

    Parameters
    ----------
    table : astropy.table.Table
        A catalogue from :func:`build_catalogue`.
    n : int
        Rows per class (0 gives an empty table).

    Returns
    -------
    astropy.table.Table
    """
    if n < 0:
        raise CatalogueError(f"the number of top candidates must be >= 0, not {n}")
    if n == 0 or len(table) == 0:
        return table[:0]
    probability = np.nan_to_num(np.asarray(table["probability"], dtype=float), nan=-1.0)
    order = np.lexsort((-probability, np.asarray(table["predicted_class"])))
    classes = np.asarray(table["predicted_class"])[order]
    # Rank of each row within its class after the sort above.
    starts = np.r_[0, np.flatnonzero(classes[1:] != classes[:-1]) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    keep = np.sort(order[rank < n])
    return table[keep]


def count_summary(table) -> dict[str, dict[str, int]]:
    """Candidates per predicted class (and ``"total"``): ``{"all", "new", "known"}``."""
    classes = np.asarray(table["predicted_class"])
    known = np.asarray(table["known"], dtype=bool)
    order = list(table.meta.get("class_names") or [])
    names = [c for c in order if (classes == c).any()]
    names += sorted(set(classes.tolist()) - set(names))
    out = {}
    for name in [*names, "total"]:
        selected = np.ones(len(classes), dtype=bool) if name == "total" else classes == name
        n_known = int((known & selected).sum())
        out[name] = {
            "all": int(selected.sum()),
            "new": int(selected.sum()) - n_known,
            "known": n_known,
        }
    return out


def _class_names(summary: dict, rows: CandidateRows) -> tuple[str, ...]:
    names = summary.get("class_names")
    if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
        return tuple(names)
    return rows.class_names


def _predicted_probability(rows: CandidateRows, latest: RoundFiles) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(rows.class_names)}
    predicted = rows.text["predicted_class"]
    unknown = sorted(set(predicted.tolist()) - set(lookup))
    if unknown:
        raise CatalogueError(
            f"{latest.candidates_path}: predicted class {unknown[0]!r} has no p_{unknown[0]} column"
        )
    index = np.array([lookup[name] for name in predicted], dtype=np.int64)
    return rows.probabilities[np.arange(len(rows)), index] if len(rows) else np.zeros(0)


def _first_rounds(
    rounds: list[RoundFiles], rows: CandidateRows
) -> tuple[np.ndarray, dict[str, dict[str, int]]]:
    """First round listing each latest candidate, and every round's candidates per class."""
    ids = rows.text["spectrum_id"]
    first = np.full(len(ids), rounds[-1].index, dtype=np.int32)
    unresolved = np.ones(len(ids), dtype=bool)
    counts = {str(rounds[-1].index): _class_counts(rows.text["predicted_class"])}
    for round_files in rounds[:-1]:
        earlier_ids, earlier_classes = scan_candidates(round_files.candidates_path)
        counts[str(round_files.index)] = _class_counts(earlier_classes)
        hit = unresolved & np.isin(ids, earlier_ids)
        first[hit] = round_files.index
        unresolved &= ~hit
    return first, dict(sorted(counts.items(), key=lambda kv: int(kv[0])))


def _class_counts(classes: np.ndarray) -> dict[str, int]:
    names, counts = np.unique(classes, return_counts=True)
    return {str(name): int(count) for name, count in zip(names, counts, strict=True)}


def mark_crossmatch_failed(table, reason: str) -> None:
    """After a failed cross-match: ``known`` empty (masked: neither known nor new),
    ``known_name`` empty, ``separation_arcsec`` NaN and ``note`` saying why, in place;
    ``meta["crossmatch_error"]`` holds ``reason``."""
    from astropy.table import MaskedColumn

    n = len(table)
    old = table["known"]
    table["known"] = MaskedColumn(np.zeros(n, dtype=bool), mask=np.ones(n, dtype=bool))
    for attribute in ("unit", "description", "format"):
        setattr(table["known"], attribute, getattr(old, attribute))
    table["known"].meta["ucd"] = old.meta.get("ucd")
    table["known_name"][:] = ""
    table["separation_arcsec"][:] = np.nan
    table["note"] = np.array([f"cross-match failed: {reason}"] * n, dtype=str)
    for spec in COLUMNS:
        if spec.name == "note":
            table["note"].description = spec.description
            table["note"].meta["ucd"] = spec.ucd
    table.meta["crossmatch_error"] = reason


def _is_remote(known) -> bool:
    return callable(getattr(known, "crossmatch", None))


def _size(known) -> int | None:
    if known is None:
        return None
    return getattr(known, "size", None) if _is_remote(known) else len(known)


def _match(rows: CandidateRows, known, radius: float) -> MatchResult:
    ra, dec = rows.numbers["ra"], rows.numbers["dec"]
    if known is not None and _is_remote(known):
        return known.crossmatch(ra, dec, radius)
    if known is not None:
        return crossmatch(ra, dec, known, radius)
    n = len(rows)
    has_position = np.isfinite(ra) & np.isfinite(dec)
    return MatchResult(
        known=np.zeros(n, dtype=bool),
        known_name=np.full(n, "", dtype=str),
        separation_arcsec=np.full(n, np.nan),
        note=np.where(has_position, "", NO_COORDINATES_NOTE).astype(str),
    )


def _sort_order(table, class_names: tuple[str, ...]) -> np.ndarray:
    rank = {name: i for i, name in enumerate(class_names)}
    classes = np.asarray(table["predicted_class"])
    class_rank = np.array([rank.get(c, len(rank)) for c in classes], dtype=np.int64)
    probability = np.nan_to_num(np.asarray(table["probability"], dtype=float), nan=-1.0)
    # lexsort: last key is primary -> class, then probability descending, then id.
    return np.lexsort((np.asarray(table["spectrum_id"]), classes, -probability, class_rank))
