"""A team member in a real browser: log in, move through the queue by keyboard, open an item."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import XSS_TEXT, DemoSite

pytestmark = pytest.mark.browser


def press(driver: WebDriver, *keys: str) -> None:
    for key in keys:
        ActionChains(driver).send_keys(key).perform()


def current_row(driver: WebDriver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "#queue tbody tr.current").get_attribute("data-id")


def test_log_in_move_through_the_queue_and_open_an_item(
    browser: WebDriver, demo_site: DemoSite
) -> None:
    browser.get(demo_site.url + "/")
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys("agent")
    browser.find_element(By.ID, "password").send_keys(demo_site.passwords["agent"], Keys.ENTER)
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    ids = [row.get_attribute("data-id") for row in rows]
    assert len(ids) > 3

    press(browser, "j", "j", "j", "k")
    assert current_row(browser) == ids[1]
    press(browser, "x")
    assert rows[1].find_element(By.CSS_SELECTOR, "input[type=checkbox]").is_selected()
    press(browser, "?")
    assert browser.find_element(By.ID, "help").is_displayed()
    press(browser, Keys.ESCAPE)
    assert not browser.find_element(By.ID, "help").is_displayed()

    press(browser, "o")
    WebDriverWait(browser, 10).until(expected_conditions.url_contains(f"/items/{ids[1]}"))
    assert browser.find_element(By.CSS_SELECTOR, ".playbook h2").text.startswith("Playbook:")

    browser.get(f"{demo_site.url}/items/{demo_site.xss_item}")
    assert browser.find_element(By.ID, "post-text").text == XSS_TEXT
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018


DAY_ORDER = """return new Intl.DateTimeFormat(navigator.language)
    .formatToParts(new Date(2030, 0, 31)).filter(p => p.type !== "literal").map(p => p.type);"""
"""The order the browser's date field takes day, month and year in (its locale's)."""


def test_filter_the_queue_by_a_day_with_the_keyboard(
    browser: WebDriver, demo_site: DemoSite
) -> None:
    browser.get(demo_site.url + "/")
    browser.find_element(By.ID, "username").send_keys("agent")
    browser.find_element(By.ID, "password").send_keys(demo_site.passwords["agent"], Keys.ENTER)
    assert browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    digits = {"day": "31", "month": "01", "year": "2030"}
    since = browser.find_element(By.NAME, "von")
    since.send_keys("".join(digits[part] for part in browser.execute_script(DAY_ORDER)))
    since.send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("von=2030-01-31"))
    assert "Keine Einträge" in browser.find_element(By.CSS_SELECTOR, ".empty").text
    assert browser.find_element(By.NAME, "von").get_attribute("value") == "2030-01-31"
    browser.find_element(By.ID, "clear-days").click()
    WebDriverWait(browser, 10).until(lambda d: "von=" not in d.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
