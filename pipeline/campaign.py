"""Several active-learning rounds with an oracle in the loop: ``activespec run``.

Per round: export the labels given so far (a snapshot the pipeline's LabelJoin turns into
training examples), run the round's TFX pipeline, register its query and performance
sample in the label store, then ask the oracle. The simulated oracle answers at once from
the simulator's ground truth; with a human oracle the campaign stops after the query and
resumes, on the next ``activespec run``, once the round's labels are in.

Per round it records: labels so far, held-out metrics, the performance-sample precision
with its one-sided 95 % lower bound, the recall estimated from the recall sample with its
95 % interval and, for simulated runs only, the true precision and recall of the
candidate list over the whole pool, overall and per subtype of emitter.
``WORKDIR/history.json`` holds one record per round; the same figures are TensorBoard
scalars under ``WORKDIR/tensorboard``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import pathlib
from collections.abc import Callable

from activespec.errors import ActivespecError
from activespec.labels import LabelStore
from activespec.labels.records import (
    ROLE_PERFORMANCE,
    ROLE_RECALL,
    SAMPLED_ROLES,
)
from activespec.labels.training_csv import ID_COLUMN, LABEL_COLUMN
from activespec.labels.workdir import read_round_rows
from activespec.oracle import SimulatedOracle
from activespec.recall import STRATUM, STRATUM_POPULATION, Stratum, estimate_recall
from activespec.workdir import (
    CANDIDATES_FILENAME,
    RECALL_STRATA_FILENAME,
    WorkDir,
    survey_truth_path,
)
from pipeline.configs import RoundConfig
from pipeline.local_runner import run_round
from pipeline.scorer_comparison import COMPARISON_FILENAME, predicted_positives

ORACLES = ("simulated", "human")


class LabelsPending(ActivespecError):
    """A human-oracle campaign waits for the labels of a round's query."""

    code = "labels-pending"


def label_store(workdir: WorkDir, config: RoundConfig):
    return LabelStore(workdir.store_path, list(config.data.classes))


def snapshot_labels(store, path: pathlib.Path, *, roles=SAMPLED_ROLES) -> tuple[str, str, int]:
    """Write the current label of every spectrum registered with one of ``roles`` (in
    any round) to a CSV: the pool labels the next round trains on. Labels of the
    performance and recall samples are human labels too: they train the next model and
    leave the pool (the recall sample's are the only random negatives it sees).

    Returns ``(path, digest, count)``; ``path`` is "" when there is no label yet.
    """
    wanted = _registered_ids(store, roles)
    rows = sorted(
        (sid, record.label) for sid, record in store.current_labels().items() if sid in wanted
    )
    if not rows:
        return "", "", 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([ID_COLUMN, LABEL_COLUMN])
        writer.writerows(rows)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return str(path), digest, len(rows)


def _registered_ids(store, roles, *, before_round: int | None = None) -> set[str]:
    return {
        row.spectrum_id
        for index in store.rounds()
        if before_round is None or index < before_round
        for role in roles
        for row in store.rows(index, role)
    }


def run_next_round(
    workdir,
    config: RoundConfig,
    *,
    round_index: int | None = None,
    store=None,
    log: Callable[[str], None] = print,
) -> tuple[dict, list[dict]]:
    """One round of a campaign, the same for ``activespec run`` and ``activespec round``:
    snapshot the labels given so far, run the round's pipeline on them, and register the
    round's query and performance sample in the label store (to be labelled next).

    Parameters
    ----------
    workdir : path-like
    config : RoundConfig
    round_index : int, optional
        Defaults to the next round of ``workdir``.
    store : LabelStore, optional
        The campaign's label store; ``WORKDIR/labels.sqlite`` is opened (and closed) when
        not given.
    log : callable
        Receives one line of progress at a time.

    Returns
    -------
    (dict, list of dict)
        The round summary (see :func:`pipeline.local_runner.run_round`) and the rows of its
        query and performance sample, as registered.
    """
    wd = WorkDir(pathlib.Path(workdir).resolve())
    wd.root.mkdir(parents=True, exist_ok=True)
    own_store = store is None
    if own_store:
        store = label_store(wd, config)
    try:
        index = wd.next_round_index() if round_index is None else round_index
        snapshot, digest, n_labels = snapshot_labels(store, wd.snapshot_path(index))
        log(f"round {index}: training on the labelled set + {n_labels} labelled pool spectra")
        summary = run_round(
            wd.root, config, round_index=index, labels_snapshot=snapshot, labels_digest=digest
        )
        rows = read_round_rows(wd.root, index)
        store.register_round(index, rows)
    finally:
        if own_store:
            store.close()
    ev = summary.get("evaluation") or {}
    log(
        f"round {index}: blessing macro-F1 {_fmt(ev.get('blessing_macro_f1'))} "
        f"(needs >= {ev.get('min_macro_f1')}: {'blessed' if ev.get('blessed') else 'NOT blessed'}), "
        f"argmax macro-F1 {_fmt(ev.get('macro_f1'))}, {len(rows)} spectra to label, "
        f"{(summary.get('sampling') or {}).get('num_candidates')} candidates"
    )
    return summary, rows


