"""axe-core on every main page, and every main page at 375 px, with realistic data.

One browser and one login walk every page a staff user reaches from the navigation (plus
the login and 404 pages). axe-core (static/vendor/axe-core, run with its default rules:
WCAG 2 A and AA and best practices) must find no violation of any impact; at 375 px no
page may scroll sideways, and a table wider than the screen must scroll inside its own
box. axe is evaluated through the DevTools protocol, which the Content-Security-Policy
does not govern: the pages keep their own policy, unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.e2e import demo_state
from tests.e2e.conftest import E2E_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.BASE_DIR, "static", "vendor", "axe-core", "axe.min.js")
DESKTOP = {"width": 1400, "height": 900}
PHONE_WIDTH = 375
PHONE = {"width": PHONE_WIDTH, "height": 740}

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ') + '  ' + n.failureSummary.replace(/\\s+/g, ' ')),
  }));
}"""

# A table wider than its container (or the screen) must sit in a box that scrolls
# sideways and fits the screen: the table scrolls inside its card, never the card or page.
TABLES_THAT_WIDEN_THE_PAGE = """() => [...document.querySelectorAll('main table')]
  .filter((table) => {
    const width = table.getBoundingClientRect().width;
    return width > table.parentElement.clientWidth + 1
      || width > document.documentElement.clientWidth;
  })
  .filter((table) => {
    for (let box = table.parentElement; box && box !== document.body; box = box.parentElement) {
      const overflow = getComputedStyle(box).overflowX;
      if ((overflow === 'auto' || overflow === 'scroll')
          && box.getBoundingClientRect().width <= document.documentElement.clientWidth) {
        return false;
      }
    }
    return true;
  })
  .map((table) => table.id || table.className || 'table')"""


def axe_violations(page, axe_source: str) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate(RUN_AXE)


def settle(page) -> None:
    """Let htmx finish loading the parts a page fetches after load (live parts, previews)."""
    page.wait_for_load_state("networkidle")


def opened_parts(state) -> dict[str, Any]:
    """Parts a page loads on request (htmx), opened before the page is checked."""

    def search_the_catalog(page) -> None:
        page.fill("#combo-search", state.product_sku)
        page.wait_for_selector("#combo-result-table")

    def preview_the_rule(page) -> None:
        page.click("#rule-preview-button")
        page.wait_for_selector("#rule-preview > *")

    def reveal_a_key(page) -> None:
        page.locator("[data-reveal-key]").first.click()
        page.wait_for_selector(".key-revealed")

    return {
        f"/orders/{state.draft.pk}/edit/": search_the_catalog,
        f"/catalog/pricing-rules/{state.rule.pk}/edit/": preview_the_rule,
        f"/customers/{state.customer.pk}/": reveal_a_key,
    }


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for path, violations in found.items():
        for v in violations:
            lines.append(f"{path}: {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    {node}" for node in v["nodes"][:8])
    return "\n".join(lines)


@pytest.fixture
def state(sandbox, roles, settings):
    settings.LICENDI_MAX_RETRIES = 0
    return demo_state.build(sandbox=sandbox, staff_password=E2E_PASSWORD)


def test_every_main_page_passes_axe_and_fits_a_375_px_phone(browser, live_server, state):
    axe_source = AXE.read_text()
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations: dict[str, list[dict[str, Any]]] = {}
    too_wide: dict[str, int] = {}
    loose_tables: dict[str, list[str]] = {}

    def check(path: str) -> None:
        """The page is open at phone width: measure it, run axe, then again on a desktop."""
        settle(page)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > PHONE_WIDTH:
            too_wide[path] = width
        loose = page.evaluate(TABLES_THAT_WIDEN_THE_PAGE)
        if loose:
            loose_tables[path] = loose
        found = axe_violations(page, axe_source)  # the collapsed navigation, stacked forms
        if found:
            violations[f"{path} @{PHONE_WIDTH}"] = found
        page.set_viewport_size(DESKTOP)
        found = axe_violations(page, axe_source)
        if found:
            violations[path] = found
        page.set_viewport_size(PHONE)

    try:
        page.goto("/login/")
        check("/login/")
        page.fill("#id_username", state.staff.get_username())
        page.fill("#id_password", E2E_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)

        opened = opened_parts(state)
        for path in demo_state.pages(state):
            response = page.goto(path)
            expected = 404 if path == "/no-such-page/" else 200
            assert response is not None and response.status == expected, path
            if path in opened:
                settle(page)
                opened[path](page)
            check(path)
    finally:
        context.close()

    assert violations == {}, "axe-core violations:\n" + describe(violations)
    assert too_wide == {}, f"pages wider than {PHONE_WIDTH} px: {too_wide}"
    assert loose_tables == {}, f"tables that widen the page: {loose_tables}"
