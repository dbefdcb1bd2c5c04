"""Human labels of the active-learning rounds.

:class:`LabelStore` keeps every label given to the spectra a round queried or sampled,
in an SQLite file (``WORKDIR/labels.sqlite``) that survives crashes label by label;
:mod:`activespec.labels.workdir` finds the rounds of a work directory and registers
their rows; :mod:`activespec.labels.csv_format` is the CSV exchange format.
"""

from activespec.labels.csv_format import LABEL_CSV_COLUMNS
from activespec.labels.errors import (
    InvalidLabelError,
    LabelCsvError,
    LabelError,
    RoundFilesError,
    StoreMismatchError,
    UnknownClassError,
    UnknownSpectrumError,
)
from activespec.labels.records import ROLES, LabelRecord, RegisteredSpectrum
from activespec.labels.store import ImportSummary, LabelStore
from activespec.labels.training_csv import load_labels
from activespec.labels.workdir import (
    latest_round,
    list_rounds,
    open_workdir_store,
    read_round_rows,
    round_class_names,
    round_dir,
    store_path,
)

__all__ = [
    "LABEL_CSV_COLUMNS",
    "ROLES",
    "ImportSummary",
    "InvalidLabelError",
    "LabelCsvError",
    "LabelError",
    "LabelRecord",
    "LabelStore",
    "RegisteredSpectrum",
    "RoundFilesError",
    "StoreMismatchError",
    "UnknownClassError",
    "UnknownSpectrumError",
    "latest_round",
    "list_rounds",
    "load_labels",
    "open_workdir_store",
    "read_round_rows",
    "round_class_names",
    "round_dir",
    "store_path",
]
