"""``activespec candidates --tap`` when the TAP service does not answer: a clear error, a
bounded number of attempts, and the catalogue still written with ``known`` empty."""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
import time

import pytest

from activespec.vo.dachs import free_port
from activespec.vo.errors import ServiceUnreachableError
from activespec.vo.tap import TapCatalogue
from tests.catalogue.conftest import make_campaign


def _closed_port_url() -> str:
    port = free_port()  # nothing listens there: connections are refused
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
    return f"http://127.0.0.1:{port}/tap"


def test_unreachable_service_raises_after_bounded_retries():
    tap = TapCatalogue(_closed_port_url(), "basic", retries=2, backoff=0.05)
    started = time.monotonic()
    with pytest.raises(ServiceUnreachableError, match="did not answer after 3 attempt"):
        tap.crossmatch([10.0], [20.0], 3.0)
    assert time.monotonic() - started < 10


def test_bad_table_names_are_refused_before_any_query():
    from activespec.errors import ConfigError

    with pytest.raises(ConfigError, match="not an ADQL name"):
        TapCatalogue("http://127.0.0.1:1/tap", "basic; DROP TABLE x")


@pytest.mark.slow
def test_candidates_writes_the_catalogue_with_known_empty(tmp_path, real_dir):
    campaign = make_campaign(tmp_path, real_dir)
    config = tmp_path / "activespec.toml"
    config.write_text(
        f'[crossmatch]\ntap = "{_closed_port_url()}"\ntap_table = "basic"\nretries = 1\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "activespec", "candidates", "--workdir", str(campaign.workdir),
         "--config", str(config), "--top", "0"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "error: cross-match failed: TAP service" in done.stderr
    assert "did not answer after 2 attempt(s)" in done.stderr
    assert "'known' empty" in done.stdout
    folder = campaign.workdir / "catalogue"
    with (folder / "candidates.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert all(r["known"] == "" and r["known_name"] == "" for r in rows)
    assert all(r["note"].startswith("cross-match failed: TAP service") for r in rows)
    assert (folder / "candidates.vot").is_file()
    report = (folder / "report.html").read_text()
    assert "The cross-match failed (TAP service" in report and "known/new unknown" in report
    assert "every candidate counts as new" not in report
