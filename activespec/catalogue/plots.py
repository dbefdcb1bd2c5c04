"""Figures of the candidate report, rendered off-screen to PNG bytes.

Figures are made with :class:`matplotlib.figure.Figure` and the Agg canvas directly,
never through :mod:`matplotlib.pyplot`, so no GUI backend or global figure state is
involved and the report can be made on a headless machine or in a worker thread.
"""

from __future__ import annotations

import dataclasses
import io
import textwrap
from collections.abc import Sequence

import numpy as np

from activespec.constants import H_ALPHA_AIR, H_ALPHA_VACUUM, HE_I_6678_AIR, HE_I_6678_VACUUM
from activespec.spectrum import Spectrum

#: Thumbnail window relative to H-alpha [Å]: ±60 Å around the line, widened on the red
#: side so that He I 6678 (115 Å redwards) is inside and can be marked.
THUMBNAIL_BLUE_WIDTH = 60.0
THUMBNAIL_RED_MARGIN = 15.0

_CLASS_COLOURS = ("#6c757d", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b")
_ACCENT = "#1f4e79"
_RECALL = "#d62728"


@dataclasses.dataclass(frozen=True)
class RoundPoint:
    """The figures of one round that the report plots (None where a summary lacks one).

    Attributes
    ----------
    round : int
    labels : int or None
        Labelled spectra in the training set of the round.
    macro_f1, accuracy : float or None
        On the held-out evaluation split.
    precision, precision_lower, precision_n : float, float, int or None
        Precision of the checked random sample of candidates, its one-sided 95 % lower
        bound and the sample size.
    recall, recall_lower, recall_upper, recall_n : float, float, float, int or None
        Recall of the candidates estimated from the labelled recall and performance
        samples, its 95 % interval and the recall-sample size.
    simulated_precision, simulated_recall : float or None
        True precision and recall of the candidates when the oracle is simulated.
    class_counts : dict of str to int
        Spectra of the pool predicted in each class.
    """

    round: int
    labels: int | None = None
    macro_f1: float | None = None
    accuracy: float | None = None
    precision: float | None = None
    precision_lower: float | None = None
    precision_n: int | None = None
    recall: float | None = None
    recall_lower: float | None = None
    recall_upper: float | None = None
    recall_n: int | None = None
    simulated_precision: float | None = None
    simulated_recall: float | None = None
    class_counts: dict[str, int] = dataclasses.field(default_factory=dict)


#: The thumbnails' fixed margins (fractions of the figure), room for a two-line title:
#: a tight bounding box would draw each figure twice.
_THUMBNAIL_MARGINS = {"left": 0.15, "right": 0.97, "bottom": 0.16, "top": 0.83}


def png_bytes(figure, *, tight: bool = True) -> bytes:
    """Render a matplotlib Figure to PNG bytes with the Agg canvas, cropped to its
    content when ``tight`` (else as laid out)."""
    # matplotlib is slow to import; only a figure needs it
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight" if tight else None)
    return buffer.getvalue()


def learning_curve(points: Sequence[RoundPoint]) -> bytes:
    """Classifier quality, candidate precision and recall against labels (or rounds).

    Left panel: macro-F1 and accuracy on the held-out split. Right panel: precision of
    the checked random sample with its one-sided 95 % lower bound, the recall estimated
    from the recall sample with its 95 % interval as a band, and the true precision and
    recall of a simulated oracle run when known.
    """
    # matplotlib is slow to import; only a figure needs it
    from matplotlib.figure import Figure

    use_labels = bool(points) and all(p.labels is not None for p in points)
    x = np.array([p.labels if use_labels else p.round for p in points], dtype=float)
    xlabel = "labelled spectra" if use_labels else "round"

    figure = Figure(figsize=(10.5, 3.6), dpi=110)
    left, right = figure.subplots(1, 2)

    for values, label, style in (
        ([p.macro_f1 for p in points], "macro-F1", "o-"),
        ([p.accuracy for p in points], "accuracy", "s--"),
    ):
        y = _floats(values)
        if np.isfinite(y).any():
            keep = np.isfinite(y)
            left.plot(x[keep], y[keep], style, label=label, lw=1.6, ms=4)
    _annotate_rounds(left, x, _floats([p.macro_f1 for p in points]), points)
    _style_axes(left, "Classifier on the held-out split", xlabel, "score")

    precision = _floats([p.precision for p in points])
    lower = _floats([p.precision_lower for p in points])
    keep = np.isfinite(precision)
    if keep.any():
        below = np.where(np.isfinite(lower[keep]), precision[keep] - lower[keep], 0.0)
        right.errorbar(
            x[keep],
            precision[keep],
            yerr=[below, np.zeros_like(below)],
            fmt="o-",
            color=_ACCENT,
            capsize=3,
            lw=1.6,
            ms=4,
            label="checked sample (95 % lower bound)",
        )
    recall = _floats([p.recall for p in points])
    keep = np.isfinite(recall)
    if keep.any():
        low = _floats([p.recall_lower for p in points])
        high = _floats([p.recall_upper for p in points])
        band = keep & np.isfinite(low) & np.isfinite(high)
        right.fill_between(x[band], low[band], high[band], color=_RECALL, alpha=0.18, lw=0,
                           label="estimated recall, 95 % interval")  # fmt: skip
        right.plot(x[keep], recall[keep], "s-", color=_RECALL, lw=1.6, ms=4,
                   label="estimated recall (recall sample)")  # fmt: skip
    for values, label, style, colour in (
        ([p.simulated_precision for p in points], "true precision (simulated)", "^:", "#2ca02c"),
        ([p.simulated_recall for p in points], "true recall (simulated)", "v:", _RECALL),
    ):
        y = _floats(values)
        if np.isfinite(y).any():
            k = np.isfinite(y)
            right.plot(x[k], y[k], style, color=colour, label=label, lw=1.4, ms=4)
    if not right.lines and not right.collections:
        right.text(0.5, 0.5, "no precision or recall checks yet", ha="center", va="center",
                   color="0.4")  # fmt: skip
    _style_axes(right, "Precision and recall of the candidates", xlabel, "fraction")
    return png_bytes(figure)


def confusion_heatmap(matrix: Sequence[Sequence[int]], class_names: Sequence[str]) -> bytes:
    """Confusion matrix (rows true, columns predicted) coloured by row fraction (recall)."""
    # matplotlib is slow to import; only a figure needs it
    from matplotlib.figure import Figure

    counts = np.asarray(matrix, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    fraction = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    size = 1.2 + 0.9 * len(class_names)
    figure = Figure(figsize=(size + 0.8, size), dpi=110)
    axes = figure.subplots()
    image = axes.imshow(fraction, cmap="Blues", vmin=0.0, vmax=1.0)
    for (i, j), value in np.ndenumerate(counts):
        colour = "white" if fraction[i, j] > 0.55 else "black"
        axes.text(j, i, f"{int(value)}\n{fraction[i, j]:.0%}", ha="center", va="center",
                  color=colour, fontsize=8)  # fmt: skip
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=30, ha="right", fontsize=8)
    axes.set_yticks(ticks, class_names, fontsize=8)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="fraction of true class")
    return png_bytes(figure)


