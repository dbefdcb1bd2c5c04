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


# activespec fetch ssap -----------------------------------------------------------------
CLASSES = ("absorption", "emission", "double-peak")


def _labels_file(tmp_path, dachs, every=2):
    """An ``id,label`` CSV for every ``every``-th published spectrum, plus an unknown id."""
    labelled = {s.pubdid: CLASSES[i % 3] for i, s in enumerate(dachs.spectra[::every])}
    path = tmp_path / "ids_labels.csv"
    lines = ["id,label", *(f"{k},{v}" for k, v in labelled.items()), "ivo://nowhere/x,emission"]
    path.write_text("\n".join(lines) + "\n")
    return path, labelled


def _fetch(capsys, *args):
    from activespec_cli import main

    status = main(["fetch", "ssap", *args, "--no-progress"])
    return status, capsys.readouterr().out


def _csv(path):
    import csv

    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_fetch_ssap_gets_every_spectrum_readable_and_resumes(dachs, tmp_path, capsys):
    from activespec.io import read_spectrum
    from activespec.vo.download import file_sha256

    out = tmp_path / "labelled"
    status, text = _fetch(capsys, "--service", dachs.ssap_url, "--out", str(out))
    assert status == 0, text
    rows = _csv(out / "manifest.csv")
    assert sorted(r["identifier"] for r in rows) == sorted(s.pubdid for s in dachs.spectra)
    published = {s.pubdid: s for s in dachs.spectra}
    for row in rows:
        spectrum = read_spectrum(out / row["file"])
        source = published[row["identifier"]]
        assert spectrum.meta.spectrum_id == row["spectrum_id"] == source.spectrum_id
        assert row["sha256"] == file_sha256(out / row["file"])
        assert int(row["size"]) == source.size
        assert row["object"] == source.object
        assert (
            abs(float(row["ra"]) - source.ra) < 1e-6 and abs(float(row["dec"]) - source.dec) < 1e-6
        )
        assert row["access_url"].startswith(dachs.base_url + "/getproduct/")
    assert _csv(out / "failures.csv") == []
    print(f"\nfetch through DaCHS: {text.splitlines()[1]}")

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix in (".fits", ".gz")}
    status, text = _fetch(capsys, "--service", dachs.ssap_url, "--out", str(out))
    assert status == 0 and "fetched 0 spectra" in text and "50 already here" in text, text
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name in mtimes} == mtimes

    # an interrupted run: files lost or cut short, a temporary file left behind
    lost, cut = rows[0]["file"], rows[1]["file"]
    (out / lost).unlink()
    data = (out / cut).read_bytes()
    (out / cut).write_bytes(data[: len(data) // 2])
    (out / f".{rows[2]['file']}.part").write_bytes(b"SIMPLE  =")
    status, text = _fetch(capsys, "--service", dachs.ssap_url, "--out", str(out))
    assert status == 0 and "fetched 2 spectra" in text and "48 already here" in text, text
    assert (out / cut).read_bytes() == data


def test_ssap_query_by_band_position_target_and_limit(dachs):
    from activespec.vo.ssap import query_ssap

    lamost_lrs = {s.pubdid for s in dachs.spectra if "/lamost/spec-" in s.pubdid}
    records, overflow = query_ssap(dachs.ssap_url, band=(8000, 8100))  # beyond MRS, Ondřejov
    assert {r.identifier for r in records} == lamost_lrs and not overflow
    one = dachs.spectra[5]
    records, _ = query_ssap(dachs.ssap_url, pos=(one.ra, one.dec), size=0.01)
    assert [(r.identifier, r.object) for r in records] == [(one.pubdid, one.object)]
    assert (records[0].ra, records[0].dec) == pytest.approx((one.ra, one.dec))
    records, _ = query_ssap(dachs.ssap_url, target="HD 208905")
    assert [r.identifier.rsplit("/", 1)[-1] for r in records] == ["oe270005.fits"]
    records, overflow = query_ssap(dachs.ssap_url, maxrec=5)
    assert len(records) == 5 and overflow


def test_fetch_ssap_with_labels_joins_them_by_publisher_id(dachs, tmp_path, capsys):
    from activespec.io import read_spectrum

    labels_in, labelled = _labels_file(tmp_path, dachs)
    out = tmp_path / "labelled"
    status, text = _fetch(
        capsys, "--service", dachs.ssap_url, "--labels", str(labels_in), "--out", str(out)
    )
    assert status == 1, text  # the unknown identifier is a recorded failure
    failures = _csv(out / "failures.csv")
    assert [(f["identifier"], f["code"]) for f in failures] == [("ivo://nowhere/x", "not-found")]
    rows = _csv(out / "labels.csv")
    assert list(rows[0]) == ["spectrum_id", "file", "label", "identifier"]
    assert {r["identifier"]: r["label"] for r in rows} == labelled
    for row in rows:  # the spectrum_id the ingestion will read from the file
        assert read_spectrum(out / row["file"]).meta.spectrum_id == row["spectrum_id"]
    assert len(_csv(out / "manifest.csv")) == len(labelled)  # only the labelled ones
    assert f"{len(labelled)} labelled spectra; 1 labels without a fetched spectrum" in text


def test_fetch_ssap_through_datalink_with_flux_calibration_and_cut_out(dachs, tmp_path, capsys):
    import numpy as np

    from activespec.io import read_spectrum

    out = tmp_path / "normalised"
    args = ["--service", dachs.ssap_url, "--datalink", "relative", "--band", "6500", "6650"]
    status, text = _fetch(capsys, *args, "--out", str(out))
    # the spectrum with no good pixel near H-alpha has an empty cut-out
    failures = {f["identifier"].rsplit("/", 1)[-1]: f["code"] for f in _csv(out / "failures.csv")}
    assert failures == {"spec-55862-B6212_sp06-145.fits": "empty"}, text
    assert status == 1
    rows = _csv(out / "manifest.csv")
    assert len(rows) == len(dachs.spectra) - 1
    for row in rows:
        spectrum = read_spectrum(out / row["file"])
        assert row["via"] == "datalink:RELATIVE" and "/dl/dlget" in row["access_url"]
        assert spectrum.meta.spectrum_id == row["identifier"]  # DS_IDPUB
        assert spectrum.wave.min() >= 6499.9 and spectrum.wave.max() <= 6650.1
        assert np.nanmax(np.abs(spectrum.flux)) == pytest.approx(1.0)
    status, text = _fetch(capsys, *args, "--out", str(out))
    assert "fetched 0 spectra" in text and f"{len(rows)} already here" in text, text


# activespec candidates --tap ----------------------------------------------------------
def _run_cli(args):
    """``python -m activespec ARGS`` in a subprocess (as tests/catalogue/test_cli.py does)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "activespec", *args],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def _expected(catalogue, known, radius):
    """(known, name, separation) per spectrum_id, computed here with astropy."""
    import numpy as np
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    sky = SkyCoord([k.ra for k in known] * u.deg, [k.dec for k in known] * u.deg)
    out = {}
    for row in catalogue:
        if not np.isfinite(row["ra"]):
            out[row["spectrum_id"]] = (False, "")
            continue
        sep = SkyCoord(row["ra"] * u.deg, row["dec"] * u.deg).separation(sky).arcsec
        i = int(np.argmin(sep))
        out[row["spectrum_id"]] = (
            bool(sep[i] <= radius),
            known[i].name if sep[i] <= radius else "",
        )
    return out


@pytest.mark.parametrize("radius", [3.0, 10.0])
def test_tap_crossmatch_marks_known_and_new_as_the_file_match_does(
    dachs, tmp_path, real_dir, radius
):
    import numpy as np

    from activespec.catalogue import build_catalogue
    from activespec.vo.tap import SEARCH_FACTOR, TapCatalogue
    from tests.catalogue.conftest import make_campaign

    campaign = make_campaign(tmp_path, real_dir)
    known_csv = tmp_path / "known.csv"
    known_csv.write_text(
        "name,ra,dec\n" + "".join(f"{k.name},{k.ra!r},{k.dec!r}\n" for k in dachs.known)
    )
    tap = TapCatalogue(dachs.tap_url, dachs.known_table)
    over_tap = build_catalogue(campaign.workdir, known=tap, radius_arcsec=radius)
    from_file = build_catalogue(campaign.workdir, known=known_csv, radius_arcsec=radius)
    assert over_tap.colnames == from_file.colnames
    assert list(over_tap["spectrum_id"]) == list(from_file["spectrum_id"])
    for name in ("known", "known_name", "note"):
        assert list(over_tap[name]) == list(from_file[name]), name
    near = np.asarray(from_file["separation_arcsec"]) <= radius * SEARCH_FACTOR
    assert np.allclose(
        over_tap["separation_arcsec"][near], from_file["separation_arcsec"][near], atol=1e-3
    )
    assert np.isnan(np.asarray(over_tap["separation_arcsec"])[~near]).all()
    expected = _expected(from_file, dachs.known, radius)
    assert {r["spectrum_id"]: (bool(r["known"]), r["known_name"]) for r in over_tap} == expected
    n_known = sum(k for k, _ in expected.values())
    assert 0 < n_known < len(over_tap)  # both known and new among the candidates
    if radius == 10.0:  # the "near" objects, 6 arcsec away, match only at 10
        assert any(name.startswith("near ") for _, name in expected.values())
    assert over_tap.meta["known_catalogue"] == f"{dachs.known_table} at {dachs.tap_url}"


def test_candidates_command_over_tap_and_from_the_config(dachs, tmp_path, real_dir):
    import csv

    from tests.catalogue.conftest import make_campaign

    campaign = make_campaign(tmp_path, real_dir)
    workdir = str(campaign.workdir)
    code, out, err = _run_cli(
        ["candidates", "--workdir", workdir, "--tap", dachs.tap_url,
         "--tap-table", dachs.known_table, "--top", "0"]
    )  # fmt: skip
    assert code == 0, err
    assert f"cross-matched with {dachs.known_table} at {dachs.tap_url} within 3 arcsec" in out
    with (campaign.workdir / "catalogue" / "candidates.csv").open() as handle:
        rows = {r["spectrum_id"]: r for r in csv.DictReader(handle)}
    known_ids = {k for k, r in rows.items() if r["known"] == "True"}
    assert known_ids and len(known_ids) < len(rows)
    assert all(rows[k]["known_name"] for k in known_ids)
    total = next(line for line in out.splitlines() if line.strip().startswith("total"))
    assert f"known {len(known_ids)})" in total
    report = (campaign.workdir / "catalogue" / "report.html").read_text()
    assert (
        f"Cross-matched with <code>{dachs.known_table} at {dachs.tap_url}</code> within 3" in report
    )

    config = tmp_path / "activespec.toml"
    config.write_text(
        f'[crossmatch]\ntap = "{dachs.tap_url}"\ntap_table = "{dachs.known_table}"\n'
        "radius_arcsec = 10.0\n"
    )
    code, out, err = _run_cli(
        ["candidates", "--workdir", workdir, "--config", str(config), "--top", "0"]
    )  # fmt: skip
    assert code == 0, err
    assert "within 10 arcsec" in out
    with (campaign.workdir / "catalogue" / "candidates.csv").open() as handle:
        wider = {r["spectrum_id"]: r for r in csv.DictReader(handle)}
    assert {k for k, r in wider.items() if r["known"] == "True"} >= known_ids


# [data] labelled_ssap: the ingestion reads the fetched copy ---------------------------
def test_labelled_ssap_config_is_fetched_and_ingested_with_its_labels(dachs, tmp_path):
    import csv
    import glob
    import os

    import tensorflow as tf
    from tfx.types import artifact_utils, standard_artifacts

    from activespec.constants import DEFAULT_CLASSES
    from components.artifact_types import RejectedFiles
    from components.spectra_ingest.executor import Executor
    from components.spectra_ingest.params import make_params
    from models import features
    from pipeline.configs import config_from_dict
    from pipeline.local_runner import fetch_labelled_ssap

    labelled = {
        s.pubdid: DEFAULT_CLASSES[i % len(DEFAULT_CLASSES)] for i, s in enumerate(dachs.spectra)
    }
    (tmp_path / "ids.csv").write_text(
        "id,label\n" + "".join(f"{k},{v}\n" for k, v in labelled.items())
    )
    config = config_from_dict(
        {"data": {"labelled_ssap": {"service": dachs.ssap_url, "labels": "ids.csv",
                                    "datalink": "normalized", "band": [6500, 6760]}}},
        base_dir=tmp_path,
    )  # fmt: skip
    # the spectrum with no good pixel near H-alpha has an empty cut-out: recorded, not fetched
    counts = fetch_labelled_ssap(config)
    assert counts == {"fetched": 49, "kept": 0, "failed": 1, "labelled": 49}
    assert fetch_labelled_ssap(config) == {"fetched": 0, "kept": 49, "failed": 1, "labelled": 49}

    params = make_params(
        file_patterns=config.labelled_patterns,
        file_list=None,
        labels=config.labels_path,
        class_names=DEFAULT_CLASSES,
        preprocessing=None,
        degrade_resolution=True,
        splits={"train": 1},
        input_fingerprint="",
    )
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    rejections = RejectedFiles()
    rejections.uri = str(tmp_path / "rejections")
    Executor().Do(
        {}, {"examples": [examples], "rejections": [rejections]}, params.to_exec_properties()
    )

    ingested = {}
    split_dir = artifact_utils.get_split_uri([examples], "train")
    files = sorted(glob.glob(os.path.join(split_dir, "data_tfrecord-*.gz")))
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        spectrum_id = feature[features.SPECTRUM_ID].bytes_list.value[0].decode()
        ingested[spectrum_id] = feature[features.LABEL].int64_list.value[0]
    with open(os.path.join(rejections.uri, "rejected.csv"), newline="") as handle:
        assert list(csv.DictReader(handle)) == []
    expected = {k: DEFAULT_CLASSES.index(v) for k, v in labelled.items() if "sp06-145" not in k}
    assert ingested == expected  # DataLink spectra carry the publisher DID as spectrum_id
