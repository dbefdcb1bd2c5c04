"""The VO settings of a configuration, checked up front: the ``[crossmatch]`` section (a
file or a TAP service, the radius) and ``[data] labelled_ssap`` (the labelled set from an
SSAP service)."""

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


def test_labelled_ssap_replaces_the_labelled_files_and_labels(tmp_path):
    config = config_from_dict(
        {"data": {"labelled_ssap": {"service": "https://x/ssap", "labels": "ids.csv",
                                    "datalink": "normalized", "band": [6500, 6650]}}},
        base_dir=tmp_path,
    )  # fmt: skip
    source = config.labelled_ssap
    assert (source.datalink, source.band, source.out) == (
        "normalized",
        (6500.0, 6650.0),
        "survey/labelled-ssap",
    )
    out = tmp_path.resolve() / "survey" / "labelled-ssap"
    assert config.labelled_patterns == [str(out / "*.fits*")]
    assert config.labels_path == str(out / "labels.csv")
    plain = config_from_dict({}, base_dir=tmp_path)
    assert plain.labelled_ssap is None
    assert plain.labels_path == str(tmp_path.resolve() / "survey" / "labelled" / "labels.csv")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"labels": "ids.csv"}, "data.labelled_ssap.service: required"),
        ({"service": "https://x/ssap"}, "data.labelled_ssap.labels: required"),
        ({"service": "s", "labels": "l", "datalink": "flux"}, "datalink: 'flux' is not one of"),
        ({"service": "s", "labels": "l", "band": [6650, 6500]}, "band: need 0 < MIN < MAX"),
        ({"service": "s", "labels": "l", "band": "6500"}, "band: expected two numbers"),
        ({"service": "s", "labels": "l", "pos": [10, 20]}, "pos and data.labelled_ssap.size go"),
        ({"service": "s", "labels": "l", "workers": 0}, "workers: expected an integer >= 1"),
        ({"service": "s", "labels": "l", "url": "x"}, "unknown key data.labelled_ssap.url"),
    ],
)
def test_bad_labelled_ssap_names_the_key(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"data": {"labelled_ssap": table}}, base_dir=tmp_path)