def run_campaign(
    workdir,
    config: RoundConfig,
    *,
    rounds: int,
    oracle: str = "simulated",
    truth_path=None,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Run rounds until ``rounds`` rounds are complete in ``workdir``.

    Parameters
    ----------
    workdir : path-like
    config : RoundConfig
    rounds : int
        Total number of rounds wanted in the work directory (completed ones count).
    oracle : {"simulated", "human"}
    truth_path : path-like, optional
        Ground truth of a simulated survey; defaults to ``survey/truth/pool_truth.csv``
        next to the configured pool.
    log : callable
        Receives one line of progress at a time.

    Returns
    -------
    list of dict
        The campaign history, one record per completed round.

    Raises
    ------
    LabelsPending
        With a human oracle, when the latest round's query is not fully labelled.
    """
    if oracle not in ORACLES:
        raise ActivespecError(f"unknown oracle {oracle!r}; choose one of {', '.join(ORACLES)}")
    wd = WorkDir(pathlib.Path(workdir).resolve())
    wd.root.mkdir(parents=True, exist_ok=True)
    store = label_store(wd, config)
    simulated = None
    if oracle == "simulated":
        simulated = SimulatedOracle(truth_path or _default_truth(config), config.data.classes)

    history = load_history(wd)
    while True:
        done = wd.next_round_index()
        if done:
            last = done - 1
            _require_labels(store, last, oracle)
            history = _record_round(wd, store, config, last, history, simulated)
        if done >= rounds:
            return history
        index = done
        _, rows = run_next_round(
            wd.root,
            _without_unseen_map(config, simulated is not None and index < rounds - 1),
            round_index=index,
            store=store,
            log=log,
        )
        if simulated is not None:
            for row in rows:
                store.add_label(
                    row["spectrum_id"],
                    simulated.answer(row["spectrum_id"]),
                    round_index=index,
                    labeller=simulated.labeller,
                    role=row["role"],
                )
        else:
            log(
                f"round {index}: label the query with `activespec label serve --workdir {wd.root}`, "
                f"then run `activespec run --workdir {wd.root} --rounds {rounds} --oracle human` again"
            )
            history = _record_round(wd, store, config, index, history, None)
            return history


def _without_unseen_map(config: RoundConfig, unseen: bool) -> RoundConfig:
    """``config`` without the pool map when nobody will look at this round's map: a round
    the simulated oracle labels before the run goes on. The map's t-SNE is nearly all of
    the NoveltyScorer's time (a minute of the demo's rounds); the novelty scores, the
    list of unusual spectra and the last round's map are unchanged."""
    if not unseen or not config.novelty.enabled or config.novelty.map_method == "none":
        return config
    return dataclasses.replace(
        config, novelty=dataclasses.replace(config.novelty, map_method="none")
    )


def load_history(wd: WorkDir) -> list[dict]:
    path = wd.history_path
    return json.loads(path.read_text()) if path.exists() else []


