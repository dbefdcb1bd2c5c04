"""A work directory whose round points at copies of real FITS files, and a running server."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import pathlib
import shutil
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from activespec.io import read_spectrum
from activespec.labelling import create_server
from tests.labels.round_files import random_probabilities, sampler_row, write_round

#: The round's query: LAMOST low-resolution spectra (A, M, F stars and a DR1 plate).
QUERY_FILES = (
    "lamost/spec-55862-B6212_sp06-018.fits",
    "lamost/spec-55862-B6212_sp06-025.fits",
    "lamost/spec-55862-B6212_sp06-003.fits",
    "lamost/spec-56257-GAC089N38V2_sp01-004.fits",
)
#: The performance sample: the Ondřejov Be star (air wavelengths) and a LAMOST MRS spectrum.
PERFORMANCE_FILES = (
    "ondrejov/oe270005.fits",
    "lamost/med-58408-TD230151N343645T01_sp01-015.fits",
)
TOKEN = "s3cret-t0ken"


@dataclasses.dataclass
class RealRound:
    workdir: pathlib.Path
    query: list[dict]
    performance: list[dict]

    @property
    def rows(self) -> list[dict]:
        return self.query + self.performance


@pytest.fixture
def real_round(tmp_path, real_dir) -> RealRound:
    """Round 2 of a work directory, its rows made from the real files' own metadata."""
    workdir = tmp_path / "work"
    data = tmp_path / "pool"
    data.mkdir()
    rng = np.random.default_rng(7)

    def rows(files, role):
        out = []
        for rank, name in enumerate(files, start=1):
            copy = data / pathlib.Path(name).name
            shutil.copyfile(real_dir / name, copy)
            meta = read_spectrum(str(copy)).meta
            out.append(
                sampler_row(
                    meta.spectrum_id,
                    role=role,
                    rank=rank,
                    probabilities=random_probabilities(rng),
                    source=str(copy),
                    designation=meta.designation or "",
                    ra=meta.ra,
                    dec=meta.dec,
                    snr=meta.snr,
                    survey=meta.survey,
                )
            )
        return out

    query, performance = rows(QUERY_FILES, "query"), rows(PERFORMANCE_FILES, "performance")
    write_round(workdir, 2, query, performance)
    return RealRound(workdir, query, performance)


@contextlib.contextmanager
def serving(workdir, **options):
    """Run a labelling server on a free port in a thread; yield it."""
    server = create_server(workdir, port=0, **options)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def request(server, path, *, body=None, token=TOKEN, header=True, content_type="application/json"):
    """HTTP request to the server; return (status, decoded JSON or bytes)."""
    url = f"http://127.0.0.1:{server.port}{path}"
    headers = {}
    if token is not None and header:
        headers["X-Activespec-Token"] = token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, raw, kind = response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as err:
        status, raw, kind = err.code, err.read(), err.headers["Content-Type"]
    if kind and kind.startswith("application/json"):
        return status, json.loads(raw)
    return status, raw
