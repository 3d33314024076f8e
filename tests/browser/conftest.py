"""The browser-test harness: the web app on demo data served by uvicorn in a thread, driven by
headless Debian Chromium through Selenium; screenshots go to docs/screenshots for the README.

Skipped only where chromedriver is missing and CI is not set (`make browser` installs it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from monitor.demo import run_demo
from monitor.runtime import Runtime
from monitor.web.app import create_app
from monitor.web.server import WebServer
from tests import factories
from tests.conftest import NGRAM_CLASSIFIERS, missing_prerequisite, sqlite_url, write_config

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
XSS_TEXT = "<script>alert(1)</script>"
CHROMIUM = Path("/usr/bin/chromium")


@dataclass(frozen=True)
class DemoSite:
    url: str
    passwords: dict[str, str]
    """The demo accounts (agent, approver, lead) and their passwords."""
    xss_item: int
    """A queue item whose post text is a script tag."""


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The app on a migrated SQLite file with the demo feed, its accounts and one hostile post,
    served on a free port."""
    folder = tmp_path_factory.mktemp("site")
    config = write_config(
        folder / "rufwacht.toml", sqlite_url(folder), classifiers=NGRAM_CLASSIFIERS
    )
    with Runtime.open(config) as runtime:
        summary = run_demo(runtime.pipeline)
        with runtime.database.transaction() as session:
            item = factories.queue_item(factories.stored_post(XSS_TEXT), priority=1)
            session.add(item)
            session.flush()
            xss_item = item.id
        passwords = {name: password for name, password in summary.passwords.items() if password}
        with WebServer(create_app(runtime), port=0) as server:
            yield DemoSite(server.url, passwords, xss_item)


@pytest.fixture(scope="session")
def chromedriver() -> str:
    path = shutil.which("chromedriver")
    if path is None:
        missing_prerequisite(
            "chromedriver not found: `make browser` installs Debian chromium and chromium-driver"
        )
    return path


@pytest.fixture
def browser(chromedriver: str) -> Iterator[WebDriver]:
    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1440,1000")
    if CHROMIUM.exists():
        options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def save_screenshot(driver: WebDriver, name: str) -> Path:
    """The page as docs/screenshots/NAME.png, for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
