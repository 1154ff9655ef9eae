"""Admins manage staff users: list, create, change roles, deactivate (never delete)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from backoffice.models import AuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def admin(db):
    user = make_user("the-admin", "Admin")
    client = Client()
    client.force_login(user)
    return user, client


def _roles(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_the_list_shows_each_user_with_their_roles(admin):
    _, client = admin
    make_user("vera", "Viewer", "Key custodian")

    body = client.get(reverse("backoffice:user_list")).content.decode()

    assert "vera" in body
    assert "Key custodian" in body and "Viewer" in body


def test_creating_a_user_sets_roles_and_audits_without_the_password(admin):
    actor, client = admin
    response = client.post(
        reverse("backoffice:user_create"),
        {
            "username": "newbie",
            "email": "newbie@reseller.example",
            "roles": ["Buyer", "Approver"],
            "password1": "a-long-enough-pass-31",
            "password2": "a-long-enough-pass-31",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert _roles(user) == ["Approver", "Buyer"]
    assert user.check_password("a-long-enough-pass-31")
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_CHANGE)
    assert event.actor == actor
    assert (event.target_type, event.target_id) == ("auth.User", str(user.pk))
    assert event.details["roles_after"] == ["Approver", "Buyer"]
    assert "a-long-enough-pass-31" not in f"{event.summary} {event.details}"


def test_a_weak_or_mismatched_password_is_a_form_error(admin):
    _, client = admin
    response = client.post(
        reverse("backoffice:user_create"),
        {"username": "weak", "roles": ["Viewer"], "password1": "123", "password2": "123"},
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="weak").exists()
    assert "invalid-feedback" in response.content.decode()


def test_changing_roles_is_audited_with_before_and_after(admin):
    _, client = admin
    user = make_user("rolling", "Viewer")

    response = client.post(
        reverse("backoffice:user_edit", args=[user.pk]),
        {"email": "", "first_name": "", "last_name": "", "roles": ["Finance"]},
    )

    assert response.status_code == 302
    assert _roles(user) == ["Finance"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.USER_CHANGE)
    assert event.details["roles_before"] == ["Viewer"]
    assert event.details["roles_after"] == ["Finance"]


def test_an_admin_cannot_remove_their_own_admin_role(admin):
    actor, client = admin
    response = client.post(reverse("backoffice:user_edit", args=[actor.pk]), {"roles": ["Viewer"]})
    assert response.status_code == 200
    assert "Admin" in _roles(actor)
    assert "cannot remove the Admin role" in response.content.decode()


def test_deactivating_logs_the_user_out_keeps_the_row_and_is_audited(admin):
    _, client = admin
    user = make_user("leaver", "Buyer")
    leaver_client = Client()
    leaver_client.force_login(user)
    assert leaver_client.get(reverse("home")).status_code == 200

    response = client.post(reverse("backoffice:user_deactivate", args=[user.pk]))

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active is False
    assert leaver_client.get(reverse("home")).status_code == 302  # sent to login
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.USER_CHANGE, target_id=str(user.pk), details__change="deactivated"
    ).exists()
    # Twice is harmless: no second audit row.
    client.post(reverse("backoffice:user_deactivate", args=[user.pk]))
    assert AuditEvent.objects.filter(target_id=str(user.pk)).count() == 1


def test_an_admin_cannot_deactivate_themselves(admin):
    actor, client = admin
    client.post(reverse("backoffice:user_deactivate", args=[actor.pk]))
    actor.refresh_from_db()
    assert actor.is_active is True


def test_a_deactivated_user_can_be_reactivated(admin):
    _, client = admin
    user = make_user("returner", "Viewer")
    user.is_active = False
    user.save(update_fields=["is_active"])

    client.post(reverse("backoffice:user_activate", args=[user.pk]))

    user.refresh_from_db()
    assert user.is_active is True


def test_there_is_no_way_to_delete_a_user_from_the_pages(admin):
    from django.urls import get_resolver

    names = [name for name in get_resolver().reverse_dict if isinstance(name, str)]
    assert not [n for n in names if "delete" in n and "user" in n]


@pytest.mark.parametrize("role", ["Viewer", "Buyer", "Approver", "Finance", "Key custodian"])
def test_only_admins_manage_users(client_for, role):
    client = client_for(role)
    target = make_user(f"target-{role.replace(' ', '')}", "Viewer")
    assert client.get(reverse("backoffice:user_list")).status_code == 403
    assert client.post(reverse("backoffice:user_create"), {"username": "x"}).status_code == 403
    response = client.post(reverse("backoffice:user_deactivate", args=[target.pk]))
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active is True
