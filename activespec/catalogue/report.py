"""The campaign report: one self-contained HTML page (figures embedded as base64 PNG).

Sections: overview (counts of new and known candidates), learning curve, the latest
confusion matrix, predicted class counts per round, thumbnails of the top candidates
of each class, the pool's 2-D map and its most unusual spectra (the NoveltyScorer's
files of the latest round, :mod:`activespec.catalogue.pool_map`) and the first rows of
the catalogue. No external asset is referenced, so the page opens offline and can be
mailed or archived as a single file; the interactive map is a second offline page,
``map.html``, beside it.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime
import html
import math
import os
import pathlib
from collections.abc import Mapping, Sequence

import numpy as np

from activespec import __version__, processes
from activespec.catalogue import plots
from activespec.catalogue import pool_map as maps
from activespec.catalogue.build import count_summary, top_candidates
from activespec.catalogue.crossmatch import NO_COORDINATES_NOTE
from activespec.catalogue.errors import CatalogueError
from activespec.catalogue.plots import RoundPoint
from activespec.catalogue.rounds import finite_or_none, list_rounds, read_summary
from activespec.catalogue.stats import InvalidCountsError, precision_lower_bound
from activespec.errors import ActivespecError
from activespec.io import read_spectrum
from activespec.workdir import WorkDir

#: Catalogue columns shown in the report's table, in order.
_TABLE_COLUMNS = (
    "spectrum_id",
    "designation",
    "ra",
    "dec",
    "predicted_class",
    "probability",
    "first_round",
    "snr",
    "known",
    "known_name",
    "separation_arcsec",
)
_REMOTE_PREFIXES = ("gs://", "s3://", "http://", "https://", "hdfs://")


def round_points(
    workdir: str | os.PathLike, candidate_counts: Mapping[str, Mapping[str, int]] | None = None
) -> list[RoundPoint]:
    """The plotted figures of every round, read from the rounds' ``summary.json``.

    Parameters
    ----------
    workdir : path-like
    candidate_counts : mapping, optional
        Per round (key ``str(index)``), candidates per class; used as the class counts
        of a round whose summary has no ``class_counts``.

    Returns
    -------
    list of RoundPoint
        One per round folder with a summary or candidates, in round order. A missing
        performance lower bound is computed (one-sided Clopper–Pearson, 95 %).
    """
    points = []
    candidate_counts = candidate_counts or {}
    for round_files in list_rounds(workdir):
        summary = read_summary(round_files)
        if not summary and not round_files.candidates_path.is_file():
            continue
        evaluation = _mapping(summary.get("evaluation"))
        performance = _mapping(summary.get("performance"))
        estimated_recall = _mapping(summary.get("estimated_recall"))
        simulated = _mapping(summary.get("simulated"))
        precision = finite_or_none(performance.get("precision"))
        n = finite_or_none(performance.get("n"))
        lower = finite_or_none(performance.get("lower_bound_95"))
        if lower is None and precision is not None and n:
            try:
                lower = precision_lower_bound(round(precision * n), int(n))
            except InvalidCountsError:
                lower = None
        counts = _mapping(summary.get("class_counts")) or _mapping(
            candidate_counts.get(str(round_files.index))
        )
        labels = finite_or_none(summary.get("labels_so_far"))
        recall_n = finite_or_none(estimated_recall.get("n"))
        points.append(
            RoundPoint(
                round=round_files.index,
                labels=int(labels) if labels is not None else None,
                macro_f1=finite_or_none(evaluation.get("macro_f1")),
                accuracy=finite_or_none(evaluation.get("accuracy")),
                precision=precision,
                precision_lower=lower,
                precision_n=int(n) if n is not None else None,
                recall=finite_or_none(estimated_recall.get("value")),
                recall_lower=finite_or_none(estimated_recall.get("lower")),
                recall_upper=finite_or_none(estimated_recall.get("upper")),
                recall_n=int(recall_n) if recall_n is not None else None,
                simulated_precision=finite_or_none(simulated.get("precision")),
                simulated_recall=finite_or_none(simulated.get("recall")),
                class_counts={
                    str(k): int(v) for k, v in counts.items() if finite_or_none(v) is not None
                },
            )
        )
    return points


def write_report(
    workdir: str | os.PathLike,
    catalogue,
    path: str | os.PathLike | None = None,
    *,
    top: int = 12,
    rows: int = 25,
    files: Mapping[str, str | os.PathLike] | None = None,
) -> pathlib.Path:
    """Write the self-contained HTML report of a campaign.

    Parameters
    ----------
    workdir : path-like
        The campaign's work directory.
    catalogue : astropy.table.Table
        From :func:`activespec.catalogue.build_catalogue`.
    path : path-like, optional
        Output file; default ``WORKDIR/catalogue/report.html``.
    top : int, optional
        Thumbnails per predicted class (the most probable candidates).
    rows : int, optional
        Catalogue rows shown in the table.
    files : mapping, optional
        Label -> path of the written catalogue files, linked from the page.

    Returns
    -------
    pathlib.Path
        The written report.

    Raises
    ------
    CatalogueError
        If the report cannot be written.
    """
    workdir = pathlib.Path(workdir)
    path = pathlib.Path(path) if path is not None else WorkDir(workdir).report_path
    class_names = list(catalogue.meta.get("class_names") or [])
    points = round_points(workdir, catalogue.meta.get("candidate_counts"))
    latest_summary = _latest_summary(workdir, catalogue.meta.get("round"))
    round_dir = _round_dir(workdir, catalogue.meta.get("round"))
    pool_map = maps.read_pool_map(round_dir) if round_dir else None
    novel = maps.read_novel(round_dir) if round_dir else None
    candidates = top_candidates(catalogue, top)
    map_rows = maps.thumbnail_rows(pool_map) if pool_map is not None else []
    # Every thumbnail of the page and of the map page, drawn together.
    drawn = _draw_thumbnails(
        [_candidate_thumbnail(row) for row in candidates]
        + [_novel_thumbnail(row) for row in (novel or [])[:top] + map_rows]
    )
    sections = [
        _overview(catalogue, points, files or {}, path.parent),
        _learning_section(points),
        _confusion_section(latest_summary, class_names),
        *_scorer_comparison_section(latest_summary, class_names),
        _class_counts_section(points, class_names),
        _thumbnails_section(catalogue, candidates, top, drawn),
        *_pool_map_sections(catalogue, pool_map, novel, map_rows, class_names, path, top, drawn),
        _catalogue_section(catalogue, rows),
    ]
    page = _PAGE.format(
        title="activespec — emission-line candidates",
        css=_CSS,
        body="\n".join(sections),
        footer=html.escape(
            f"activespec {__version__} · generated "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"
        ),
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as err:
        raise CatalogueError(f"cannot write {path}: {err.strerror or err}") from None
    return path


# ----------------------------------------------------------------------------- sections


def _overview(catalogue, points, files, report_dir: pathlib.Path) -> str:
    counts = count_summary(catalogue)
    total = counts.pop("total")
    known_path = catalogue.meta.get("known_catalogue")
    error = catalogue.meta.get("crossmatch_error")
    cards = [_card("candidates", total["all"], f"round {catalogue.meta.get('round')}")]
    cards += [
        _card(
            name, c["all"], "known/new unknown" if error else f"{c['new']} new · {c['known']} known"
        )
        for name, c in counts.items()
    ]
    if known_path:
        cards.append(_card("new", total["new"], "not in the known catalogue"))
        cards.append(_card("known", total["known"], f"within {catalogue.meta['radius_arcsec']:g}″"))
    labels = points[-1].labels if points else None
    if labels is not None:
        cards.append(_card("labels", labels, "labelled spectra so far"))
    if error:
        known_text = (
            f"The cross-match failed ({html.escape(error)}): whether each candidate is known "
            "or new is left empty."
        )
    elif known_path:
        # a file by its name; a TAP table as "TABLE at URL"
        shown = known_path if "://" in known_path else os.path.basename(known_path)
        size = catalogue.meta.get("known_catalogue_size")
        known_text = (
            f"Cross-matched with <code>{html.escape(shown)}</code> "
            + (f"({size} objects) " if size is not None else "")
            + f"within {catalogue.meta['radius_arcsec']:g} arcsec."
        )
    else:
        known_text = "No catalogue of known objects was given: every candidate counts as new."
    no_position = int(np.sum(np.asarray(catalogue["note"]) == NO_COORDINATES_NOTE))
    if no_position:
        spectra = "spectrum has" if no_position == 1 else "spectra have"
        known_text += f" {no_position} {spectra} no coordinates and could not be cross-matched."
    links = " · ".join(
        f'<a href="{html.escape(_relative(p, report_dir))}">{html.escape(os.path.basename(str(p)))}</a>'
        for p in files.values()
    )
    return (
        '<section id="overview"><h2>Overview</h2>'
        f'<p class="muted">Work directory <code>{html.escape(str(catalogue.meta.get("workdir", "")))}</code>'
        f" · {len(points)} round(s) · latest round {catalogue.meta.get('round')}</p>"
        f'<div class="cards">{"".join(cards)}</div>'
        f"<p>{known_text}</p>"
        + (f"<p>Catalogue files: {links}</p>" if links else "")
        + "</section>"
    )


def _learning_section(points) -> str:
    if not points:
        return _empty_section("learning-curve", "Learning curve", "No round summaries found.")
    header = ["round", "labels", "macro-F1", "accuracy", "precision (n)", "95 % lower bound",
              "est. recall (n)", "95 % interval", "true precision", "true recall"]  # fmt: skip
    body = [
        [
            p.round,
            _fmt(p.labels),
            _fmt(p.macro_f1, ".3f"),
            _fmt(p.accuracy, ".3f"),
            f"{_fmt(p.precision, '.3f')} ({_fmt(p.precision_n)})"
            if p.precision is not None
            else "–",
            _fmt(p.precision_lower, ".3f"),
            f"{_fmt(p.recall, '.3f')} ({_fmt(p.recall_n)})" if p.recall is not None else "–",
            f"{_fmt(p.recall_lower, '.3f')} – {_fmt(p.recall_upper, '.3f')}"
            if p.recall_lower is not None
            else "–",
            _fmt(p.simulated_precision, ".3f"),
            _fmt(p.simulated_recall, ".3f"),
        ]
        for p in points
    ]
    return (
        '<section id="learning-curve"><h2>Learning curve</h2>'
        "<p>Macro-F1 and accuracy on the held-out labelled split after each round; the "
        "precision of the candidates from the randomly drawn, oracle-checked sample with "
        "its one-sided 95 % Clopper–Pearson lower bound; their recall (completeness) "
        "estimated from the oracle-checked recall sample, drawn at random among the "
        "spectra predicted <i>other</i> by score stratum, with its 95 % interval (melded "
        "Clopper–Pearson bounds, the band); and, for a simulated oracle, the true "
        "precision and recall of the candidates.</p>"
        + _img(plots.learning_curve(points), "learning curve")
        + _html_table(header, body)
        + "</section>"
    )


def _confusion_section(summary: dict, class_names: list[str]) -> str:
    evaluation = _mapping(summary.get("evaluation"))
    matrix = evaluation.get("confusion_matrix")
    names = list(summary.get("class_names") or class_names)
    if not _is_square(matrix, len(names)):
        return _empty_section(
            "confusion-matrix", "Confusion matrix", "The latest round recorded no confusion matrix."
        )
    header = ["true \\ predicted", *names, "recall"]
    body = []
    for name, row in zip(names, matrix, strict=True):
        total = sum(row)
        recall = row[names.index(name)] / total if total else None
        body.append([name, *[int(v) for v in row], _fmt(recall, ".3f")])
    per_class = _mapping(evaluation.get("per_class"))
    metrics = [
        [name, *(_fmt(finite_or_none(_mapping(per_class.get(name)).get(k)), ".3f")
                 for k in ("precision", "recall", "f1")), _fmt(_mapping(per_class.get(name)).get("support"))]
        for name in names
    ]  # fmt: skip
    summary_line = (
        f"Round {summary.get('round', '?')}, held-out split of {_fmt(evaluation.get('n'))} spectra: "
        f"accuracy {_fmt(finite_or_none(evaluation.get('accuracy')), '.3f')}, "
        f"macro-F1 {_fmt(finite_or_none(evaluation.get('macro_f1')), '.3f')}."
    )
    return (
        '<section id="confusion-matrix"><h2>Confusion matrix (latest round)</h2>'
        f"<p>{html.escape(summary_line)}</p>"
        '<div class="row"><div>'
        + _html_table(header, body, first_column_header=True)
        + _html_table(["class", "precision", "recall", "F1", "support"], metrics)
        + "</div><div>"
        + _img(plots.confusion_heatmap(matrix, names), "confusion matrix heat map", "heatmap")
        + "</div></div></section>"
    )


def _scorer_comparison_section(summary: dict, class_names: list[str]) -> list[str]:
    """``[model] kind = "both"``: the CNN's predictions against label spreading's (none
    without the comparison)."""
    comparison = _mapping(summary.get("scorer_comparison"))
    confusion = _mapping(comparison.get("confusion"))
    if not confusion:
        return []
    names = list(summary.get("class_names") or class_names)
    positives = _mapping(comparison.get("positives"))
    line = (
        f"Round {summary.get('round', '?')}, {_fmt(comparison.get('n'))} pool spectra scored by "
        f"both: the same class for {_fmt(finite_or_none(comparison.get('agreement')), '.3f')} "
        f"of them. Predicted positive by the CNN {_fmt(positives.get('cnn'))}, by label "
        f"spreading {_fmt(positives.get('label_spreading'))}, by both "
        f"{_fmt(positives.get('both'))} (Jaccard "
        f"{_fmt(finite_or_none(positives.get('jaccard')), '.3f')}). The candidates and the "
        "queries come from the CNN; every spectrum's two predictions are in the round's "
        "scorer_comparison.csv."
    )
    body = [[a, *[int(_mapping(confusion.get(a)).get(b, 0)) for b in names]] for a in names]
    return [
        '<section id="scorer-comparison"><h2>CNN vs label spreading (latest round)</h2>'
        f"<p>{html.escape(line)}</p>"
        + _html_table(["CNN \\ label spreading", *names], body, first_column_header=True)
        + "</section>"
    ]


def _class_counts_section(points, class_names: list[str]) -> str:
    if not any(p.class_counts for p in points):
        return _empty_section(
            "class-counts", "Class counts per round", "No round recorded its class counts."
        )
    names = list(class_names) + sorted(
        {n for p in points for n in p.class_counts} - set(class_names)
    )
    names = [n for n in names if any(n in p.class_counts for p in points)]
    body = [[p.round, *(_fmt(p.class_counts.get(n)) for n in names)] for p in points]
    return (
        '<section id="class-counts"><h2>Class counts per round</h2>'
        "<p>Spectra of the pool predicted in each class. Early rounds are dominated by "
        "junk that looks uncertain; the positive counts shrink as the model learns.</p>"
        + _img(plots.class_counts_chart(points, names), "class counts per round")
        + _html_table(["round", *names], body)
        + "</section>"
    )


def _thumbnails_section(catalogue, chosen, top: int, drawn) -> str:
    if len(chosen) == 0:
        return _empty_section("top-candidates", "Top candidates", "No candidates to show.")
    parts = [
        '<section id="top-candidates"><h2>Top candidates</h2>'
        f"<p>The {top} most probable candidates of each class: the H-alpha region "
        "(H-alpha and He I 6678 marked, in the spectrum's own medium), flux divided by its "
        "median.</p>"
    ]
    classes = np.asarray(chosen["predicted_class"])
    order = [c for c in catalogue.meta.get("class_names") or [] if (classes == c).any()]
    order += sorted(set(classes.tolist()) - set(order))
    for name in order:
        parts.append(f'<h3>{html.escape(name)}</h3><div class="thumbs">')
        for row in chosen[classes == name]:
            parts.append(_thumbnail(row, drawn))
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def _candidate_thumbnail(row) -> tuple[str, str, str]:
    """``(source, title, subtitle)`` of a catalogue row's thumbnail."""
    title = str(row["designation"]) or str(row["spectrum_id"])
    subtitle = f"{row['predicted_class']}  p = {float(row['probability']):.3f}"
    return str(row["source"]), title, subtitle


