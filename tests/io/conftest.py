"""Fixtures of the reader tests: the real-file index and the generated broken corpus."""

from __future__ import annotations

import pytest

from tests.io.corpus import build_broken_corpus


@pytest.fixture(scope="session")
def broken_corpus(tmp_path_factory):
    """The broken-file corpus (list of BrokenCase), written once per test session."""
    return build_broken_corpus(tmp_path_factory.mktemp("broken"))
