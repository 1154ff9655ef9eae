"""Every status and type a person reads: its human label and the colour of its badge.

The one registry of the back-office. A key names a model field, "app_label.Model.field";
its entry maps each stored value to a meaning:

    SUCCESS (done, fine)  WARNING (needs a look)  DANGER (went wrong)
    INFO (in progress)    SECONDARY (neutral)

The label is the field's choices label (`get_<field>_display`). A field stored without
choices (upstream may add values the mirror keeps as they are: ledger types, webhook
event types) names its labels in the entry: the model's choices class (`choices="Type"`)
or a plain mapping. A value nobody named is shown humanised ("price_update" ->
"Price update") as a neutral badge, never as the raw value.

Badges use Bootstrap's `text-bg-*` classes: each pairs its background with a text colour
that keeps WCAG AA contrast. Pages show them through one template filter
(`{{ po|badge:"status" }}`, backoffice.templatetags.display) and tables through one
column (`backoffice.tables.BadgeColumn`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString

SUCCESS = "success"
WARNING = "warning"
DANGER = "danger"
INFO = "info"
SECONDARY = "secondary"
MEANINGS = (SUCCESS, WARNING, DANGER, INFO, SECONDARY)


@dataclass(frozen=True)
class Kind:
    """One field's values: the meaning of each, and where its labels come from when
    the field has no choices of its own."""

    meanings: Mapping[str, str]
    choices: str = ""  # the model's TextChoices attribute holding the labels
    choices_class: str = ""  # or the import path of a TextChoices class elsewhere
    labels: Mapping[str, str] = field(default_factory=dict)
    default: str = SECONDARY


def _all(values: tuple[str, ...], meaning: str) -> dict[str, str]:
    return dict.fromkeys(values, meaning)


PO_STATUS = {
    "draft": SECONDARY,
    "awaiting_approval": WARNING,
    "queued": INFO,
    "submitting": INFO,
    "unknown": WARNING,
    "pending_delivery": INFO,
    "partially_delivered": INFO,
    "delivered": SUCCESS,
    "failed": DANGER,
    "cancelled": SECONDARY,
    "held": WARNING,
}

NOTIFICATION_KIND = {
    "approval_needed": WARNING,
    "po_problem": DANGER,
    "low_balance": WARNING,
    "ledger_gap": DANGER,
    "sync_failed": DANGER,
    "margin_drop": WARNING,
}

REGISTRY: dict[str, Kind] = {
    # --- orders
    "orders.PurchaseOrder.status": Kind(PO_STATUS),
    "orders.PurchaseOrder.source": Kind({"backoffice": SECONDARY, "imported": INFO}),
    "orders.LicenceKey.source": Kind(_all(("response", "webhook", "polling", "import"), SECONDARY)),
    "orders.UnexpectedKey.source": Kind(
        _all(("response", "webhook", "polling", "import"), SECONDARY)
    ),
    "orders.UnexpectedKey.decision": Kind({"": WARNING, "kept": SUCCESS, "dismissed": SECONDARY}),
    "orders.UnexpectedKey.reason": Kind({"unknown_sku": WARNING, "over_delivered": WARNING}),
    "orders.PurchaseOrderEvent.from_status": Kind(PO_STATUS, choices="purchase_order.Status"),
    "orders.PurchaseOrderEvent.to_status": Kind(PO_STATUS, choices="purchase_order.Status"),
    # --- catalog
    "catalog.SyncRun.status": Kind(
        {"running": INFO, "succeeded": SUCCESS, "failed": DANGER, "skipped": SECONDARY}
    ),
    "catalog.SyncRun.trigger": Kind(_all(("beat", "manual", "command"), SECONDARY)),
    "catalog.SyncRun.phase": Kind(
        {**_all(("starting", "listing", "details", "applying"), INFO), "done": SUCCESS}
    ),
    "catalog.PricingRule.scope": Kind(_all(("default", "category", "brand", "product"), SECONDARY)),
    "catalog.PricingRule.kind": Kind(
        _all(("markup_percent", "markup_amount", "fixed_price"), SECONDARY)
    ),
    "catalog.PricingRule.rounding": Kind(
        _all(("none", "to_99", "to_49_99", "to_whole"), SECONDARY)
    ),
    # --- wallet
    "wallet.LedgerEntry.type": Kind(
        {"topup": SUCCESS, "order": INFO, "refund": INFO, "adjustment": WARNING}, choices="Type"
    ),
    "wallet.LedgerEntry.source": Kind({"sync": SECONDARY, "import": INFO}),
    "wallet.Gap.kind": Kind({"missed": WARNING, "mismatch": DANGER}),
    "wallet.Gap.status": Kind({"open": DANGER, "closed": SUCCESS}),
    # --- webhooks
    "webhooks.WebhookEndpoint.status": Kind(
        {"active": SUCCESS, "retiring": WARNING, "deleted": SECONDARY}
    ),
    "webhooks.WebhookEvent.status": Kind(
        {
            "received": INFO,
            "processed": SUCCESS,
            "waiting": WARNING,
            "failed": DANGER,
            "ignored": SECONDARY,
            "foreign": WARNING,
        }
    ),
    "webhooks.WebhookEvent.type": Kind(
        _all(("order.delivered", "key.assigned"), SECONDARY),
        labels={
            "order.delivered": "Order delivered",
            "key.assigned": "Key assigned",
            "other": "Other (a type not applied)",
        },
    ),
    # --- notifications
    "notifications.Notification.kind": Kind(NOTIFICATION_KIND),
    "notifications.NotificationPreference.kind": Kind(NOTIFICATION_KIND),
    "notifications.Notification.email_state": Kind(
        {"not_wanted": SECONDARY, "pending": INFO, "sent": SUCCESS, "failed": DANGER}
    ),
    # --- upstream problems, audit, login throttle
    "backoffice.DriftObservation.kind": Kind(
        {"coercion": INFO, "unknown_field": WARNING, "missing_field": WARNING}
    ),
    "backoffice.QuarantinedRecord.source": Kind(
        {"catalog.sync": WARNING}, labels={"catalog.sync": "Catalog sync"}, default=WARNING
    ),
    "backoffice.AuditEvent.action": Kind({"login_failed": WARNING}),
    "backoffice.LoginThrottle.scope": Kind(_all(("pair", "address"), SECONDARY)),
    # --- sales channel
    "channel.Fulfilment.state": Kind(
        {"pending": INFO, "awaiting_approval": WARNING, "delivered": SUCCESS, "failed": DANGER}
    ),
    "channel.ApiClient.actions": Kind(
        _all(("offers:read", "fulfilments:write", "fulfilments:read"), SECONDARY),
        choices_class="channel.models.Action",
    ),
    "channel.CallbackDelivery.status": Kind(
        {"pending": INFO, "delivered": SUCCESS, "failed": DANGER}
    ),
}


def humanise(value: object) -> str:
    """A value nobody labelled, readable: "price_update" -> "Price update"."""
    text = str(value).replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:] if text else "—"


@cache
def labels(key: str) -> dict[str, str]:
    """Every known value of `key` and its label."""
    kind = REGISTRY[key]
    app_label, model_name, field_name = key.split(".")
    model = apps.get_model(app_label, model_name)
    found: dict[str, str] = {}
    if kind.choices_class:
        choices_class: Any = import_string(kind.choices_class)
        found.update({str(v): str(label) for v, label in choices_class.choices})
    elif kind.choices:
        # "Type" on the model itself, or "purchase_order.Status" on a related model.
        owner: Any = model
        *path, attribute = kind.choices.split(".")
        for step in path:
            owner = owner._meta.get_field(step).related_model
        found.update({str(v): str(label) for v, label in getattr(owner, attribute).choices})
    else:
        model_field = model._meta.get_field(field_name)
        found.update({str(v): str(label) for v, label in model_field.flatchoices})
    found.update(kind.labels)
    return found


def label(key: str, value: object) -> str:
    """The human label of one value of `key` (humanised when nobody named it)."""
    if value is None:
        return "—"
    text = str(value)
    return labels(key).get(text) or humanise(text)


def choices(key: str, values: Iterable[str]) -> Callable[[], list[tuple[str, str]]]:
    """Form choices of `values` with their labels, read when the form is built (a
    callable: the registry reads the models, so not at import time)."""
    return lambda: [(value, label(key, value)) for value in values]


def meaning(key: str, value: object) -> str:
    kind = REGISTRY[key]
    return kind.meanings.get("" if value is None else str(value), kind.default)


def badge(key: str, value: object) -> SafeString:
    """`<span class="badge text-bg-…" data-value="…">Label</span>` for one value."""
    return format_html(
        '<span class="badge text-bg-{}" data-value="{}">{}</span>',
        meaning(key, value),
        "" if value is None else value,
        label(key, value),
    )


def key_of(record: Any, field_name: str) -> str:
    """The registry key of a model row's field."""
    return f"{record._meta.label}.{field_name}"


def badge_for(record: Any, field_name: str) -> SafeString:
    """The badge of a model row's field: `badge_for(po, "status")`."""
    return badge(key_of(record, field_name), getattr(record, field_name))


def label_for(record: Any, field_name: str) -> str:
    return label(key_of(record, field_name), getattr(record, field_name))
