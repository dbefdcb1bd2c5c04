"""Survey-level behaviour: determinism, class balance, label noise, output directory safety."""

import json

import numpy as np
import pytest

from activespec.errors import ConfigError
from activespec.simulator import SUBTYPE_CLASS, simulate_survey
from activespec.simulator.population import LABELLED_CLASS_SHARES, allocate
from activespec.simulator.survey import TRUTH_FIELDS, plan_survey

from .conftest import SMALL_SURVEY, read_csv

TINY = {"n_labelled": 10, "n_pool": 36, "emission_fraction": 0.1}


def _snapshot(out):
    """Every output file's bytes, keyed by its path relative to ``out``."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_whatever_the_worker_count(tmp_path):
    one = simulate_survey(tmp_path / "w1", seed=11, workers=1, progress=False, **TINY)
    two = simulate_survey(tmp_path / "w2", seed=11, workers=2, progress=False, **TINY)
    assert (one["workers"], two["workers"]) == (1, 2)
    a, b = _snapshot(tmp_path / "w1"), _snapshot(tmp_path / "w2")
    assert a.keys() == b.keys() and len(a) == TINY["n_labelled"] + TINY["n_pool"] + 5
    assert all(a[k] == b[k] for k in a), [k for k in a if a[k] != b[k]]


def test_a_different_seed_gives_different_spectra_and_truth(tmp_path):
    simulate_survey(tmp_path / "s1", seed=1, workers=1, progress=False, **TINY)
    simulate_survey(tmp_path / "s2", seed=2, workers=1, progress=False, **TINY)
    t1 = read_csv(tmp_path / "s1" / "truth" / "pool_truth.csv")
    t2 = read_csv(tmp_path / "s2" / "truth" / "pool_truth.csv")
    assert [r["subtype"] for r in t1] != [r["subtype"] for r in t2]
    assert [r["ra"] for r in t1] != [r["ra"] for r in t2]
    # Same position in the pool, different content.
    assert (tmp_path / "s1" / "pool" / t1[0]["file"]).read_bytes() != (
        tmp_path / "s2" / "pool" / t2[0]["file"]
    ).read_bytes()


@pytest.mark.parametrize("fraction", [0.01, 0.02, 0.03])
def test_pool_rare_fraction_follows_the_setting_on_thousands_of_spectra(fraction):
    plan = plan_survey(0, 5000, seed=5, emission_fraction=fraction)
    counts = plan.class_counts("pool")
    rare = (counts["emission"] + counts["double-peak"]) / 5000
    assert rare == pytest.approx(fraction, abs=1e-3)
    assert counts["emission"] > counts["double-peak"] > 0
    subtypes = set(plan.pool_subtypes)
    assert {"FGK", "M", "A", "galaxy", "qso", "junk-zero", "junk-cosmic"} <= subtypes
    layouts = {k: plan.pool_layouts.count(k) for k in set(plan.pool_layouts)}
    assert set(layouts) == {"lamost-dr2-image", "lamost-dr7-image", "lamost-dr9-table"}
    assert sum(plan.pool_gzip) == 1500


def test_labelled_balance_is_the_published_one():
    plan = plan_survey(12936, 0, seed=0)
    assert plan.class_counts("labelled") == LABELLED_CLASS_SHARES
    smaller = plan_survey(1000, 0, seed=0).class_counts("labelled")
    assert smaller == allocate(1000, LABELLED_CLASS_SHARES)
    assert len({f.stem for f in plan.frames}) == 12936  # unique archive names


def test_written_survey_matches_its_plan_and_summary(small_survey):
    out, summary = small_survey
    truth = read_csv(out / "truth" / "pool_truth.csv")
    assert list(truth[0])[: len(TRUTH_FIELDS)] == list(TRUTH_FIELDS)
    assert len(truth) == SMALL_SURVEY["n_pool"]
    assert all(SUBTYPE_CLASS[r["subtype"]] == r["label"] for r in truth)
    plan = plan_survey(
        SMALL_SURVEY["n_labelled"],
        SMALL_SURVEY["n_pool"],
        seed=SMALL_SURVEY["seed"],
        emission_fraction=SMALL_SURVEY["emission_fraction"],
    )
    assert [r["subtype"] for r in truth] == plan.pool_subtypes
    assert summary["counts"]["pool"] == plan.class_counts("pool")
    assert summary["counts"]["labelled"] == plan.class_counts("labelled")
    on_disk = json.loads((out / "survey.json").read_text())
    assert on_disk["status"] == "complete" and on_disk["seed"] == SMALL_SURVEY["seed"]
    assert on_disk["counts"] == summary["counts"] and on_disk["layouts"] == summary["layouts"]
    readme = (out / "truth" / "README.txt").read_text()
    assert "oracle" in readme and "must not" in readme
    snr = np.array([float(r["snr"]) for r in truth])
    assert 10.0 < np.median(snr) < 80.0


def test_label_noise_flips_exactly_the_requested_share(tmp_path):
    out = tmp_path / "noisy"
    summary = simulate_survey(
        out, n_labelled=40, n_pool=0, seed=9, workers=1, label_noise=0.25, progress=False
    )
    labels = read_csv(out / "labelled" / "labels.csv")
    truth = read_csv(out / "truth" / "labelled_truth.csv")
    flipped = [t for t in truth if t["flipped"] == "1"]
    assert len(flipped) == summary["labels_flipped"] == 10
    for label, true in zip(labels, truth, strict=True):
        assert label["spectrum_id"] == true["spectrum_id"]
        assert label["label"] == true["observed_label"]
        assert (label["label"] != true["label"]) == (true["flipped"] == "1")
        assert label["label"] in ("other", "emission", "double-peak")


def test_refuses_a_foreign_non_empty_directory(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigError, match="not a previous activespec simulation"):
        simulate_survey(tmp_path, n_labelled=1, n_pool=1, workers=1, progress=False)
    assert (tmp_path / "thesis.tex").read_text() == "precious"
    assert not (tmp_path / "pool").exists()


def test_a_previous_simulation_is_replaced_without_stale_files(tmp_path):
    out = tmp_path / "again"
    simulate_survey(out, n_labelled=4, n_pool=12, seed=1, workers=1, progress=False)
    simulate_survey(out, n_labelled=2, n_pool=5, seed=2, workers=1, progress=False)
    assert len(list((out / "pool").iterdir())) == 5
    assert len(list((out / "labelled").glob("*.fits"))) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"n_pool": -1},
        {"seed": -3},
        {"workers": 0},
        {"emission_fraction": 1.5},
        {"label_noise": 1.0},
    ],
)
def test_invalid_arguments_raise_config_errors(tmp_path, bad):
    arguments = {"n_labelled": 1, "n_pool": 1, "progress": False, **bad}
    with pytest.raises(ConfigError):
        simulate_survey(tmp_path / "x", **arguments)


def test_workers_are_forked_only_from_a_plain_process():
    import subprocess
    import sys
    import threading

    from activespec.processes import start_method

    code = "from activespec.processes import start_method; print(start_method())"
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert plain.stdout.strip() == "fork", plain.stderr
    # A thread of anything else (here a bare one; TensorFlow, gRPC and Beam run many)
    # makes fork unsafe: the child would inherit its locks in any state.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_method() in ("forkserver", "spawn")
    finally:
        stop.set()
        thread.join()
