"""A real server with the demo hub, and Debian's Chromium driven by Playwright.

Chromium comes from Debian (``apt-get install chromium``); Playwright never downloads a browser.
Without Chromium these tests are skipped locally, and fail on CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ON_CI, backend, fresh_postgres_database

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("HUB_SCREENSHOT_DIR", "screenshots"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``hubkeeper demo`` on a free port: the command the README gives people, on the test backend."""
    with ExitStack() as cleanup:
        command = [sys.executable, "-m", "hub", "demo"]
        if backend() == "postgresql":
            command += ["--database-url", cleanup.enter_context(fresh_postgres_database())]
        else:
            command += ["--database", str(tmp_path_factory.mktemp("browser") / "demo.sqlite3")]
        yield from _serve(command, tmp_path_factory.getbasetemp() / "server.log")


def _serve(command: list[str], log_path: Path) -> Iterator[str]:
    port = _free_port()
    log = log_path.open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    process = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        # The demo seeds a month of café sales and a dozen tenancies: allow for a loaded CI machine.
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"demo server did not start; see {log.name}")
            time.sleep(0.25)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


# Module scope: Playwright's sync API holds an event loop on the main thread while it runs, which
# would break later tests that call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if ON_CI:
            pytest.fail("playwright is not installed")
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def accessibility_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2 A/AA checks on the current page (axe ships inside the PyPI package)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"],
    }
    results = Axe().run(page, options=options)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]
