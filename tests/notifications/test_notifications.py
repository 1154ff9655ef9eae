"""Notifications are created once per condition for the role concerned, e-mailed as each
user chose, and never carry a licence key."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from catalog.models import SyncRun
from notifications import services
from notifications.models import Notification, NotificationKind, NotificationPreference
from orders.models import PurchaseOrder
from tests.dashboard import builders as b
from wallet.models import SyncStatus

pytestmark = pytest.mark.django_db

S = PurchaseOrder.Status
K = NotificationKind
LICENCE_KEY = "QX7PL-9ZM4R-TV8WN-3YBH6"


def notes(user=None, kind=None):
    qs = Notification.objects.all()
    if user is not None:
        qs = qs.filter(recipient=user)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return list(qs)


def test_approver_is_told_once_and_mailed_once_and_the_creator_never(staff, confirm_for_approval):
    creator = staff("Buyer", "Approver")
    approver = staff("Approver")
    viewer = staff("Viewer")

    po = confirm_for_approval(creator)  # the receiver runs at commit: no scan needed

    (note,) = notes(approver)
    assert note.kind == K.APPROVAL_NEEDED and note.link == f"/orders/{po.pk}/"
    assert po.external_id in note.title and note.email_state == "sent"
    assert notes(creator) == [] and notes(viewer) == []
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [approver.email]
    assert f"http://127.0.0.1:8000/orders/{po.pk}/" in message.body
    assert po.external_id in message.subject

    for _ in range(2):
        services.notifications_scan()
    assert len(notes(approver)) == 1 and len(mail.outbox) == 1


def test_a_reconfirmed_order_asks_for_approval_again(staff):
    approver = staff("Approver")
    po = b.po(S.AWAITING_APPROVAL)
    services.notifications_scan()
    PurchaseOrder.objects.filter(pk=po.pk).update(confirmed_at=timezone.now() + timedelta(1))
    services.notifications_scan()
    assert len(notes(approver, K.APPROVAL_NEEDED)) == 2


def test_email_preference_off_keeps_the_inbox_entry_but_sends_nothing(staff):
    approver = staff("Approver")
    NotificationPreference.objects.create(user=approver, kind=K.APPROVAL_NEEDED, email=False)
    other = staff("Approver")
    b.po(S.AWAITING_APPROVAL)

    services.notifications_scan()

    assert notes(approver)[0].email_state == "not_wanted"
    assert [m.to for m in mail.outbox] == [[other.email]]


def test_users_without_an_address_get_the_inbox_entry_only(user_in_role):
    approver = user_in_role("Approver")
    b.po(S.AWAITING_APPROVAL)
    services.notifications_scan()
    assert notes(approver)[0].email_state == "not_wanted" and mail.outbox == []


def test_every_condition_notifies_its_role_once_however_often_the_scan_runs(staff, settings):
    settings.LOW_BALANCE_THRESHOLD = Decimal("200.00")
    settings.PO_UNKNOWN_ALERT_MINUTES = 30
    settings.MIN_MARGIN_PERCENT = Decimal("10.0")
    buyer, approver, finance, pricing = (
        staff("Buyer"),
        staff("Approver"),
        staff("Finance"),
        staff("Admin"),
    )
    b.po(S.AWAITING_APPROVAL)
    b.po(S.FAILED)
    b.po(S.UNKNOWN, ago=timedelta(hours=1))
    b.snapshot("150.00")
    b.gap()
    b.sync_run(SyncRun.Status.FAILED)
    SyncStatus.objects.create(pk=1, last_attempt_at=timezone.now(), failures_in_a_row=1)
    run = b.sync_run(SyncRun.Status.SUCCEEDED, ago=timedelta(hours=1))
    for _ in range(3):
        combo = b.combination(margin_percent="2.50", changed_ago=timedelta(hours=1))
        b.price_change(
            combo, old_net="14.00", old_margin="6.00", new_margin_percent="2.50", run=run
        )

    first = services.notifications_scan()
    total, mails = Notification.objects.count(), len(mail.outbox)
    second = services.notifications_scan()

    assert first.created == total and second.created == 0 and second.emailed == 0
    assert Notification.objects.count() == total and len(mail.outbox) == mails
    assert {n.kind for n in notes(buyer)} == {K.PO_PROBLEM, K.SYNC_FAILED}
    assert len(notes(buyer, K.PO_PROBLEM)) == 2  # the failed one and the unknown one
    assert {n.kind for n in notes(approver)} == {K.APPROVAL_NEEDED}
    assert {n.kind for n in notes(finance)} == {K.LOW_BALANCE, K.LEDGER_GAP, K.SYNC_FAILED}
    assert len(notes(finance, K.SYNC_FAILED)) == 2  # catalog and wallet
    (drop,) = notes(pricing, K.MARGIN_DROP)
    assert drop.title.startswith("3 combinations fell below the minimum margin of 10.0 %")
    assert drop.link == "/catalog/?below_margin=true&changed_within=1"
    assert mails == Notification.objects.filter(email_state="sent").count()


def test_unknown_outcome_is_reported_only_past_the_bound(staff, settings):
    settings.PO_UNKNOWN_ALERT_MINUTES = 30
    buyer = staff("Buyer")
    b.po(S.UNKNOWN, ago=timedelta(minutes=5))
    services.notifications_scan()
    assert notes(buyer) == []
    PurchaseOrder.objects.update(updated_at=timezone.now() - timedelta(minutes=31))
    services.notifications_scan()
    assert [n.title.endswith("outcome still unknown after 30 minutes") for n in notes(buyer)] == [
        True
    ]


def test_low_balance_notifies_once_per_spell_below_the_threshold(staff, settings):
    settings.LOW_BALANCE_THRESHOLD = Decimal("200.00")
    finance = staff("Finance")
    b.snapshot("500.00", ago=timedelta(hours=5))
    services.notifications_scan()
    assert notes(finance) == []

    b.snapshot("150.00", ago=timedelta(hours=4))
    b.snapshot("120.00", ago=timedelta(hours=3))  # still the same spell
    services.notifications_scan()
    (first,) = notes(finance)
    assert first.title == "Wallet balance 120.00 EUR is below 200.00 EUR"

    b.snapshot("900.00", ago=timedelta(hours=2))  # topped up
    b.snapshot("20.00", ago=timedelta(hours=1))  # and spent again
    services.notifications_scan()
    assert len(notes(finance, K.LOW_BALANCE)) == 2


def test_a_sync_outage_notifies_once_until_a_run_succeeds(staff):
    buyer = staff("Buyer")
    b.sync_run(SyncRun.Status.SUCCEEDED, ago=timedelta(hours=3))
    b.sync_run(SyncRun.Status.FAILED, ago=timedelta(hours=2))
    services.notifications_scan()
    b.sync_run(SyncRun.Status.FAILED, ago=timedelta(hours=1))
    services.notifications_scan()
    assert len(notes(buyer, K.SYNC_FAILED)) == 1
    b.sync_run(SyncRun.Status.SUCCEEDED, ago=timedelta(minutes=30))
    b.sync_run(SyncRun.Status.FAILED, ago=timedelta(minutes=1))
    services.notifications_scan()
    assert len(notes(buyer, K.SYNC_FAILED)) == 2


def test_margin_drop_counts_only_changes_that_crossed_the_minimum(staff, settings):
    settings.MIN_MARGIN_PERCENT = Decimal("10.0")
    admin = staff("Admin")
    run = b.sync_run(SyncRun.Status.SUCCEEDED)
    crossed = b.combination(margin_percent="2.00", changed_ago=timedelta(hours=1))
    # old margin 6 on a selling price of 20 (30 %) -> now 2 %: crossed
    b.price_change(crossed, old_net="14.00", old_margin="6.00", new_margin_percent="2.00", run=run)
    already_below = b.combination(margin_percent="2.00", changed_ago=timedelta(hours=1))
    # old margin 1 on 20 (5 %): was below already
    b.price_change(
        already_below, old_net="19.00", old_margin="1.00", new_margin_percent="2.00", run=run
    )
    services.notifications_scan()
    (drop,) = notes(admin, K.MARGIN_DROP)
    assert drop.title.startswith("1 combination fell below")
    assert drop.target_type == "catalog.syncrun" and drop.target_id == str(run.pk)


def test_old_events_are_history_not_news(staff):
    buyer = staff("Buyer")
    finance = staff("Finance")
    b.po(S.FAILED, ago=timedelta(days=5))
    b.gap(ago=timedelta(days=5))
    services.notifications_scan()
    assert notes(buyer) == [] and notes(finance) == []


def test_no_licence_key_reaches_a_notification_or_an_email(staff, settings):
    settings.PO_UNKNOWN_ALERT_MINUTES = 1
    buyer = staff("Buyer")
    staff("Approver")
    # An imported order whose upstream externalId is shaped like a key, failing with an
    # upstream message quoting one: neither may travel into a notification.
    b.po(
        S.FAILED,
        external_id=LICENCE_KEY,
        source=PurchaseOrder.Source.IMPORTED,
        failure_message=f"key {LICENCE_KEY} rejected",
    )
    b.po(S.AWAITING_APPROVAL, external_id=f"PO {LICENCE_KEY}")
    services.notifications_scan()

    assert notes(buyer) and Notification.objects.count() >= 2
    for note in Notification.objects.all():
        for text in (note.title, note.link, note.dedupe_key, note.target_id):
            assert LICENCE_KEY not in text
    assert mail.outbox
    for message in mail.outbox:
        assert LICENCE_KEY not in message.subject and LICENCE_KEY not in message.body


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def test_a_failed_email_is_retried_then_left_as_failed(staff, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    approver = staff("Approver")
    b.po(S.AWAITING_APPROVAL)
    for _ in range(services.EMAIL_MAX_ATTEMPTS):
        services.notifications_scan()
    (note,) = notes(approver)
    assert note.email_state == "failed" and note.email_attempts == services.EMAIL_MAX_ATTEMPTS
    assert note.email_error == "ConnectionRefusedError: smtp down"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.notifications_scan()
    assert mail.outbox == []  # given up: shown as "e-mail failed" in the inbox instead
    client = Client()
    client.force_login(approver)
    inbox = client.get("/notifications/").content.decode()
    assert "e-mail failed: ConnectionRefusedError: smtp down" in inbox


def test_a_failed_order_is_reported_at_once_by_the_receiver(
    staff, django_capture_on_commit_callbacks
):
    buyer = staff("Buyer")
    po = b.po(S.SUBMITTING)
    with django_capture_on_commit_callbacks(execute=True):
        po.status = S.FAILED
        po.save(update_fields=["status", "updated_at"])
    (note,) = notes(buyer)
    assert note.kind == K.PO_PROBLEM and note.title == f"{po} failed"


def test_a_new_gap_is_reported_at_once(staff, django_capture_on_commit_callbacks):
    finance = staff("Finance")
    with django_capture_on_commit_callbacks(execute=True):
        gap = b.gap(amount="-69.80")
    (note,) = notes(finance)
    assert note.title == "New ledger gap: -69.80 EUR unaccounted for"
    assert note.target_id == str(gap.pk) and note.link == "/wallet/gaps/"


def test_notifications_scan_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["notifications-scan"]
    assert entry["task"] == "notifications.tasks.notifications_scan"
    assert entry["schedule"] == 60

    from backoffice.celery import app

    assert "notifications.tasks.notifications_scan" in app.tasks
