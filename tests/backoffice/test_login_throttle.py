"""Ten failed logins for one username, or from one address, lock further attempts out."""

import pytest
from django.test import Client
from django.urls import reverse

from backoffice.models import AuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _fail(client: Client, username: str, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = _login(client, username, "wrong-password", ip=ip)
        assert response.status_code == 200


def test_ten_failed_logins_refuse_even_the_right_password_with_a_clear_message(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    make_user("alice", "Viewer", password=PASSWORD)
    client = Client()
    _fail(client, "alice", 10)

    response = _login(client, "alice", PASSWORD)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Too many failed logins" in response.content.decode()


def test_nine_failures_still_allow_the_right_password_and_reset_the_count(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    make_user("bob", "Viewer", password=PASSWORD)
    client = Client()
    _fail(client, "bob", 9)

    assert _login(client, "bob", PASSWORD).status_code == 302
    client.logout()
    # The success reset bob's counter: nine more failures do not lock him out.
    _fail(Client(), "bob", 9, ip="10.0.0.2")
    assert _login(Client(), "bob", PASSWORD, ip="10.0.0.2").status_code == 302


def test_lockout_is_per_username_across_addresses(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    make_user("carol", "Viewer", password=PASSWORD)
    for n in range(10):
        _login(Client(), "carol", "nope", ip=f"10.0.1.{n}")

    response = _login(Client(), "carol", PASSWORD, ip="10.0.2.1")

    assert response.status_code == 200
    assert "Too many failed logins" in response.content.decode()


def test_lockout_is_per_address_across_usernames(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    make_user("dave", "Viewer", password=PASSWORD)
    for n in range(10):
        _login(Client(), f"guess-{n}", "nope", ip="10.9.9.9")

    assert (
        "Too many failed logins"
        in _login(Client(), "dave", PASSWORD, ip="10.9.9.9").content.decode()
    )
    # dave from another address is not affected.
    assert _login(Client(), "dave", PASSWORD, ip="10.9.9.10").status_code == 302


def test_the_lockout_ends_when_the_counter_expires(settings):
    from django.core.cache import cache

    settings.LOGIN_FAILURE_LIMIT = 3
    make_user("erin", "Viewer", password=PASSWORD)
    _fail(Client(), "erin", 3)
    assert _login(Client(), "erin", PASSWORD).status_code == 200

    cache.clear()  # what the expiry of LOGIN_LOCKOUT_SECONDS does

    assert _login(Client(), "erin", PASSWORD).status_code == 302


def test_refused_attempts_are_audited_with_the_username_but_never_the_password(settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    make_user("frank", "Viewer", password=PASSWORD)
    _fail(Client(), "frank", 2)
    _login(Client(), "frank", PASSWORD)

    events = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    assert events.count() == 3
    assert [e.details["username"] for e in events] == ["frank"] * 3
    assert events.first().details["reason"] == "locked"
    dumped = " ".join(f"{e.summary} {e.details}" for e in events)
    assert PASSWORD not in dumped
    assert "wrong-password" not in dumped


def test_the_django_admin_login_is_throttled_too(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    user = make_user("root", password=PASSWORD)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    for _ in range(3):
        client.post(
            reverse("admin:login"), {"username": "root", "password": "x"}, REMOTE_ADDR="10.0.0.1"
        )

    response = client.post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )

    assert response.status_code == 200
    assert "Too many failed logins" in response.content.decode()
