"""Shared by the browser tests: Debian's ``chromium`` driven by Playwright. Import the fixtures
(``browser``, ``page``) and ``BROWSER_MARKS`` into a test module."""
import os
import shutil

import pytest

CHROMIUM = os.environ.get("DOPPEL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_MARKS = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM, reason="no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)"),
]


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an asyncio loop on this thread; the test's own database calls
    # are still synchronous, so tell Django not to refuse them.
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # for this module only: removed below
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()
