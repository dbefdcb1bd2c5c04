"""``activespec simulate`` on the command line."""

import subprocess
import sys

from activespec_cli import main

from .conftest import read_csv


def test_simulate_command_writes_a_survey_and_prints_where(tmp_path, capsys):
    out = tmp_path / "sim"
    argv = ["simulate", "--out", str(out), "--labelled", "6", "--pool", "20", "--seed", "5"]
    code = main([*argv, "--workers", "1", "--label-noise", "0.5", "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "6 labelled + 20 pool spectra (seed 5)" in printed
    assert str(out / "truth" / "pool_truth.csv") in printed and "3 flipped" in printed
    assert len(read_csv(out / "labelled" / "labels.csv")) == 6
    assert len(read_csv(out / "truth" / "pool_truth.csv")) == 20


def test_simulate_command_refuses_user_data(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code = main(["simulate", "--out", str(tmp_path), "--labelled", "1", "--pool", "1"])
    assert code == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_simulate_command_does_not_import_tensorflow(tmp_path):
    script = (
        "import sys\n"
        "from activespec_cli import main\n"
        f"main(['simulate', '--out', {str(tmp_path / 'x')!r}, '--labelled', '1', '--pool', '2',"
        " '--workers', '1', '--no-progress'])\n"
        "print('tensorflow' in sys.modules, 'astropy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "False False"
