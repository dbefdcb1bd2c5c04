"""A real GAVO DaCHS server for the VO tests, started once per session.

The ``dachs`` fixture installs DaCHS when it is missing (root and apt-get needed:
``activespec.vo.dachs.ensure_installed``), publishes ``tests/data/real`` through an SSAP
service with DataLink and a table of known objects for TAP, serves them on 127.0.0.1 on a
free port, and drops them at the end. Without root or apt-get the tests skip with the
reason; with ``ACTIVESPEC_REQUIRE_DACHS=1`` (``.ci/run``) they fail instead.

Under pytest-xdist each worker that runs such a test starts its own server (under its own
resource names), sharing the one PostgreSQL.
"""

from __future__ import annotations

import os

import pytest

from activespec.vo.dachs import LocalDachs, ensure_installed, free_port
from activespec.vo.errors import DachsUnavailableError


@pytest.fixture(scope="session")
def dachs(tmp_path_factory, real_dir, request):
    """The running :class:`~activespec.vo.dachs.LocalDachs` (its log shown on failure)."""
    try:
        ensure_installed(log=lambda line: None)
    except DachsUnavailableError as err:
        _unavailable(err)
    port = free_port()
    server = LocalDachs(
        real_dir,
        tmp_path_factory.mktemp("dachs"),
        port=port,
        name=f"astest{port}",
        log=lambda line: None,
    )
    try:
        try:
            server.publish()
            server.start()
        except DachsUnavailableError as err:
            _unavailable(err)
        yield server
    finally:
        server.stop()
        if request.session.testsfailed:
            print(f"\nDaCHS log ({server.log_path}):\n{server.log_tail(30)}")
        server.drop()


def _unavailable(err: DachsUnavailableError) -> None:
    """Skip, or fail where DaCHS is required (``ACTIVESPEC_REQUIRE_DACHS=1``)."""
    if os.environ.get("ACTIVESPEC_REQUIRE_DACHS") == "1":
        pytest.fail(f"DaCHS is required here (ACTIVESPEC_REQUIRE_DACHS=1): {err}")
    pytest.skip(str(err))