def class_counts_chart(points: Sequence[RoundPoint], class_names: Sequence[str]) -> bytes:
    """Spectra predicted in each class per round (log scale: counts span decades)."""
    # matplotlib is slow to import; only a figure needs it
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 3.4), dpi=110)
    axes = figure.subplots()
    rounds = np.array([p.round for p in points])
    names = list(class_names) + sorted(
        {n for p in points for n in p.class_counts} - set(class_names)
    )
    for i, name in enumerate(names):
        y = np.array([p.class_counts.get(name, np.nan) for p in points], dtype=float)
        keep = np.isfinite(y) & (y > 0)
        if keep.any():
            colour = _CLASS_COLOURS[i % len(_CLASS_COLOURS)]
            axes.plot(rounds[keep], y[keep], "o-", color=colour, label=name, lw=1.6, ms=4)
    if axes.lines:
        axes.set_yscale("log")
    else:
        axes.text(0.5, 0.5, "no class counts recorded", ha="center", va="center", color="0.4")
    axes.xaxis.get_major_locator().set_params(integer=True)
    _style_axes(axes, "Predicted class counts in the pool", "round", "spectra")
    return png_bytes(figure)


def spectrum_thumbnail(spectrum: Spectrum, title: str, subtitle: str = "") -> bytes:
    """The H-alpha region of one spectrum with H-alpha and He I 6678 marked.

    Flux is divided by its median in the window so that thumbnails of different
    surveys share a scale; bad pixels (``spectrum.mask``) are left as gaps.
    """
    # matplotlib is slow to import; only a figure needs it
    from matplotlib.figure import Figure

    air = spectrum.medium == "air"
    h_alpha = H_ALPHA_AIR if air else H_ALPHA_VACUUM
    he_i = HE_I_6678_AIR if air else HE_I_6678_VACUUM
    low, high = h_alpha - THUMBNAIL_BLUE_WIDTH, he_i + THUMBNAIL_RED_MARGIN
    inside = (spectrum.wave >= low) & (spectrum.wave <= high)
    wave = spectrum.wave[inside]
    flux = np.where(spectrum.mask[inside], np.nan, spectrum.flux[inside])
    good = np.isfinite(flux)
    median = np.median(flux[good]) if good.any() else np.nan
    if np.isfinite(median) and median != 0:
        flux = flux / median

    figure = Figure(figsize=(3.4, 2.3), dpi=120)
    axes = figure.subplots()
    if good.any():
        axes.plot(wave, flux, color="black", lw=0.8)
    else:
        axes.text(0.5, 0.5, "no valid pixels in the H-alpha window", ha="center", va="center",
                  fontsize=7, color="0.4", transform=axes.transAxes)  # fmt: skip
    # He I sits near the right edge: its label goes to the left of its line.
    for position, label, colour, align in (
        (h_alpha, " Hα", "#d62728", "left"),
        (he_i, "He I ", "#9467bd", "right"),
    ):
        axes.axvline(position, color=colour, ls="--", lw=0.8, alpha=0.8)
        axes.text(position, 0.97, label, color=colour, fontsize=7, va="top", ha=align,
                  transform=axes.get_xaxis_transform())  # fmt: skip
    axes.set_xlim(low, high)
    axes.set_xlabel(f"wavelength ({spectrum.medium}) [Å]", fontsize=7)
    axes.set_ylabel("flux / median", fontsize=7)
    axes.tick_params(labelsize=6)
    axes.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=7.5)
    figure.subplots_adjust(**_THUMBNAIL_MARGINS)
    return png_bytes(figure, tight=False)


