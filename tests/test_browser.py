"""``kbsearch serve`` in a real browser: headless Chromium (the Debian
packages ``chromium`` and ``chromium-driver``) driven by Selenium.

Skipped, saying why, where Chromium or its driver is missing, unless
``KBSEARCH_REQUIRE_BROWSER=1`` (set by ``.ci/run`` once it has installed
them), which makes a missing browser a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from .test_search import _kb_article
from .test_webapp import _start

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _browser(javascript: bool = True):
    missing = [p for p in (CHROMIUM, DRIVER) if not os.path.exists(p)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package")
    if missing:
        why = f"browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("KBSEARCH_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,900"):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.binary_location = CHROMIUM
    return webdriver.Chrome(options=options, service=Service(DRIVER))


@pytest.fixture
def server(tmp_path, seed_dir):
    """A server over the two seed articles and one article that cites Q168845."""
    (seed_dir / "Q700900.TXT").write_text(_kb_article(700900, "Event 3031 Fills the System Log on Logon Servers", {
        "SYMPTOMS": "The System log on a logon server fills with event 3031 entries.",
        "MORE INFORMATION": "For more information, see the following article in the Microsoft Knowledge Base:\n\n"
                            "   Q168845 Windows NT SMS Clients Produce NT Event 3031"}))
    ix = tmp_path / "index"
    subprocess.run([sys.executable, "-m", "kbsearch", "index", str(seed_dir), "--index", str(ix), "-q"], check=True)
    proc, url, err = _start(["--index", str(ix)], tmp_path)
    yield url
    proc.terminate()
    proc.wait(10)


def test_search_open_an_article_and_follow_a_citation(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _browser()
    wait = WebDriverWait(browser, 15)
    try:
        browser.get(server)
        box = browser.find_element(By.NAME, "q")
        assert browser.switch_to.active_element == box  # the box has the focus
        box.send_keys("redirector unable to delete", Keys.ENTER)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".hit-title")))
        assert "q=redirector+unable+to+delete" in browser.current_url
        hits = browser.find_elements(By.CSS_SELECTOR, ".hit-title")
        assert hits[0].text.startswith("Q168845")
        assert browser.find_element(By.CSS_SELECTOR, ".hit mark").text.lower() in {"redirector", "unable", "delete"}
        browser.save_screenshot(str(tmp_path / "search.png"))

        hits[0].click()
        wait.until(ec.url_contains("/article/Q168845"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "Windows NT SMS Clients Produce NT Event 3031"
        assert [h.text for h in browser.find_elements(By.CSS_SELECTOR, "article h2")][:2] == ["Symptoms", "Cause"]
        assert "The redirector was unable to delete" in browser.find_element(By.CSS_SELECTOR, "article pre").text
        browser.save_screenshot(str(tmp_path / "article.png"))

        browser.find_element(By.CSS_SELECTOR, "#cited-by a").click()
        wait.until(ec.url_contains("/article/Q700900"))
        assert "Event 3031 Fills the System Log" in browser.find_element(By.TAG_NAME, "h1").text
        # ... and back through the link in its text.
        browser.find_element(By.LINK_TEXT, "Q168845").click()
        wait.until(ec.url_contains("/article/Q168845"))
        browser.save_screenshot(str(tmp_path / "followed.png"))
    finally:
        browser.quit()
    for name in ("search.png", "article.png", "followed.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_results_follow_typing_and_the_page_works_without_script(server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _browser()
    try:
        browser.get(server)
        browser.find_element(By.NAME, "q").send_keys("client.lkp win32 error")  # no Enter
        WebDriverWait(browser, 15).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, ".hit-title") and "q=client.lkp" in b.current_url)
        assert browser.find_elements(By.CSS_SELECTOR, ".hit-title")[0].text.startswith("Q280515")
        # "/" jumps back to the box.
        browser.find_element(By.TAG_NAME, "body").send_keys("/")
        assert browser.switch_to.active_element.get_attribute("name") == "q"
    finally:
        browser.quit()
    # Without JavaScript: the form submits, the server's HTML has everything.
    from selenium.webdriver.common.keys import Keys

    browser = _browser(javascript=False)
    try:
        browser.get(server)
        box = browser.find_element(By.NAME, "q")
        box.send_keys("redirector unable to delete")
        time.sleep(1.5)  # with scripts on, results would have followed the typing by now
        assert browser.current_url == server and not browser.find_elements(By.CSS_SELECTOR, ".hit-title")
        box.send_keys(Keys.ENTER)
        WebDriverWait(browser, 15).until(lambda b: "q=redirector" in b.current_url)
        assert browser.find_elements(By.CSS_SELECTOR, ".hit-title")[0].text.startswith("Q168845")
    finally:
        browser.quit()
