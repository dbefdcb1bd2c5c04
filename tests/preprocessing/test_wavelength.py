"""Air <-> vacuum conversion (VALD3 / Morton 2000)."""

import numpy as np
import pytest

from activespec.constants import H_ALPHA_AIR, H_ALPHA_VACUUM, HE_I_6678_AIR, HE_I_6678_VACUUM
from activespec.preprocessing import air_to_vacuum, to_vacuum, vacuum_to_air


def test_h_alpha_air_to_vacuum_to_two_decimals():
    assert round(air_to_vacuum(6562.80), 2) == 6564.61


@pytest.mark.parametrize(
    ("air", "vacuum"), [(H_ALPHA_AIR, H_ALPHA_VACUUM), (HE_I_6678_AIR, HE_I_6678_VACUUM)]
)
def test_known_lines_match_tabulated_vacuum_wavelengths(air, vacuum):
    assert air_to_vacuum(air) == pytest.approx(vacuum, abs=2e-3)
    assert vacuum_to_air(vacuum) == pytest.approx(air, abs=2e-3)


def test_round_trip_below_1e4_angstrom_over_optical_range():
    wave = np.linspace(3600.0, 9200.0, 20001)
    assert np.max(np.abs(vacuum_to_air(air_to_vacuum(wave)) - wave)) < 1e-4
    assert np.max(np.abs(air_to_vacuum(vacuum_to_air(wave)) - wave)) < 1e-4


def test_vacuum_is_longer_by_about_1_8_angstrom_at_h_alpha():
    shift = air_to_vacuum(np.array([6519.0, 6625.0, 6732.0])) - np.array([6519.0, 6625.0, 6732.0])
    assert np.all((shift > 1.7) & (shift < 1.9))
    assert np.all(np.diff(shift) > 0)  # the refractive shift grows with wavelength


def test_to_vacuum_dispatches_on_medium():
    wave = np.array([6500.0, 6600.0])
    np.testing.assert_array_equal(to_vacuum(wave, "vacuum"), wave)
    np.testing.assert_allclose(to_vacuum(wave, "air"), air_to_vacuum(wave))
    with pytest.raises(ValueError, match="medium"):
        to_vacuum(wave, "water")


def test_scalar_in_scalar_out():
    assert isinstance(air_to_vacuum(6562.8), float)
    assert isinstance(vacuum_to_air(6564.6), float)
