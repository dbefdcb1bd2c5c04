"""``activespec label serve`` in its own process: a posted label survives ``kill -9``, and
the server stops cleanly on Ctrl-C and on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.parse

import pytest

from activespec.constants import DEFAULT_CLASSES
from activespec.labels import LabelStore
from tests.labelling.conftest import TOKEN, request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Url:
    """What :func:`tests.labelling.conftest.request` needs of a server: its port."""

    def __init__(self, url: str):
        self.port = urllib.parse.urlsplit(url).port


def test_served_label_survives_killing_the_server(real_round):
    target = real_round.query[2]["spectrum_id"]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "activespec",
            "label",
            "serve",
            "--workdir",
            str(real_round.workdir),
            "--port",
            "0",
            "--token",
            TOKEN,
            "--labeller",
            "night-shift",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Open "):
                break
        text = "".join(printed)
        assert "Labelling round 2" in text and "query 0/4, performance 0/2" in text
        url = re.search(r"Open (http://\S+)", text).group(1)
        assert url.startswith("http://127.0.0.1:") and url.endswith(f"/?token={TOKEN}")
        server = _Url(url)
        status, reply = request(
            server,
            "/api/labels",
            body={"spectrum_id": target, "label": "emission", "comment": "filled-in trough"},
        )
        assert status == 200, reply
        os.kill(process.pid, signal.SIGKILL)  # right after the answer: no clean shutdown
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        process.stdout.close()

    with LabelStore(real_round.workdir / "labels.sqlite", DEFAULT_CLASSES) as store:
        current = store.current_labels()
        assert list(current) == [target]
        label = current[target]
        assert (label.label, label.labeller, label.comment, label.round) == (
            "emission",
            "night-shift",
            "filled-in trough",
            2,
        )
        assert label.to_dict() == reply["saved"]


def _default_sigint():
    # As in a terminal: the test itself may run where SIGINT is ignored (below).
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _ignore_sigint():
    # What a shell without job control does to a command it starts in the background.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("stop", "preexec"),
    [
        (signal.SIGINT, _default_sigint),
        (signal.SIGTERM, _default_sigint),
        (signal.SIGTERM, _ignore_sigint),
    ],
    ids=["ctrl-c", "sigterm", "sigterm-sigint-ignored"],
)
def test_the_server_stops_cleanly_on_ctrl_c_and_on_sigterm(real_round, stop, preexec):
    process = subprocess.Popen(
        [sys.executable, "-m", "activespec", "label", "serve"]
        + ["--workdir", str(real_round.workdir), "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=preexec,
    )
    try:
        for line in process.stdout:
            if line.startswith("Open "):
                break
        assert request(_Url(line.split()[1]), "/api/batch", token=None)[0] == 200
        process.send_signal(stop)
        assert process.wait(timeout=30) == 0
        assert "Stopped." in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        process.stdout.close()


def test_serving_beyond_loopback_makes_up_a_token(real_round):
    process = subprocess.Popen(
        [sys.executable, "-m", "activespec", "label", "serve"]
        + ["--workdir", str(real_round.workdir), "--host", "0.0.0.0", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = []
        for line in process.stdout:
            printed.append(line)
            if line.startswith("Open "):
                break
        text = "".join(printed)
        assert "a random access token was generated" in text
        url = re.search(r"Open (http://\S+)", text).group(1)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]
        assert len(token) >= 20
        server = _Url(url)
        assert request(server, "/api/batch", token=None)[0] == 403
        status, batch = request(server, "/api/batch", token=token)
        assert status == 200 and len(batch["rows"]) == 6
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stdout.close()


def test_the_labelling_page_is_timed_until_its_batch_and_a_spectrum_are_served(real_round):
    """The scale benchmark's measure of the page (bench.scale), on a real round: its six
    rows and the first spectrum are served, the server stops on SIGTERM and reports its
    peak memory."""
    from bench.scale import load_labelling_batch

    measured = load_labelling_batch(real_round.workdir, timeout_s=60)
    assert measured["rows"] == len(real_round.rows) == 6
    assert 0 < measured["seconds"] < 60
    assert 20 < measured["peak_rss_mib"] < 2_000  # a Python process, not the pool
    assert measured["stop_s"] is not None  # stopped by SIGTERM, not killed
