"""The ``[crossmatch]`` section: a file or a TAP service, the radius, checked up front."""

from __future__ import annotations

import pytest

from activespec.errors import ConfigError
from pipeline.configs import config_from_dict


def test_defaults_and_a_tap_service(tmp_path):
    assert config_from_dict({}, base_dir=tmp_path).crossmatch.radius_arcsec == 3.0
    section = config_from_dict(
        {"crossmatch": {"tap": "https://simbad.cds.unistra.fr/simbad/sim-tap", "tap_table": "basic",
                        "radius_arcsec": 2}},
        base_dir=tmp_path,
    ).crossmatch  # fmt: skip
    assert (section.tap_table, section.radius_arcsec, section.retries) == ("basic", 2.0, 3)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"tap": "https://x/tap"}, "crossmatch.tap and crossmatch.tap_table go together"),
        ({"radius_arcsec": 0}, "crossmatch.radius_arcsec must be a positive number"),
        ({"radius_arcsec": "3"}, "crossmatch.radius_arcsec: expected a number"),
        ({"known": "k.csv", "tap": "https://x/tap", "tap_table": "t"}, "not both"),
        ({"tap_ra": "ra"}, "crossmatch.tap_ra and crossmatch.tap_dec go together"),
        ({"retries": -1}, "crossmatch.retries must be an integer >= 0"),
        ({"table": "basic"}, "unknown key crossmatch.table"),
    ],
)
def test_bad_values_name_the_key(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"crossmatch": table}, base_dir=tmp_path)
