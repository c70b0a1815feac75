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
