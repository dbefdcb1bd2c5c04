"""The pool's 2-D map and its most unusual spectra, as the report shows them.

The NoveltyScorer (``components/novelty_scorer``) writes, once per round, ``pool_map.csv``
(a t-SNE map of a sample of the pool plus every labelled pool spectrum, candidate and
listed unusual spectrum), ``pool_map.json`` (its settings and timing) and ``novel.csv``
(the most unusual pool spectra that are neither labelled, candidates nor confident
negatives); the local runner copies them into ``rounds/round-NNN/``. This module reads
them and draws

* :func:`map_png`: the static map of ``report.html`` (coloured by predicted class,
  labelled spectra marked, candidates and unusual spectra highlighted);
* :func:`write_map_page`: ``map.html``, an interactive page that works offline (one file,
  inline script and data, no remote asset): hovering shows a spectrum's identifier and
  class, clicking shows its details, its thumbnail when one was drawn (the unusual
  spectra and the most probable candidates) and a link to its file.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import os
import pathlib
from collections.abc import Mapping, Sequence

import numpy as np

from activespec.workdir import NOVEL_FILENAME, POOL_MAP_FILENAME, POOL_MAP_META

__all__ = [
    "MAP_PAGE_NAME",
    "PoolMap",
    "map_png",
    "read_novel",
    "read_pool_map",
    "write_map_page",
]

#: The interactive page, written beside ``report.html``.
MAP_PAGE_NAME = "map.html"
#: Statuses of the map's points, drawn in this order (the pool first, under the rest).
STATUSES = ("pool", "candidate", "novel", "labelled")
_CLASS_COLOURS = ("#9aa3ab", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b")


class PoolMap:
    """The content of a round's ``pool_map.csv`` and ``pool_map.json``."""

    def __init__(self, rows: list[dict], meta: dict):
        self.rows = rows
        self.meta = meta
        self.x = np.array([_float(r.get("x")) for r in rows], np.float64)
        self.y = np.array([_float(r.get("y")) for r in rows], np.float64)
        self.status = np.array([r.get("status", "pool") for r in rows], object)
        self.predicted = np.array([r.get("predicted_class", "") for r in rows], object)

    def __len__(self) -> int:
        return len(self.rows)


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _rows(path: pathlib.Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_pool_map(round_dir: str | os.PathLike) -> PoolMap | None:
    """The round's map, or None when the round has none (no NoveltyScorer, or no map)."""
    round_dir = pathlib.Path(round_dir)
    path = round_dir / POOL_MAP_FILENAME
    if not path.is_file():
        return None
    meta_path = round_dir / POOL_MAP_META
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    return PoolMap(_rows(path), meta)


def read_novel(round_dir: str | os.PathLike) -> list[dict] | None:
    """The round's list of unusual spectra (most unusual first), or None without one."""
    path = pathlib.Path(round_dir) / NOVEL_FILENAME
    return _rows(path) if path.is_file() else None


def _class_order(pool_map: PoolMap, class_names: Sequence[str]) -> list[str]:
    present = [str(name) for name in pool_map.predicted]
    return list(class_names) + sorted(set(present) - set(class_names))


def map_png(pool_map: PoolMap, class_names: Sequence[str]) -> bytes:
    """The static map: pool spectra small and by predicted class, candidates larger
    with a dark edge, unusual spectra as stars, labelled spectra as crosses."""
    # matplotlib is slow to import; only a figure needs it
    from matplotlib.figure import Figure

    from activespec.catalogue.plots import png_bytes

    names = _class_order(pool_map, class_names)
    colour = {name: _CLASS_COLOURS[i % len(_CLASS_COLOURS)] for i, name in enumerate(names)}
    figure = Figure(figsize=(8.0, 6.4), dpi=110)
    axes = figure.subplots()
    pool = pool_map.status == "pool"
    for name in names:
        rows = pool & (pool_map.predicted == name)
        if rows.any():
            axes.scatter(pool_map.x[rows], pool_map.y[rows], s=2, c=colour[name],
                         alpha=0.45, linewidths=0, label=f"pool: {name} ({int(rows.sum())})",
                         rasterized=True)  # fmt: skip
    styles = {
        "candidate": dict(marker="o", s=14, edgecolors="black", linewidths=0.5),
        "novel": dict(marker="*", s=70, edgecolors="black", linewidths=0.5),
        "labelled": dict(marker="x", s=12, linewidths=0.8),
    }
    for status, style in styles.items():
        rows = pool_map.status == status
        if not rows.any():
            continue
        colours = [colour.get(str(p), "#444") for p in pool_map.predicted[rows]]
        if status == "labelled":
            colours = "black"
        axes.scatter(pool_map.x[rows], pool_map.y[rows], c=colours,
                     label=f"{status} ({int(rows.sum())})", **style)  # fmt: skip
    axes.set_xticks([])
    axes.set_yticks([])
    method = str(pool_map.meta.get("method", "")).replace("tsne", "t-SNE")
    space = pool_map.meta.get("space", "")
    axes.set_title(
        f"The pool in the {space or 'model'} space ({method}, {len(pool_map)} spectra)",
        fontsize=11,
    )
    axes.legend(loc="best", fontsize=7.5, markerscale=2.0, framealpha=0.85)
    figure.tight_layout()
    return png_bytes(figure)


def _file_uri(source: str) -> str:
    if not source:
        return ""
    if "://" in source:
        return source
    try:
        return pathlib.Path(source).resolve().as_uri()
    except ValueError:
        return ""


def write_map_page(
    pool_map: PoolMap,
    path: str | os.PathLike,
    class_names: Sequence[str],
    *,
    thumbnails: Mapping[str, bytes] | None = None,
    title: str = "activespec — the pool map",
) -> pathlib.Path:
    """Write the interactive map: one offline HTML file (inline canvas script and data).

    Parameters
    ----------
    pool_map : PoolMap
    path : path-like
    class_names : sequence of str
        Colour order of the predicted classes.
    thumbnails : mapping, optional
        Spectrum id -> PNG bytes, shown when the point is clicked.
    """
    path = pathlib.Path(path)
    names = _class_order(pool_map, class_names)
    class_index = {name: i for i, name in enumerate(names)}
    order = np.argsort([STATUSES.index(s) if s in STATUSES else 0 for s in pool_map.status],
                       kind="stable")  # fmt: skip
    rows = [pool_map.rows[i] for i in order]
    x, y = pool_map.x[order], pool_map.y[order]
    thumbnails = thumbnails or {}
    data = {
        "classes": names,
        "colours": [_CLASS_COLOURS[i % len(_CLASS_COLOURS)] for i in range(len(names))],
        "statuses": list(STATUSES),
        "x": [round(float(v), 3) if math.isfinite(v) else 0.0 for v in x],
        "y": [round(float(v), 3) if math.isfinite(v) else 0.0 for v in y],
        "id": [r.get("spectrum_id", "") for r in rows],
        "name": [r.get("designation", "") for r in rows],
        "cls": [class_index.get(r.get("predicted_class", ""), 0) for r in rows],
        "p": [r.get("probability", "") for r in rows],
        "status": [
            STATUSES.index(r.get("status")) if r.get("status") in STATUSES else 0 for r in rows
        ],
        "label": [r.get("label", "") for r in rows],
        "novelty": [r.get("novelty", "") for r in rows],
        "file": [_file_uri(r.get("source", "")) for r in rows],
        "thumb": {
            sid: base64.b64encode(png).decode("ascii") for sid, png in thumbnails.items() if sid
        },
    }
    meta = pool_map.meta
    subtitle = (
        f"{len(rows)} spectra, {meta.get('method', '')} of the "
        f"{meta.get('space', '')} space; novelty = distance to the "
        f"{meta.get('k', '?')}-th nearest pool spectrum"
    )
    page = _MAP_PAGE.format(
        title=html.escape(title),
        subtitle=html.escape(subtitle),
        # "</" cannot end the script early: every "/" after "<" is escaped.
        data=json.dumps(data, separators=(",", ":")).replace("</", "<\\/"),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def thumbnail_rows(pool_map: PoolMap, limit: int = 150) -> list[dict]:
    """The unusual spectra, then the most probable candidates, at most ``limit``: the
    points whose spectrum the map page can show when clicked."""
    chosen = [r for r in pool_map.rows if r.get("status") == "novel"]
    candidates = [r for r in pool_map.rows if r.get("status") == "candidate"]
    candidates.sort(key=lambda r: -_float(r.get("probability")))
    return (chosen + candidates)[:limit]


_MAP_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1d2327; background: #f6f8fa; }}
header {{ background: #1f4e79; color: white; padding: 12px 24px; }}
header h1 {{ margin: 0; font-size: 19px; font-weight: 600; }}
header p {{ margin: 2px 0 0; color: #d6e4f0; font-size: 13px; }}
#wrap {{ display: flex; gap: 14px; padding: 14px; align-items: flex-start; }}
#plot {{ background: white; border: 1px solid #dde3ea; border-radius: 6px; cursor: crosshair; }}
#side {{ width: 330px; flex: none; }}
.box {{ background: white; border: 1px solid #dde3ea; border-radius: 6px; padding: 8px 12px;
        margin-bottom: 12px; font-size: 13px; }}
.box h2 {{ font-size: 14px; margin: 2px 0 6px; color: #1f4e79; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%;
           margin-right: 6px; vertical-align: middle; }}
#tip {{ position: fixed; pointer-events: none; background: rgba(20,25,30,.88); color: white;
        padding: 3px 7px; border-radius: 4px; font-size: 12px; display: none; }}
#detail img {{ width: 100%; height: auto; border: 1px solid #dde3ea; margin-top: 6px; }}
td {{ padding: 1px 8px 1px 0; vertical-align: top; }}
label {{ display: block; }}
</style>
</head>
<body>
<header><h1>{title}</h1><p>{subtitle}</p></header>
<div id="wrap">
<canvas id="plot" width="900" height="720"></canvas>
<div id="side">
<div class="box"><h2>Show</h2><div id="filters"></div></div>
<div class="box"><h2>Classes (predicted)</h2><div id="legend"></div></div>
<div class="box" id="detail"><h2>Spectrum</h2><p>Hover over a point for its identifier;
click it for its details, its spectrum (drawn for the unusual spectra and the most
probable candidates) and a link to its file.</p></div>
</div>
</div>
<div id="tip"></div>
<script>
"use strict";
const D = {data};
const canvas = document.getElementById("plot"), ctx = canvas.getContext("2d");
const tip = document.getElementById("tip"), detail = document.getElementById("detail");
const n = D.x.length, pad = 16;
const shown = D.statuses.map(() => true);
let x0 = Math.min(...D.x), x1 = Math.max(...D.x), y0 = Math.min(...D.y), y1 = Math.max(...D.y);
if (x1 === x0) {{ x1 = x0 + 1; }}
if (y1 === y0) {{ y1 = y0 + 1; }}
const px = i => pad + (D.x[i] - x0) / (x1 - x0) * (canvas.width - 2 * pad);
const py = i => canvas.height - pad - (D.y[i] - y0) / (y1 - y0) * (canvas.height - 2 * pad);
const radius = [1.6, 3.2, 5.5, 3.0];
let selected = -1;
function draw() {{
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < n; i++) {{
    const s = D.status[i];
    if (!shown[s]) continue;
    const cx = px(i), cy = py(i), r = radius[s];
    ctx.fillStyle = D.colours[D.cls[i] % D.colours.length];
    if (s === 3) {{
      ctx.strokeStyle = "#000"; ctx.lineWidth = 1.2; ctx.beginPath();
      ctx.moveTo(cx - r, cy - r); ctx.lineTo(cx + r, cy + r);
      ctx.moveTo(cx - r, cy + r); ctx.lineTo(cx + r, cy - r); ctx.stroke();
      continue;
    }}
    ctx.globalAlpha = s === 0 ? 0.5 : 1.0;
    ctx.beginPath(); ctx.arc(cx, cy, r, 0, 2 * Math.PI); ctx.fill();
    ctx.globalAlpha = 1.0;
    if (s > 0) {{ ctx.strokeStyle = "#000"; ctx.lineWidth = s === 2 ? 1.4 : 0.6; ctx.stroke(); }}
  }}
  if (selected >= 0) {{
    ctx.strokeStyle = "#ff7f0e"; ctx.lineWidth = 2.5; ctx.beginPath();
    ctx.arc(px(selected), py(selected), 9, 0, 2 * Math.PI); ctx.stroke();
  }}
}}
// A grid of point indices, for the nearest point under the mouse.
const cell = 12, cols = Math.ceil(canvas.width / cell), grid = new Map();
for (let i = 0; i < n; i++) {{
  const key = Math.floor(py(i) / cell) * cols + Math.floor(px(i) / cell);
  if (!grid.has(key)) grid.set(key, []);
  grid.get(key).push(i);
}}
function nearest(mx, my) {{
  let best = -1, bestD = 64;
  const gx = Math.floor(mx / cell), gy = Math.floor(my / cell);
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {{
    for (const i of grid.get((gy + dy) * cols + gx + dx) || []) {{
      if (!shown[D.status[i]]) continue;
      const d = (px(i) - mx) ** 2 + (py(i) - my) ** 2;
      if (d < bestD || (d === bestD && D.status[i] > D.status[best])) {{ best = i; bestD = d; }}
    }}
  }}
  return best;
}}
function position(event) {{
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
          (event.clientY - box.top) * canvas.height / box.height];
}}
const esc = s => String(s).replace(/[&<>"']/g, c => ({{"&": "&amp;", "<": "&lt;", ">": "&gt;",
  '"': "&quot;", "'": "&#39;"}})[c]);
