"""``activespec candidates`` end to end.

The command runs in a subprocess, as a user runs it: in the test worker, its figures
were the place where a worker twice died of a segmentation fault while collecting
garbage left by earlier test files (see tests/conftest.py).
"""

import csv
import subprocess
import sys


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """``python -m activespec ARGS``: (exit status, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "activespec", *args],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_writes_catalogue_and_report_and_prints_counts(campaign, known_files):
    code, out, _ = run_cli(
        ["candidates", "--workdir", str(campaign.workdir), "--known", str(known_files["fits"]),
         "--radius", "3", "--top", "2"]
    )  # fmt: skip
    assert code == 0
    folder = campaign.workdir / "catalogue"
    for name in ("candidates.csv", "candidates.vot", "report.html"):
        assert (folder / name).is_file()
        assert str(folder / name) in out
    assert "round 2: 6 candidate spectra" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines["emission"].split()[1] == "4" and "(new 3, known 1)" in lines["emission"]
    assert lines["double-peak"].split()[1] == "2" and "(new 2, known 0)" in lines["double-peak"]
    assert "(new 5, known 1)" in lines["total"]
    assert "within 3 arcsec" in out
    with (folder / "candidates.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sum(r["known"] == "True" for r in rows) == 1
    report = (folder / "report.html").read_text()
    assert report.count("<figure>") == 4  # --top 2 per class


def test_radius_changes_the_match(campaign, known_files):
    code, out, _ = run_cli(["candidates", "--workdir", str(campaign.workdir), "--known",
                            str(known_files["csv"]), "--radius", "15", "--top", "0"])  # fmt: skip
    assert code == 0
    assert "(new 4, known 2)" in out


def test_samp_sends_table_and_top_spectra(campaign, samp_hub):
    code, out, _ = run_cli(["candidates", "--workdir", str(campaign.workdir), "--top", "1",
                            "--samp-hub", samp_hub.lockurl, "--samp-timeout", "10"])  # fmt: skip
    assert code == 0
    assert "table sent to 1 client(s) (receiver: ok)" in out
    assert "2 spectra sent, 2 received by a client" in out
    mtypes = [mtype for mtype, _ in samp_hub.received]
    assert mtypes.count("table.load.votable") == 1
    assert mtypes.count("spectrum.load.ssa-generic") == 2  # top 1 of each class


def test_samp_without_hub_fails_cleanly(campaign, tmp_path):
    code, _, err = run_cli(["candidates", "--workdir", str(campaign.workdir), "--top", "0",
                            "--samp-hub", str(tmp_path / "no-lockfile")])  # fmt: skip
    assert code == 2
    assert "activespec candidates: error: no SAMP hub is running" in err
    assert len(err.strip().splitlines()) == 1


def test_errors_are_one_line_with_exit_status_2(campaign, tmp_path):
    code, _, err = run_cli(["candidates", "--workdir", str(tmp_path / "missing")])
    assert code == 2
    assert "does not exist" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("name,x,y\na,1,2\n")
    code, _, err = run_cli(["candidates", "--workdir", str(campaign.workdir), "--known", str(bad)])
    assert code == 2
    assert "no right ascension / declination columns" in err
    code, _, err = run_cli(["candidates", "--workdir", str(campaign.workdir), "--top", "-1"])
    assert code == 2
    assert "--top must be >= 0" in err
