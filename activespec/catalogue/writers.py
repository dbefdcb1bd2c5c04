"""Writing the candidate catalogue as CSV and as a VOTable that TOPCAT and Aladin open.

The VOTable carries each column's unit, UCD and description, the catalogue's
description, and its provenance (round, work directory, known catalogue, radius) as
INFO elements. After writing, the file is read back with astropy and checked for its
rows and UCDs, so that a broken file is reported where it is made.
"""

from __future__ import annotations

import io
import os
import pathlib
import shutil
import warnings

import numpy as np

from activespec.catalogue.errors import CatalogueError
from activespec.workdir import NOVEL_FILENAME, WorkDir

CSV_NAME = "candidates.csv"
VOTABLE_NAME = "candidates.vot"
#: Serialisations of the VOTable's data: TABLEDATA (XML text) or BINARY2 (base64, with nulls).
VOTABLE_FORMATS = ("tabledata", "binary2")
#: Scalar table metadata copied into the VOTable as INFO elements.
_INFO_KEYS = ("round", "workdir", "known_catalogue", "known_catalogue_size", "radius_arcsec")


def write_catalogue(
    table, directory: str | os.PathLike, *, votable_format: str = "tabledata"
) -> dict[str, pathlib.Path]:
    """Write ``candidates.csv`` and ``candidates.vot`` into ``directory`` (created if needed).

    Parameters
    ----------
    table : astropy.table.Table
        A catalogue from :func:`activespec.catalogue.build_catalogue`.
    directory : path-like
    votable_format : {"tabledata", "binary2"}, optional

    Returns
    -------
    dict
        ``{"csv": path, "votable": path}``, and ``"novel"``: ``novel.csv``, the most
        unusual pool spectra of the catalogue's round, when the round has that list.
    """
    directory = pathlib.Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CatalogueError(f"cannot create {directory}: {err.strerror or err}") from None
    csv_path = write_csv(table, directory / CSV_NAME)
    votable_path = write_votable(table, directory / VOTABLE_NAME, tabledata_format=votable_format)
    files = {"csv": csv_path, "votable": votable_path}
    novel = _novel_list(table)
    if novel is not None:
        # The most unusual pool spectra of the catalogue's round (the NoveltyScorer's).
        files["novel"] = pathlib.Path(shutil.copyfile(novel, directory / NOVEL_FILENAME))
    return files


def _novel_list(table) -> pathlib.Path | None:
    """The catalogue round's ``novel.csv``, if the round has one."""
    workdir, round_index = table.meta.get("workdir"), table.meta.get("round")
    if not workdir or round_index is None:
        return None
    path = WorkDir(pathlib.Path(workdir)).round_dir(int(round_index)) / NOVEL_FILENAME
    return path if path.is_file() else None


def write_csv(table, path: str | os.PathLike) -> pathlib.Path:
    """Write the catalogue as RFC 4180 CSV; NaN and missing values become empty cells.

    Parameters
    ----------
    table : astropy.table.Table
    path : path-like

    Returns
    -------
    pathlib.Path
    """
    # astropy is slow to import; only this format needs it
    from astropy.io import ascii as astropy_ascii
    from astropy.table import MaskedColumn, Table

    out = Table(meta={})
    for name in table.colnames:
        column = table[name]
        data = np.asarray(column)
        if data.dtype.kind == "f":
            # Masked, not NaN, so that the writer's fill value gives an empty cell.
            out[name] = MaskedColumn(data, mask=~np.isfinite(data), format=column.format)
        else:
            out[name] = column
    path = pathlib.Path(path)
    try:
        out.write(
            str(path),
            format="ascii.csv",
            overwrite=True,
            fill_values=[(astropy_ascii.masked, "")],
        )
    except OSError as err:
        raise CatalogueError(f"cannot write {path}: {err.strerror or err}") from None
    return path


def write_votable(
    table, path: str | os.PathLike, *, tabledata_format: str = "tabledata"
) -> pathlib.Path:
    """Write the catalogue as a VOTable 1.4 with units, UCDs and descriptions.

    Parameters
    ----------
    table : astropy.table.Table
        Columns with ``meta["ucd"]``, ``unit`` and ``description``.
    path : path-like
    tabledata_format : {"tabledata", "binary2"}, optional
        ``"tabledata"`` (default) is plain XML, readable by every VO tool.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    CatalogueError
        If the format is unknown, the file cannot be written, or it does not read back
        with the same rows and UCDs (see :func:`check_votable`).
    """
    if tabledata_format not in VOTABLE_FORMATS:
        raise CatalogueError(
            f"VOTable format must be one of {', '.join(VOTABLE_FORMATS)}, not {tabledata_format!r}"
        )
    votable = _votable_of(table)
    path = pathlib.Path(path)
    try:
        # astropy's Python TABLEDATA writer, not its C one (``tablewriter``): with the C
        # writer, a test run's worker that had written these tables died later of
        # corrupted memory (segfaults and aborts in unrelated code) in 4 of 6 runs of the
        # catalogue and plot tests on 2 xdist workers; with the Python writer in 0 of 5.
        votable.to_xml(str(path), tabledata_format=tabledata_format, **_PYTHON_WRITER)
    except OSError as err:
        raise CatalogueError(f"cannot write {path}: {err.strerror or err}") from None
    check_votable(path, table)
    return path


