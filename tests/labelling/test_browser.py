"""The labelling page in headless Chromium, driven by the keyboard alone.

Skipped when Chromium, chromedriver or selenium is missing, unless
``ACTIVESPEC_REQUIRE_BROWSER=1`` (as in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest

from activespec.constants import DEFAULT_CLASSES
from activespec.labels import LabelStore
from tests.labelling.conftest import TOKEN, serving

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WAIT_S = 20


def _browser_or_skip():
    """(webdriver module, chromium path, chromedriver path), or skip / fail with the reason."""
    missing = []
    try:
        from selenium import webdriver
    except ImportError:
        webdriver = None
        missing.append("the selenium package")
    chromium = next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    if chromium is None:
        missing.append(f"a Chromium binary ({', '.join(CHROMIUM_NAMES)} on PATH)")
    driver = shutil.which("chromedriver")
    if driver is None:
        missing.append("chromedriver on PATH")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("ACTIVESPEC_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (ACTIVESPEC_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    return webdriver, chromium, driver


@pytest.fixture
def chrome(tmp_path):
    webdriver, chromium, driver_path = _browser_or_skip()
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1440,960",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_label_three_spectra_with_the_keyboard(real_round, chrome, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    rows = real_round.rows
    # The page re-renders list rows after a save: an element found a moment ago may be gone.
    wait = WebDriverWait(chrome, WAIT_S, ignored_exceptions=(StaleElementReferenceException,))

    def text(element_id: str) -> str:
        return chrome.find_element(By.ID, element_id).text

    def press(*keys) -> None:
        ActionChains(chrome).send_keys(*keys).perform()

    def wait_text(element_id: str, expected: str) -> None:
        wait.until(lambda d: text(element_id) == expected, f"#{element_id} != {expected!r}")

    def progress(role: str) -> str:
        return chrome.find_element(By.CSS_SELECTOR, f"#progress-{role} .progress-text").text

    def wait_progress(role: str, expected: str) -> None:
        wait.until(lambda d: progress(role) == expected, f"{role} progress != {expected!r}")

    with serving(real_round.workdir, token=TOKEN, labeller="browser") as server:
        chrome.get(server.url)
        wait.until(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
        assert text("round-name") == "round 2"
        assert progress("query") == "0 of 4 labelled"
        assert progress("performance") == "0 of 2 labelled"
        # Query and performance rows look different: a role letter and a role class.
        items = chrome.find_elements(By.CSS_SELECTOR, "#batch-list li")
        assert [i.find_element(By.CLASS_NAME, "row-role").text for i in items] == list("QQQQPP")
        assert "role-performance" in items[4].get_attribute("class")
        wait_text("title", rows[0]["designation"])

        # Three labels typed in one go: each saves and opens the next unlabelled spectrum.
        press("2", "1", "3")
        wait_progress("query", "3 of 4 labelled")
        wait_text("title", rows[3]["designation"])
        assert "selected" not in chrome.find_element(
            By.CSS_SELECTOR, "#class-buttons .class-button.c0"
        ).get_attribute("class")

        # Back to the third spectrum and comment on it; Enter saves with its label.
        press("k")
        wait_text("title", rows[2]["designation"])
        assert "selected" in chrome.find_element(
            By.CSS_SELECTOR, "#class-buttons .class-button.c2"
        ).get_attribute("class")
        press("c")
        wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "comment")
        comment = "shell profile? check He I 6678"
        press(comment, Keys.ENTER)
        wait.until(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, "#batch-list li:nth-child(3) .chip").get_attribute(
                    "title"
                )
                == comment
            )
        )
        assert chrome.switch_to.active_element.get_attribute("id") != "comment"

        # j moves down to the unlabelled fourth spectrum, then to the performance sample,
        # which is labelled with the VO-CLOUD style Alt+number.
        press("j")
        wait_text("title", rows[3]["designation"])
        press("j")
        wait_text("title", rows[4]["designation"])
        assert "Performance sample #1" in text("role-badge")
        ActionChains(chrome).key_down(Keys.ALT).send_keys("2").key_up(Keys.ALT).perform()
        wait_progress("performance", "1 of 2 labelled")
        wait_text("title", rows[5]["designation"])  # the next unlabelled one
        assert progress("query") == "3 of 4 labelled"

        # ? shows the shortcuts, Esc hides them.
        press("?")
        wait.until(lambda d: d.find_element(By.ID, "help").is_displayed())
        assert "label as double-peak" in text("help")
        press(Keys.ESCAPE)
        wait.until(lambda d: not d.find_element(By.ID, "help").is_displayed())

        press("k", "k", "k")  # back to a labelled spectrum for the screenshot: plots and history
        wait_text("title", rows[2]["designation"])
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#history li")) == 2)
        screenshot = tmp_path / "labelling-page.png"
        assert chrome.save_screenshot(str(screenshot))
        severe = [e for e in chrome.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == [], severe

    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000

    with LabelStore(real_round.workdir / "labels.sqlite", DEFAULT_CLASSES) as store:
        current = store.current_labels(2)
        assert {sid: record.label for sid, record in current.items()} == {
            rows[0]["spectrum_id"]: "emission",
            rows[1]["spectrum_id"]: "other",
            rows[2]["spectrum_id"]: "double-peak",
            rows[4]["spectrum_id"]: "emission",
        }
        assert current[rows[2]["spectrum_id"]].comment == comment
        assert {
            record.comment for sid, record in current.items() if sid != rows[2]["spectrum_id"]
        } == {""}
        assert {record.labeller for record in current.values()} == {"browser"}
        assert current[rows[4]["spectrum_id"]].role == "performance"
        assert [r.label for r in store.history(rows[2]["spectrum_id"])] == ["double-peak"] * 2
        assert len(store.all_labels()) == 5
