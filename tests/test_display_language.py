"""One display language on every page and in every export.

A world is seeded with amounts whose sums and differences carry more places than two
(what SQLite's and PostgreSQL's aggregates hand back), amounts over a thousand, and rows
in every status and type the registry of backoffice.badges knows. The configured zone is
set to one whose offset is not a whole number of hours (Asia/Kathmandu, +05:45), so no
local time of any row can read like the UTC time of another.

Then every page an Admin can GET (the URL patterns, iterated) and every export (CSV and
XLSX) is read, and fails on:
- a number with three or more decimals in what a person reads;
- a time written in UTC (the UTC reading of any instant the world was built around), or
  with an offset, "Z", "UTC", a "T" between date and time, microseconds, or another
  format ("Dec. 1, 2026", "2 p.m.");
- a raw stored value (`awaiting_approval`, `topup`, `order.delivered`) where its label
  belongs;
- money of 1,000 or more without its thousands separator;
- in exports: money, booleans and dates written as text instead of typed cells, money
  headers without their currency, empty or repeated headers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from backoffice import badges
from backoffice.display import format_datetime, format_money
from backoffice.lists import list_pages
from backoffice.tables import BaseTable, MoneyColumn
from tests.conftest import make_user
from tests.dashboard import builders as b
from tests.test_url_permissions import EXPECTED, SAMPLES, project_urls
from tests.wallet.factories import LedgerEntryFactory
from wallet.models import LedgerEntry

pytestmark = pytest.mark.django_db

ZONE = "Asia/Kathmandu"
LONG_DECIMAL = re.compile(r"\d\.\d{3,}")
UTC_MARK = re.compile(r"\d{2}:\d{2}(:\d{2})?(\.\d+)?(\+00:00|Z\b| UTC\b)")
OTHER_TIME_FORMATS = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"  # ISO with a T
    r"|\d{2}:\d{2}:\d{2}\.\d"  # microseconds
    r"|\b\d{1,2}(:\d{2})? ?[ap]\.m\."  # "2:06 p.m."
    r"|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"
    r"|\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{4}"
)
# An amount of 1,000 or more written without its separator: 1234.50
UNSEPARATED_MONEY = re.compile(r"(?<![\d,.\w-])-?\d{4,}\.\d{2}(?![\d.])")
# Tags whose text is not prose: code and identifiers, scripts, form values.
NOT_PROSE = {"script", "style", "code", "pre", "textarea"}

# The instants the world is built around (besides "now"): seconds and microseconds on.
INSTANTS = [
    dt.datetime(2026, 7, 14, 9, 41, 27, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 30, 23, 58, 3, 654321, tzinfo=dt.UTC),
]


class _Text(HTMLParser):
    """The text nodes a person reads (not inside code, scripts or form values)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.nodes: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in NOT_PROSE:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in NOT_PROSE and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.nodes.append(data.strip())


