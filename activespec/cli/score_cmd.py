"""``activespec score``: classify FITS files with a pushed model."""

from __future__ import annotations

import argparse
import json
import os
import pathlib


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        help="classify FITS spectra with a pushed model",
        description=(
            "Load the pushed model (the latest version under DIR, a SavedModel directory, or "
            "a Trainer's Format-Serving directory) and print, per file, the class "
            "probabilities, the predicted class and the entropy. Files go through the same "
            "reader and preprocessing as ingestion; a spectrum whose resolving power is above "
            "the model's (e.g. Ondřejov) is degraded to it first."
        ),
    )
    parser.add_argument("--model", required=True, type=pathlib.Path, help="model directory")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per file")
    parser.add_argument("--batch-size", type=int, default=256, help="spectra per model call")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from models.serving import load_model_dir

    model = load_model_dir(args.model)
    records = score_files(model, [str(f) for f in args.files], batch_size=args.batch_size)
    if args.json:
        for rec in records:
            print(json.dumps(rec))
    else:
        print(format_table(records, list(model.class_names)))
    return 1 if any(not r["ok"] for r in records) else 0


def score_files(model, paths: list[str], *, batch_size: int = 256) -> list[dict]:
    """Read, preprocess and classify files; failures become records with ``ok`` false."""
    import numpy as np

    from activespec.errors import ActivespecError
    from activespec.io import read_spectrum
    from activespec.preprocessing import preprocess
    from activespec.uncertainty import entropy

    config = model.preprocess_config
    records: list[dict] = []
    pending: list[tuple[dict, np.ndarray]] = []

    def flush() -> None:
        if not pending:
            return
        probs = model.predict_flux(np.stack([v for _, v in pending]))
        ent = entropy(probs)
        for (rec, _), p, h in zip(pending, probs, ent, strict=True):
            rec["probabilities"] = {c: float(x) for c, x in zip(model.class_names, p, strict=True)}
            rec["label"] = model.class_names[int(np.argmax(p))]
            rec["entropy"] = float(h)
        pending.clear()

    for path in paths:
        rec: dict = {"path": path, "ok": True}
        try:
            spectrum = read_spectrum(path)
            rec["object_id"] = spectrum.meta.object_id
            rec["designation"] = spectrum.meta.designation
            vector = preprocess(spectrum, config, degrade=True)
        except ActivespecError as err:
            rec.update(ok=False, error=str(err), error_code=err.code)
            records.append(rec)
            continue
        records.append(rec)
        pending.append((rec, vector))
        if len(pending) >= batch_size:
            flush()
    flush()
    return records


def format_table(records: list[dict], class_names: list[str]) -> str:
    name_w = max([len(os.path.basename(r["path"])) for r in records] + [4])
    header = f"{'file':<{name_w}}  {'class':<12} " + " ".join(f"{c[:11]:>11}" for c in class_names)
    lines = [header + "  entropy"]
    for r in records:
        name = os.path.basename(r["path"])
        if not r["ok"]:
            lines.append(f"{name:<{name_w}}  FAILED       {r['error']}")
            continue
        probs = " ".join(f"{r['probabilities'][c]:>11.3f}" for c in class_names)
        lines.append(f"{name:<{name_w}}  {r['label']:<12} {probs}  {r['entropy']:.3f}")
    return "\n".join(lines)
