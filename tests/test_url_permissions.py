"""Every URL of the back-office, opened as anonymous and as each role.

`EXPECTED` holds one rule per URL name. A URL in the URLconf without a row fails
`test_every_url_has_a_rule`, so a new page cannot ship without deciding who may open it.

The rules:
- a protected URL: anonymous -> 302 to the login page; a user holding the permission
  -> `ok` (200 for a page; 405 on GET for a POST-only action); any other user -> 403.
  Every protected URL is also POSTed to (empty body) as anonymous (-> 302 to login) and as
  each user without the permission (-> 403): no form handler runs before the check.
- a public URL answers `ok` to everyone (login, logout (POST-only), healthz, the
  webhook receiver (POST-only, signed instead of logged in)).
- the Django admin (`admin:` namespace) is left out: it is Django's own, staff-only by
  its own checks; `test_the_django_admin_sends_anonymous_users_to_its_login` covers it.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from backoffice import permissions as p
from backoffice.permissions import ROLES
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LOGIN_PATH = "/login/"


@dataclass(frozen=True)
class Rule:
    perms: tuple[str, ...]  # empty: public
    ok: int = 200

    @property
    def public(self) -> bool:
        return not self.perms


def page(*perms: str) -> Rule:
    return Rule(perms)


def action(*perms: str) -> Rule:
    """POST-only: a GET by a permitted user answers 405."""
    return Rule(perms, ok=405)


def public(ok: int = 200) -> Rule:
    return Rule((), ok=ok)


EXPECTED: dict[str, Rule] = {
    # --- project level ---
    "home": page(p.VIEW),
    "login": public(200),
    "logout": public(405),  # Django's LogoutView is POST-only
    "healthz": public(200),
    "accounts_login": public(301),  # Django's default login address -> the login page
    "backoffice:audit_list": page(p.VIEW_AUDIT),
    "backoffice:upstream_problems": page(p.VIEW),
    "backoffice:drift_acknowledge": action(p.RUN_SYNCS),
    "backoffice:user_list": page(p.MANAGE_USERS),
    "backoffice:user_create": page(p.MANAGE_USERS),
    "backoffice:user_edit": page(p.MANAGE_USERS),
    "backoffice:user_deactivate": action(p.MANAGE_USERS),
    "backoffice:user_activate": action(p.MANAGE_USERS),
    "backoffice:lockout_list": page(p.MANAGE_USERS),
    "backoffice:lockout_lift": action(p.MANAGE_USERS),
    # --- home dashboard and notifications (every staff user: their own inbox) ---
    "dashboard_live": page(p.VIEW),
    "notifications:inbox": page(p.VIEW),
    "notifications:preferences": page(p.VIEW),
    "notifications:mark_read": action(p.VIEW),
    "notifications:open": action(p.VIEW),
    "notifications:mark_all_read": action(p.VIEW),
    # --- catalog ---
    "catalog:product_list": page(p.VIEW),
    "catalog:product_detail": page(p.VIEW),
    "catalog:price_changes": page(p.VIEW),
    "catalog:sync_runs": page(p.VIEW),
    "catalog:sync_live": page(p.VIEW),
    "catalog:sync_now": action(p.RUN_SYNCS),
    "catalog:sync_run_progress": page(p.VIEW),
    "catalog:rule_list": page(p.MANAGE_PRICING),
    "catalog:rule_create": page(p.MANAGE_PRICING),
    "catalog:rule_edit": page(p.MANAGE_PRICING),
    "catalog:rule_preview": action(p.MANAGE_PRICING),
    "catalog:rule_preview_edit": action(p.MANAGE_PRICING),
    "catalog:rule_delete": page(p.MANAGE_PRICING),  # GET shows the confirmation
    # --- orders, keys, customers ---
    "orders:po_list": page(p.VIEW),
    "orders:po_create": page(p.PLACE_ORDERS),
    "orders:po_sync": action(p.RUN_SYNCS),
    "orders:combination_search": page(p.PLACE_ORDERS),
    "orders:po_add_selected": page(p.PLACE_ORDERS),  # GET shows the selection, POST adds
    "orders:po_detail": page(p.VIEW),
    "orders:po_live": page(p.VIEW),
    "orders:po_edit": page(p.PLACE_ORDERS),
    "orders:po_line_set": action(p.PLACE_ORDERS),
    "orders:po_confirm": action(p.PLACE_ORDERS),
    "orders:po_reconfirm": action(p.PLACE_ORDERS),
    "orders:po_cancel": action(p.PLACE_ORDERS),
    "orders:po_approve": action(p.APPROVE_ORDERS),
    "orders:po_reject": action(p.APPROVE_ORDERS),
    "orders:po_check_upstream": action(p.PLACE_ORDERS),
    "orders:po_not_placed_request": action(p.PLACE_ORDERS),
    "orders:po_not_placed_approve": action(p.APPROVE_ORDERS),
    "orders:unexpected_key_decide": action(p.APPROVE_ORDERS),
    "orders:key_stock": page(p.VIEW),
    "orders:key_reveal": action(p.REVEAL_KEYS),
    "orders:key_copied": action(p.REVEAL_KEYS),
    "orders:key_assign": action(p.MANAGE_CUSTOMERS),
    "orders:keys_assign_selected": action(p.MANAGE_CUSTOMERS),
    "orders:customer_list": page(p.VIEW),
    "orders:customer_create": page(p.MANAGE_CUSTOMERS),
    "orders:customer_detail": page(p.VIEW),
    "orders:customer_edit": page(p.MANAGE_CUSTOMERS),
    "orders:customer_keys_export": action(p.REVEAL_KEYS),  # POST: audited per key
    "orders:customer_keys_email": action(p.REVEAL_KEYS),
    "orders:customer_keys_email_selected": action(p.REVEAL_KEYS),
    # --- wallet ---
    "wallet:overview": page(p.VIEW),
    "wallet:refresh": action(p.RUN_SYNCS),
    "wallet:ledger": page(p.VIEW_FINANCE),
    "wallet:gaps": page(p.VIEW_FINANCE),
    "wallet:statement_import": action(p.RUN_SYNCS),
    "wallet:reconciliation": page(p.VIEW_FINANCE),
    # --- webhooks ---
    "webhooks:receiver": public(405),  # POST-only, authenticated by its signature
    "webhooks:event_list": page(p.MANAGE_WEBHOOKS),
    "webhooks:event_detail": page(p.MANAGE_WEBHOOKS),
    "webhooks:event_reprocess": action(p.MANAGE_WEBHOOKS),
    "webhooks:events_reprocess": action(p.MANAGE_WEBHOOKS),
    "webhooks:endpoint_list": page(p.MANAGE_WEBHOOKS),
    "webhooks:endpoint_delete": action(p.MANAGE_WEBHOOKS),
    "webhooks:endpoint_rotate": action(p.MANAGE_WEBHOOKS),
    "webhooks:endpoint_rotate_finish": action(p.MANAGE_WEBHOOKS),
    "webhooks:endpoint_orphan_delete": action(p.MANAGE_WEBHOOKS),
    # --- sales channel: Admin pages, and the API (token-authenticated, never a session) ---
    "channel:client_list": page(p.MANAGE_USERS),
    "channel:client_detail": page(p.MANAGE_USERS),
    "channel:client_rotate": action(p.MANAGE_USERS),
    "channel:client_secret_rotate": action(p.MANAGE_USERS),
    "channel:client_revoke": action(p.MANAGE_USERS),
    "channel:client_calls": page(p.MANAGE_USERS),
    "channel:callback_resend": action(p.MANAGE_USERS),
    "channel_api:openapi-json": public(200),
    "channel_api:api-root": public(404),  # ninja's path anchor; nothing is served there
    "channel_api:offers": public(401),  # no token: 401, whoever is logged in
    "channel_api:fulfilments": public(405),  # POST-only
    "channel_api:fulfilment_get": public(401),
}

EXCLUDED_NAMESPACES = ("admin",)


# --- walking the URLconf --------------------------------------------------------------


def iter_url_patterns(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    """(qualified name, route, pattern) of every URL, through every include."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
            yield from iter_url_patterns(entry, route, inner)
        else:
            name = entry.name or f"<unnamed {route}>"
            yield (f"{namespace}:{name}" if namespace else name), route, entry