def text_nodes(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


def raw_values() -> dict[str, str]:
    """Every stored value whose label differs from it, with the key it belongs to. A
    value that is also an ordinary word of the pages is left out ("none": "no axes")."""
    found: dict[str, str] = {}
    for key in badges.REGISTRY:
        for value, label in badges.labels(key).items():
            if value and value != label and value not in {"none"}:
                found.setdefault(value, key)
    return found


def raw_value_problems(cells: list[str], raw: dict[str, str]) -> list[str]:
    problems = []
    for text in cells:
        if text in raw:
            problems.append(f"raw {raw[text]} value {text!r}")
            continue
        for value in raw:
            if ("_" in value or "." in value) and re.search(
                rf"(?<![\w.:/-]){re.escape(value)}(?![\w:/-]|\.\w)", text
            ):
                problems.append(f"raw {raw[value]} value {value!r} in {text!r}")
    return problems


def utc_readings(start: dt.datetime, end: dt.datetime) -> set[str]:
    """How the instants of the world would read in UTC, to the minute: every minute the
    test ran, and the fixed instants, each also hours and days before (what the
    builders' `ago=` offsets make). A reading that is also how one of those instants
    reads in ZONE proves nothing and is left out: in a run during minute :43, 23:58 UTC
    (a fixed instant) reads 05:43 in ZONE, which is also a run minute 19 hours back."""
    minutes = []
    moment = start.replace(second=0, microsecond=0)
    while moment <= end:
        minutes.append(moment)
        moment += dt.timedelta(minutes=1)
    zone = zoneinfo.ZoneInfo(ZONE)
    readings, local_readings = set(), set()
    for base in [*minutes, *INSTANTS]:
        for offset in [dt.timedelta(hours=h) for h in range(0, 73)] + [
            dt.timedelta(days=d) for d in range(0, 61)
        ]:
            instant = base - offset
            readings.add(f"{instant.astimezone(dt.UTC):%Y-%m-%d %H:%M}")
            local_readings.add(f"{instant.astimezone(zone):%Y-%m-%d %H:%M}")
    return readings - local_readings


def text_problems(nodes: list[str], utc: set[str], raw: dict[str, str]) -> list[str]:
    text = "\n".join(nodes)
    problems = [f"long decimal {m!r}" for m in LONG_DECIMAL.findall(text)]
    problems += [f"UTC mark in {m.group(0)!r}" for m in UTC_MARK.finditer(text)]
    problems += [f"other time format {m.group(0)!r}" for m in OTHER_TIME_FORMATS.finditer(text)]
    problems += [f"money without separator {m!r}" for m in UNSEPARATED_MONEY.findall(text)]
    problems += [
        f"UTC time {m!r}" for m in re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text) if m in utc
    ]
    problems += raw_value_problems(nodes, raw)
    return problems


# --- the world


def _at(model: Any, pk: int, **instants: dt.datetime) -> None:
    model.objects.filter(pk=pk).update(**instants)


