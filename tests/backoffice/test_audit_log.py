"""The audit log: readable by Admin and Finance, filterable, and append-only everywhere."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from backoffice.models import AuditEvent

from .factories import AuditEventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["Admin", "Finance"])
def test_admin_and_finance_read_the_audit_log(client_for, role):
    AuditEventFactory(summary="PO 2026-0001 confirmed")
    response = client_for(role).get(reverse("backoffice:audit_list"))
    assert response.status_code == 200
    assert "PO 2026-0001 confirmed" in response.content.decode()


@pytest.mark.parametrize("role", ["Viewer", "Buyer", "Approver", "Key custodian"])
def test_other_roles_cannot_read_the_audit_log(client_for, role):
    assert client_for(role).get(reverse("backoffice:audit_list")).status_code == 403


def test_filters_by_action_user_target_and_date_range(client_for):
    client = client_for("Finance")
    AuditEventFactory(action=AuditEvent.Action.KEY_REVEAL, actor_name="kate", summary="reveal-1")
    AuditEventFactory(action=AuditEvent.Action.PO_APPROVE, actor_name="amos", summary="approve-1")
    AuditEventFactory(
        action=AuditEvent.Action.PO_APPROVE,
        actor_name="amos",
        target_type="orders.PurchaseOrder",
        target_id="77",
        summary="approve-77",
    )

    def shown(**params) -> set[str]:
        body = client.get(reverse("backoffice:audit_list"), params).content.decode()
        return {s for s in ("reveal-1", "approve-1", "approve-77") if s in body}

    assert shown(action="key_reveal") == {"reveal-1"}
    assert shown(user="amo") == {"approve-1", "approve-77"}
    assert shown(target="orders.PurchaseOrder:77") == {"approve-77"}
    today = timezone.localdate()
    assert shown(date_after=str(today), date_before=str(today)) == {
        "reveal-1",
        "approve-1",
        "approve-77",
    }
    tomorrow = today + timedelta(days=1)
    assert shown(date_after=str(tomorrow)) == set()


def test_a_bad_date_is_a_form_error_not_a_500(client_for):
    response = client_for("Finance").get(reverse("backoffice:audit_list"), {"date_after": "nope"})
    assert response.status_code == 200


def test_audit_events_cannot_be_edited_or_deleted():
    event = AuditEventFactory()
    event.summary = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.summary != "rewritten"


def test_the_pages_offer_no_edit_or_delete_of_audit_events(client_for):
    event = AuditEventFactory()
    body = client_for("Admin").get(reverse("backoffice:audit_list")).content.decode()
    assert "delete" not in body.lower()
    for name in ("backoffice:audit_edit", "backoffice:audit_delete"):
        with pytest.raises(NoReverseMatch):
            reverse(name, args=[event.pk])


def test_the_django_admin_registration_is_read_only(admin_user):
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/")
    request.user = admin_user  # a superuser: still no add, change or delete
    event = AuditEventFactory()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
