"""The digest as a mail client's HTML view shows it: headless Chromium on the file that
`rufwacht digest --out` writes over the demo data. Leaves docs/screenshots/digest.png for the
README; then a hostile post among the day's items is shown as text, not run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from typer.testing import CliRunner

from monitor.cli import app
from monitor.demo import run_demo
from monitor.runtime import Runtime
from tests import factories
from tests.browser.conftest import XSS_TEXT, save_screenshot
from tests.conftest import NGRAM_CLASSIFIERS, sqlite_url, write_config

pytestmark = pytest.mark.browser
HOSTILE = f'{XSS_TEXT} "><img src=x onerror="document.title=\'pwned\'"> Bahn'


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, date]:
    """A config on the demo feed's data, and yesterday: the demo's one full day (its posts lie
    in the 30 hours before now)."""
    folder = tmp_path_factory.mktemp("digest")
    config = write_config(
        folder / "rufwacht.toml", sqlite_url(folder), classifiers=NGRAM_CLASSIFIERS
    )
    with Runtime.open(config) as runtime:
        run_demo(runtime.pipeline)
        day = datetime.now(ZoneInfo(runtime.settings.digest.timezone)).date() - timedelta(days=1)
    return config, day


def write_digest(config: Path, day: date) -> Path:
    target = config.parent / "digest.html"
    command = ["digest", "--date", day.isoformat(), "--brand", "Deutsche Bahn"]
    result = CliRunner().invoke(app, [*command, "--out", str(target), "--config", str(config)])
    assert result.exit_code == 0, result.output
    return target


def open_whole(browser: WebDriver, path: Path) -> None:
    """The file in a window as wide as a mail client's reading pane, as tall as the mail."""
    browser.set_window_size(760, 1000)
    browser.get(path.as_uri())
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(760, height + 140)
    browser.execute_script("document.documentElement.style.overflow = 'hidden'")  # no scrollbar


def test_the_demo_digest_reads_in_a_browser_with_its_charts(
    browser: WebDriver, demo: tuple[Path, date]
) -> None:
    open_whole(browser, write_digest(*demo))
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 2
    assert all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    assert browser.find_element(By.TAG_NAME, "h2").text == "Deutsche Bahn"
    save_screenshot(browser, "digest")


def test_hostile_post_text_is_shown_not_run(browser: WebDriver, demo: tuple[Path, date]) -> None:
    config, day = demo
    with Runtime.open(config) as runtime, runtime.database.transaction() as session:
        noon = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
        session.add(factories.mention(noon, flagged=True, text=HOSTILE, item={"priority": 99}))
    open_whole(browser, write_digest(config, day))
    assert browser.title != "pwned"
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert len(browser.find_elements(By.TAG_NAME, "img")) == 2  # the charts only
    assert HOSTILE in browser.find_element(By.TAG_NAME, "body").text
