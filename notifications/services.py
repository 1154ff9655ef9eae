"""Storing, e-mailing and reading notifications.

`notifications_scan` (beat, every minute) turns every current condition into
notifications for the holders of the role concerned; the receivers call
`notifications_for_purchase_order` at once for an order's own changes. Both are safe to
run any number of times: a condition is stored once per recipient (unique dedupe key)
and each stored notification is e-mailed at most once by `notification_emails_send`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from backoffice.logging import redact
from backoffice.mail import MailNotSent, mail_send
from orders.models import PurchaseOrder

from . import conditions, selectors
from .conditions import Alert
from .models import Notification, NotificationKind, NotificationPreference

# A notification whose e-mail failed this many times is left as failed (shown in the inbox).
EMAIL_MAX_ATTEMPTS = 3
EMAIL_BATCH = 200


class NotificationError(Exception):
    """A change to a notification that cannot be made (e.g. not the user's own)."""


class NotificationNotFound(NotificationError):
    pass


@dataclass(frozen=True)
class ScanResult:
    created: int
    emailed: int


def notifications_create(*, alerts: Iterable[Alert]) -> int:
    """Store each alert for every holder of its role (minus those excluded); returns how
    many notifications are new. Conditions already notified are left as they are."""
    alerts = list(alerts)
    if not alerts:
        return 0
    recipients: dict[str, list[tuple[int, str]]] = {}
    for kind in {alert.kind for alert in alerts}:
        recipients[kind] = list(
            selectors.users_with_permission(selectors.KIND_PERMISSION[kind]).values_list(
                "pk", "email"
            )
        )
    user_ids = {uid for rows in recipients.values() for uid, _ in rows}
    email_off = set(
        NotificationPreference.objects.filter(user_id__in=user_ids, email=False).values_list(
            "user_id", "kind"
        )
    )
    existing = set(
        Notification.objects.filter(
            kind__in=recipients, dedupe_key__in={alert.dedupe_key for alert in alerts}
        ).values_list("recipient_id", "kind", "dedupe_key")
    )
    now = timezone.now()
    new: list[Notification] = []
    for alert in alerts:
        for user_id, email in recipients[alert.kind]:
            if user_id in alert.exclude_user_ids:
                continue
            if (user_id, alert.kind, alert.dedupe_key) in existing:
                continue
            existing.add((user_id, alert.kind, alert.dedupe_key))
            wanted = bool(email) and (user_id, alert.kind) not in email_off
            new.append(
                Notification(
                    recipient_id=user_id,
                    kind=alert.kind,
                    dedupe_key=alert.dedupe_key[:200],
                    # Titles carry numbers, amounts and counts only; redact() is the
                    # last line of defence should upstream text ever reach one.
                    title=redact(alert.title)[:300],
                    link=alert.link[:500],
                    target_type=alert.target_type,
                    target_id=alert.target_id,
                    created_at=now,
                    email_state=(
                        Notification.EmailState.PENDING
                        if wanted
                        else Notification.EmailState.NOT_WANTED
                    ),
                )
            )
    # A concurrent scan may have stored some of these meanwhile: the unique constraint
    # keeps one, the other insert is skipped.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    _forget_unread_counts({n.recipient_id for n in new})
    return len(new)


def notifications_scan(*, now: datetime | None = None) -> ScanResult:
    """Notify every current condition (once), then send the e-mails due."""
    now = now or timezone.now()
    with transaction.atomic():
        created = notifications_create(alerts=conditions.all_alerts(now=now))
    emailed = notification_emails_send()
    return ScanResult(created=created, emailed=emailed)


def notifications_for_purchase_order(*, purchase_order_id: int) -> ScanResult:
    """At once for one PO that changed state: approval needed, failed."""
    po = PurchaseOrder.objects.filter(pk=purchase_order_id).first()
    if po is None:
        return ScanResult(created=0, emailed=0)
    now = timezone.now()
    with transaction.atomic():
        created = notifications_create(
            alerts=[
                *conditions.approvals_needed(purchase_orders=[po]),
                *conditions.purchase_order_problems(now=now, purchase_orders=[po]),
            ]
        )
    emailed = notification_emails_send()
    return ScanResult(created=created, emailed=emailed)


def notification_emails_send(*, limit: int = EMAIL_BATCH) -> int:
    """E-mail the notifications waiting for it, each at most once.

    The rows are locked (skipping rows another process is sending) while their mail goes
    out, so two scans never send the same one. A failure is counted and retried by the
    next scan, up to EMAIL_MAX_ATTEMPTS.
    """
    sent = 0
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(email_state=Notification.EmailState.PENDING)
            .select_related("recipient")
            .order_by("pk")[:limit]
        )
        for notification in due:
            notification.email_attempts += 1
            try:
                _send(notification)
            except MailNotSent as exc:  # recorded and retried, never fatal to the scan
                notification.email_error = exc.reason
                if notification.email_attempts >= EMAIL_MAX_ATTEMPTS:
                    notification.email_state = Notification.EmailState.FAILED
            else:
                notification.email_state = Notification.EmailState.SENT
                notification.emailed_at = timezone.now()
                notification.email_error = ""
                sent += 1
            notification.save(
                update_fields=["email_state", "email_attempts", "emailed_at", "email_error"]
            )
    return sent


def _send(notification: Notification) -> None:
    recipient = notification.recipient
    base = settings.BACKOFFICE_BASE_URL.rstrip("/")
    context = {
        "notification": notification,
        "kind": NotificationKind(notification.kind).label,
        "url": base + notification.link,
        "preferences_url": base + "/notifications/preferences/",
    }
    subject = render_to_string("notifications/email/subject.txt", context).strip()
    body = render_to_string("notifications/email/body.txt", context)
    message = EmailMessage(subject=" ".join(subject.split())[:200], body=body, to=[recipient.email])
    mail_send(message)


def notification_mark_read(*, user: Any, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read (again: no change)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, recipient=user)
            .first()
        )
        if notification is None:
            raise NotificationNotFound(f"No notification {notification_id} for this user")
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
    _forget_unread_counts({user.pk})
    return notification


def notifications_mark_all_read(*, user: Any) -> int:
    count = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    _forget_unread_counts({user.pk})
    return count


def notification_preferences_set(*, user: Any, email_by_kind: dict[str, bool]) -> None:
    """Store the user's e-mail choice for each given kind."""
    unknown = set(email_by_kind) - set(NotificationKind.values)
    if unknown:
        raise NotificationError(f"Unknown notification kind(s): {', '.join(sorted(unknown))}")
    with transaction.atomic():
        for kind, email in email_by_kind.items():
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"email": email}
            )


def _forget_unread_counts(user_ids: set[int]) -> None:
    """Drop the cached badge counts now and again once the change is committed: a page
    rendered in between would cache the count from before it."""
    if not user_ids:
        return
    keys = [selectors.unread_cache_key(uid) for uid in user_ids]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
