"""Browser fixtures: Playwright driving Debian's chromium against pytest-django's live server.

Never a downloaded browser: the executable is /usr/bin/chromium (scripts/ensure-chromium
installs it). A missing browser fails these tests rather than skipping them.
"""

import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
E2E_PASSWORD = "e2e-password-only-for-tests"


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        pytest.fail("chromium is not installed: run scripts/ensure-chromium")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator["object"]:
    """One browser per test module.

    Playwright's sync API keeps an event loop in this thread while it runs, and Django
    refuses ORM calls next to a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set;
    the ORM calls here are ordinary blocking calls of the test thread. The variable is
    set only while the browser is open, so no other test (the deploy checks refuse it)
    sees it.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator["object"]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_url(live_server):
    """live_url("/orders/") -> absolute URL on the live server."""

    def _url(path: str) -> str:
        return live_server.url + path

    return _url


@pytest.fixture
def login(live_server):
    """login(page, user): log in through the real login form; the user's password is
    set to E2E_PASSWORD first."""

    def _login(page, user) -> None:
        user.set_password(E2E_PASSWORD)
        user.save(update_fields=["password"])
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", user.get_username())
        page.fill("#id_password", E2E_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Log out")

    return _login


@pytest.fixture
def roles(transactional_db) -> None:
    """Transactional tests flush the tables; the role groups come back from their migration."""
    from tests.conftest import ensure_roles

    ensure_roles()


@pytest.fixture
def problems(page) -> list[str]:
    """Console errors (a CSP refusal shows as one) and uncaught script errors of `page`."""
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and "favicon" not in (msg.location or {}).get("url", "")
            and seen.append(msg.text)
        ),
    )
    page.on("pageerror", lambda exc: seen.append(str(exc)))
    return seen
