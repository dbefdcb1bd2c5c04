"""SAMP round trip through an isolated astropy hub."""

import pathlib

import pytest

from activespec.catalogue import SampError, build_catalogue, send_to_samp, write_catalogue
from activespec.catalogue.samp import SPECTRUM_MTYPE, TABLE_MTYPE


@pytest.fixture()
def written(campaign):
    catalogue = build_catalogue(campaign.workdir)
    return write_catalogue(catalogue, campaign.workdir / "catalogue")["votable"]


def test_table_and_spectra_arrive(campaign, written, samp_hub):
    a, b = campaign.spectra["A"], campaign.spectra["B"]
    report = send_to_samp(
        written,
        [a.source, b.source, campaign.spectra["G"].source, "gs://bucket/spec.fits"],
        hub_address=samp_hub.lockurl,
        timeout=10,
    )
    assert report.table.replies == {"receiver": "ok"}
    assert [d.replies for d in report.spectra] == [{"receiver": "ok"}] * 2
    assert report.skipped == [
        (campaign.spectra["G"].source, "file not found"),
        ("gs://bucket/spec.fits", "not a local file"),
    ]

    tables = [params for mtype, params in samp_hub.received if mtype == TABLE_MTYPE]
    spectra = [params for mtype, params in samp_hub.received if mtype == SPECTRUM_MTYPE]
    assert len(tables) == 1 and len(spectra) == 2
    assert tables[0]["url"] == written.resolve().as_uri()
    assert tables[0]["table-id"] and tables[0]["name"]
    # The receiver answers each message in its own thread: the order it records them in
    # is not the order they were sent.
    by_id = {params["spectrum-id"]: params for params in spectra}
    assert set(by_id) == {"id-A", "id-B"}
    first = by_id["id-A"]
    assert first["url"] == pathlib.Path(a.source).resolve().as_uri()
    assert first["meta"]["Access.Format"] == "application/fits"
    assert first["meta"]["Target.Name"] == a.designation
    ra, dec = (float(v) for v in first["meta"]["Target.Pos"].split())
    assert ra == pytest.approx(a.ra, abs=1e-4) and dec == pytest.approx(a.dec, abs=1e-4)
    assert by_id["id-B"]["meta"]["Target.Name"] == b.designation


def test_hub_found_through_samp_hub_variable(campaign, written, samp_hub, monkeypatch):
    monkeypatch.setenv("SAMP_HUB", samp_hub.lockurl)
    report = send_to_samp(written, [], timeout=10)
    assert report.table.replies == {"receiver": "ok"}
    assert report.spectra == []


def test_plain_lockfile_path_is_accepted(written, samp_hub):
    report = send_to_samp(written, [], hub_address=str(samp_hub.lockfile), timeout=10)
    assert report.table.replies == {"receiver": "ok"}


def test_no_hub_running_is_a_clear_error(written, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.samp there
    monkeypatch.delenv("SAMP_HUB", raising=False)
    with pytest.raises(SampError, match="no SAMP hub is running"):
        send_to_samp(written, [], timeout=2)
    with pytest.raises(SampError, match="does not exist"):
        send_to_samp(written, [], hub_address=str(tmp_path / "missing-lockfile"), timeout=2)


def test_stale_lockfile_is_a_clear_error(written, tmp_path):
    import socket

    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lockfile = tmp_path / "stale"
    lockfile.write_text(f"samp.secret=abc\nsamp.hub.xmlrpc.url=http://127.0.0.1:{port}\n")
    with pytest.raises(SampError, match="no SAMP hub answers"):
        send_to_samp(written, [], hub_address=lockfile.as_uri(), timeout=2)


def test_lockfile_without_url_is_a_clear_error(written, tmp_path):
    lockfile = tmp_path / "broken"
    lockfile.write_text("# nothing useful\nsamp.secret=abc\n")
    with pytest.raises(SampError, match="no samp.hub.xmlrpc.url"):
        send_to_samp(written, [], hub_address=str(lockfile), timeout=2)
