"""The labelling server over real HTTP, with a round of real LAMOST and Ondřejov files."""

from __future__ import annotations

import contextlib
import json
import os
import urllib.parse

import numpy as np
import pytest

from activespec.constants import DEFAULT_CLASSES, GRID_POINTS, H_ALPHA_AIR, H_ALPHA_VACUUM
from activespec.errors import ConfigError
from activespec.io import read_spectrum
from activespec.labelling import create_server, decimate
from activespec.labels import LabelStore, RoundFilesError
from activespec.labels.store import MAX_IDLE_CONNECTIONS
from activespec.preprocessing import PreprocessConfig, preprocess
from tests.labelling.conftest import TOKEN, request, serving


def test_batch_lists_query_then_performance_with_progress(real_round):
    with serving(real_round.workdir, token=TOKEN, labeller="ana") as server:
        assert server.app.round_index == 2  # the latest round by default
        status, batch = request(server, "/api/batch")
    assert status == 200
    assert batch["round"] == 2
    assert batch["classes"] == list(DEFAULT_CLASSES)
    assert batch["labeller"] == "ana"
    assert [r["spectrum_id"] for r in batch["rows"]] == [r["spectrum_id"] for r in real_round.rows]
    assert [r["role"] for r in batch["rows"]] == ["query"] * 4 + ["performance"] * 2
    first = batch["rows"][0]
    assert first["designation"] == real_round.query[0]["designation"]
    assert first["probabilities"] == real_round.query[0]["probabilities"]
    assert first["label"] is None
    assert batch["progress"] == {
        "query": {"labelled": 0, "total": 4},
        "performance": {"labelled": 0, "total": 2},
    }


def test_recall_sample_rows_are_shown_as_their_own_role(real_round):
    # A queried spectrum drawn for the recall sample too (the samples may overlap).
    drawn = {
        **real_round.query[3],
        "role": "recall",
        "rank": 1,
        "stratum": 2,
        "stratum_lower": 0.05,
        "stratum_upper": 0.2,
        "stratum_population": 640,
        "stratum_sample_size": 4,
    }
    folder = real_round.workdir / "rounds" / "round-002"
    (folder / "recall_sample.json").write_text(json.dumps([drawn]))
    with serving(real_round.workdir, token=TOKEN, labeller="ana") as server:
        page = request(server, "/")[1].decode()
        script = request(server, "/static/app.js")[1].decode()
        _, batch = request(server, "/api/batch")
        status, reply = request(
            server,
            "/api/labels",
            body={"spectrum_id": drawn["spectrum_id"], "label": "other", "role": "recall"},
        )
    assert 'id="progress-recall"' in page and 'class="legend-item role-recall"' in page
    assert 'recall: "Recall sample"' in script
    assert [r["role"] for r in batch["rows"]] == ["query"] * 4 + ["performance"] * 2 + ["recall"]
    assert batch["rows"][-1]["stratum"] == {
        "index": 2,
        "lower": 0.05,
        "upper": 0.2,
        "population": 640,
    }
    assert batch["rows"][0]["stratum"] is None
    assert batch["progress"]["recall"] == {"labelled": 0, "total": 1}
    assert status == 200 and reply["saved"]["role"] == "recall"
    assert reply["progress"]["recall"] == {"labelled": 1, "total": 1}
    # Labelled once in the round: the spectrum counts as done in both of its roles.
    assert reply["progress"]["query"] == {"labelled": 1, "total": 4}


def test_a_lost_candidate_in_the_query_says_so(real_round):
    folder = real_round.workdir / "rounds" / "round-002"
    query = [
        {**row, "query_reason": "lost-candidate" if rank == 0 else "entropy"}
        for rank, row in enumerate(real_round.query)
    ]
    (folder / "query.json").write_text(json.dumps(query))
    with serving(real_round.workdir, token=TOKEN, labeller="ana") as server:
        script = request(server, "/static/app.js")[1].decode()
        _, batch = request(server, "/api/batch")
    reasons = [row["query_reason"] for row in batch["rows"]]
    assert reasons == ["lost-candidate"] + ["entropy"] * 3 + [None] * 2
    assert "lost candidate: listed last round, now predicted other" in script