def _novel_thumbnail(row: Mapping[str, str]) -> tuple[str, str, str]:
    """``(source, title, subtitle)`` of a novelty-list or map row's thumbnail."""
    title = row.get("designation") or row.get("spectrum_id", "")
    subtitle = f"{row.get('predicted_class', '')}  novelty {row.get('novelty', '')}"
    return row.get("source", ""), title, subtitle


def _thumbnail(row, drawn) -> str:
    request = _candidate_thumbnail(row)
    png = drawn[request]
    if np.ma.is_masked(row["known"]):  # the cross-match failed
        status = "known/new unknown"
    else:
        status = f"known: {row['known_name']}" if row["known"] else "new"
    snr = float(row["snr"])
    caption = (
        f"<b>{html.escape(str(row['spectrum_id']))}</b> · {html.escape(status)} · "
        f"first round {int(row['first_round'])}"
        + (f" · S/N {snr:.0f}" if math.isfinite(snr) else "")
    )
    return f"<figure>{_img(png, request[1])}<figcaption>{caption}</figcaption></figure>"


#: From this many thumbnails on, worker processes draw them (below, their start-up
#: costs more than it saves). matplotlib draws in Python, so threads would share a core.
_THUMBNAILS_IN_PARALLEL = 24
#: At most this many drawing processes: a report has a few hundred thumbnails at most.
_THUMBNAIL_WORKERS = 4