@pytest.fixture
def world(settings) -> Iterator[dict[str, Any]]:
    """Rows of every kind, odd amounts, every status; and the moment it was built."""
    from backoffice import crypto
    from backoffice.upstream_models import DriftObservation
    from catalog.models import PricingRule, SyncRun
    from channel.models import CallbackDelivery, Fulfilment
    from channel.services import client_create
    from notifications.models import Notification, NotificationKind
    from orders.models import (
        LicenceKey,
        PurchaseOrder,
        PurchaseOrderEvent,
        PurchaseOrderLine,
        UnexpectedKey,
    )
    from tests.catalog.factories import CombinationFactory, PricingRuleFactory
    from tests.orders.factories import CustomerFactory
    from tests.webhooks.factories import WebhookEndpointFactory, WebhookEventFactory
    from webhooks.models import WebhookEndpoint, WebhookEvent

    settings.TIME_ZONE = ZONE
    settings.LOW_BALANCE_THRESHOLD = Decimal("100000.00")
    start = timezone.now()
    first, second = INSTANTS

    # Wallet: sums with many places in SQLite, amounts over a thousand, every type
    # (and one upstream added that nobody labelled yet).
    balance = Decimal("12345.67")
    for index, (kind, amount) in enumerate(
        [
            ("order", "-186.03"),
            ("order", "-0.01"),
            ("order", "-1234.57"),
            ("topup", "1500.10"),
            ("refund", "33.33"),
            ("adjustment", "-2000.01"),
            ("price_correction", "-0.07"),
        ]
    ):
        balance += Decimal(amount)
        entry = LedgerEntryFactory(type=kind, amount=Decimal(amount), balance_after=balance)
        _at(LedgerEntry, entry.pk, created_at=first + dt.timedelta(minutes=index))
    b.gap(amount="-1069.80")
    b.gap(amount="-0.30", status="closed")
    b.snapshot("12345.67")

    # Orders: one PO in every status, over a thousand, with lines, events and keys.
    customer = CustomerFactory()
    combo = CombinationFactory(net_price=Decimal("1234.56"), price=Decimal("1500.00"))
    pos = {}
    for status in PurchaseOrder.Status.values:
        po = b.po(status, total=Decimal("1234.50"), customer=customer)
        PurchaseOrderLine.objects.create(
            purchase_order=po,
            combination=combo,
            order_sku=combo.order_sku,
            name="Office suite",
            quantity=1,
            unit_net_price=Decimal("1234.50"),
        )
        PurchaseOrderEvent.objects.create(
            purchase_order=po, from_status="queued", to_status=status, actor_label="worker"
        )
        _at(PurchaseOrder, po.pk, created_at=second, confirmed_at=second, approved_at=second)
        pos[status] = po
    imported = b.po("delivered", total=Decimal("4321.09"), source="imported")
    delivered = pos["delivered"]
    for n, source in enumerate(LicenceKey.Source.values):
        clear = f"DISP{n}-AAAAA-BBBBB-CCCCC"
        key = LicenceKey.objects.create(
            purchase_order=delivered,
            order_sku=combo.order_sku,
            **crypto.key_columns(clear),
            source=source,
            customer=customer if n % 2 else None,
        )
        _at(LicenceKey, key.pk, received_at=first, emailed_at=second if n % 2 else None)
    for n, (reason, decision) in enumerate(
        zip(UnexpectedKey.Reason.values, ["", "kept"], strict=True)
    ):
        clear = f"UNEX{n}-AAAAA-BBBBB-CCCCC"
        UnexpectedKey.objects.create(
            purchase_order=delivered,
            order_sku="NOT-ORDERED",
            reason=reason,
            decision=decision,
            **crypto.key_columns(clear),
            source=LicenceKey.Source.WEBHOOK,
        )

    # Catalog: syncs in every status and trigger, rules of every scope, price changes.
    for status in SyncRun.Status.values:
        run = b.sync_run(status)
        _at(SyncRun, run.pk, started_at=first, finished_at=second)
    b.quarantined_sync_run(refs=["p-1"], ago=dt.timedelta(hours=2))
    for scope, kind, target in [
        ("default", PricingRule.Kind.MARKUP_PERCENT, {}),
        ("category", PricingRule.Kind.MARKUP_AMOUNT, {"category": combo.product.category}),
        ("brand", PricingRule.Kind.MARKUP_PERCENT, {"brand": combo.product.brand}),
        ("product", PricingRule.Kind.FIXED_PRICE, {"product": combo.product}),
    ]:
        rule = PricingRuleFactory(scope=scope, kind=kind, value=Decimal("1234.50"), **target)
    b.price_change(combo, old_net="1229.56", old_margin="1000.01", new_margin_percent="3.33")
    for kind in DriftObservation.Kind.values:
        DriftObservation.objects.create(
            endpoint="GET /api/products",
            kind=kind,
            field=f"field_{kind}",
            count=1234,
            example=1.5,
            first_seen_at=first,
            last_seen_at=second,
        )

    # Webhooks: events in every status, of each known type and one nobody labelled.
    for n, status in enumerate(WebhookEvent.Status.values):
        event = WebhookEventFactory(
            status=status,
            type=WebhookEvent.KNOWN_TYPES[n % 2] if n < 5 else "invoice.issued",
            purchase_order=delivered,
        )
        _at(WebhookEvent, event.pk, received_at=first, occurred_at=first, processed_at=second)
    for status in WebhookEndpoint.Status.values:
        WebhookEndpointFactory(status=status)

    # Notifications of every kind and e-mail state for the Admin who reads the pages.
    admin = make_user("display-admin", "Admin")
    for kind, state in zip(
        NotificationKind.values,
        [*Notification.EmailState.values, "sent", "failed"],
        strict=True,
    ):
        Notification.objects.create(
            recipient=admin,
            kind=kind,
            dedupe_key=f"display-{kind}",
            title=f"About {format_money(Decimal('1234.5'), 'EUR')}",
            link="/",
            email_state=state,
        )

    # Sales channel: a client with fulfilments in every state and callbacks.
    client = client_create(
        name="Display shop",
        daily_spend_cap=Decimal("12345.00"),
        order_spend_cap=Decimal("1500.00"),
        approval_threshold=Decimal("1000.00"),
    ).client
    for state in Fulfilment.State.values:
        fulfilment = Fulfilment.objects.create(
            client=client,
            idempotency_key=f"display-{state}",
            request_hash="0" * 64,
            shop_order_id=f"shop-{state}",
            customer=customer,
            cost_total=Decimal("1234.56"),
            paid_total=Decimal("1500.00"),
            answer_status=202,
            state=state,
        )
    for status in CallbackDelivery.Status.values:
        CallbackDelivery.objects.create(
            client=client,
            fulfilment=fulfilment,
            msg_id=f"msg_{uuid.uuid4().hex}",
            event_type="fulfilment.delivered",
            payload={},
            status=status,
        )

    yield {
        "admin": admin,
        "start": start,
        "samples": {
            "orders:po_edit": {"pk": pos["draft"].pk},  # only a draft is edited
            "orders:po_": {"pk": delivered.pk},
            "orders:customer_": {"pk": customer.pk},
            "webhooks:event_": {"pk": WebhookEvent.objects.get(status="failed").pk},
            "catalog:product_detail": {"sku": combo.product.sku},
            "channel:client_": {"pk": client.pk},
            "catalog:rule_": {"pk": rule.pk},
        },
        "imported": imported,
    }


