"""The pool map and the unusual spectra in the report, the offline map page and the
catalogue's novelty list."""

from __future__ import annotations

import csv
import json
import re

import numpy as np

from activespec.catalogue import build_catalogue, write_catalogue, write_report
from activespec.catalogue.pool_map import read_pool_map, write_map_page
from components.novelty_scorer.executor import MAP_COLUMNS, NOVEL_COLUMNS

_IMAGE = re.compile(r'<img class="plot" alt="([^"]*)" src="data:image/png;base64,')


def _write_map_files(round_dir, campaign, n_pool: int = 300) -> None:
    """The NoveltyScorer's files: a map of ``n_pool`` pool spectra plus the campaign's
    candidates, one labelled spectrum and two unusual ones (real files C and D)."""
    rng = np.random.default_rng(0)
    spectra = campaign.spectra
    rows = []
    for i in range(n_pool):
        cls = ("other", "emission")[i % 7 == 0]
        x, y = rng.normal(size=2) + (4.0 if cls == "emission" else 0.0)
        rows.append([f"pool-{i}", "", x, y, cls, 0.8, "pool", "", 1.0, f"/nowhere/{i}.fits"])
    for key, (cls, probabilities) in campaign.latest.items():
        rows.append(
            [spectra[key].spectrum_id, spectra[key].designation, 4.0, 4.0, cls,
             max(probabilities), "candidate", "", 2.0, spectra[key].source]
        )  # fmt: skip
    rows.append(["lab-1", "", 0.5, 0.5, "other", 0.9, "labelled", "other", 1.0, ""])
    novel = []
    for rank, key in enumerate(("D", "C"), start=1):
        spectrum = spectra[key]
        rows.append(
            [f"novel-{key}", spectrum.designation, -6.0, 6.0, "other", 0.55, "novel", "",
             9.0 - rank, spectrum.source]
        )  # fmt: skip
        novel.append(
            [rank, f"novel-{key}", spectrum.designation, spectrum.ra, spectrum.dec,
             spectrum.snr, "other", 0.55, 9.0 - rank, 99.9 - rank, spectrum.source]
        )  # fmt: skip
    for name, columns, body in (
        ("pool_map.csv", MAP_COLUMNS, rows),
        ("novel.csv", NOVEL_COLUMNS, novel),
    ):
        with (round_dir / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            writer.writerows(body)
    meta = {"space": "embedding", "k": 10, "method": "tsne", "seconds": 12.5}
    (round_dir / "pool_map.json").write_text(json.dumps({**meta, "num_points": len(rows)}))


def test_report_has_the_map_and_the_unusual_spectra(campaign):
    round_dir = campaign.workdir / "rounds" / "round-002"
    _write_map_files(round_dir, campaign)
    catalogue = build_catalogue(campaign.workdir)
    files = write_catalogue(catalogue, campaign.workdir / "catalogue")
    report = write_report(campaign.workdir, catalogue, top=2, files=files)
    text = report.read_text()

    section = text[text.index('<section id="pool-map">') :]
    section = section[: section.index("</section>")]
    assert _IMAGE.findall(section) == ["pool map"]
    assert '<a href="map.html">Open the interactive map</a>' in section
    assert "300 pool spectra sampled at random, every candidate (6)" in section
    assert "every labelled pool spectrum (1)" in section

    section = text[text.index('<section id="unusual-spectra">') :]
    section = section[: section.index("</section>")]
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", section)
    assert len(captions) == 2
    assert captions[0].startswith("<b>#1 novel-D</b>") and "novelty 8" in captions[0]
    assert "<td>novel-C</td>" in section
    # The report itself stays script-free; the catalogue folder has the novelty list.
    assert "<script" not in text
    assert files["novel"].name == "novel.csv"
    assert files["novel"].read_text() == (round_dir / "novel.csv").read_text()


def test_the_map_page_is_offline_and_interactive(campaign, tmp_path):
    round_dir = campaign.workdir / "rounds" / "round-002"
    _write_map_files(round_dir, campaign)
    catalogue = build_catalogue(campaign.workdir)
    report = write_report(campaign.workdir, catalogue, top=1)
    page = (report.parent / "map.html").read_text()
    # No remote asset: no external script, style sheet, image or font.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert not re.search(r"<script[^>]+src", page)
    assert page.count("<script>") == 1
    data = json.loads(re.search(r"const D = (\{.*?\});\n", page).group(1))
    assert len(data["id"]) == 300 + 6 + 1 + 2
    assert {"pool-0", "id-A", "lab-1", "novel-D"} <= set(data["id"])
    # Hover shows the identifier; a click shows the thumbnail and the file link.
    assert "tip.textContent = D.id[i]" in page
    assert {"novel-D", "novel-C", "id-A"} <= set(data["thumb"])
    assert data["file"][data["id"].index("id-A")].startswith("file:///")
    # The pool is drawn first, under the candidates, unusual and labelled spectra.
    statuses = [data["statuses"][s] for s in data["status"]]
    assert statuses == sorted(statuses, key=["pool", "candidate", "novel", "labelled"].index)


def test_a_script_end_in_the_data_cannot_break_the_page(tmp_path, campaign):
    round_dir = campaign.workdir / "rounds" / "round-002"
    _write_map_files(round_dir, campaign, n_pool=3)
    pool_map = read_pool_map(round_dir)
    pool_map.rows[0]["designation"] = "</script><script>alert(1)</script>"
    page = write_map_page(pool_map, tmp_path / "m.html", ["other", "emission"]).read_text()
    assert page.count("</script>") == 1


def test_without_novelty_files_the_sections_say_why(campaign, tmp_path):
    catalogue = build_catalogue(campaign.workdir)
    text = write_report(campaign.workdir, catalogue, tmp_path / "r.html", top=1).read_text()
    assert '<section id="pool-map"><h2>Pool map</h2><p class="muted">No map' in text
    assert '<section id="unusual-spectra"><h2>Unusual spectra</h2><p class="muted">' in text
    assert not (tmp_path / "map.html").exists()
