"""The figure printed beside the blessing threshold is the one it applies to (issue 12, bug 4).

The Evaluator blesses on TFMA's macro-F1 (each class one-vs-rest at p >= 0.5,
``blessing_macro_f1`` in summary.json); the per-class table and the learning curves use
the most probable class (``macro_f1``). Here the two differ on purpose.
"""

from __future__ import annotations

from activespec.constants import DEFAULT_CLASSES
from activespec_cli.round_cmd import format_summary
from activespec_cli.run_cmd import format_history
from tests.labels.round_files import synthetic_round

EVALUATION = {
    "n": 120,
    "accuracy": 0.95,
    "macro_f1": 0.912,  # argmax
    "blessing_macro_f1": 0.448,  # what the threshold is applied to
    "min_macro_f1": 0.5,
    "blessed": False,
    "per_class": {},
    "confusion_matrix": None,
}


def _line_with(text: str, report: str) -> str:
    (line,) = [line for line in report.splitlines() if text in line]
    return line


def test_round_prints_the_blessing_figure_beside_its_threshold():
    summary = {"round": 0, "elapsed_s": 1.0, "evaluation": dict(EVALUATION)}
    report = format_summary(summary, list(DEFAULT_CLASSES))
    beside_threshold = _line_with("blessing needs >= 0.5", report)
    assert "0.448" in beside_threshold and "0.912" not in beside_threshold
    assert "NOT blessed" in beside_threshold
    assert "0.912" in _line_with("argmax macro-F1", report)


def test_run_history_names_both_figures():
    history = [
        {
            "round": 0,
            "labels_so_far": 0,
            "evaluation": dict(EVALUATION),
            "num_candidates": 7,
            "performance": {"n": 0, "precision": None, "lower_bound_95": None},
        }
    ]
    header, row, *notes = format_history(history).splitlines()
    columns = header.split()
    assert columns[2:4] == ["argmax-F1", "blessing-F1"]
    assert row.split()[2:4] == ["0.912", "0.448"]
    assert any("blessing threshold" in note for note in notes)


def test_campaign_log_names_both_figures(tmp_path, monkeypatch):
    import pipeline.campaign
    from pipeline.campaign import run_next_round
    from pipeline.configs import config_from_dict

    def run_round(workdir, config, *, round_index, labels_snapshot="", labels_digest=""):
        synthetic_round(workdir, round_index, 2, 1)
        return {"round": round_index, "evaluation": dict(EVALUATION)}

    monkeypatch.setattr(pipeline.campaign, "run_round", run_round)
    lines: list[str] = []
    run_next_round(tmp_path, config_from_dict({}, base_dir=tmp_path), log=lines.append)
    blessing = _line_with("blessing macro-F1", "\n".join(lines))
    assert "blessing macro-F1 0.448 (needs >= 0.5: NOT blessed)" in blessing
    assert "argmax macro-F1 0.912" in blessing
