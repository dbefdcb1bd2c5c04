"""The interactive pool map (map.html) in headless Chromium, opened as a local file with
the network off: hovering a point shows its identifier, clicking it shows its details,
its spectrum and the link to its file.

Skipped without Chromium, chromedriver or selenium, unless ``ACTIVESPEC_REQUIRE_BROWSER=1``
(the labelling page's browser test decides, :func:`tests.labelling.test_browser.chrome`).
"""

from __future__ import annotations

import json
import pathlib
import re

from activespec.catalogue import build_catalogue, write_report
from tests.catalogue.test_pool_map import _write_map_files
from tests.labelling.test_browser import chrome  # noqa: F401 -- the browser fixture

WAIT_S = 20


def _point_position(driver, spectrum_id: str) -> tuple[float, float]:
    """Where a spectrum's point is drawn, in CSS pixels of the canvas."""
    return driver.execute_script(
        """
        const i = D.id.indexOf(arguments[0]);
        const box = canvas.getBoundingClientRect();
        return [px(i) * box.width / canvas.width, py(i) * box.height / canvas.height];
        """,
        spectrum_id,
    )


def test_hover_shows_the_identifier_and_click_opens_the_spectrum(campaign, chrome):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _write_map_files(campaign.workdir / "rounds" / "round-002", campaign)
    report = write_report(campaign.workdir, build_catalogue(campaign.workdir), top=1)
    page = report.parent / "map.html"
    # No network: a page that needed a remote asset would break here.
    chrome.execute_cdp_cmd("Network.enable", {})
    chrome.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    chrome.get(page.as_uri())
    canvas = chrome.find_element(By.ID, "plot")
    WebDriverWait(chrome, WAIT_S).until(lambda d: d.execute_script("return D.x.length") > 0)

    x, y = _point_position(chrome, "novel-D")
    width, height = canvas.size["width"], canvas.size["height"]
    ActionChains(chrome).move_to_element_with_offset(
        canvas, x - width / 2, y - height / 2
    ).perform()
    tip = chrome.find_element(By.ID, "tip")
    WebDriverWait(chrome, WAIT_S).until(lambda d: tip.is_displayed())
    assert tip.text.startswith("novel-D · other · novel")

    ActionChains(chrome).click().perform()
    detail = chrome.find_element(By.ID, "detail")
    WebDriverWait(chrome, WAIT_S).until(lambda d: "novel-D" in detail.text)
    assert "novelty" in detail.text and "8" in detail.text
    image = detail.find_element(By.TAG_NAME, "img")
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert chrome.execute_script("return arguments[0].naturalWidth", image) > 100
    link = detail.find_element(By.ID, "open")
    assert link.get_attribute("href") == pathlib.Path(campaign.spectra["D"].source).as_uri()
    # The page drew without a script error.
    errors = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, json.dumps(errors)
    assert not re.search(r"https?://", page.read_text().split("<script>")[0])
