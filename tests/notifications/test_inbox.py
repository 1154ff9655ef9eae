"""The inbox, the unread badge and the e-mail preferences page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from notifications import services
from notifications.models import Notification, NotificationKind, NotificationPreference
from orders.models import PurchaseOrder
from tests.dashboard import builders as b

pytestmark = pytest.mark.django_db

K = NotificationKind


def badge(client: Client) -> int:
    body = client.get("/catalog/").content.decode()
    found = re.search(r'id="notifications-badge">(\d+)<', body)
    return int(found.group(1)) if found else 0


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_badge_counts_unread_and_follows_reading(staff):
    approver = staff("Approver")
    client = login(approver)
    assert badge(client) == 0
    assert "Notifications" in client.get("/").content.decode()

    first, second = (
        b.po(PurchaseOrder.Status.AWAITING_APPROVAL),
        b.po(PurchaseOrder.Status.AWAITING_APPROVAL),
    )
    services.notifications_scan()
    assert badge(client) == 2  # the scan cleared the cached count

    note = Notification.objects.get(recipient=approver, target_id=str(first.pk))
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 302
    assert badge(client) == 1
    assert client.post("/notifications/read-all/").status_code == 302
    assert badge(client) == 0
    assert second.pk  # both were listed; none is unread now
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_badge_costs_one_query_and_is_then_cached(staff, django_assert_num_queries):
    from notifications.selectors import unread_count

    approver = staff("Approver")
    with django_assert_num_queries(1):
        assert unread_count(approver) == 0
    with django_assert_num_queries(0):
        assert unread_count(approver) == 0


def test_inbox_lists_own_notifications_only_and_opens_the_thing(staff):
    approver, other = staff("Approver"), staff("Approver")
    po = b.po(PurchaseOrder.Status.AWAITING_APPROVAL)
    services.notifications_scan()
    mine = Notification.objects.get(recipient=approver)
    theirs = Notification.objects.get(recipient=other)
    client = login(approver)

    page = client.get("/notifications/").content.decode()
    assert f'data-notification="{mine.pk}"' in page
    assert f'data-notification="{theirs.pk}"' not in page
    assert po.external_id in page

    # Someone else's notification is not there to read or open.
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    response = client.post(f"/notifications/{mine.pk}/open/")
    assert response.status_code == 302 and response["Location"] == f"/orders/{po.pk}/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    unread = client.get("/notifications/?unread=1").content.decode()
    assert f'data-notification="{mine.pk}"' not in unread


def test_a_stored_link_never_sends_staff_off_site(staff):
    approver = staff("Approver")
    note = Notification.objects.create(
        recipient=approver,
        kind=K.APPROVAL_NEEDED,
        dedupe_key="hostile",
        title="<script>alert(1)</script>",
        link="https://evil.example/phish",
    )
    client = login(approver)
    assert "<script>alert(1)</script>" not in client.get("/notifications/").content.decode()
    response = client.post(f"/notifications/{note.pk}/open/")
    assert response["Location"] == "/notifications/"


def test_reading_is_post_only(staff):
    approver = staff("Approver")
    note = Notification.objects.create(
        recipient=approver, kind=K.APPROVAL_NEEDED, dedupe_key="x", title="t", link="/"
    )
    client = login(approver)
    assert client.get(f"/notifications/{note.pk}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


def test_preferences_list_the_kinds_of_my_roles_and_switch_email_off(staff):
    finance = staff("Finance")
    client = login(finance)
    page = client.get("/notifications/preferences/").content.decode()
    assert K.LOW_BALANCE.label in page and K.LEDGER_GAP.label in page
    assert K.APPROVAL_NEEDED.label not in page  # not a finance role's business

    response = client.post(
        "/notifications/preferences/", {K.LEDGER_GAP.value: "on", K.SYNC_FAILED.value: "on"}
    )
    assert response.status_code == 302
    choices = dict(NotificationPreference.objects.filter(user=finance).values_list("kind", "email"))
    assert choices == {K.LOW_BALANCE: False, K.LEDGER_GAP: True, K.SYNC_FAILED: True}

    b.snapshot("1.00")
    b.gap()
    services.notifications_scan()
    kinds_mailed = {
        n.kind for n in Notification.objects.filter(recipient=finance, email_state="sent")
    }
    assert kinds_mailed == {K.LEDGER_GAP}
    assert len(mail.outbox) == 1 and "ledger gap" in mail.outbox[0].subject.lower()


def test_preferences_refuse_an_unknown_kind(staff):
    with pytest.raises(services.NotificationError):
        services.notification_preferences_set(user=staff("Viewer"), email_by_kind={"x": True})