def _admin_get_pages() -> list[str]:
    """Every URL an Admin opens with GET and that answers a page (not an action)."""
    return sorted(
        name
        for name, rule in EXPECTED.items()
        if name in project_urls()
        and rule.perms
        and rule.ok == 200
        and name != "orders:customer_keys_export"
    )


def _kwargs(url_name: str, world: dict[str, Any], built: dict[str, Any]) -> dict[str, Any]:
    if "<" not in project_urls()[url_name]:
        return {}
    for prefix, kwargs in world["samples"].items():
        if url_name.startswith(prefix):
            return dict(kwargs)
    builder = SAMPLES[url_name]
    if builder not in built:  # one object per kind, shared by its pages
        built[builder] = builder()
    return dict(built[builder])


def test_every_page_speaks_the_display_language(world):
    client = Client()
    client.force_login(world["admin"])
    raw = raw_values()
    built: dict[str, Any] = {}
    problems, full_pages = [], 0
    pages = _admin_get_pages()
    for url_name in pages:
        url = reverse(url_name, kwargs=_kwargs(url_name, world, built))
        response = client.get(url)
        assert response.status_code == 200, url_name
        html = response.content.decode()
        if "</footer>" in html:
            full_pages += 1
            assert f"Times in {ZONE}" in html, url_name
        utc = utc_readings(world["start"], timezone.now())
        problems += [f"{url_name}: {p}" for p in text_problems(text_nodes(html), utc, raw)]
    assert len(pages) > 40 and full_pages > 30  # the iteration found the site
    assert not problems, "\n".join(problems)


def test_the_checks_catch_what_they_look_for():
    """Each check fails on the mistake it exists for (and not on the right form)."""
    raw = raw_values()
    now = timezone.now()
    utc = utc_readings(now, now)
    wrong = [
        "-186.030000000000",
        f"{now.astimezone(dt.UTC):%Y-%m-%d %H:%M}",
        "2026-12-01 14:06+00:00",
        "1 Dec 2026, 2:06 p.m.",
        "2026-12-01T14:06:00",
        "awaiting_approval",
        "topup",
        "Event order.delivered arrived",
        "1234.50 EUR",
    ]
    for text in wrong:
        assert text_problems([text], utc, raw), text
    with timezone.override(ZONE):
        right = [
            format_money(Decimal("-186.03"), "EUR"),
            format_money(Decimal("1234.5"), "EUR"),
            format_datetime(now),
            badges.label("orders.PurchaseOrder.status", "awaiting_approval"),
            badges.label("wallet.LedgerEntry.type", "topup"),
            "Order delivered",
        ]
    assert not text_problems(right, utc, raw), right