def project_urls() -> dict[str, str]:
    urls: dict[str, str] = {}
    for name, route, _ in iter_url_patterns(get_resolver()):
        if name.split(":", 1)[0] in EXCLUDED_NAMESPACES:
            continue
        urls.setdefault(name, route)
    return urls


# --- sample objects for URLs with arguments -------------------------------------------


def _user() -> dict[str, Any]:
    return {"pk": make_user("sample-target", "Viewer").pk}


def _lockout() -> dict[str, Any]:
    from django.utils import timezone

    from backoffice.models import LoginThrottle

    now = timezone.now()
    row = LoginThrottle.objects.create(
        scope=LoginThrottle.Scope.PAIR,
        username="sample-locked",
        ip_address="192.0.2.1",
        failures=99,
        first_failure_at=now,
        last_failure_at=now,
    )
    return {"pk": row.pk}


def _product() -> dict[str, Any]:
    from tests.catalog.factories import CombinationFactory

    return {"sku": CombinationFactory().product.sku}


def _sync_run() -> dict[str, Any]:
    from django.utils import timezone

    from catalog.models import SyncRun

    now = timezone.now()
    run = SyncRun.objects.create(
        started_at=now, finished_at=now, heartbeat_at=now, status="succeeded", trigger="beat"
    )
    return {"pk": run.pk}


