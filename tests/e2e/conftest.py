"""Shared pieces of the browser tests: Debian's chromium through Playwright, the admin app on a free port."""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Iterator

import pytest

from scripts.live import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def admin_server(config: dict) -> Iterator[str]:
    """The admin app (``create_app(config)``) served on a free local port; yields its base URL."""
    from werkzeug.serving import make_server

    from bot.admin import create_app

    server = make_server("127.0.0.1", free_port(), create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium through Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: apt-get install -y chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def widget_ready(page) -> None:
    """Wait until the widget on the demo page is open and connected."""
    page.wait_for_selector("#mb-panel:not([hidden])")
    page.wait_for_function(
        "() => { const r = document.querySelector('#mandatbot-widget').shadowRoot;"
        " return r.querySelector('.mb-status').textContent === '' && !r.querySelector('#mb-input').disabled; }")


def widget_ask(page, question: str) -> None:
    """Type ``question`` in the widget and wait for a new card (an answer or "no answer") and the end of typing."""
    cards = page.locator("article.mb-card").count()
    page.fill("#mb-input", question)
    page.press("#mb-input", "Enter")
    page.wait_for_function(
        "n => document.querySelector('#mandatbot-widget').shadowRoot.querySelectorAll('article.mb-card').length > n",
        arg=cards)
    page.wait_for_selector(".mb-typing[hidden]", state="attached")