# --- exports

NUMBER_AS_TEXT = re.compile(r"^-?[\d,]*\d\.\d+( [A-Z]{3})?$|^€")
BOOL_AS_TEXT = {"TRUE", "FALSE", "True", "False", "yes", "no", "Yes", "No"}
DATE_AS_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}")
MONEY_WITH_CURRENCY = re.compile(r"^-?[\d,]+\.\d{2} ?[A-Z]{3}$|€")


def _exports() -> list[tuple[str, type[BaseTable]]]:
    return sorted(
        (name, view.table_class) for name, view in list_pages().items() if view.export_filename
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, dt.datetime | dt.date):
        return "datetime"
    return "text"


def test_every_export_writes_typed_cells_in_the_configured_zone(world):
    client = Client()
    client.force_login(world["admin"])
    raw = raw_values()
    exports = _exports()
    assert {name for name, _ in exports} >= {
        "catalog:product_list",
        "orders:po_list",
        "wallet:ledger",
    }
    problems: list[str] = []
    kinds_seen: set[str] = set()
    for url_name, table_class in exports:
        url = reverse(url_name)
        money_headers = {
            column.header
            for column in table_class(table_class._meta.model.objects.none()).export_columns()
            if column.money
        }
        # XLSX: typed cells, one kind per column; money columns numbers.
        response = client.post(url, {"_export": "xlsx"})
        assert response.status_code == 200, url_name
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        header, body = rows[0], rows[1:]
        assert body, f"{url_name}: the world gives the export rows"
        assert all(header) and len(set(header)) == len(header), (url_name, header)
        for title in money_headers:
            assert title.endswith("(EUR)"), (url_name, title)
        utc = utc_readings(world["start"], timezone.now())
        for index, title in enumerate(header):
            column = [row[index] for row in body if row[index] not in (None, "")]
            kinds = {_kind(value) for value in column}
            kinds_seen |= kinds
            if len(kinds) > 1:
                problems.append(f"{url_name} xlsx {title}: mixed cells {kinds}")
            if title in money_headers and kinds - {"number"}:
                problems.append(f"{url_name} xlsx {title}: money not a number")
            for value in column:
                if isinstance(value, str):
                    if NUMBER_AS_TEXT.search(value) or value in BOOL_AS_TEXT:
                        problems.append(f"{url_name} xlsx {title}: {value!r} as text")
                    if DATE_AS_TEXT.match(value):
                        problems.append(f"{url_name} xlsx {title}: date {value!r} as text")
                    problems += [
                        f"{url_name} xlsx {title}: {p}" for p in raw_value_problems([value], raw)
                    ]
                if isinstance(value, dt.datetime) and f"{value:%Y-%m-%d %H:%M}" in utc:
                    problems.append(f"{url_name} xlsx {title}: UTC time {value}")
                if isinstance(value, float) and title in money_headers and round(value, 2) != value:
                    problems.append(f"{url_name} xlsx {title}: {value} has more than two places")
        # CSV: the same columns; plain numbers, local times to the second.
        response = client.post(url, {"_export": "csv"})
        assert response.status_code == 200, url_name
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        csv_rows = list(csv.reader(io.StringIO(text)))
        assert tuple(csv_rows[0]) == header, url_name
        for row in csv_rows[1:]:
            for title, cell in zip(header, row, strict=True):
                if re.fullmatch(r"-?\d+\.\d{3,}", cell) or MONEY_WITH_CURRENCY.search(cell):
                    problems.append(f"{url_name} csv {title}: {cell!r}")
                if OTHER_TIME_FORMATS.search(cell) or UTC_MARK.search(cell):
                    problems.append(f"{url_name} csv {title}: time {cell!r}")
                if re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", cell) and cell[:16] in utc:
                    problems.append(f"{url_name} csv {title}: UTC time {cell!r}")
                if title in money_headers and cell and not re.fullmatch(r"-?\d+\.\d{2}", cell):
                    problems.append(f"{url_name} csv {title}: money {cell!r}")
                problems += [
                    f"{url_name} csv {title}: {p}" for p in raw_value_problems([cell], raw)
                ]
    assert kinds_seen >= {"number", "bool", "datetime", "text"}, kinds_seen
    assert not problems, "\n".join(problems)


