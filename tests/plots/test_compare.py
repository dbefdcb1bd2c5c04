"""The real-vs-simulated figure on a real LAMOST file and a simulated one."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from matplotlib.figure import Figure

from activespec.constants import H_ALPHA_VACUUM, HE_I_6678_VACUUM
from activespec.errors import ConfigError, SpectrumReadError
from activespec.io import read_spectrum
from activespec.plots import ComparisonRow, real_vs_simulated_figure, save_png
from activespec.preprocessing import preprocess
from tests.plots.conftest import REAL_A_STAR, REAL_M_STAR


@pytest.fixture(scope="module")
def figure(simulated_a_star, simulated_stars) -> Figure:
    simulated_m_star = next(s.source for s in simulated_stars if s.spectral_type == "M")
    rows = [
        ComparisonRow("A star", REAL_A_STAR, simulated_a_star),
        ComparisonRow("M star", REAL_M_STAR, simulated_m_star),
    ]
    return real_vs_simulated_figure(rows, caption="caption line")


def _labelled_lines(axis) -> dict:
    return {
        line.get_label(): line for line in axis.get_lines() if not line.get_label().startswith("_")
    }


def test_two_panels_per_row_with_titles(figure):
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 4
    titles = [axis.get_title(loc="left") for axis in figure.axes]
    assert titles[0].startswith("A star: native pixels")
    assert titles[1].startswith("A star: after preprocessing (140-point vector)")
    assert titles[2].startswith("M star: native pixels")
    # The real file's subclass and S/N come from its header.
    assert "real A1IV, S/N 57" in titles[0]
    assert "real M2, S/N 54" in titles[2]
    assert any(text.get_text() == "caption line" for text in figure.texts)


def test_each_panel_overlays_real_and_simulated(figure):
    for axis in figure.axes:
        labels = sorted(_labelled_lines(axis))
        assert len(labels) == 2
        assert labels[0].startswith("real ") and labels[1].startswith("simulated ")


def test_vector_panel_shows_the_preprocessed_vector(figure, simulated_a_star):
    lines = _labelled_lines(figure.axes[1])
    real_line = next(line for label, line in lines.items() if label.startswith("real"))
    simulated_line = next(line for label, line in lines.items() if label.startswith("simul"))
    np.testing.assert_array_equal(real_line.get_ydata(), preprocess(read_spectrum(REAL_A_STAR)))
    np.testing.assert_array_equal(
        simulated_line.get_ydata(), preprocess(read_spectrum(simulated_a_star))
    )
    x = real_line.get_xdata()
    assert x.size == 140 and x[0] == pytest.approx(6519.0) and x[-1] == pytest.approx(6732.0)


def test_native_panel_is_median_normalised_and_marks_the_lines(figure):
    axis = figure.axes[0]
    assert axis.get_xlim() == (6450.0, 6800.0)
    for line in _labelled_lines(axis).values():
        wave, flux = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert wave.min() >= 6450.0 and wave.max() <= 6800.0
        assert np.nanmedian(flux) == pytest.approx(1.0, abs=1e-9)
        # Both are absorption-line A stars: H-alpha sits well below the continuum.
        near_halpha = np.abs(wave - H_ALPHA_VACUUM) < 3.0
        assert np.nanmin(flux[near_halpha]) < 0.8
    marked = {
        round(float(line.get_xdata()[0]), 2)
        for line in axis.get_lines()
        if line.get_label().startswith("_") and line.get_linestyle() == ":"
    }
    assert marked == {round(H_ALPHA_VACUUM, 2), round(HE_I_6678_VACUUM, 2)}


def test_save_png_writes_about_1400_pixels_wide(figure, tmp_path):
    path = save_png(figure, tmp_path / "sub" / "figure.png")
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert 1350 <= width <= 1450
    assert height > 500


def test_bad_input_gets_typed_errors(tmp_path, simulated_a_star):
    with pytest.raises(ConfigError):
        real_vs_simulated_figure([])
    with pytest.raises(ConfigError):
        real_vs_simulated_figure(
            [ComparisonRow("A", REAL_A_STAR, simulated_a_star)], native_window=(6800, 6450)
        )
    not_fits = tmp_path / "not.fits"
    not_fits.write_text("hello")
    with pytest.raises(SpectrumReadError):
        real_vs_simulated_figure([ComparisonRow("A", REAL_A_STAR, not_fits)])
