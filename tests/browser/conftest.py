"""A real server with the demo hub, and Debian's Chromium driven by Playwright.

Chromium comes from Debian (``apt-get install chromium``); Playwright never downloads a browser.
Without Chromium these tests are skipped locally, and fail on CI (CI=true).
"""

from __future__ import annotations

import contextlib
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
def server_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's demo server keeps its SQLite file, backups (``backups/``) and uploaded files
    (``data/``) here, never in the checkout's var/."""
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def live_server(server_folder: Path) -> Iterator[str]:
    """``hubkeeper demo`` on a free port: the command the README gives people, on the test backend."""
    with ExitStack() as cleanup:
        command = [sys.executable, "-m", "hub", "demo"]
        if backend() == "postgresql":
            command += ["--database-url", cleanup.enter_context(fresh_postgres_database())]
        else:
            command += ["--database", str(server_folder / "demo.sqlite3")]
        yield from _serve(
            command,
            server_folder / "server.log",
            {"HUB_BACKUP_DIR": str(server_folder / "backups"), "HUB_DATA_DIR": str(server_folder / "data")},
        )


def _serve(command: list[str], log_path: Path, settings: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``command`` (a server) on a free port until it answers /healthz. It sees none of this
    process's ``HUB_`` settings (the tests' own), only ``settings``."""
    port = _free_port()
    log = log_path.open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | (settings or {})
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
        yield _watched(browser)
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    _flush(context)
    context.close()


# -- the Content-Security-Policy is on in every browser test, and any violation fails the test ------

# What the page reports (the DOM's securitypolicyviolation event, in every frame, from the first
# byte: an init script runs before the page's own). Handed to Python at once, so a violation on a
# page the test then navigated away from is not lost.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  var seen = {directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI,
              page: document.location.href, source: e.sourceFile + ":" + e.lineNumber,
              sample: e.sample || ""};
  (window.__cspViolations = window.__cspViolations || []).push(seen);
  if (window.__hubCspViolation) window.__hubCspViolation(seen);
});
"""
CSP_VIOLATIONS: list[str] = []


def _ours(url: str) -> bool:
    """The hub's own pages (the live server); Stripe's frames answer to Stripe's policy."""
    return url.startswith(("http://127.0.0.1", "http://localhost")) or url in ("", "about:blank")


def _csp_safe_wait_for_function(page: Any) -> Any:
    """``page.wait_for_function`` that works under the hub's policy. Playwright's own compiles the
    expression inside the page with ``new Function``, which a policy without 'unsafe-eval' refuses
    (an EvalError, and a violation report that is the test driver's, not the hub's). This polls
    with ``page.evaluate`` instead, which the browser's debugging protocol runs outside the page's
    policy, as Playwright's other evaluations are. Same arguments and the same truthiness rule."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def wait_for_function(
        expression: str, *, arg: Any = None, timeout: float | None = None, polling: Any = None
    ) -> Any:
        interval = polling if isinstance(polling, (int, float)) else 50
        deadline = time.monotonic() + (timeout if timeout is not None else 10_000) / 1000
        while True:
            try:
                if page.evaluate(expression, arg):
                    return page.evaluate_handle(expression, arg)
            except PlaywrightError as error:  # the page navigated mid-evaluation: try again
                if "context was destroyed" not in str(error) and "navigat" not in str(error):
                    raise
            if time.monotonic() > deadline:
                raise PlaywrightTimeout(f"wait_for_function timed out: {expression}")
            page.wait_for_timeout(interval)

    page.wait_for_function = wait_for_function
    return page


def _watch(context: Any) -> Any:
    def violation(source: Any, seen: dict[str, Any]) -> None:
        if _ours(str(seen.get("page", ""))):
            CSP_VIOLATIONS.append(
                f"{seen.get('directive')} blocked {seen.get('blocked') or '(inline)'} on {seen.get('page')}"
                f" at {seen.get('source')} {seen.get('sample')!r}"
            )

    def console(message: Any) -> None:
        text = message.text
        url = str((message.location or {}).get("url", ""))
        if "Content Security Policy" in text and _ours(url):
            CSP_VIOLATIONS.append(f"console: {text} ({url})")

    context.expose_binding("__hubCspViolation", violation)
    context.add_init_script(script=_CSP_LISTENER)
    context.on("console", console)
    make_page = context.new_page

    def new_page(*args: Any, **kwargs: Any) -> Any:
        return _csp_safe_wait_for_function(make_page(*args, **kwargs))

    context.new_page = new_page
    return context


def _watched(browser: Any) -> Any:
    """Every context the tests make (``browser.new_context``/``new_page``) watches for violations."""
    make_context, make_page = browser.new_context, browser.new_page

    def new_context(*args: Any, **kwargs: Any) -> Any:
        return _watch(make_context(*args, **kwargs))

    def new_page(*args: Any, **kwargs: Any) -> Any:
        page = make_page(*args, **kwargs)
        _watch(page.context)
        return _csp_safe_wait_for_function(page)

    browser.new_context, browser.new_page = new_context, new_page
    return browser


def _flush(context: Any) -> None:
    """Let reports still on their way reach Python before the context closes."""
    for open_page in context.pages:
        with contextlib.suppress(Exception):  # a page that crashed or closed reports nothing more
            open_page.evaluate("() => (window.__cspViolations || []).length")


@pytest.fixture(autouse=True)
def no_csp_violations() -> Iterator[None]:
    """Fails the test (at teardown) if the Content-Security-Policy blocked anything on a page
    (including while a module's shared page was being set up before it)."""
    yield
    found = sorted(set(CSP_VIOLATIONS))
    CSP_VIOLATIONS.clear()
    if found:
        pytest.fail("Content-Security-Policy violations:\n  " + "\n  ".join(found), pytrace=False)


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