def test_the_key_export_writes_the_received_time_in_the_configured_zone(world):
    client = Client()
    client.force_login(world["admin"])
    customer = world["samples"]["orders:customer_"]["pk"]
    response = client.post(reverse("orders:customer_keys_export", args=[customer]))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response).decode("utf-8-sig"))))
    assert rows
    local = timezone.localtime(INSTANTS[0], timezone=dt.timezone(dt.timedelta(hours=5, minutes=45)))
    assert {row["Received"] for row in rows} == {f"{local:%Y-%m-%d %H:%M:%S}"}


def test_every_money_column_names_its_currency_in_the_export_header():
    found = 0
    for view in list_pages().values():
        table = view.table_class([])
        for bound in table.columns.iterall():
            if isinstance(bound.column, MoneyColumn):
                found += 1
        for column in table.export_columns():
            assert column.money == column.header.endswith(f"({MoneyColumn().currency})"), (
                view.table_class.__name__,
                column.header,
            )
    assert found >= 5


def test_ledger_totals_name_types_in_words(world, admin_client: Client):
    response = admin_client.get("/wallet/ledger/")
    labels = {row["label"] for row in response.context["totals"]}
    assert labels == {"Order", "Top-up", "Refund", "Adjustment", "Price correction"}
    body = response.content.decode()
    assert "1,500.10 EUR" in body  # the Top-up total
    assert 'class="badge text-bg-success" data-value="topup">Top-up<' in body


# --- the registry

PROJECT_APPS = {"backoffice", "catalog", "orders", "wallet", "webhooks", "channel", "notifications"}
# Audit actions are many and neutral: the default meaning (secondary) is theirs on purpose.
DEFAULT_MEANING_ON_PURPOSE = {"backoffice.AuditEvent.action"}


def test_every_status_and_type_field_is_in_the_registry_with_a_meaning_per_value():
    from django.apps import apps

    missing, unmapped = [], []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.concrete_fields:
            if not field.choices:
                continue
            key = f"{model._meta.label}.{field.name}"
            if key not in badges.REGISTRY:
                missing.append(key)
                continue
            kind = badges.REGISTRY[key]
            if key not in DEFAULT_MEANING_ON_PURPOSE:
                unmapped += [f"{key}={v}" for v in badges.labels(key) if v not in kind.meanings]
    assert not missing, missing
    assert not unmapped, unmapped
    for key, kind in badges.REGISTRY.items():
        assert set(kind.meanings.values()) <= set(badges.MEANINGS), key
        assert kind.default in badges.MEANINGS, key
        assert set(kind.meanings) <= set(badges.labels(key)), f"{key}: meanings of unknown values"


def test_a_value_nobody_labelled_is_humanised_in_a_neutral_badge():
    html = badges.badge("wallet.LedgerEntry.type", "price_correction")
    assert html == (
        '<span class="badge text-bg-secondary" data-value="price_correction">'
        "Price correction</span>"
    )
    assert badges.badge("orders.PurchaseOrder.status", "failed").startswith(
        '<span class="badge text-bg-danger"'
    )
