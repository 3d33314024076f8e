"""The reply workflow in a real browser: an agent filters, takes an item by keyboard, drafts from
a saved reply, sees the draft check's warning and submits; an approver approves; the drafter's
own approval is refused; a lead rejects; the audit trail shows it all. Saves the README's
screenshots of the queue, the item page and the editor with findings."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import DemoSite, save_screenshot
from tests.browser.test_queue_in_browser import current_row, press

pytestmark = pytest.mark.browser

SIE_REPLY = (
    "Guten Tag, danke für Ihre Nachricht, es tut uns leid, dass die Verbindung ausgefallen "
    "ist. Schicken Sie uns bitte per Direktnachricht Ihre Verbindung, dann prüfen wir das."
)


def log_in(driver: WebDriver, site: DemoSite, name: str) -> None:
    driver.delete_all_cookies()
    driver.get(site.url + "/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(site.passwords[name], Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, 10)


def notice(driver: WebDriver) -> str:
    return driver.find_element(By.CSS_SELECTOR, ".notice").text


def queue_ids(driver: WebDriver) -> list[str]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    return [row.get_attribute("data-id") or "" for row in rows]


def move_to(driver: WebDriver, item_id: str) -> None:
    """Put the keyboard cursor on the row of `item_id` with j."""
    for _ in range(queue_ids(driver).index(item_id) + 1):
        press(driver, "j")
    assert current_row(driver) == item_id


def audit_text(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "audit").text


def test_draft_approve_reject_and_four_eyes_in_the_browser(
    browser: WebDriver, demo_site: DemoSite
) -> None:
    log_in(browser, demo_site, "agent")
    Select(browser.find_element(By.NAME, "status")).select_by_value("new")
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait(browser).until(expected_conditions.url_contains("status=new"))
    first, second = queue_ids(browser)[1:3]

    move_to(browser, first)
    press(browser, "a")  # assign to me: the queue comes back, the item is no longer new
    wait(browser).until(lambda d: first not in queue_ids(d))
    assert "status=new" in browser.current_url

    browser.get(demo_site.url + "/")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-id="{first}"]')
    assert row.find_element(By.CSS_SELECTOR, ".assignee").text == "agent"
    move_to(browser, first)
    press(browser, "r")  # reply: the item's editor, focused
    wait(browser).until(expected_conditions.url_contains(f"/items/{first}#antwort"))
    wait(browser).until(lambda d: d.switch_to.active_element.get_attribute("id") == "reply-text")

    insert = browser.find_element(By.CSS_SELECTOR, "[data-insert]")
    insert.click()
    editor = browser.find_element(By.ID, "reply-text")
    filled = editor.get_attribute("value") or ""
    assert filled == insert.get_attribute("data-text")
    assert "{" not in filled  # placeholders filled
    editor.send_keys(Keys.END, " Schick uns doch deine Verbindung.")
    warning = wait(browser).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#findings .finding.sev-warn .rule")
    )
    assert "brand_tone" in [rule.text for rule in warning]
    assert browser.find_element(By.CSS_SELECTOR, "#reply-preview mark").text
    save_screenshot(browser, "editor")
    browser.find_element(By.ID, "submit-draft").click()
    assert notice(browser) == "Antwort zur Freigabe gegeben."
    assert browser.find_element(By.ID, "approve").get_attribute("disabled") is not None

    log_in(browser, demo_site, "approver")
    browser.get(f"{demo_site.url}/items/{first}")
    browser.find_element(By.ID, "approve").click()
    assert notice(browser) == "Antwort freigegeben."
    trail = audit_text(browser)
    assert "agent übernommen" in trail and "approver freigegeben" in trail
    assert "Zugewiesen → Entwurf" in trail
    save_screenshot(browser, "item")

    browser.get(f"{demo_site.url}/items/{second}#antwort")  # the approver drafts one himself
    browser.find_element(By.ID, "reply-text").send_keys(SIE_REPLY)
    browser.find_element(By.ID, "submit-draft").click()
    assert browser.find_element(By.ID, "approve").get_attribute("disabled") is not None
    assert "Vier-Augen-Prinzip" in browser.find_element(By.ID, "approve-refused").text

    log_in(browser, demo_site, "lead")
    browser.get(f"{demo_site.url}/items/{second}")
    browser.find_element(By.ID, "reject-note").send_keys("Bitte persönlicher formulieren.")
    browser.find_element(By.ID, "reject").click()
    assert notice(browser) == "Antwort mit Notiz zurückgegeben."
    assert "lead zurückgewiesen" in audit_text(browser)
    assert "Bitte persönlicher formulieren." in audit_text(browser)

    browser.get(demo_site.url + "/")
    press(browser, "j", "x", "j", "j", "x", "k")
    assert browser.find_element(By.ID, "bulk-count").text == "Auswahl (x): 2"
    save_screenshot(browser, "queue")
