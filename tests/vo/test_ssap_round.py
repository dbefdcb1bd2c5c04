"""From an SSAP service and an ``id,label`` list to a trained round, no file by hand.

Slow: a real GAVO DaCHS (the ``dachs`` fixture) serves the project's real spectra; the
round's config names the service (``[data] labelled_ssap``), and ``activespec round``
fetches through DataLink, ingests the fetched copy with its labels, trains, evaluates,
scores a small simulated pool and writes its query.
"""

import json
import subprocess
import sys

import pytest

from activespec.constants import DEFAULT_CLASSES
from activespec.simulator import simulate_survey
from activespec.workdir import WorkDir

pytestmark = [pytest.mark.slow, pytest.mark.dachs]


def test_a_round_trains_on_the_labelled_set_of_an_ssap_service(dachs, tmp_path):
    # Every publisher id with a class (the real spectra are normal stars; the classes are
    # spread over them so that every class has examples to train on).
    labels = {s.pubdid: DEFAULT_CLASSES[i % 3] for i, s in enumerate(dachs.spectra)}
    (tmp_path / "ids-labels.csv").write_text(
        "id,label\n" + "".join(f"{k},{v}\n" for k, v in labels.items())
    )
    simulate_survey(tmp_path / "survey", n_labelled=0, n_pool=200, seed=4, progress=False)
    (tmp_path / "activespec.toml").write_text(
        f"""\
[data]
labelled_ssap = {{ service = "{dachs.ssap_url}", labels = "ids-labels.csv", \
datalink = "normalized", band = [6500, 6760] }}
pool = ["survey/pool/*.fits*"]

[model]
max_epochs = 2
patience = 2

[evaluation]
min_macro_f1 = 0.0
"""
    )
    workdir = tmp_path / "campaign"
    command = [sys.executable, "-m", "activespec", "round", "--workdir", str(workdir)]
    done = subprocess.run(
        [*command, "--config", str(tmp_path / "activespec.toml")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr

    summary = json.loads(WorkDir(workdir).summary_path(0).read_text())
    assert {summary["nodes"][n] for n in ("Trainer", "Evaluator", "PoolScorer")} == {"COMPLETE"}
    labelled = summary["ingestion"]["LabelledIngest"]
    # 49 of the 50 spectra: one has no good pixel near H-alpha, so DataLink's cut-out is
    # empty and the fetch records it as failed.
    assert labelled["num_ingested"] == len(labels) - 1 and labelled["num_rejected"] == 0
    fetched = tmp_path / "survey" / "labelled-ssap"
    assert len(list(fetched.glob("*.fits*"))) == len(labels) - 1
    assert (WorkDir(workdir).round_dir(0) / "query.csv").exists()