def _record_round(wd, store, config, index, history, simulated) -> list[dict]:
    """Add (or refresh) the record of round ``index`` in history.json and its summary."""
    summary_path = wd.summary_path(index)
    candidates_csv = wd.round_dir(index) / CANDIDATES_FILENAME
    summary = json.loads(summary_path.read_text())
    record = {
        "round": index,
        "labels_so_far": _labels_before(store, index),
        "evaluation": summary.get("evaluation"),
        "num_candidates": (summary.get("sampling") or {}).get("num_candidates"),
        # Of the candidate list, the finds the expert confirmed; of the query, lost
        # candidates shown again.
        "num_confirmed": (summary.get("sampling") or {}).get("num_confirmed"),
        "num_reexamined": (summary.get("sampling") or {}).get("num_reexamined"),
        "class_counts": _class_counts(candidates_csv),
        "performance": performance_precision(store, index, config.sampling.positive_classes),
        "estimated_recall": estimated_recall(
            store,
            wd.round_dir(index),
            index,
            (summary.get("sampling") or {}).get("num_candidates") or 0,
            config.sampling.positive_classes,
        ),
    }
    if simulated is not None:
        record["simulated"] = true_precision_recall(
            candidates_csv, simulated, config.sampling.positive_classes
        )
        comparison_csv = wd.round_dir(index) / COMPARISON_FILENAME
        if comparison_csv.exists():
            record["simulated_by_scorer"] = scorer_precision_recall(
                comparison_csv, simulated, config.sampling.positive_classes
            )
    summary.update({k: v for k, v in record.items() if k not in ("round", "evaluation")})
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    history = [h for h in history if h["round"] != index] + [record]
    history.sort(key=lambda h: h["round"])
    wd.history_path.write_text(json.dumps(history, indent=2) + "\n")
    _write_scalars(wd, record)
    return history


def performance_precision(store, index: int, positive_classes) -> dict:
    """Precision of the round's positive predictions, estimated on its labelled
    performance sample, with the one-sided 95 % Clopper-Pearson lower bound."""
    # astropy and scipy: only once a round's sample is labelled
    from activespec.catalogue.stats import precision_lower_bound

    sample = {row.spectrum_id for row in store.rows(index, ROLE_PERFORMANCE)}
    current = store.current_labels()
    labels = [current[sid].label for sid in sample if sid in current]
    n = len(labels)
    hits = sum(label in positive_classes for label in labels)
    if n == 0:
        return {"n": 0, "precision": None, "lower_bound_95": None}
    return {"n": n, "precision": hits / n, "lower_bound_95": precision_lower_bound(hits, n)}


def estimated_recall(
    store, round_dir: pathlib.Path, index: int, num_candidates: int, positive_classes
) -> dict:
    """Recall of the round's candidates estimated from its labelled samples, with a 95 %
    interval (:func:`activespec.recall.estimate_recall`).

    Only the rows of round ``index`` count: its performance sample gives the positives
    among the predicted candidates, its recall sample, weighted by the strata of
    ``recall_strata.json``, those among the predicted negatives. Recall is that of the
    candidate list over every positive of the pool, as ``simulated.recall`` measures
    it: the pool spectra labelled positive in earlier rounds are confirmed finds in the
    list, so they count as found, exactly.

    Returns
    -------
    dict
        ``{value, lower, upper, n, true_positives, false_negatives, known_found,
        known_missed}``: ``n`` counts the labelled recall-sample spectra, ``known_found``
        the positives labelled earlier (part of ``true_positives``). None values when
        the round has no labelled recall sample (or no labelled performance sample while
        it has candidates).
    """
    positive = set(positive_classes)
    current = store.current_labels()
    perf = [
        current[row.spectrum_id].label
        for row in store.rows(index, ROLE_PERFORMANCE)
        if row.spectrum_id in current
    ]
    strata_path = round_dir / RECALL_STRATA_FILENAME
    strata_table = json.loads(strata_path.read_text()) if strata_path.exists() else []
    labelled = [0] * len(strata_table)
    positives = [0] * len(strata_table)
    for row in store.rows(index, ROLE_RECALL):
        h = row.metadata.get(STRATUM)
        if row.spectrum_id in current and isinstance(h, int) and 0 <= h < len(strata_table):
            labelled[h] += 1
            positives[h] += current[row.spectrum_id].label in positive
    strata = [
        Stratum(int(entry[STRATUM_POPULATION]), labelled[h], positives[h])
        for h, entry in enumerate(strata_table)
    ]
    earlier = _registered_ids(store, SAMPLED_ROLES, before_round=index)
    given_earlier = {r.spectrum_id for r in store.all_labels() if r.round < index}
    known_found = sum(current[sid].label in positive for sid in earlier & given_earlier)
    estimate = estimate_recall(
        int(num_candidates),
        sum(label in positive for label in perf),
        len(perf),
        strata,
        known_found=known_found,
    )
    return estimate.to_dict()


