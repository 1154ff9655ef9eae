"""Logins, failed logins and logouts are written to the audit log."""

import pytest
from django.test import Client
from django.urls import reverse

from backoffice.models import AuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "audit-me-please-42"


def test_a_login_and_a_logout_are_audited_with_user_address_and_request_id():
    user = make_user("ada", "Viewer", password=PASSWORD)
    client = Client()

    client.post(
        reverse("login"),
        {"username": "ada", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.7",
        HTTP_X_REQUEST_ID="login-req-12345678",
    )
    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.7")

    login = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN)
    assert (login.actor, login.actor_name, login.ip_address) == (user, "ada", "192.0.2.7")
    assert login.request_id == "login-req-12345678"
    logout = AuditEvent.objects.get(action=AuditEvent.Action.LOGOUT)
    assert (logout.actor, logout.actor_name) == (user, "ada")


def test_a_failed_login_is_audited_with_the_attempted_username_only():
    make_user("grace", "Viewer", password=PASSWORD)

    Client().post(
        reverse("login"),
        {"username": "grace", "password": "Hunter2-wrong"},
        REMOTE_ADDR="192.0.2.8",
    )

    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.actor is None
    assert event.details == {"username": "grace"}
    assert event.ip_address == "192.0.2.8"
    assert "Hunter2-wrong" not in f"{event.summary} {event.details}"


def test_a_failed_login_for_an_unknown_username_is_audited_too():
    Client().post(reverse("login"), {"username": "nobody-here", "password": "x"})
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED)
    assert event.details["username"] == "nobody-here"


def test_the_login_form_keeps_csrf_and_shows_the_error():
    response = Client().post(reverse("login"), {"username": "nobody", "password": "x"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "csrfmiddlewaretoken" in body
    assert "alert-danger" in body