def _pricing_rule() -> dict[str, Any]:
    from tests.catalog.factories import PricingRuleFactory

    return {"pk": PricingRuleFactory().pk}


def _draft_po() -> dict[str, Any]:
    from tests.orders.factories import DraftFactory

    return {"pk": DraftFactory().pk}


def _customer() -> dict[str, Any]:
    from tests.orders.factories import CustomerFactory

    return {"pk": CustomerFactory().pk}


SAMPLE_LICENCE_KEY = "QX7PL-9ZM4R-TV8WN-3YBH6"


def _licence_key() -> dict[str, Any]:
    from backoffice import crypto
    from orders.models import LicenceKey
    from tests.orders.factories import DraftFactory

    key = LicenceKey.objects.create(
        purchase_order=DraftFactory(),
        order_sku="SAMPLE-SKU",
        **crypto.key_columns(SAMPLE_LICENCE_KEY),
        source=LicenceKey.Source.RESPONSE,
    )
    return {"pk": key.pk}


def _unexpected_key() -> dict[str, Any]:
    from backoffice import crypto
    from orders.models import LicenceKey, UnexpectedKey
    from tests.orders.factories import DraftFactory

    key = UnexpectedKey.objects.create(
        purchase_order=DraftFactory(),
        order_sku="NOT-ORDERED",
        reason=UnexpectedKey.Reason.UNKNOWN_SKU,
        **crypto.key_columns(SAMPLE_LICENCE_KEY),
        source=LicenceKey.Source.WEBHOOK,
    )
    return {"pk": key.pk}


def _webhook_event() -> dict[str, Any]:
    from tests.webhooks.factories import WebhookEventFactory

    return {"pk": WebhookEventFactory().pk}


def _webhook_endpoint() -> dict[str, Any]:
    from tests.webhooks.factories import WebhookEndpointFactory

    return {"pk": WebhookEndpointFactory().pk}


def _notification() -> dict[str, Any]:
    from notifications.models import Notification, NotificationKind

    note = Notification.objects.create(
        recipient=make_user("sample-recipient", "Approver"),
        kind=NotificationKind.APPROVAL_NEEDED,
        dedupe_key="sample",
        title="Sample",
        link="/",
    )
    return {"pk": note.pk}


def _api_client() -> dict[str, Any]:
    from channel.services import client_create

    issued = client_create(
        name="Sample shop",
        daily_spend_cap=Decimal("100.00"),
        order_spend_cap=Decimal("50.00"),
        approval_threshold=Decimal("50.00"),
    )
    return {"pk": issued.client.pk}


def _callback_delivery() -> dict[str, Any]:
    from channel.models import CallbackDelivery, Fulfilment
    from channel.services import client_create
    from tests.orders.factories import CustomerFactory

    client = client_create(
        name="Callback shop",
        daily_spend_cap=Decimal("100.00"),
        order_spend_cap=Decimal("50.00"),
        approval_threshold=Decimal("50.00"),
    ).client
    fulfilment = Fulfilment.objects.create(
        client=client,
        idempotency_key="sample",
        request_hash="0" * 64,
        shop_order_id="sample",
        customer=CustomerFactory(),
        cost_total=Decimal("1.00"),
        paid_total=Decimal("2.00"),
        answer_status=202,
    )
    delivery = CallbackDelivery.objects.create(
        client=client, fulfilment=fulfilment, msg_id="msg_sample", event_type="x", payload={}
    )
    return {"pk": delivery.pk}


SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "backoffice:user_edit": _user,
    "backoffice:user_deactivate": _user,
    "backoffice:user_activate": _user,
    "backoffice:lockout_lift": _lockout,
    "notifications:mark_read": _notification,
    "notifications:open": _notification,
    "catalog:product_detail": _product,
    "catalog:sync_run_progress": _sync_run,
    "catalog:rule_edit": _pricing_rule,
    "catalog:rule_preview_edit": _pricing_rule,
    "catalog:rule_delete": _pricing_rule,
    "orders:po_detail": _draft_po,
    "orders:po_live": _draft_po,
    "orders:po_edit": _draft_po,
    "orders:po_line_set": _draft_po,
    "orders:po_confirm": _draft_po,
    "orders:po_reconfirm": _draft_po,
    "orders:po_cancel": _draft_po,
    "orders:po_approve": _draft_po,
    "orders:po_reject": _draft_po,
    "orders:po_check_upstream": _draft_po,
    "orders:po_not_placed_request": _draft_po,
    "orders:po_not_placed_approve": _draft_po,
    "orders:unexpected_key_decide": _unexpected_key,
    "orders:key_reveal": _licence_key,
    "orders:key_copied": _licence_key,
    "orders:key_assign": _licence_key,
    "orders:customer_detail": _customer,
    "orders:customer_edit": _customer,
    "orders:customer_keys_export": _customer,
    "orders:customer_keys_email": _customer,
    "orders:customer_keys_email_selected": _customer,
    "webhooks:event_detail": _webhook_event,
    "webhooks:event_reprocess": _webhook_event,
    "webhooks:endpoint_delete": _webhook_endpoint,
    "webhooks:endpoint_rotate": _webhook_endpoint,
    "webhooks:endpoint_rotate_finish": _webhook_endpoint,
    "webhooks:endpoint_orphan_delete": lambda: {"upstream_id": "wh-not-here"},
    "channel:client_detail": _api_client,
    "channel:client_rotate": _api_client,
    "channel:client_secret_rotate": _api_client,
    "channel:client_revoke": _api_client,
    "channel:client_calls": _api_client,
    "channel:callback_resend": _callback_delivery,
    "channel_api:fulfilment_get": lambda: {"fulfilment_id": 1},
}


# --- the tests -------------------------------------------------------------------------


def test_every_url_has_a_rule():
    missing = sorted(set(project_urls()) - set(EXPECTED))
    assert not missing, f"URLs without a row in EXPECTED: {missing}"


def test_every_rule_names_a_url_that_exists():
    stale = sorted(set(EXPECTED) - set(project_urls()))
    assert not stale, f"Rows in EXPECTED for URLs that no longer exist: {stale}"


def test_every_url_with_arguments_has_a_sample():
    with_args = {n for n, route in project_urls().items() if "<" in route}
    assert not sorted(with_args - set(SAMPLES)), "add a SAMPLES builder for these URLs"


def test_every_permission_in_the_table_exists():
    known = {f"backoffice.{codename}" for codename, _ in p.PERMISSIONS}
    used = {perm for rule in EXPECTED.values() for perm in rule.perms}
    assert used <= known


def _actors() -> dict[str, Any]:
    actors: dict[str, Any] = {"anonymous": AnonymousUser(), "no role": make_user("walk-norole")}
    for role in ROLES:
        actors[role] = make_user(f"walk-{role.lower().replace(' ', '-')}", role)
    return actors


def _client(user: Any) -> Client:
    client = Client()
    if user.is_authenticated:
        client.force_login(user)
    return client


def _expected_get(rule: Rule, user: Any) -> int:
    if rule.public:
        return rule.ok
    if not user.is_authenticated:
        return 302
    return rule.ok if user.has_perms(rule.perms) else 403


@pytest.mark.parametrize("url_name", sorted(set(EXPECTED) & set(project_urls())))
def test_url_answers_each_role_as_its_rule_says(url_name):
    rule = EXPECTED[url_name]
    kwargs = SAMPLES[url_name]() if url_name in SAMPLES else {}
    url = reverse(url_name, kwargs=kwargs)
    wrong = []
    for label, user in _actors().items():
        client = _client(user)
        expected = _expected_get(rule, user)
        response = client.get(url)
        if response.status_code != expected:
            wrong.append(f"GET as {label}: {response.status_code}, expected {expected}")
        elif expected == 302 and not response["Location"].startswith(LOGIN_PATH):
            wrong.append(f"GET as {label}: redirected to {response['Location']}, not the login")
        if rule.public or (user.is_authenticated and user.has_perms(rule.perms)):
            continue
        # Without the permission a POST must be refused before any form handling.
        response = client.post(url, {})
        expected = 302 if not user.is_authenticated else 403
        if response.status_code != expected:
            wrong.append(f"POST as {label}: {response.status_code}, expected {expected}")
        elif expected == 302 and not response["Location"].startswith(LOGIN_PATH):
            wrong.append(f"POST as {label}: redirected to {response['Location']}")
    assert not wrong, f"{url_name} ({url}): " + "; ".join(wrong)


def test_the_django_admin_sends_anonymous_users_to_its_login():
    response = Client().get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_role_user_without_staff_status_cannot_enter_the_django_admin():
    client = Client()
    client.force_login(make_user("admin-role-not-staff", "Admin"))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