def test_spectrum_json_has_the_model_window_and_the_full_spectrum(real_round):
    row = real_round.query[0]
    spectrum = read_spectrum(row["source"])
    expected_window = preprocess(spectrum, PreprocessConfig(), degrade=True)
    with serving(real_round.workdir, token=TOKEN) as server:
        status, view = request(server, f"/api/spectrum/{urllib.parse.quote(row['spectrum_id'])}")
    assert status == 200
    assert view["error"] is None and view["window_error"] is None
    window = view["window"]
    assert len(window["wave"]) == len(window["flux"]) == GRID_POINTS == 140
    assert window["wave"][0] == pytest.approx(6519.0) and window["wave"][-1] == pytest.approx(
        6732.0
    )
    np.testing.assert_allclose(window["flux"], expected_window, rtol=1e-5, atol=1e-6)
    assert window["lines"]["H-alpha"] == H_ALPHA_VACUUM
    # LAMOST LRS: 3,904 pixels in vacuum, sent whole (under the 4,000-point limit).
    full = view["full"]
    assert full["medium"] == "vacuum" and full["n_pixels"] == spectrum.n_pixels == 3904
    assert not full["decimated"]
    np.testing.assert_allclose(full["wave"], spectrum.wave, atol=1e-3)
    good = ~spectrum.mask
    np.testing.assert_allclose(
        np.asarray(full["flux"], dtype=float)[good], spectrum.flux[good], rtol=1e-5
    )
    assert full["lines"] == {"H-alpha": H_ALPHA_VACUUM, "He I 6678": 6679.995}
    assert view["probabilities"] == row["probabilities"]
    assert view["roles"] == ["query"]
    assert view["meta"]["layout"] == spectrum.meta.layout


def test_ondrejov_spectrum_is_in_air_and_degraded_in_the_window(real_round):
    row = real_round.performance[0]
    with serving(real_round.workdir, token=TOKEN) as server:
        status, view = request(server, f"/api/spectrum/{row['spectrum_id']}")
    assert status == 200
    assert view["full"]["medium"] == "air"
    assert view["full"]["lines"]["H-alpha"] == H_ALPHA_AIR
    assert view["full"]["window_range"][0] == pytest.approx(6517.2, abs=0.05)
    assert view["window"]["sigma_pixels"] > 0  # R = 13,000 degraded to the pool's R
    assert view["window"]["lines"]["H-alpha"] == H_ALPHA_VACUUM
    flux = np.asarray(view["window"]["flux"])
    assert flux.min() == pytest.approx(-1.0) and flux.max() == pytest.approx(1.0)


def test_a_posted_label_is_stored_and_returned_with_progress(real_round):
    target = real_round.performance[1]["spectrum_id"]
    with serving(real_round.workdir, token=TOKEN, labeller="ana") as server:
        status, reply = request(
            server,
            "/api/labels",
            body={"spectrum_id": target, "label": "emission", "comment": "weak, narrow"},
        )
        assert status == 200
        assert reply["saved"]["label"] == "emission"
        assert reply["saved"]["role"] == "performance"
        assert reply["progress"]["performance"] == {"labelled": 1, "total": 2}
        # Relabel: the batch shows the latest label, the spectrum view the history.
        request(server, "/api/labels", body={"spectrum_id": target, "label": "other"})
        _, batch = request(server, "/api/batch")
        _, view = request(server, f"/api/spectrum/{target}")
    assert batch["rows"][5]["label"]["label"] == "other"
    assert [h["label"] for h in view["history"]] == ["emission", "other"]
    # The label is in the store file, readable by anyone.
    with LabelStore(real_round.workdir / "labels.sqlite", DEFAULT_CLASSES) as store:
        current = store.current_labels(2)
        assert list(current) == [target]
        assert (current[target].label, current[target].labeller) == ("other", "ana")
        assert [h.comment for h in store.history(target)] == ["weak, narrow", ""]


def test_bad_requests_get_400_with_the_reason(real_round):
    known = real_round.query[0]["spectrum_id"]
    with serving(real_round.workdir, token=TOKEN) as server:
        status, reply = request(server, "/api/labels", body={"spectrum_id": "x", "label": "other"})
        assert status == 400
        assert reply["error"] == "unknown spectrum id 'x': not in round 2's query or samples"
        assert reply["code"] == "unknown-spectrum"
        status, reply = request(server, "/api/labels", body={"spectrum_id": known, "label": "Be"})
        assert (status, reply["code"]) == (400, "unknown-class")
        assert "classes are other, emission, double-peak" in reply["error"]
        status, reply = request(server, "/api/spectrum/nope")
        assert status == 400 and "unknown spectrum id 'nope'" in reply["error"]
        status, reply = request(
            server, "/api/labels", body=b"{label", content_type="application/json"
        )
        assert status == 400 and "not JSON" in reply["error"]
        status, _ = request(server, "/api/labels", body=b"label=other", content_type="text/plain")
        assert status == 415
        assert request(server, "/api/nothing")[0] == 404
        assert request(server, "/static/../server.py")[0] == 404
        assert request(server, "/api/batch", body={"a": 1})[0] == 405
        assert server.app.store.all_labels() == []


