"""The self-contained HTML report."""

import base64
import io
import json
import re

import pytest

from activespec.catalogue import (
    build_catalogue,
    precision_lower_bound,
    write_catalogue,
    write_report,
)
from activespec.catalogue.report import round_points
from tests.catalogue.conftest import make_campaign, make_known_entries, make_known_files

_IMAGE = re.compile(
    r'<img class="([a-z]+)" alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">'
)
SECTIONS = (
    "overview",
    "learning-curve",
    "confusion-matrix",
    "class-counts",
    "top-candidates",
    "catalogue",
)


def _png_shape(data: str) -> tuple[int, ...]:
    from matplotlib import image

    raw = base64.b64decode(data)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return image.imread(io.BytesIO(raw), format="png").shape


@pytest.fixture(scope="module")
def report(tmp_path_factory, real_dir):
    """One report for the read-only tests of this module (drawing it takes a few seconds)."""
    root = tmp_path_factory.mktemp("report")
    campaign = make_campaign(root, real_dir)
    known_files = make_known_files(root, make_known_entries(campaign))
    catalogue = build_catalogue(campaign.workdir, known=known_files["csv"])
    files = write_catalogue(catalogue, campaign.workdir / "catalogue")
    path = write_report(campaign.workdir, catalogue, top=4, files=files)
    return path, path.read_text(encoding="utf-8")


def test_report_is_written_in_the_catalogue_folder(report):
    path, _ = report
    assert path.parent.name == "catalogue" and path.parent.parent.name == "workdir"
    assert path.name == "report.html"


def test_all_sections_present(report):
    _, text = report
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in text, anchor
    assert "No round summaries" not in text and "recorded no confusion matrix" not in text


def test_images_are_embedded_pngs(report):
    _, text = report
    images = _IMAGE.findall(text)
    # learning curve, heat map, class counts, and 4 emission + 2 double-peak thumbnails
    assert len(images) == 9
    alts = [alt for _, alt, _ in images]
    assert alts[:3] == ["learning curve", "confusion matrix heat map", "class counts per round"]
    for _, _, data in images:
        height, width, _ = _png_shape(data)
        assert height > 100 and width > 100


def test_self_contained_no_remote_assets(report):
    _, text = report
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<script" not in text and "<link" not in text


def test_thumbnails_titled_and_unreadable_source_explained(report):
    _, text = report
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", text)
    assert len(captions) == 6
    assert any("id-A" in c and "known: Known near A" in c for c in captions)
    assert any("id-G" in c and "new" in c for c in captions)
    # id-G's source does not exist: its panel is a placeholder, still an image.
    alts = [alt for _, alt, _ in _IMAGE.findall(text)]
    assert "LAMOST J063800.75+271522.1" in alts  # title = designation of id-A
    assert "id-G" in alts  # no designation: the spectrum id


def test_counts_and_catalogue_rows(report):
    _, text = report
    assert "Cross-matched with <code>known.csv</code> (3 objects) within 3 arcsec" in text
    assert "<th>class</th><th>candidates</th><th>new</th><th>known</th>" in text
    assert (
        '<tr><td>total</td><td class="num">6</td><td class="num">5</td><td class="num">1</td></tr>'
        in text
    )
    assert "First 6 of 6 rows" in text
    assert 'href="candidates.csv"' in text and 'href="candidates.vot"' in text


def test_learning_curve_table_has_the_recall_estimate(report):
    _, text = report
    assert "<th>est. recall (n)</th><th>95 % interval</th>" in text
    # Round 2: estimated 0.75 (0.40 - 0.90) from 30 labels, true recall 0.80.
    assert (
        '<td class="num">0.750 (30)</td><td class="num">0.400 – 0.900</td>'
        '<td class="num">0.800</td><td class="num">0.800</td>'
    ) in text


def test_confusion_matrix_table(report):
    _, text = report
    assert "<th>true \\ predicted</th>" in text
    # Row "emission" of the round-2 matrix [4, 40, 2] and its recall 40/46.
    assert (
        '<tr><th>emission</th><td class="num">4</td><td class="num">40</td>'
        '<td class="num">2</td><td class="num">0.870</td></tr>'
    ) in text


