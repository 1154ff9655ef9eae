"""Every template obeys the Content-Security-Policy: no inline script, no inline handler,
no inline style (they would be blocked in the browser, or need a weaker policy)."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>")
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def project_templates() -> list[Path]:
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += [
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(settings.BASE_DIR)
    ]
    return sorted({p for root in roots if root.is_dir() for p in root.rglob("*.html")})


def test_there_are_templates_to_scan():
    names = {p.name for p in project_templates()}
    assert {"base.html", "login.html", "error.html"} <= names


@pytest.mark.parametrize(
    "template", project_templates(), ids=lambda p: str(p.relative_to(settings.BASE_DIR))
)
def test_template_has_no_inline_script_handler_or_style(template: Path):
    text = template.read_text()
    problems = [
        f"{label}: {match.group(0).strip()!r}"
        for label, pattern in (
            ("inline <script>", INLINE_SCRIPT),
            ("inline event handler", EVENT_HANDLER),
            ("style attribute", STYLE_ATTRIBUTE),
        )
        for match in pattern.finditer(text)
    ]
    assert not problems, f"{template}: {problems}"


@pytest.mark.parametrize(
    ("snippet", "caught"),
    [
        ("<script>alert(1)</script>", True),
        ('<script defer src="/static/js/app.js"></script>', False),
        ('<script type="application/json" id="data">{}</script>', False),
        ('<button onclick="go()">', True),
        ('<div style="color:red">', True),
        ('<div data-style="x" class="onclick">', False),
    ],
)
def test_the_scanner_catches_what_it_should(snippet, caught):
    found = any(p.search(snippet) for p in (INLINE_SCRIPT, EVENT_HANDLER, STYLE_ATTRIBUTE))
    assert found is caught
