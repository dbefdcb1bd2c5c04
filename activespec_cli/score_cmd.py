"""``activespec score``: classify FITS files with a pushed model.

Each file goes through the same reader and the same preprocessing as ingestion, with the
settings recorded in the model (``assets.extra/activespec_model.json``), so the vector fed
to the model is the one its training data were made of. TensorFlow is imported only when
the command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib

import numpy as np

from activespec.errors import ActivespecError
from activespec.uncertainty import entropy

#: Width of a class-probability column in the table.
_COLUMN = 11


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        help="classify FITS spectra with a pushed model",
        description=(
            "Load the pushed model (the latest version under DIR, a SavedModel directory, or "
            "a Trainer's Format-Serving directory) and print, per file, the class "
            "probabilities, the predicted class and the entropy. Files go through the same "
            "reader and preprocessing as ingestion, with the preprocessing settings recorded "
            "in the model; a spectrum whose resolving power is above the model's (e.g. "
            "Ondřejov, LAMOST MRS) is degraded to it first, as in ingestion. Exit status 1 when a file could not be "
            "scored."
        ),
    )
    parser.add_argument("--model", required=True, type=pathlib.Path, help="model directory")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per file")
    parser.add_argument(
        "--batch-size", type=_positive_int, default=256, help="spectra per model call"
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Score the files and print the results; 1 if any file failed, else 0."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # TensorFlow: only when a model is loaded (activespec --help stays fast)
    from models.serving import load_model_dir

    model = load_model_dir(args.model)
    records = score_files(model, [str(f) for f in args.files], batch_size=args.batch_size)
    if args.json:
        for record in records:
            print(json.dumps(record))
    else:
        print(format_table(records, list(model.class_names)))
    return 1 if any(not record["ok"] for record in records) else 0


def score_files(model, paths: list[str], *, batch_size: int = 256) -> list[dict]:
    """Read, preprocess and classify files.

    Parameters
    ----------
    model : models.serving.ServingModel
        The loaded model; its ``preprocess_config`` is applied to every file.
    paths : list of str
        FITS files (plain or gzipped), any layout the reader knows.
    batch_size : int
        Spectra per model call.

    Returns
    -------
    list of dict
        One record per path, in order: ``path``, ``ok``; when ``ok``: ``spectrum_id``
        (and ``object_id``, its deprecated former name), ``designation``, ``degraded``,
        ``label``, ``probabilities`` (class name -> probability) and ``entropy`` (nats);
        otherwise ``error`` (one line) and ``error_code``.
    """
    # astropy and scipy: only when files are scored (activespec --help stays fast)
    from activespec.io import read_spectrum
    from activespec.preprocessing import preprocess, should_degrade

    config = model.preprocess_config
    records: list[dict] = []
    pending: list[tuple[dict, np.ndarray]] = []

    def flush() -> None:
        if not pending:
            return
        probabilities = model.predict_flux(np.stack([vector for _, vector in pending]))
        entropies = entropy(probabilities)
        for (record, _), row, value in zip(pending, probabilities, entropies, strict=True):
            record["label"] = model.class_names[int(np.argmax(row))]
            record["probabilities"] = {
                name: float(p) for name, p in zip(model.class_names, row, strict=True)
            }
            record["entropy"] = float(value)
        pending.clear()

    for path in paths:
        record: dict = {"path": path, "ok": True}
        try:
            spectrum = read_spectrum(path)
            record["spectrum_id"] = spectrum.meta.spectrum_id
            record["object_id"] = record["spectrum_id"]  # deprecated name, kept for old readers
            record["designation"] = spectrum.meta.designation
            record["degraded"] = should_degrade(spectrum, config)
            vector = preprocess(spectrum, config, degrade=record["degraded"])
        except ActivespecError as error:
            record = {"path": path, "ok": False, "error": str(error), "error_code": error.code}
            records.append(record)
            continue
        records.append(record)
        pending.append((record, vector))
        if len(pending) >= batch_size:
            flush()
    flush()
    return records


def format_table(records: list[dict], class_names: list[str]) -> str:
    """A fixed-width table: file name, predicted class, one column per class, entropy.

    Parameters
    ----------
    records : list of dict
        As returned by :func:`score_files`.
    class_names : list of str
        Column order of the probabilities.

    Returns
    -------
    str
        A header line and one line per record; a failed file shows ``FAILED`` and the
        reason.
    """
    name_width = max([len(os.path.basename(r["path"])) for r in records] + [4])
    class_width = max([len(name) for name in class_names] + [5])
    columns = " ".join(f"{name[:_COLUMN]:>{_COLUMN}}" for name in class_names)
    lines = [f"{'file':<{name_width}}  {'class':<{class_width}} {columns}  entropy"]
    for record in records:
        name = os.path.basename(record["path"])
        if not record["ok"]:
            lines.append(f"{name:<{name_width}}  {'FAILED':<{class_width}} {record['error']}")
            continue
        probabilities = " ".join(f"{record['probabilities'][c]:>{_COLUMN}.3f}" for c in class_names)
        lines.append(
            f"{name:<{name_width}}  {record['label']:<{class_width}} {probabilities}  "
            f"{record['entropy']:.3f}"
        )
    return "\n".join(lines)