def true_precision_recall(candidates_csv: pathlib.Path, oracle, positive_classes) -> dict:
    """Precision and recall of the candidate list against the simulated truth, and the
    recall of each subtype of positive (e.g. weak Be emitters, dMe stars)."""
    positives = oracle.positives(positive_classes)
    candidates = set()
    if candidates_csv.exists():
        with open(candidates_csv, newline="", encoding="utf-8") as fh:
            candidates = {row["spectrum_id"] for row in csv.DictReader(fh)}
    by_subtype = oracle.positives_by_subtype(positive_classes)
    return {
        **_precision_recall(candidates, positives),
        "num_true_positives_in_pool": len(positives),
        "recall_by_subtype": {
            subtype: len(candidates & ids) / len(ids) for subtype, ids in by_subtype.items()
        },
    }


def scorer_precision_recall(comparison_csv: pathlib.Path, oracle, positive_classes) -> dict:
    """``[model] kind = "both"``: precision and recall of each scorer's predicted positives
    over the whole pool (labelled spectra included, unlike the candidate list) against
    the simulated truth."""
    positives = oracle.positives(positive_classes)
    out = {}
    for scorer, predicted in predicted_positives(comparison_csv, positive_classes).items():
        out[scorer] = {**_precision_recall(predicted, positives), "num_predicted": len(predicted)}
    return out


def _precision_recall(predicted: set, positives: set) -> dict:
    """Precision and recall of the ids ``predicted`` positive against the true ``positives``."""
    hits = len(predicted & positives)
    return {
        "precision": hits / len(predicted) if predicted else None,
        "recall": hits / len(positives) if positives else None,
    }


def _require_labels(store, index: int, oracle: str) -> None:
    progress = store.progress(index)
    missing = {role: total - done for role, (done, total) in progress.items() if done < total}
    if missing.get("query"):
        raise LabelsPending(
            f"round {index}: {missing['query']} of {progress['query'][1]} query spectra still "
            "need a label; label them with `activespec label serve` (or import a CSV with "
            "`activespec label import`) and run again"
        )


def _labels_before(store, index: int) -> int:
    """Pool labels the model of round ``index`` was trained on (given in earlier rounds)."""
    shown = _registered_ids(store, SAMPLED_ROLES, before_round=index)
    return len(shown & set(store.current_labels()))


def _class_counts(candidates_csv: pathlib.Path) -> dict[str, int]:
    """Candidates per class: the expert's class for confirmed finds, else the model's."""
    counts: dict[str, int] = {}
    if candidates_csv.exists():
        with open(candidates_csv, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                name = row.get("confirmed_label") or row["predicted_class"]
                counts[name] = counts.get(name, 0) + 1
    return counts


def _write_scalars(wd: WorkDir, record: dict) -> None:
    # TensorFlow: only to write TensorBoard scalars (the campaign driver loads without it)
    import tensorflow as tf

    scalars = {
        "labels_so_far": record["labels_so_far"],
        "heldout/macro_f1": (record.get("evaluation") or {}).get("macro_f1"),
        "heldout/accuracy": (record.get("evaluation") or {}).get("accuracy"),
        "performance/precision": record["performance"]["precision"],
        "performance/lower_bound_95": record["performance"]["lower_bound_95"],
        "pool/num_candidates": record.get("num_candidates"),
        "pool/num_confirmed": record.get("num_confirmed"),
        "pool/num_reexamined": record.get("num_reexamined"),
    }
    for key in ("value", "lower", "upper"):
        scalars[f"recall_estimate/{key}"] = (record.get("estimated_recall") or {}).get(key)
    if "simulated" in record:
        scalars["simulated/precision"] = record["simulated"]["precision"]
        scalars["simulated/recall"] = record["simulated"]["recall"]
        for subtype, value in record["simulated"].get("recall_by_subtype", {}).items():
            scalars[f"simulated/recall_by_subtype/{subtype}"] = value
    for scorer, figures in (record.get("simulated_by_scorer") or {}).items():
        scalars[f"simulated/{scorer}/precision"] = figures["precision"]
        scalars[f"simulated/{scorer}/recall"] = figures["recall"]
    writer = tf.summary.create_file_writer(str(wd.tensorboard_dir))
    with writer.as_default():
        for name, value in scalars.items():
            if value is not None:
                tf.summary.scalar(name, float(value), step=record["round"])
    writer.flush()


def _default_truth(config: RoundConfig) -> str:
    # The pool glob is .../survey/pool/*.fits*; the truth lies in .../survey/truth/.
    pool_dir = pathlib.Path(config.pool_patterns[0]).parent
    return str(survey_truth_path(pool_dir.parent))


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