def test_token_is_required_on_every_request(real_round):
    with serving(real_round.workdir, token=TOKEN) as server:
        assert "token=" + TOKEN in server.url
        for path in ("/", "/static/app.js", "/api/batch", "/api/spectrum/oe270005"):
            assert request(server, path, token=None)[0] == 403
            assert request(server, path, token="wrong")[0] == 403
            assert request(server, f"{path}?token=wrong", token=None)[0] == 403
        status, reply = request(
            server, "/api/labels", body={"spectrum_id": "oe270005", "label": "other"}, token=None
        )
        assert status == 403 and reply["error"] == "missing or wrong token"
        assert server.app.store.all_labels() == []
        # The token in the query (as the page's own URL carries it) or in the header.
        status, page = request(server, f"/?token={TOKEN}", token=None)
        assert status == 200 and b"static/app.js?token=" + TOKEN.encode() in page
        assert request(server, "/api/batch", header=True)[0] == 200


def test_without_token_the_page_is_open_on_loopback(real_round):
    with serving(real_round.workdir) as server:
        assert server.server_address[0] == "127.0.0.1"
        assert server.url == f"http://127.0.0.1:{server.port}/"
        status, page = request(server, "/", token=None)
        assert status == 200 and b"<canvas" in page and b'src="static/app.js"' in page


def test_unreadable_source_is_reported_not_fatal(real_round):
    row = real_round.query[1]
    (real_round.workdir.parent / "pool" / row["source"].split("/")[-1]).write_bytes(
        b"SIMPLE = junk"
    )
    with serving(real_round.workdir, token=TOKEN) as server:
        status, view = request(server, f"/api/spectrum/{row['spectrum_id']}")
    assert status == 200
    assert view["full"] is None and view["window"] is None
    assert view["error"].startswith("cannot read spec-55862-B6212_sp06-025.fits")
    assert view["probabilities"] == row["probabilities"]


def test_create_server_refuses_bad_setups(real_round, tmp_path):
    with pytest.raises(RoundFilesError, match="no query.json"):
        create_server(real_round.workdir, round_index=5, port=0)
    with pytest.raises(ConfigError, match="does not exist"):
        create_server(tmp_path / "nowhere", port=0)
    with serving(real_round.workdir) as server, pytest.raises(ConfigError, match="cannot listen"):
        create_server(real_round.workdir, port=server.port)


def test_decimation_keeps_peaks_and_dips():
    wave = np.linspace(3700.0, 9100.0, 20_001)
    flux = np.ones_like(wave)
    flux[12_345] = 50.0  # a one-pixel cosmic ray
    flux[7_000] = -3.0
    flux[100:110] = np.nan
    bad = np.zeros(wave.size, dtype=bool)
    bad[15_000] = True
    w, f, b = decimate(wave, flux, bad, 4_000)
    assert w.size <= 4_000
    assert np.all(np.diff(w) >= 0)
    assert np.nanmax(f) == 50.0 and np.nanmin(f) == -3.0
    assert w[np.nanargmax(f)] == wave[12_345]
    assert b.sum() == 2 and abs(w[b][0] - wave[15_000]) < 5 * (wave[1] - wave[0]) * 6
    same = decimate(wave[:3000], flux[:3000], bad[:3000], 4_000)
    assert same[0].size == 3000


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc (Linux)")
def test_store_connections_do_not_pile_up_with_request_threads(real_round):
    store_file = str(real_round.workdir / "labels.sqlite")

    def open_store_files() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/self/fd/{fd}").startswith(store_file)
        return count

    with serving(real_round.workdir, token=TOKEN) as server:
        request(server, "/api/batch")
        before = open_store_files()
        # Every request runs in a new thread of the ThreadingHTTPServer.
        for _ in range(40):
            assert request(server, "/api/batch")[0] == 200
        after = open_store_files()
    assert after <= before + 3 * MAX_IDLE_CONNECTIONS  # db, -wal and -shm per connection
    assert open_store_files() == 0  # closed with the server