#: The keyword of ``VOTableFile.to_xml`` that selects the Python TABLEDATA writer.
_PYTHON_WRITER = {"_debug_python_based_parser": True}


def votable_bytes(table) -> bytes:
    """``table`` (an astropy Table) as a TABLEDATA VOTable, by the Python writer that
    :func:`write_votable` uses (e.g. for a TAP upload, which pyvo would otherwise write
    with astropy's C writer)."""
    from astropy.io.votable import from_table

    buffer = io.BytesIO()
    from_table(table).to_xml(buffer, tabledata_format="tabledata", **_PYTHON_WRITER)
    return buffer.getvalue()


def _votable_of(table):
    """A VOTableFile with one typed FIELD per column and the table's provenance as INFOs.

    Built field by field rather than with ``VOTableFile.from_table`` so that strings are
    variable-length ``char`` (``unicodeChar`` only when needed) and flags are ``boolean``,
    the forms every VO tool reads best.
    """
    # astropy is slow to import; only this format needs it
    from astropy.io.votable.tree import Field, Info, Resource, TableElement, VOTableFile

    votable = VOTableFile(version="1.4")
    resource = Resource(name="activespec")
    votable.resources.append(resource)
    description = table.meta.get("description")
    if description:
        resource.description = description
    for key in _INFO_KEYS:
        value = table.meta.get(key)
        if value is not None:
            resource.infos.append(Info(name=key, value=str(value)))
    for key in ("class_names", "positive_classes"):
        if table.meta.get(key):
            resource.infos.append(Info(name=key, value=",".join(table.meta[key])))
    vo_table = TableElement(votable, ID="activespec_candidates", name="candidates")
    if description:
        vo_table.description = description
    resource.tables.append(vo_table)
    values = {}
    for name in table.colnames:
        column = table[name]
        datatype, arraysize, data = _votable_type(np.asarray(column))
        field = Field(
            votable,
            name=name,
            ID=name,
            datatype=datatype,
            arraysize=arraysize,
            unit=str(column.unit) if column.unit is not None else None,
            ucd=(column.meta or {}).get("ucd"),
        )
        if column.description:
            field.description = column.description
        vo_table.fields.append(field)
        values[name] = data
    vo_table.create_arrays(len(table))
    for name, data in values.items():
        vo_table.array[name] = data
    return votable


def _votable_type(data: np.ndarray) -> tuple[str, str | None, np.ndarray]:
    """VOTable datatype, arraysize and the values to store for one column."""
    kind = data.dtype.kind
    if kind == "b":
        return "boolean", None, data
    if kind in "iu":
        return ("long" if data.dtype.itemsize > 4 else "int"), None, data
    if kind == "f":
        return "double", None, data.astype(np.float64)
    text = np.array(
        [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in data],
        dtype=object,
    )
    ascii_only = all(s.isascii() for s in text)
    return ("char" if ascii_only else "unicodeChar"), "*", text


def check_votable(path: str | os.PathLike, expected) -> None:
    """Read a written VOTable back and compare its rows and column UCDs with ``expected``.

    Raises
    ------
    CatalogueError
        If astropy cannot parse the file, or a row count or UCD differs.
    """
    # astropy is slow to import; only this format needs it
    from astropy.io.votable import parse_single_table

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reread = parse_single_table(str(path), verify="exception").to_table()
    except Exception as err:  # any parse failure means the file is unusable
        raise CatalogueError(
            f"{path}: written VOTable does not read back ({' '.join(str(err).split())})"
        ) from None
    if len(reread) != len(expected):
        raise CatalogueError(f"{path}: {len(reread)} rows read back, {len(expected)} written")
    for name in expected.colnames:
        want = (expected[name].meta or {}).get("ucd")
        got = (reread[name].meta or {}).get("ucd") if name in reread.colnames else None
        if want != got:
            raise CatalogueError(
                f"{path}: column {name!r} reads back with UCD {got!r}, not {want!r}"
            )