def test_round_points_compute_the_missing_lower_bound(campaign):
    points = round_points(campaign.workdir)
    assert [p.round for p in points] == [0, 1, 2]
    assert [p.labels for p in points] == [100, 200, 300]
    assert points[2].precision == pytest.approx(0.9)
    assert points[2].precision_lower == pytest.approx(precision_lower_bound(27, 30))
    assert points[1].simulated_recall == pytest.approx(0.65)
    assert (points[1].recall, points[1].recall_lower, points[1].recall_upper) == pytest.approx(
        (0.6, 0.3, 0.85)
    )
    assert points[1].recall_n == 30
    assert points[0].class_counts == {"other": 700, "emission": 200, "double-peak": 100}


def test_given_lower_bound_is_used_as_is(campaign):
    path = campaign.workdir / "rounds" / "round-001" / "summary.json"
    summary = json.loads(path.read_text())
    summary["performance"]["lower_bound_95"] = 0.5
    path.write_text(json.dumps(summary))
    assert round_points(campaign.workdir)[1].precision_lower == 0.5


def test_sparse_summaries_still_give_a_report(campaign, tmp_path):
    # Keep only the round number: no evaluation, performance, labels or class counts.
    for i in range(3):
        path = campaign.workdir / "rounds" / f"round-{i:03d}" / "summary.json"
        path.write_text(json.dumps({"round": i}))
    catalogue = build_catalogue(campaign.workdir)
    text = write_report(campaign.workdir, catalogue, tmp_path / "r.html", top=1).read_text()
    assert "recorded no confusion matrix" in text
    assert "No catalogue of known objects was given" in text
    # Class counts fall back to the candidates of each round.
    points = round_points(campaign.workdir, catalogue.meta["candidate_counts"])
    assert points[0].class_counts == {"emission": 3, "double-peak": 1}
    assert len(_IMAGE.findall(text)) == 2 + 2  # learning curve, class counts, 1 per class


def test_scorer_comparison_only_when_both_scored(report, campaign, tmp_path):
    _, text = report
    assert 'id="scorer-comparison"' not in text  # a CNN-only campaign
    path = campaign.workdir / "rounds" / "round-002" / "summary.json"
    summary = json.loads(path.read_text())
    names = summary["class_names"]
    confusion = {a: {b: 0 for b in names} for a in names}
    confusion[names[0]][names[0]], confusion[names[1]][names[0]] = 90, 7
    summary["scorer_comparison"] = {
        "n": 97,
        "agreement": 90 / 97,
        "positives": {"cnn": 7, "label_spreading": 0, "both": 0, "jaccard": 0.0},
        "confusion": confusion,
    }
    path.write_text(json.dumps(summary))
    catalogue = build_catalogue(campaign.workdir)
    text = write_report(campaign.workdir, catalogue, tmp_path / "r.html", top=1).read_text()
    section = text[text.index('id="scorer-comparison"') :]
    section = section[: section.index("</section>")]
    assert "97 pool spectra scored by both: the same class for 0.928" in section
    assert "Predicted positive by the CNN 7, by label spreading 0" in section
    assert f'<th>{names[1]}</th><td class="num">7</td>' in section


def test_thumbnails_drawn_by_workers_equal_those_drawn_here(real_dir, monkeypatch):
    """Enough thumbnails for worker processes: each PNG is the one this process draws,
    in the order asked, placeholders included (a missing file, a remote URL)."""
    from activespec.catalogue import report as report_module

    files = sorted(str(p) for p in real_dir.rglob("*.fits*"))[:10]
    requests = [(path, f"title {i}", "emission  p = 0.9") for i, path in enumerate(files)]
    requests += [("/no/such/file.fits", "missing", ""), ("https://example.org/x.fits", "r", "")]
    requests *= 3  # repeated requests are drawn once
    unique = list(dict.fromkeys(requests))
    assert len(requests) >= report_module._THUMBNAILS_IN_PARALLEL > len(unique)
    monkeypatch.setattr(report_module, "_THUMBNAILS_IN_PARALLEL", len(unique))
    monkeypatch.setattr(report_module.os, "cpu_count", lambda: 2)  # workers, on any machine
    started = []
    executor = report_module.concurrent.futures.ProcessPoolExecutor
    monkeypatch.setattr(
        report_module.concurrent.futures,
        "ProcessPoolExecutor",
        lambda *args, **kwargs: started.append(args) or executor(*args, **kwargs),
    )

    in_workers = report_module._draw_thumbnails(requests)
    assert started == [(2,)]
    here = {request: report_module._spectrum_png(*request) for request in unique}
    assert list(in_workers) == unique
    assert in_workers == here
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in here.values())
