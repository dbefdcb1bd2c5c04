"""Figure: real and simulated LAMOST spectra of the same type, before and after preprocessing.

Each row holds one spectral type. The left panel shows the native flux around
H-alpha of a real and a simulated spectrum, each divided by its median in the
plotted range so that they overlay; the shaded band is the window the model sees.
The right panel shows the two 140-point vectors that :mod:`activespec.preprocessing`
makes of them. H-alpha and He I 6678 are marked in both.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from activespec.constants import H_ALPHA_VACUUM, HE_I_6678_VACUUM
from activespec.errors import ConfigError, RejectedSpectrum
from activespec.io import read_spectrum
from activespec.preprocessing import PreprocessConfig, PreprocessResult, preprocess_with_details
from activespec.preprocessing.wavelength import to_vacuum
from activespec.spectrum import Spectrum

#: Vacuum range [Å] of the native-flux panels.
NATIVE_WINDOW = (6450.0, 6800.0)
#: Lines marked on every panel: (label, vacuum wavelength [Å]).
MARKED_LINES = (("Hα", H_ALPHA_VACUUM), ("He I 6678", HE_I_6678_VACUUM))
REAL_STYLE = {"color": "#1a1a1a", "lw": 1.1}
SIMULATED_STYLE = {"color": "#d9480f", "lw": 1.1, "alpha": 0.85}
_WINDOW_SHADE = "#dbe4f0"
_LINE_COLOUR = "#1f4e79"


@dataclasses.dataclass(frozen=True)
class ComparisonRow:
    """One row of the figure: a real and a simulated spectrum of the same type.

    Attributes
    ----------
    title : str
        Row title, e.g. ``"A star"``.
    real_path, simulated_path : str or os.PathLike
        FITS files readable by :func:`activespec.io.read_spectrum`.
    """

    title: str
    real_path: str | os.PathLike
    simulated_path: str | os.PathLike


@dataclasses.dataclass(frozen=True)
class _Panel:
    spectrum: Spectrum
    result: PreprocessResult
    wave: np.ndarray  # vacuum, inside the native window, bad pixels as NaN flux
    flux: np.ndarray  # divided by the median of the good pixels shown


def _native_window(spectrum: Spectrum, window: tuple[float, float]) -> tuple:
    wave = to_vacuum(spectrum.wave, spectrum.medium)
    inside = (wave >= window[0]) & (wave <= window[1])
    good = inside & ~spectrum.mask & np.isfinite(spectrum.flux)
    if not good.any():
        raise RejectedSpectrum(
            f"{spectrum.meta.source}: no good pixel within {window[0]:g}-{window[1]:g} Å",
            code="outside-window",
        )
    level = float(np.median(spectrum.flux[good]))
    if not level > 0:
        raise RejectedSpectrum(
            f"{spectrum.meta.source}: median flux within {window[0]:g}-{window[1]:g} Å "
            f"is {level:g}, cannot normalise",
            code="constant-flux",
        )
    # Bad pixels become gaps rather than spikes.
    flux = np.where(good, spectrum.flux, np.nan)[inside] / level
    return wave[inside], flux


def _load(path, config: PreprocessConfig, window) -> _Panel:
    spectrum = read_spectrum(path)
    result = preprocess_with_details(spectrum, config)
    wave, flux = _native_window(spectrum, window)
    return _Panel(spectrum, result, wave, flux)


def _describe(kind: str, spectrum: Spectrum) -> str:
    parts = [spectrum.meta.lamost_subclass or "no subclass"]
    if spectrum.meta.snr is not None and np.isfinite(spectrum.meta.snr):
        parts.append(f"S/N {spectrum.meta.snr:.0f}")
    return f"{kind} {', '.join(parts)}"


def _mark_lines(axis, label_y: float | None) -> None:
    for name, wavelength in MARKED_LINES:
        axis.axvline(wavelength, color=_LINE_COLOUR, ls=":", lw=0.9, zorder=0)
        if label_y is not None:
            axis.text(
                wavelength + 2.0,
                label_y,
                name,
                color=_LINE_COLOUR,
                fontsize=8,
                ha="left",
                va="top",
                transform=axis.get_xaxis_transform(),
            )


def _draw_row(native, vector, title, real, simulated, config, window, window_label) -> None:
    """Left: native flux around H-alpha; right: the preprocessed vectors."""
    native.axvspan(
        config.grid_start, config.grid_stop, color=_WINDOW_SHADE, lw=0, zorder=0, label=window_label
    )
    for kind, panel, style in (
        ("real", real, REAL_STYLE),
        ("simulated", simulated, SIMULATED_STYLE),
    ):
        label = _describe(kind, panel.spectrum)
        native.plot(panel.wave, panel.flux, label=label, **style)
        vector.plot(
            panel.result.grid, panel.result.vector, marker="o", ms=2.2, label=label, **style
        )
    _mark_lines(native, 0.97)
    _mark_lines(vector, 0.97)
    native.set_xlim(*window)
    vector.set_xlim(config.grid_start - 3.0, config.grid_stop + 3.0)
    vector.set_ylim(-1.18, 1.32)  # room above +1 for the line labels
    native.set_ylabel("flux / median")
    vector.set_ylabel("scaled flux")
    pair = f"{_describe('real', real.spectrum)}  vs  {_describe('simulated', simulated.spectrum)}"
    native.set_title(f"{title}: native pixels ({pair})", fontsize=10, loc="left")
    vector.set_title(
        f"{title}: after preprocessing ({real.result.vector.size}-point vector)",
        fontsize=10,
        loc="left",
    )
    for axis in (native, vector):
        axis.tick_params(labelsize=8)
        axis.grid(alpha=0.25, lw=0.5)


def _add_legend(figure, window_label: str, height: float) -> None:
    """One legend for all panels, above them: the styles are the same in every row."""
    handles = [
        Line2D([], [], label="real LAMOST LRS spectrum", **REAL_STYLE),
        Line2D([], [], label="simulated (activespec.simulator)", **SIMULATED_STYLE),
        Patch(color=_WINDOW_SHADE, label=window_label),
        Line2D([], [], color=_LINE_COLOUR, ls=":", lw=0.9, label="Hα, He I 6678 (vacuum)"),
    ]
    figure.legend(
        handles=handles,
        loc="upper center",
        ncols=len(handles),
        fontsize=9,
        frameon=False,
        bbox_to_anchor=(0.5, 1.0 - 0.08 / height),
    )


def real_vs_simulated_figure(
    rows: Sequence[ComparisonRow],
    *,
    config: PreprocessConfig | None = None,
    native_window: tuple[float, float] = NATIVE_WINDOW,
    caption: str | None = None,
    width_inches: float = 12.7,
    row_height_inches: float = 2.55,
) -> Figure:
    """Draw real and simulated spectra of the same types, before and after preprocessing.

    Parameters
    ----------
    rows : sequence of ComparisonRow
        One row of two panels per entry, top to bottom.
    config : PreprocessConfig, optional
        Preprocessing settings (defaults: the published pipeline).
    native_window : tuple of float, optional
        Vacuum range [Å] of the left panels.
    caption : str, optional
        Text under the panels (``"\\n"`` starts a new line).
    width_inches, row_height_inches : float, optional
        Figure size; at 110 dpi the default width is about 1,400 pixels.

    Returns
    -------
    matplotlib.figure.Figure
        With ``2 * len(rows)`` axes, row by row: native flux, preprocessed vector.
        Every axis has a line labelled ``"real ..."`` and one ``"simulated ..."``.

    Raises
    ------
    activespec.errors.ConfigError
        If ``rows`` is empty or ``native_window`` is not an increasing pair.
    activespec.errors.SpectrumReadError
        If a file cannot be read.
    activespec.errors.RejectedSpectrum
        If a spectrum cannot be preprocessed or has no good pixel in the window.
    """
    if not rows:
        raise ConfigError("nothing to draw: give at least one ComparisonRow")
    low, high = (float(v) for v in native_window)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ConfigError(f"native_window must be an increasing pair, got {native_window!r}")
    config = PreprocessConfig() if config is None else config
    panels = [
        (
            row,
            _load(row.real_path, config, (low, high)),
            _load(row.simulated_path, config, (low, high)),
        )
        for row in rows
    ]

    caption_lines = caption.count("\n") + 1 if caption else 0
    header, footer = 0.75, 0.55 + 0.2 * caption_lines
    height = row_height_inches * len(rows) + header + footer
    figure = Figure(figsize=(width_inches, height), dpi=110)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(
        len(rows),
        2,
        width_ratios=(1.15, 1.0),
        left=0.06,
        right=0.99,
        top=1.0 - header / height,
        bottom=footer / height,
        hspace=0.45,
        wspace=0.14,
    )
    window_label = f"model window {config.grid_start:g}-{config.grid_stop:g} Å"
    for index, (row, real, simulated) in enumerate(panels):
        native = figure.add_subplot(grid[index, 0])
        vector = figure.add_subplot(grid[index, 1])
        _draw_row(native, vector, row.title, real, simulated, config, (low, high), window_label)
    for axis in figure.axes[-2:]:
        axis.set_xlabel("vacuum wavelength [Å]")
    _add_legend(figure, window_label, height)
    if caption:
        figure.text(0.5, 0.12 / height, caption, ha="center", va="bottom", fontsize=9)
    return figure


def save_png(figure: Figure, path: str | os.PathLike, *, dpi: float = 110.0) -> Path:
    """Write ``figure`` as a PNG (parent folders created), without a timestamp.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    path : path-like
    dpi : float, optional

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    # No "Software" key: the file then depends on the drawing, not on the Matplotlib build.
    figure.savefig(path, format="png", dpi=dpi, metadata={"Software": None})
    return path
