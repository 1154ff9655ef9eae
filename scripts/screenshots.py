"""Write the README's screenshots to docs/screenshots/*.png.

    .venv/bin/python scripts/screenshots.py        (or: make screenshots)

Builds a realistic back-office in a database of its own (SQLite under var/screenshots/,
recreated on every run): a catalog synced from the in-process sandbox (seeded, so the same
products every time), pricing rules, wallet reads, purchase orders from draft to delivered
with their keys, a ledger gap, webhook events, a PO awaiting approval and its
notification (tests/e2e/demo_state.py, shared with the accessibility test). Then it serves
the site on a loopback port and drives Debian's chromium (/usr/bin/chromium, never a
downloaded browser) with Playwright, signed in as a user holding every role.

Nothing outside var/screenshots/ and docs/screenshots/ is written; no service (PostgreSQL,
Redis, a broker) is needed. Dates shown are those of the day it runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "screenshots"
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "screenshots-only-password"  # noqa: S105 - a throwaway local database
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 375, "height": 812}


def configure() -> None:
    """Django on the demo settings, pointed at a fresh SQLite file, tasks run in process."""
    sys.path.insert(0, str(ROOT))
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "backoffice.settings.dev"
    os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'db.sqlite3'}"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ["LICENDI_BASE_URL"] = "http://sandbox.test"
    os.environ["LICENDI_API_KEY"] = "sandbox-screenshots-key"
    os.environ["LICENDI_MAX_RETRIES"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"

    import logging

    import django
    from django.conf import settings

    django.setup()
    for name in ("", "werkzeug", "celery", "django.request"):
        logging.getLogger(name).setLevel(logging.ERROR)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

    from backoffice.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True

    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def seeded_identifiers() -> None:
    """Order ids and licence keys from a seeded generator, so every run shows the same ones
    (the sandbox draws them from the system's randomness, right for a long-lived server)."""
    import random

    from sandbox import ids

    rng = random.Random(7)  # noqa: S311 - demo identifiers, not secrets

    def order_id() -> str:
        return f"ord-{rng.getrandbits(24):06x}"

    def licence_key() -> str:
        chars = "".join(rng.choice(ids.KEY_ALPHABET) for _ in range(25))
        return "-".join(chars[i : i + 5] for i in range(0, 25, 5))

    ids.order_id = order_id
    ids.licence_key = licence_key


def serve():
    """The site on a free loopback port, in a thread of this process."""
    from django.core.wsgi import get_wsgi_application
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, get_wsgi_application(), threaded=True)
    threading.Thread(target=server.serve_forever, name="screenshots-http", daemon=True).start()
    return server


def shoot(page, path: str, name: str, *, viewport: dict[str, int]) -> None:
    page.set_viewport_size(viewport)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    # Charts draw with an animation; the page's own fonts and layout settle with it.
    page.wait_for_timeout(1200)
    target = OUT / f"{name}.png"
    page.screenshot(path=str(target), full_page=False)
    print(f"wrote {target.relative_to(ROOT)}")


def main() -> None:
    configure()

    from backoffice.upstream import use_transport
    from sandbox import Sandbox
    from tests.e2e import demo_state
    from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path

    seeded_identifiers()
    sandbox = Sandbox(products=120, seed=7, api_key=os.environ["LICENDI_API_KEY"])
    with use_transport(sandbox.transport()):
        state = demo_state.build(sandbox=sandbox, staff_password=PASSWORD)
        server = serve()
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("*.png"):
            old.unlink()

        from playwright.sync_api import sync_playwright

        # Playwright's sync API keeps an event loop in this thread; the ORM is no longer
        # used here (the server threads answer the browser).
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), args=CHROMIUM_ARGS
                )
                context = browser.new_context(
                    base_url=base, viewport=DESKTOP, device_scale_factor=1, locale="en-GB"
                )
                context.set_default_timeout(20_000)
                page = context.new_page()
                page.goto("/login/")
                page.fill("#id_username", state.staff.get_username())
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(lambda url: "/login/" not in url)

                desktop = [
                    ("/", "dashboard"),
                    ("/catalog/", "catalog"),
                    (f"/catalog/products/{state.product_sku}/", "product"),
                    (f"/orders/{state.draft.pk}/edit/", "po-builder"),
                    (f"/orders/{state.delivered.pk}/", "po-detail"),
                    (f"/customers/{state.customer.pk}/", "customer"),
                    ("/wallet/", "wallet"),
                    ("/wallet/ledger/", "ledger"),
                    ("/notifications/", "notifications"),
                ]
                for path, name in desktop:
                    shoot(page, path, name, viewport=DESKTOP)
                phone = [
                    ("/", "dashboard-375"),
                    ("/catalog/", "catalog-375"),
                    (f"/orders/{state.delivered.pk}/", "po-detail-375"),
                ]
                for path, name in phone:
                    shoot(page, path, name, viewport=PHONE)
                context.close()
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
