"""Does the simulated pool look like the real one after preprocessing?

Three numbers summarise a preprocessed spectrum (see :func:`vector_statistics`):

``halpha_depth``
    Value of the [-1, 1]-scaled vector at the grid pixel nearest H-alpha
    (6564.61 Å vacuum) minus the vector's median. About -1.5 for A-K stars, whose
    H-alpha absorption is the deepest feature of the window; about 0 for a
    featureless spectrum; positive for emission (or when, as in M stars, molecular
    bands pull the median of the window below the H-alpha region).
``halpha_relative_depth``
    ``1 - f(H-alpha) / median(f)`` on the unscaled flux resampled onto the grid: the
    fractional depth of the line at the model's resolution, free of the min-max
    scaling.
``mean_abs_step``
    Mean absolute difference between neighbouring points of the scaled vector: a
    noise proxy (it also grows with the number of resolved lines).

Real and simulated spectra are grouped by the letter of their LAMOST ``SUBCLASS``;
simulated stars are kept only within the range of subclass numbers spanned by the
real stars of that letter (:func:`compare_by_type`), so both samples cover the same
temperatures. Per type the median and 10th-90th percentiles of every statistic are
reported (:func:`format_table`); :meth:`TypeComparison.overlaps` says whether each
sample's median lies inside the other's central 80 %.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from activespec.constants import H_ALPHA_VACUUM
from activespec.errors import ActivespecError, ConfigError
from activespec.io import read_spectrum
from activespec.preprocessing import PreprocessConfig, PreprocessResult, preprocess_with_details
from activespec.workdir import survey_truth_path

#: Names of the statistics of :func:`vector_statistics`, in table order.
STATISTICS = ("halpha_depth", "halpha_relative_depth", "mean_abs_step")
#: Column titles of the statistics in :func:`format_table`.
STATISTIC_TITLES = {
    "halpha_depth": "Hα depth (scaled)",
    "halpha_relative_depth": "Hα relative depth",
    "mean_abs_step": "mean abs step (noise)",
}
#: Spectral types compared by default, hot to cool.
DEFAULT_TYPES = ("A", "F", "G", "K", "M")
#: Simulator subtypes that are ordinary stars (no emission, no defect).
NORMAL_STAR_SUBTYPES = ("B", "A", "FGK", "M")
#: Percentiles bounding the "central" part of a sample.
CENTRAL_PERCENTILES = (10.0, 90.0)

# MK type as LAMOST writes it: optional dwarf/giant/subdwarf prefix, the letter, the
# subclass number (possibly decimal), then an optional luminosity class.
_SUBCLASS = re.compile(r"^(?:sd|d|g)?([OBAFGKM])(\d+(?:\.\d+)?)")


@dataclasses.dataclass(frozen=True)
class SpectrumStatistics:
    """The statistics of one preprocessed spectrum and what it is.

    Attributes
    ----------
    source : str
        File the spectrum was read from.
    subclass : str or None
        LAMOST ``SUBCLASS`` header value.
    spectral_type : str or None
        Letter of the MK type (``"A"`` ... ``"M"``), None when the subclass is not one.
    subclass_number : float or None
        Number of the MK subclass (4 for ``"A4III"``).
    snr : float or None
        S/N in the r band from the header.
    values : dict of str to float
        The :data:`STATISTICS`.
    """

    source: str
    subclass: str | None
    spectral_type: str | None
    subclass_number: float | None
    snr: float | None
    values: dict


@dataclasses.dataclass(frozen=True)
class Spread:
    """Median and central percentiles of one statistic over a sample."""

    n: int
    median: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        """True if ``value`` lies within [low, high]."""
        return bool(self.low <= value <= self.high)


@dataclasses.dataclass(frozen=True)
class TypeComparison:
    """Real and simulated statistics of one spectral type.

    Attributes
    ----------
    spectral_type : str
    subclass_range : tuple of float
        Smallest and largest subclass number of the real stars; simulated stars
        outside it are left out.
    real, simulated : dict of str to Spread or None
        Per statistic; None when the sample is empty.
    n_real, n_simulated : int
    real_snr, simulated_snr : Spread or None
        Header S/N of the spectra of each sample that have one.
    """

    spectral_type: str
    subclass_range: tuple
    n_real: int
    n_simulated: int
    real: dict
    simulated: dict
    real_snr: Spread | None = None
    simulated_snr: Spread | None = None

    def overlaps(self, statistic: str) -> bool:
        """True if each sample's median lies within the other's central percentiles.

        Raises
        ------
        activespec.errors.ConfigError
            If ``statistic`` is unknown or a sample is empty.
        """
        real, simulated = self._pair(statistic)
        return real.contains(simulated.median) and simulated.contains(real.median)

    def median_difference(self, statistic: str) -> float:
        """Simulated median minus real median of ``statistic``."""
        real, simulated = self._pair(statistic)
        return simulated.median - real.median

    def _pair(self, statistic: str) -> tuple[Spread, Spread]:
        if statistic not in STATISTICS:
            raise ConfigError(f"unknown statistic {statistic!r}; expected one of {STATISTICS}")
        real, simulated = self.real.get(statistic), self.simulated.get(statistic)
        if real is None or simulated is None:
            raise ConfigError(
                f"type {self.spectral_type}: {self.n_real} real and {self.n_simulated} "
                "simulated spectra; both samples must be non-empty to compare"
            )
        return real, simulated


def spectral_type_of(subclass: str | None) -> tuple[str, float] | None:
    """Letter and number of a LAMOST MK subclass.

    Parameters
    ----------
    subclass : str or None
        e.g. ``"A4III"``, ``"K3"``, ``"dM2"``, ``"Non"``.

    Returns
    -------
    tuple of (str, float) or None
        ``("A", 4.0)`` for ``"A4III"``; None for anything that is not an MK type.
    """
    if not subclass:
        return None
    match = _SUBCLASS.match(subclass.strip())
    if match is None:
        return None
    return match.group(1), float(match.group(2))


def vector_statistics(result: PreprocessResult) -> dict[str, float]:
    """H-alpha depth and noise proxy of one preprocessed spectrum.

    Parameters
    ----------
    result : activespec.preprocessing.PreprocessResult
        From :func:`activespec.preprocessing.preprocess_with_details`; its grid must
        contain H-alpha.

    Returns
    -------
    dict of str to float
        The :data:`STATISTICS` (see the module docstring). The relative depth is NaN
        when the median flux is not positive.

    Raises
    ------
    activespec.errors.ConfigError
        If H-alpha is outside the grid.
    """
    grid = np.asarray(result.grid, dtype=np.float64)
    step = grid[1] - grid[0]
    if not grid[0] - 0.5 * step <= H_ALPHA_VACUUM <= grid[-1] + 0.5 * step:
        raise ConfigError(
            f"the grid {grid[0]:.1f}-{grid[-1]:.1f} Å does not contain H-alpha ({H_ALPHA_VACUUM} Å)"
        )
    index = int(np.argmin(np.abs(grid - H_ALPHA_VACUUM)))
    vector = np.asarray(result.vector, dtype=np.float64)
    flux = np.asarray(result.flux, dtype=np.float64)
    median_flux = float(np.median(flux))
    relative = 1.0 - flux[index] / median_flux if median_flux > 0 else float("nan")
    return {
        "halpha_depth": float(vector[index] - np.median(vector)),
        "halpha_relative_depth": float(relative),
        "mean_abs_step": float(np.mean(np.abs(np.diff(vector)))),
    }


def measure_spectra(
    paths: Iterable[str | os.PathLike], config: PreprocessConfig | None = None
) -> tuple[list[SpectrumStatistics], list[tuple[str, str, str]]]:
    """Read, preprocess and measure spectra; record the ones that cannot be.

    Parameters
    ----------
    paths : iterable of path-like
        FITS files of any layout :func:`activespec.io.read_spectrum` reads.
    config : PreprocessConfig, optional
        Preprocessing settings (defaults: the published pipeline).

    Returns
    -------
    measured : list of SpectrumStatistics
        In the order of ``paths``.
    rejected : list of tuple (path, code, reason)
        Files that could not be read or that preprocessing refused.
    """
    config = PreprocessConfig() if config is None else config
    measured: list[SpectrumStatistics] = []
    rejected: list[tuple[str, str, str]] = []
    for path in paths:
        try:
            spectrum = read_spectrum(path)
            result = preprocess_with_details(spectrum, config)
        except ActivespecError as error:
            rejected.append((str(path), error.code, str(error)))
            continue
        subclass = spectrum.meta.lamost_subclass
        mk_type = spectral_type_of(subclass)
        measured.append(
            SpectrumStatistics(
                source=str(path),
                subclass=subclass,
                spectral_type=None if mk_type is None else mk_type[0],
                subclass_number=None if mk_type is None else mk_type[1],
                snr=spectrum.meta.snr,
                values=vector_statistics(result),
            )
        )
    return measured, rejected


def _spread(values: np.ndarray) -> Spread:
    low, high = np.percentile(values, CENTRAL_PERCENTILES)
    return Spread(int(values.size), float(np.median(values)), float(low), float(high))


def _spreads(sample: Sequence[SpectrumStatistics]) -> dict:
    if not sample:
        return dict.fromkeys(STATISTICS)
    return {
        name: _spread(np.array([s.values[name] for s in sample], dtype=np.float64))
        for name in STATISTICS
    }


def _snr_spread(sample: Sequence[SpectrumStatistics]) -> Spread | None:
    values = np.array([s.snr for s in sample if s.snr is not None], dtype=np.float64)
    values = values[np.isfinite(values)]
    return _spread(values) if values.size else None


def match_snr(
    real: Sequence[SpectrumStatistics], simulated: Sequence[SpectrumStatistics], per_real: int
) -> list[SpectrumStatistics]:
    """A simulated sample with the S/N distribution of the real one.

    For every real spectrum (lowest S/N first) the ``per_real`` simulated spectra
    nearest in log S/N are taken, each at most once, so the result holds
    ``per_real * len(real)`` spectra when there are enough (fewer otherwise).
    Spectra without a finite S/N are ignored.

    Parameters
    ----------
    real, simulated : sequence of SpectrumStatistics
    per_real : int
        Simulated spectra per real one (>= 1).

    Returns
    -------
    list of SpectrumStatistics
    """
    if per_real < 1:
        raise ConfigError(f"per_real must be >= 1, got {per_real}")

    def log_snr(sample):
        kept = [s for s in sample if s.snr is not None and np.isfinite(s.snr) and s.snr > 0]
        return kept, np.log([s.snr for s in kept])

    real_kept, real_log = log_snr(real)
    pool, pool_log = log_snr(simulated)
    available = np.ones(len(pool), dtype=bool)
    chosen: list[SpectrumStatistics] = []
    for target in real_log[np.argsort(real_log, kind="stable")]:
        distance = np.where(available, np.abs(pool_log - target), np.inf)
        for index in np.argsort(distance, kind="stable")[: min(per_real, int(available.sum()))]:
            available[index] = False
            chosen.append(pool[index])
    return chosen


def compare_by_type(
    real: Sequence[SpectrumStatistics],
    simulated: Sequence[SpectrumStatistics],
    types: Sequence[str] = DEFAULT_TYPES,
    *,
    snr_matched: int | None = None,
) -> list[TypeComparison]:
    """Per spectral type, the spreads of the statistics of both samples.

    Simulated stars count for a type when their subclass letter matches and their
    subclass number lies within the range spanned by the real stars of the type
    (e.g. only M0-M2 if the real M stars are M0, M1 and M2).

    Parameters
    ----------
    real, simulated : sequence of SpectrumStatistics
        From :func:`measure_spectra`; spectra without an MK type are ignored.
    types : sequence of str, optional
        Letters to compare, in output order.
    snr_matched : int, optional
        If given, the simulated sample of each type is reduced with
        :func:`match_snr` to this many spectra per real one, so that noise is
        compared at the S/N of the real spectra.

    Returns
    -------
    list of TypeComparison
        One per type, also when a sample is empty (its spreads are then None).
    """
    comparisons = []
    for letter in types:
        real_of_type = [s for s in real if s.spectral_type == letter]
        numbers = [s.subclass_number for s in real_of_type]
        bounds = (min(numbers), max(numbers)) if numbers else (float("nan"), float("nan"))
        simulated_of_type = [
            s
            for s in simulated
            if s.spectral_type == letter and bounds[0] <= s.subclass_number <= bounds[1]
        ]
        if snr_matched is not None:
            simulated_of_type = match_snr(real_of_type, simulated_of_type, snr_matched)
        comparisons.append(
            TypeComparison(
                spectral_type=letter,
                subclass_range=bounds,
                n_real=len(real_of_type),
                n_simulated=len(simulated_of_type),
                real=_spreads(real_of_type),
                simulated=_spreads(simulated_of_type),
                real_snr=_snr_spread(real_of_type),
                simulated_snr=_snr_spread(simulated_of_type),
            )
        )
    return comparisons


def _format_spread(spread: Spread | None, signed: bool) -> str:
    if spread is None:
        return "-"
    sign = "+" if signed else ""
    return f"{spread.median:{sign}.2f} [{spread.low:{sign}.2f}, {spread.high:{sign}.2f}]"


def _format_snr(spread: Spread | None) -> str:
    if spread is None:
        return "-"
    return f"{spread.median:.0f} [{spread.low:.0f}, {spread.high:.0f}]"


def _format_range(letter: str, bounds: tuple) -> str:
    if not np.all(np.isfinite(bounds)):
        return "-"
    low, high = (f"{b:g}" for b in bounds)
    return f"{letter}{low}" if low == high else f"{letter}{low}-{letter}{high}"


def format_table(
    comparisons: Sequence[TypeComparison], statistics: Sequence[str] = STATISTICS
) -> str:
    """A Markdown table: per type, S/N and statistics as median [P10, P90], real and simulated.

    Parameters
    ----------
    comparisons : sequence of TypeComparison
    statistics : sequence of str, optional
        Which of :data:`STATISTICS` to show.

    Returns
    -------
    str
        The table, one row per type, ending with a newline.
    """
    header = ["type", "subclasses", "n real", "n sim", "S/N r: real", "simulated"]
    for name in statistics:
        header += [f"{STATISTIC_TITLES[name]}: real", "simulated"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for comparison in comparisons:
        cells = [
            comparison.spectral_type,
            _format_range(comparison.spectral_type, comparison.subclass_range),
            str(comparison.n_real),
            str(comparison.n_simulated),
            _format_snr(comparison.real_snr),
            _format_snr(comparison.simulated_snr),
        ]
        for name in statistics:
            signed = name != "mean_abs_step"  # depths change sign between cases
            cells += [
                _format_spread(comparison.real[name], signed),
                _format_spread(comparison.simulated[name], signed),
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def simulated_star_files(
    survey_dir: str | os.PathLike, subtypes: Sequence[str] = NORMAL_STAR_SUBTYPES
) -> list[Path]:
    """Pool files of a simulated survey whose true subtype is an ordinary star.

    Reads the survey's ground truth (``truth/pool_truth.csv``), which evaluation code
    may do; emission-line objects, galaxies, QSOs and defective spectra are left out.

    Parameters
    ----------
    survey_dir : path-like
        Output directory of :func:`activespec.simulator.simulate_survey`.
    subtypes : sequence of str, optional
        Simulator subtypes to keep.

    Returns
    -------
    list of pathlib.Path
        In pool order.

    Raises
    ------
    activespec.errors.ConfigError
        If the directory has no readable ground-truth table.
    """
    survey_dir = Path(survey_dir)
    truth = survey_truth_path(survey_dir)
    try:
        with open(truth, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise ConfigError(f"{survey_dir} is not a simulated survey: {error.strerror}") from None
    if rows and not {"file", "subtype"} <= set(rows[0]):
        raise ConfigError(f"{truth} lacks the 'file' and 'subtype' columns")
    keep = set(subtypes)
    return [survey_dir / "pool" / row["file"] for row in rows if row["subtype"] in keep]