def _draw_thumbnails(requests: Sequence[tuple[str, str, str]]) -> dict[tuple, bytes]:
    """PNG of each distinct ``(source, title, subtitle)``, drawn once."""
    unique = list(dict.fromkeys(requests))
    workers = min(os.cpu_count() or 1, _THUMBNAIL_WORKERS)
    if len(unique) < _THUMBNAILS_IN_PARALLEL or workers < 2:
        return {request: _spectrum_png(*request) for request in unique}
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=processes.context()) as pool:
        sources, titles, subtitles = (list(column) for column in zip(*unique, strict=True))
        chunk = max(1, len(unique) // (workers * 4))
        pngs = pool.map(_spectrum_png, sources, titles, subtitles, chunksize=chunk)
        return dict(zip(unique, pngs, strict=True))


def _spectrum_png(source: str, title: str, subtitle: str) -> bytes:
    if not source:
        return plots.placeholder_thumbnail(title, subtitle, "no source file recorded")
    if source.startswith(_REMOTE_PREFIXES):
        return plots.placeholder_thumbnail(title, subtitle, f"not a local file: {source}")
    try:
        spectrum = read_spectrum(source)
    except ActivespecError as err:
        return plots.placeholder_thumbnail(title, subtitle, f"unreadable: {err}")
    return plots.spectrum_thumbnail(spectrum, title, subtitle)


def _pool_map_sections(
    catalogue, pool_map, novel, map_rows, class_names, path: pathlib.Path, top: int, drawn
) -> list:
    """The pool's map (static image, and ``map.html`` beside the report) and the list of
    its most unusual spectra, from the latest round's NoveltyScorer files."""

    def thumbnail(row) -> bytes:
        return drawn[_novel_thumbnail(row)]

    novelty_section = _novelty_section(novel, thumbnail, top)
    if pool_map is None or len(pool_map) == 0:
        map_section = _empty_section(
            "pool-map",
            "Pool map",
            "No map in the latest round: the NoveltyScorer did not run ([novelty] enabled "
            '= false) or drew none ([novelty] map_method = "none"; with the simulated '
            "oracle, only the last round of an `activespec run` draws one).",
        )
        return [map_section, novelty_section]
    page = maps.write_map_page(
        pool_map,
        path.parent / maps.MAP_PAGE_NAME,
        class_names,
        thumbnails={row["spectrum_id"]: thumbnail(row) for row in map_rows},
    )
    meta = pool_map.meta
    counts = {s: int((pool_map.status == s).sum()) for s in maps.STATUSES}
    text = (
        f"The pool in the {meta.get('space', '')} space of round {catalogue.meta.get('round')}"
        f", mapped to 2-D by {str(meta.get('method', '')).replace('tsne', 't-SNE')} "
        f"({_fmt(meta.get('seconds'), '.0f')} s): {counts['pool']} pool spectra sampled "
        f"at random, every candidate ({counts['candidate']}), every labelled pool spectrum "
        f"({counts['labelled']}) and the unusual spectra listed below ({counts['novel']}). "
        "Colours are predicted classes; crosses are labelled spectra, ringed dots "
        "candidates, stars the unusual spectra."
    )
    map_section = (
        '<section id="pool-map"><h2>Pool map</h2>'
        f"<p>{html.escape(text)}</p>"
        f'<p><a href="{html.escape(_relative(page, path.parent))}">Open the interactive map'
        "</a> (offline; hover for a spectrum's identifier, click for its details and "
        "file).</p>" + _img(maps.map_png(pool_map, class_names), "pool map") + "</section>"
    )
    return [map_section, novelty_section]


def _novelty_section(novel, thumbnail, top: int) -> str:
    title = "Unusual spectra"
    if novel is None:
        return _empty_section(
            "unusual-spectra", title, "No novelty list in the latest round ([novelty] enabled)."
        )
    if not novel:
        return _empty_section(
            "unusual-spectra",
            title,
            "Every pool spectrum is labelled, a candidate or a confident negative.",
        )
    parts = [
        f'<section id="unusual-spectra"><h2>{title}</h2>'
        "<p>The pool spectra farthest from their nearest neighbours in the model's space "
        "(the novelty: distance to the k-th nearest pool spectrum) among those that are "
        "neither labelled, candidates, nor confident negatives: kinds of spectra the "
        "classes do not describe (quasars, galaxies, artefacts...). The whole list is "
        "<code>novel.csv</code> in the round folder and the catalogue folder.</p>"
        '<div class="thumbs">'
    ]
    for row in novel[:top]:
        caption = (
            f"<b>#{html.escape(row.get('rank', ''))} {html.escape(row.get('spectrum_id', ''))}"
            f"</b> · {html.escape(row.get('predicted_class', ''))} p = "
            f"{html.escape(row.get('probability', ''))} · novelty "
            f"{html.escape(row.get('novelty', ''))} (top "
            f"{_fmt(100.0 - float(row.get('novelty_percentile') or 0), '.2f')} %)"
        )
        title_text = row.get("designation") or row.get("spectrum_id", "")
        parts.append(
            f"<figure>{_img(thumbnail(row), title_text)}<figcaption>{caption}</figcaption></figure>"
        )
    parts.append("</div>")
    columns = ("rank", "spectrum_id", "designation", "predicted_class", "probability", "novelty")
    body = [[row.get(c, "") for c in columns] for row in novel[: max(top, 25)]]
    parts.append(_html_table(list(columns), body, wide=True) + "</section>")
    return "".join(parts)


def _round_dir(workdir: pathlib.Path, round_index) -> pathlib.Path | None:
    rounds = list_rounds(workdir)
    chosen = [r for r in rounds if r.index == round_index] or rounds[-1:]
    return chosen[0].path if chosen else None


def _catalogue_section(catalogue, rows: int) -> str:
    counts = count_summary(catalogue)
    if catalogue.meta.get("crossmatch_error"):  # neither known nor new: the match failed
        count_rows = [[name, c["all"], "–", "–"] for name, c in counts.items()]
    else:
        count_rows = [[name, c["all"], c["new"], c["known"]] for name, c in counts.items()]
    columns = [c for c in _TABLE_COLUMNS if c in catalogue.colnames]
    head = catalogue[:rows]
    body = [[_cell(row[c], catalogue[c].format) for c in columns] for row in head]
    header = [f"{c} [{catalogue[c].unit}]" if catalogue[c].unit is not None else c for c in columns]
    return (
        '<section id="catalogue"><h2>Catalogue</h2>'
        "<h3>New and known candidates</h3>"
        + _html_table(["class", "candidates", "new", "known"], count_rows)
        + f"<h3>First {min(rows, len(catalogue))} of {len(catalogue)} rows</h3>"
        '<p class="muted">Sorted by class, then by decreasing probability.</p>'
        + _html_table(header, body, wide=True)
        + "</section>"
    )


# ----------------------------------------------------------------------------- helpers


def _latest_summary(workdir: pathlib.Path, round_index) -> dict:
    rounds = list_rounds(workdir)
    chosen = [r for r in rounds if r.index == round_index] or rounds[-1:]
    return read_summary(chosen[0]) if chosen else {}


def _mapping(value) -> dict:
    return dict(value) if isinstance(value, Mapping) else {}


def _is_square(matrix, n: int) -> bool:
    return (
        isinstance(matrix, list)
        and n > 0
        and len(matrix) == n
        and all(isinstance(r, list) and len(r) == n for r in matrix)
        and all(finite_or_none(v) is not None for r in matrix for v in r)
    )


def _fmt(value, spec: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return format(value, spec)


def _cell(value, spec: str | None) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return _fmt(float(value), spec or "g")
    return str(value)


def _card(label: str, value, detail: str) -> str:
    return (
        f'<div class="card"><div class="value">{html.escape(str(value))}</div>'
        f'<div class="label">{html.escape(label)}</div>'
        f'<div class="detail">{html.escape(detail)}</div></div>'
    )


def _img(png: bytes, alt: str, css_class: str = "plot") -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="{css_class}" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _html_table(header, body, *, first_column_header: bool = False, wide: bool = False) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    lines = []
    for row in body:
        cells = []
        for i, value in enumerate(row):
            tag = "th" if first_column_header and i == 0 else "td"
            cls = ' class="num"' if _is_numeric_text(value) else ""
            cells.append(f"<{tag}{cls}>{html.escape(str(value))}</{tag}>")
        lines.append(f"<tr>{''.join(cells)}</tr>")
    css = "table wide" if wide else "table"
    return f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(lines)}</tbody></table></div>'


def _is_numeric_text(value) -> bool:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return True
    try:
        float(str(value).split(" ")[0])
    except ValueError:
        return False
    return True


def _empty_section(anchor: str, title: str, message: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2><p class="muted">{html.escape(message)}</p></section>'


def _relative(path, start: pathlib.Path) -> str:
    try:
        return os.path.relpath(str(path), str(start))
    except ValueError:  # another drive on Windows
        return pathlib.Path(path).resolve().as_uri()


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header><h1>{title}</h1>
<nav><a href="#overview">Overview</a><a href="#learning-curve">Learning curve</a>
<a href="#confusion-matrix">Confusion matrix</a><a href="#class-counts">Class counts</a>
<a href="#top-candidates">Top candidates</a><a href="#pool-map">Pool map</a>
<a href="#unusual-spectra">Unusual spectra</a><a href="#catalogue">Catalogue</a></nav></header>
<main>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""

_CSS = """
:root { --accent: #1f4e79; --line: #dde3ea; --muted: #5b6570; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1d2327; background: var(--bg); }
header { background: var(--accent); color: white; padding: 18px 32px 10px; }
header h1 { margin: 0 0 6px; font-size: 22px; font-weight: 600; }
nav a { color: #d6e4f0; margin-right: 18px; text-decoration: none; font-size: 13.5px; }
nav a:hover { color: white; text-decoration: underline; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 24px 32px; }
section { background: white; border: 1px solid var(--line); border-radius: 8px;
          padding: 6px 22px 18px; margin: 18px 0; }
h2 { color: var(--accent); font-size: 19px; border-bottom: 1px solid var(--line);
     padding-bottom: 6px; }
h3 { font-size: 15.5px; margin: 18px 0 8px; }
code { background: #eef1f4; padding: 1px 5px; border-radius: 4px; font-size: 13px; }
.muted { color: var(--muted); font-size: 13.5px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0 6px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 130px;
        background: #fbfcfd; }
.card .value { font-size: 24px; font-weight: 600; color: var(--accent); }
.card .label { font-weight: 600; }
.card .detail { color: var(--muted); font-size: 12.5px; }
img.plot { max-width: 100%; height: auto; display: block; margin: 8px 0; }
img.heatmap { max-width: 420px; width: 100%; height: auto; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
         white-space: nowrap; }
thead th { background: #eef3f8; color: #223; font-weight: 600; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 14px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px;
         background: white; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
footer { text-align: center; color: var(--muted); font-size: 12px; padding: 10px 0 24px; }
"""
