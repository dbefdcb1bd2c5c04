"""Against a real GAVO DaCHS (the ``dachs`` fixture, tests/vo/conftest.py): the server
itself, ``activespec fetch ssap`` and ``activespec candidates --tap``.

All the tests that need the server are in this file, so that xdist's ``loadfile``
scheduling starts one server per run.
"""

from __future__ import annotations

import warnings

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.dachs]


def _quiet_pyvo():
    # pyvo warns about DaCHS's VOTable extensions (W-codes); they are not what is tested
    warnings.simplefilter("ignore")


def test_ssap_lists_every_published_spectrum_with_a_datalink(dachs):
    import pyvo

    _quiet_pyvo()
    assert len(dachs.spectra) == 50 and not dachs.skipped
    results = pyvo.dal.SSAService(dachs.ssap_url).search(maxrec=1000)
    assert sorted(str(r["ssa_pubDID"]) for r in results) == sorted(s.pubdid for s in dachs.spectra)
    links = results[0].getdatalink()
    semantics = [str(s) for s in links.to_table()["semantics"]]
    assert "#this" in semantics and "#proc" in semantics
    names = {p.name for p in next(links.iter_procs()).input_params}
    assert {"ID", "FLUXCALIB", "BAND", "FORMAT"} <= names


def test_tap_serves_the_known_objects(dachs):
    import pyvo

    _quiet_pyvo()
    table = (
        pyvo.dal.TAPService(dachs.tap_url)
        .run_sync(f"SELECT name, ra, dec FROM {dachs.known_table}")
        .to_table()
    )
    assert sorted(table["name"]) == sorted(k.name for k in dachs.known)
