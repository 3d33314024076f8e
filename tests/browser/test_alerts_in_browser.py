"""Alerts in a real browser: the banner on the queue while a storm is open, and the list."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from monitor.alerts.check import run_check
from monitor.demo import run_demo
from monitor.runtime import Runtime
from monitor.web.app import create_app
from monitor.web.server import WebServer
from tests.browser.conftest import XSS_TEXT, DemoSite, save_screenshot
from tests.conftest import NGRAM_CLASSIFIERS, sqlite_url, write_config
from tests.test_alerts import post_about

pytestmark = pytest.mark.browser

STORM = [
    "@DB_Bahn Stellwerksstörung in Köln, seit zwei Stunden nichts. Unzumutbar!",
    "Schon wieder Totalausfall bei der Bahn, kein Ersatzverkehr, keine Durchsage. Frechheit.",
    "@DB_Info Wer erstattet mir das Taxi? Dritter Ausfall diese Woche, unzumutbar.",
]


@pytest.fixture(scope="module")
def storm_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The demo site after a storm of complaints about Deutsche Bahn in the last three hours,
    one of them hostile markup, and the hourly check run on it."""
    folder = tmp_path_factory.mktemp("storm")
    config = write_config(
        folder / "rufwacht.toml", sqlite_url(folder), classifiers=NGRAM_CLASSIFIERS
    )
    with Runtime.open(config) as runtime:
        summary = run_demo(runtime.pipeline)  # its crises and threats alert as they are queued
        now = datetime.now(UTC)
        with runtime.database.transaction() as session:
            for day in range(1, 8):
                for n in range(6):
                    at = now - timedelta(days=day, hours=4 * n + 1)
                    session.add(post_about("Deutsche Bahn", at, negative=n % 2 == 0))
            for n in range(60):
                text = XSS_TEXT if n == 0 else STORM[n % len(STORM)]
                at = now - timedelta(minutes=3 * n + 1)
                priority = 90 if n < 3 else 40
                session.add(post_about("Deutsche Bahn", at, text=text, priority=priority))
        with runtime.database.transaction() as session:
            # the demo feed has no history: only the Bahn's storm is measured here
            run_check(session, runtime.settings.alerts, ["Deutsche Bahn"], now)
        passwords = {name: password for name, password in summary.passwords.items() if password}
        with WebServer(create_app(runtime), port=0) as server:
            yield DemoSite(server.url, passwords, 0)


def test_the_banner_and_the_alert_list(browser: WebDriver, storm_site: DemoSite) -> None:
    browser.get(storm_site.url + "/login")
    browser.find_element(By.ID, "username").send_keys("lead")
    browser.find_element(By.ID, "password").send_keys(storm_site.passwords["lead"], Keys.ENTER)
    banner = browser.find_element(By.ID, "alert-banner")
    assert "negative Beiträge in 24 Stunden" in banner.text
    banner.find_element(By.PARTIAL_LINK_TEXT, "Spitze").click()
    assert browser.current_url.split("#")[0].endswith("/alerts")
    first = browser.find_element(By.CSS_SELECTOR, ".alert-card")
    assert "Deutsche Bahn" in first.text and "Spitze" in first.text
    texts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".post-text")]
    assert XSS_TEXT in texts  # markup shown as text
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    browser.get(storm_site.url + "/alerts")  # from the top: the banner above the list
    path: Path = save_screenshot(browser, "alerts")
    assert path.stat().st_size > 10_000
