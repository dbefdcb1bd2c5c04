"""activespec.vo.download against a real local HTTP server that misbehaves on purpose:
HTTP 500s and 404s, HTML answers, bodies cut short, FITS files the readers refuse."""

from __future__ import annotations

import csv
import http.server
import io
import threading

import pytest
from astropy.io import fits

from activespec.errors import ConfigError
from activespec.vo.download import (
    FAILURES_CSV,
    MANIFEST_CSV,
    DownloadTask,
    download_all,
    file_sha256,
    read_manifest,
    safe_stem,
    unique_stems,
)

LAMOST = "lamost/spec-55862-B6212_sp06-003.fits"
GZIPPED = "lamost/spec-57287-KP193637N444141V03_sp10-161.fits.gz"
ONDREJOV = "ondrejov/oe270005.fits"


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "flaky/1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        state = self.server.state
        path = self.path.split("?")[0]
        with state["lock"]:
            state["hits"][path] = state["hits"].get(path, 0) + 1
            hits = state["hits"][path]
        kind, _, name = path.strip("/").partition("/")
        body = state["files"].get(name, b"")
        if kind == "ok":
            return self._send(200, body, "application/fits")
        if kind == "fail-then-ok":  # two 500s (one with Retry-After), then the file
            if hits <= 2:
                headers = {"Retry-After": "0"} if hits == 1 else {}
                return self._send(
                    500, b"<html><body>Internal error</body></html>", "text/html", headers
                )
            return self._send(200, body, "application/fits")
        if kind == "always-500":
            return self._send(503, b"busy", "text/plain")
        if kind == "missing":
            return self._send(404, b"<html><h1>No such spectrum</h1></html>", "text/html")
        if kind == "html":
            return self._send(200, b"<!DOCTYPE html><html>login page</html>", "text/html")
        if kind == "truncated-once":  # Content-Length says more than is sent, once
            if hits == 1:
                return self._send(200, body[: len(body) // 2], "application/fits", length=len(body))
            return self._send(200, body, "application/fits")
        if kind == "always-truncated":
            return self._send(200, body[: len(body) // 2], "application/fits", length=len(body))
        if kind == "fits-cut":  # a complete HTTP answer whose FITS file is cut short
            return self._send(200, body[: 2880 * 2], "application/fits")
        if kind == "no-spectrum":
            return self._send(200, state["empty_fits"], "application/fits")
        return self._send(400, b"bad test path", "text/plain")

    def _send(self, status, body, content_type, headers=None, length=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
        if length is not None:
            self.close_connection = True


@pytest.fixture()
def server(real_dir):
    empty = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU()]).writeto(empty)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = {
        "lock": threading.Lock(),
        "hits": {},
        "files": {
            "lamost.fits": (real_dir / LAMOST).read_bytes(),
            "gz.fits.gz": (real_dir / GZIPPED).read_bytes(),
            "ondrejov.fits": (real_dir / ONDREJOV).read_bytes(),
        },
        "empty_fits": empty.getvalue(),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _task(server, kind, name, identifier=None):
    identifier = identifier or f"ivo://test/{kind}"
    return DownloadTask(
        identifier=identifier,
        url=f"{server.url}/{kind}/{name}",
        stem=safe_stem(identifier),
        title=f"{kind} {name}",
        object="HD 1",
        ra=10.5,
        dec=-3.25,
    )


def _fetch(server, tasks, out, **kwargs):
    kwargs = {
        "workers": 3,
        "retries": 2,
        "backoff": 0.01,
        "timeout": 10,
        "progress": False,
        **kwargs,
    }
    return download_all(tasks, out, **kwargs)


def _read_csv(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_good_files_land_under_their_names_with_a_manifest(server, tmp_path, real_dir):
    tasks = [
        _task(server, "ok", "lamost.fits", "ivo://test/a/spec-1.fits"),
        _task(server, "ok", "gz.fits.gz", "ivo://test/a/spec-2"),
        _task(server, "ok", "ondrejov.fits", "ivo://asu.cas.cz/stel/ccd700/oe270005"),
    ]
    summary = _fetch(server, tasks, tmp_path)
    assert not summary.failures and len(summary.fetched) == 3
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        [FAILURES_CSV, MANIFEST_CSV, "oe270005.fits", "spec-1.fits", "spec-2.fits.gz"]
    )
    rows = {r["identifier"]: r for r in _read_csv(tmp_path / MANIFEST_CSV)}
    row = rows["ivo://asu.cas.cz/stel/ccd700/oe270005"]
    assert row["file"] == "oe270005.fits" and row["spectrum_id"] == "oe270005"
    assert row["sha256"] == file_sha256(real_dir / ONDREJOV)
    assert (row["object"], row["ra"], row["dec"]) == ("HD 1", "10.5000000", "-3.2500000")
    assert row["access_url"].endswith("/ok/ondrejov.fits")
    assert _read_csv(tmp_path / FAILURES_CSV) == []


def test_a_second_run_skips_by_checksum_and_refetches_what_changed(server, tmp_path):
    tasks = [_task(server, "ok", "lamost.fits", f"ivo://test/x/s{i}") for i in range(3)]
    _fetch(server, tasks, tmp_path)
    assert server.state["hits"]["/ok/lamost.fits"] == 3
    (tmp_path / "s1.fits").write_bytes(b"corrupted")  # changed on disk
    (tmp_path / "s2.fits").unlink()  # lost
    tasks = [_task(server, "ok", "lamost.fits", f"ivo://test/x/s{i}") for i in range(3)]
    summary = _fetch(server, tasks, tmp_path)
    assert [r["identifier"] for r in summary.skipped] == ["ivo://test/x/s0"]
    assert sorted(r["file"] for r in summary.fetched) == ["s1.fits", "s2.fits"]
    assert server.state["hits"]["/ok/lamost.fits"] == 5
    assert len(read_manifest(tmp_path)) == 3  # compacted: one row per identifier
    assert len(_read_csv(tmp_path / MANIFEST_CSV)) == 3
    summary = _fetch(server, tasks, tmp_path)
    assert len(summary.skipped) == 3 and not summary.fetched
    assert server.state["hits"]["/ok/lamost.fits"] == 5


def test_transient_errors_are_retried_and_lasting_ones_recorded(server, tmp_path):
    tasks = [
        _task(server, "fail-then-ok", "lamost.fits"),
        _task(server, "truncated-once", "ondrejov.fits"),
        _task(server, "always-500", "lamost.fits"),
        _task(server, "missing", "x.fits"),
        _task(server, "html", "lamost.fits"),
        _task(server, "always-truncated", "ondrejov.fits"),
        _task(server, "fits-cut", "lamost.fits"),
        _task(server, "no-spectrum", "empty.fits"),
    ]
    summary = _fetch(server, tasks, tmp_path, retries=2)
    fetched = sorted(r["identifier"] for r in summary.fetched)
    assert fetched == ["ivo://test/fail-then-ok", "ivo://test/truncated-once"]
    hits = server.state["hits"]
    assert hits["/fail-then-ok/lamost.fits"] == 3 and hits["/truncated-once/ondrejov.fits"] == 2
    failures = {r["identifier"].split("/")[3]: r for r in _read_csv(tmp_path / FAILURES_CSV)}
    assert {k: v["code"] for k, v in failures.items()} == {
        "always-500": "http-503",
        "missing": "http-404",
        "html": "not-fits",
        "always-truncated": "truncated",
        "fits-cut": "truncated",
        "no-spectrum": "unreadable-no-flux",
    }
    assert failures["always-500"]["attempts"] == "3" and hits["/always-500/lamost.fits"] == 3
    assert failures["missing"]["attempts"] == "1"  # a 404 is not retried
    assert "No such spectrum" in failures["missing"]["reason"]
    assert "text/html" in failures["html"]["reason"] and "login page" in failures["html"]["reason"]
    assert "bytes" in failures["always-truncated"]["reason"]
    # never a partial or refused file under a final name, nor a temporary one left over
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([FAILURES_CSV, MANIFEST_CSV, "fail-then-ok.fits", "truncated-once.fits"])


def test_downloads_that_would_share_a_file_are_refused_before_any_is_fetched(server, tmp_path):
    # Two identifiers ending in the same name: run concurrently, each would overwrite
    # the other's partial file (a fetch recorded the wrong file as truncated).
    same_name = [
        _task(server, "ok", "lamost.fits", "ivo://a/spec-1.fits"),
        _task(server, "ok", "ondrejov.fits", "ivo://b/SPEC-1"),
    ]
    with pytest.raises(ConfigError, match="file stem.*spec-1.*unique_stems"):
        _fetch(server, same_name, tmp_path)
    twice = [_task(server, "ok", "lamost.fits", "ivo://a/s1") for _ in range(2)]
    with pytest.raises(ConfigError, match="identifier.*ivo://a/s1"):
        _fetch(server, twice, tmp_path)
    assert server.state["hits"] == {}
    # unique_stems gives each its own name, and both land
    stems = unique_stems([t.identifier for t in same_name])
    for task in same_name:
        task.stem = stems[task.identifier]
    summary = _fetch(server, same_name, tmp_path)
    assert len(summary.fetched) == 2 and not summary.failures


def test_stems_are_safe_and_unique():
    assert safe_stem("ivo://asu.cas.cz/stel/ccd700/oe270005") == "oe270005"
    assert safe_stem("ivo://x/~?a/data/lamost/spec-1.fits.gz") == "spec-1"
    assert safe_stem("ivo://x/weird name!") == "weird_name"
    stems = unique_stems(["ivo://a/s1", "ivo://b/s1", "ivo://a/s2"])
    assert stems["ivo://a/s2"] == "s2"
    assert stems["ivo://a/s1"] != stems["ivo://b/s1"] and stems["ivo://a/s1"].startswith("s1-")
