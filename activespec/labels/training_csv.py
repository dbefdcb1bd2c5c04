"""The labels CSV a round trains on: ``spectrum_id,label[,...]`` with a header row.

Both the labelled set's ``labels.csv`` (read by the SpectraIngest component) and the
campaign's snapshot of the pool labels given so far (written by
:func:`pipeline.campaign.snapshot_labels`, read by the LabelJoin component) have this
form. The tables are small (thousands of rows), so they are read once in the driver and
handed to the workers as a side input. Any problem fails the run before the pipeline
starts, naming the file and line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from activespec.errors import ConfigError

ID_COLUMN = "spectrum_id"
LABEL_COLUMN = "label"


def load_labels(path: str, class_names: Sequence[str]) -> dict[str, int]:
    """Read a labels CSV into ``{spectrum_id: class index}``.

    Parameters
    ----------
    path : str
        Local path or any URI Beam can open (``gs://...``); ``.gz`` is decompressed.
    class_names : sequence of str
        Class names in label-index order; every label must be one of them.

    Returns
    -------
    dict of str to int

    Raises
    ------
    activespec.errors.ConfigError
        If the file cannot be read, lacks the ``spectrum_id`` / ``label`` header, has an
        empty identifier, an unknown class name, or one identifier with two different labels.
    """
    text = _read_text(path)
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    if ID_COLUMN not in header or LABEL_COLUMN not in header:
        raise ConfigError(
            f"{path}: the header must name the columns {ID_COLUMN} and {LABEL_COLUMN}, got {header}"
        )
    reader.fieldnames = header
    index_of = {name: i for i, name in enumerate(class_names)}
    labels: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        spectrum_id = (row.get(ID_COLUMN) or "").strip()
        name = (row.get(LABEL_COLUMN) or "").strip()
        if not spectrum_id and not name:
            continue  # blank line
        if not spectrum_id:
            raise ConfigError(f"{path}:{line}: empty {ID_COLUMN}")
        if name not in index_of:
            raise ConfigError(
                f"{path}:{line}: unknown class {name!r} for spectrum {spectrum_id!r}; "
                f"classes are {', '.join(class_names)}"
            )
        previous = labels.setdefault(spectrum_id, index_of[name])
        if previous != index_of[name]:
            raise ConfigError(
                f"{path}:{line}: spectrum {spectrum_id!r} is labelled both "
                f"{class_names[previous]!r} and {name!r}"
            )
    return labels


def _read_text(path: str) -> str:
    # Beam's file systems open gs:// and other URIs; imported here, where a run needs
    # them, so that the label tools start without Beam.
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    try:
        with FileSystems.open(path, compression_type=CompressionTypes.AUTO) as handle:
            data = handle.read()
    except Exception as err:  # Beam wraps OS errors in BeamIOError and others
        raise ConfigError(f"cannot read labels file {path}: {_one_line(err)}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