canvas.addEventListener("mousemove", event => {{
  const i = nearest(...position(event));
  if (i < 0) {{ tip.style.display = "none"; return; }}
  tip.textContent = D.id[i] + " · " + D.classes[D.cls[i]] + " · " + D.statuses[D.status[i]];
  tip.style.left = (event.clientX + 12) + "px"; tip.style.top = (event.clientY + 12) + "px";
  tip.style.display = "block";
}});
canvas.addEventListener("mouseleave", () => {{ tip.style.display = "none"; }});
canvas.addEventListener("click", event => {{
  const i = nearest(...position(event));
  if (i < 0) return;
  selected = i; draw();
  const rows = [["identifier", D.id[i]], ["designation", D.name[i]],
    ["predicted", D.classes[D.cls[i]] + (D.p[i] ? " (p = " + D.p[i] + ")" : "")],
    ["status", D.statuses[D.status[i]] + (D.label[i] ? ": " + D.label[i] : "")],
    ["novelty", D.novelty[i]]];
  let text = "<h2>Spectrum</h2><table>" + rows.filter(r => r[1] !== "").map(
    r => "<tr><td>" + r[0] + "</td><td>" + esc(r[1]) + "</td></tr>").join("") + "</table>";
  if (D.thumb[D.id[i]]) text += '<img alt="spectrum" src="data:image/png;base64,' + D.thumb[D.id[i]] + '">';
  if (D.file[i]) text += '<p><a id="open" href="' + esc(D.file[i]) + '">open the spectrum file</a></p>';
  detail.innerHTML = text;
}});
const filters = document.getElementById("filters");
D.statuses.forEach((name, s) => {{
  const count = D.status.filter(v => v === s).length;
  const box = document.createElement("label");
  box.innerHTML = '<input type="checkbox" checked> ' + name + " (" + count + ")";
  box.firstChild.addEventListener("change", e => {{ shown[s] = e.target.checked; draw(); }});
  filters.appendChild(box);
}});
document.getElementById("legend").innerHTML = D.classes.map((name, c) =>
  '<div><span class="swatch" style="background:' + D.colours[c % D.colours.length] + '"></span>'
  + esc(name) + "</div>").join("");
draw();
</script>
</body>
</html>
"""
