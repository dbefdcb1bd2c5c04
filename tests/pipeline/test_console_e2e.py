"""``activespec round`` on a real pipeline: the console shows the log path and one line
per step; TensorFlow's, TFX's and Beam's output (its worker processes' included) is in
the log file only.

Slow: a tiny simulated survey, a whole round (two Beam ingestions, validation, two
epochs of training, evaluation, scoring, sampling). The routing itself is tested fast in
``tests/test_console.py``.
"""

import re
import subprocess
import sys

import pytest

from activespec.simulator import simulate_survey
from activespec.workdir import WorkDir

pytestmark = pytest.mark.slow

CONFIG = """\
[data]
labelled = ["survey/labelled/*.fits*"]
labels = "survey/labelled/labels.csv"
pool = ["survey/pool/*.fits*"]

[model]
max_epochs = 2
patience = 2

[beam]
direct_running_mode = "multi_processing"
direct_num_workers = 2
in_process_below = 0  # worker processes (and their output) however small the survey
score_in_process_below = 0

[evaluation]
min_macro_f1 = 0.1
"""

#: Printed by TensorFlow, absl and Beam (its workers) during every round.
NOISE = ("semi_persistent_directory", "Unable to register", "WARNING", "absl", "Traceback")


def test_round_shows_one_line_per_step_and_logs_the_libraries_to_a_file(tmp_path):
    simulate_survey(tmp_path / "survey", n_labelled=120, n_pool=300, seed=3, progress=False)
    config = tmp_path / "activespec.toml"
    config.write_text(CONFIG)
    workdir = tmp_path / "campaign"

    # As a user runs it, in its own process (tests/isolation.py says why).
    command = [sys.executable, "-m", "activespec", "round", "--workdir", str(workdir)]
    done = subprocess.run([*command, "--config", str(config)], capture_output=True, text=True)
    out, err = done.stdout, done.stderr
    assert done.returncode == 0, out + err

    (log,) = WorkDir(workdir).logs_dir.iterdir()
    lines = out.splitlines()
    assert lines[0] == f"library logs (TensorFlow, TFX, Beam): {log}"
    steps = {line.split()[1]: line for line in lines if line.startswith("  ✓ ")}
    assert list(steps)[:3] == ["ingest", "validate", "train"], out
    assert set(steps) == {"ingest", "validate", "train", "evaluate", "score", "novelty", "query"}, (
        out
    )
    # (training takes seconds: its line shows the cores it kept busy)
    assert re.search(r"\(\d+\.\d cores; 2/2 epochs\)$", steps["train"]), steps["train"]
    assert lines[1].startswith("round 0: training on the labelled set")
    assert any(line.startswith("Round 0 finished in") for line in lines)
    assert any(line.strip().startswith("Trainer") and "cores" in line for line in lines), out
    assert err == ""
    for noise in NOISE:
        assert noise not in out, noise
    logged = log.read_text()
    assert "semi_persistent_directory" in logged  # Beam's worker processes
    assert "Component UncertaintySampler is finished." in logged
