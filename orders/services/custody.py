"""Handling stored keys: reveal, copy, assign to a customer, export, email, rotation.

Every action that shows or sends a clear key leaves an audit row naming the key,
never its value; rotation re-encrypts keys under the newest FIELD_ENCRYPTION_KEYS key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from backoffice import crypto
from backoffice.audit import audit_record
from backoffice.bulk import BulkOutcome
from backoffice.mail import MailNotSent, mail_send
from backoffice.models import AuditEvent

from ..models import Customer, LicenceKey
from .errors import InvalidState, KeyEmailNotSent, OrdersError


def _audit_key(
    *,
    action: str,
    key: LicenceKey,
    user: User,
    what: str,
    **details: int | None,
) -> None:
    """One audit row for one key, naming it (sku, masked form), never its value."""
    audit_record(
        action=action,
        actor=user,
        target=key,
        summary=f"{key.order_sku} {key.key_masked} {what}",
        details={"key_id": key.pk, **details},
    )


def licence_key_reveal(
    *,
    key_id: int,
    user: User,
    action: str = AuditEvent.Action.KEY_REVEAL,
) -> tuple[LicenceKey, str]:
    """The clear key, with an audit row (reveal or copy) naming the key, never its value."""
    if action not in (AuditEvent.Action.KEY_REVEAL, AuditEvent.Action.KEY_COPY):
        raise ValueError("reveal audits a reveal or a copy")
    key = LicenceKey.objects.select_related("purchase_order").get(pk=key_id)
    value = crypto.decrypt(key.key_encrypted)
    _audit_key(
        action=action,
        key=key,
        user=user,
        what=f"of {key.purchase_order}",
        purchase_order=key.purchase_order_id,
    )
    return key, value


def licence_key_copied(*, key_id: int, user: User) -> None:
    key = LicenceKey.objects.get(pk=key_id)
    _audit_key(
        action=AuditEvent.Action.KEY_COPY,
        key=key,
        user=user,
        what="copied",
        purchase_order=key.purchase_order_id,
    )


def licence_key_assign(*, key_id: int, customer: Customer, user: User) -> LicenceKey:
    """Give a stock key (no customer yet) to a customer."""
    with transaction.atomic():
        key = LicenceKey.objects.select_for_update().get(pk=key_id)
        if key.customer_id == customer.pk:
            return key
        if key.customer_id is not None:
            raise InvalidState("This key already belongs to a customer")
        key.customer = customer
        key.assigned_at = timezone.now()
        key.save(update_fields=["customer", "assigned_at"])
        _audit_key(
            action=AuditEvent.Action.KEY_ASSIGN,
            key=key,
            user=user,
            what=f"assigned to {customer}",
            customer=customer.pk,
        )
    return key


def licence_keys_assign(
    *,
    key_ids: Sequence[int],
    customer: Customer,
    user: User,
    outcome: BulkOutcome | None = None,
) -> BulkOutcome:
    """Give several stock keys to a customer, key by key as `licence_key_assign` does
    (one audit row per key); a key that is not in stock, or no key at all, is refused."""
    outcome = outcome if outcome is not None else BulkOutcome(noun="key")
    labels = {key.pk: str(key) for key in LicenceKey.objects.filter(pk__in=key_ids)}
    for key_id in key_ids:
        label = labels.get(key_id, f"#{key_id}")
        try:
            key = licence_key_assign(key_id=key_id, customer=customer, user=user)
        except LicenceKey.DoesNotExist:
            outcome.refuse(label, "no such key")
        except OrdersError as exc:
            outcome.refuse(label, str(exc))
        else:
            outcome.done.append(key.pk)
    return outcome


def customer_keys_email_selected(
    *,
    customer: Customer,
    key_ids: Sequence[int],
    user: User,
    outcome: BulkOutcome | None = None,
) -> BulkOutcome:
    """E-mail the customer the chosen keys among theirs, in one message (as "E-mail keys"
    does for all of them); a key that is not the customer's is refused. Raises
    OrdersError when nothing can be sent (no address, the mail server refused)."""
    outcome = outcome if outcome is not None else BulkOutcome(noun="key")
    held = set(customer.keys.filter(pk__in=key_ids).values_list("pk", flat=True))
    for key_id in key_ids:
        if key_id not in held:
            outcome.refuse(f"#{key_id}", f"not a key of {customer}")
    chosen = [key_id for key_id in key_ids if key_id in held]
    if chosen:
        customer_keys_email(customer=customer, user=user, key_ids=chosen)
        outcome.done.extend(chosen)
    return outcome


def customer_keys_export_rows(*, customer: Customer, user: User) -> list[list[Any]]:
    """A header and the rows of a customer's keys in clear (typed: `received_at` is a
    datetime), one audit row per key exported."""
    rows: list[list[Any]] = [["Purchase order", "Order SKU", "Product", "Key", "Received"]]
    keys = list(customer.keys.select_related("purchase_order").order_by("pk"))
    for key in keys:
        rows.append(
            [
                str(key.purchase_order),
                key.order_sku,
                key.name,
                crypto.decrypt(key.key_encrypted),
                key.received_at,
            ]
        )
        _audit_key(
            action=AuditEvent.Action.KEY_EXPORT,
            key=key,
            user=user,
            what=f"exported for {customer}",
            customer=customer.pk,
        )
    return rows


def customer_keys_email(
    *,
    customer: Customer,
    user: User,
    key_ids: Sequence[int] | None = None,
) -> int:
    """Email the customer their keys (all, or the ones given); returns how many were sent."""
    if not customer.email:
        raise OrdersError(f"{customer} has no email address")
    chosen = customer.keys.select_related("purchase_order").order_by("pk")
    if key_ids is not None:
        chosen = chosen.filter(pk__in=key_ids)
    keys = list(chosen)
    if not keys:
        raise OrdersError(f"{customer} holds no keys to send")
    items = [
        {
            "name": key.name or key.order_sku,
            "sku": key.order_sku,
            "key": crypto.decrypt(key.key_encrypted),
        }
        for key in keys
    ]
    context = {"customer": customer, "items": items}
    message = EmailMessage(
        subject=render_to_string("orders/email/keys_subject.txt", context).strip(),
        body=render_to_string("orders/email/keys_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[customer.email],
    )
    try:
        mail_send(message, hide=[item["key"] for item in items])
    except MailNotSent as exc:
        audit_record(
            action=AuditEvent.Action.KEY_EMAIL_FAILED,
            actor=user,
            target=customer,
            summary=f"E-mail of {len(keys)} key(s) to {customer} not sent: {exc.reason}",
            details={
                "customer": customer.pk,
                "key_ids": [key.pk for key in keys],
                "error": exc.reason,
            },
        )
        raise KeyEmailNotSent(
            f"The e-mail to {customer.email} was not sent ({exc.reason}). "
            "No key was marked as e-mailed; try again once the mail server answers."
        ) from None
    now = timezone.now()
    with transaction.atomic():
        LicenceKey.objects.filter(pk__in=[key.pk for key in keys]).update(emailed_at=now)
        for key in keys:
            _audit_key(
                action=AuditEvent.Action.KEY_EMAIL,
                key=key,
                user=user,
                what=f"emailed to {customer}",
                customer=customer.pk,
            )
    return len(keys)


def licence_keys_rotate(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored key under the newest FIELD_ENCRYPTION_KEYS key."""
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                LicenceKey.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return done
            for key in batch:
                key.key_encrypted = crypto.reencrypt(key.key_encrypted)
            LicenceKey.objects.bulk_update(batch, ["key_encrypted"])
            done += len(batch)
            last_pk = batch[-1].pk