def placeholder_thumbnail(title: str, subtitle: str, reason: str) -> bytes:
    """A thumbnail-sized panel stating why a spectrum could not be plotted."""
    # matplotlib is slow to import; only a figure needs it
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3.4, 2.3), dpi=120)
    axes = figure.subplots()
    axes.set_axis_off()
    axes.text(0.5, 0.5, textwrap.fill(reason, 40), ha="center", va="center", fontsize=7,
              color="#8a1c1c", transform=axes.transAxes)  # fmt: skip
    axes.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=7.5)
    figure.subplots_adjust(**_THUMBNAIL_MARGINS)
    return png_bytes(figure, tight=False)


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _annotate_rounds(axes, x: np.ndarray, y: np.ndarray, points: Sequence[RoundPoint]) -> None:
    for xi, yi, point in zip(x, y, points, strict=True):
        if np.isfinite(yi):
            axes.annotate(f"r{point.round}", (xi, yi), textcoords="offset points", xytext=(0, 6),
                          ha="center", fontsize=6.5, color="0.35")  # fmt: skip


def _style_axes(axes, title: str, xlabel: str, ylabel: str) -> None:
    axes.set_title(title, fontsize=10)
    axes.set_xlabel(xlabel, fontsize=8.5)
    axes.set_ylabel(ylabel, fontsize=8.5)
    axes.tick_params(labelsize=7.5)
    axes.grid(True, alpha=0.3, lw=0.5)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if ylabel in ("score", "fraction"):
        axes.set_ylim(0.0, 1.05)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=7.5, frameon=False, loc="best")
