"""Failed logins lock out a username from one address, and (much later) an address.

The client address is the real one behind the trusted proxy, so guessers sharing the
proxy's address with the staff cannot lock the staff out.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backoffice.models import AuditEvent, LoginThrottle
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
PROXY = "10.0.0.1"
LOCKED = "Too many failed logins"


def _login(client: Client, username: str, password: str, ip: str = "10.0.0.1", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def _fail(client: Client, username: str, times: int, ip: str = "10.0.0.1", **extra) -> None:
    for _ in range(times):
        response = _login(client, username, "wrong-password", ip=ip, **extra)
        assert response.status_code == 200


def _via_proxy(client_address: str) -> dict[str, str]:
    return {"HTTP_X_FORWARDED_FOR": f"203.0.113.250, {client_address}"}


def test_ten_failed_logins_refuse_even_the_right_password_with_a_clear_message(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    make_user("alice", "Viewer", password=PASSWORD)
    client = Client()
    _fail(client, "alice", 10)

    response = _login(client, "alice", PASSWORD)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert LOCKED in response.content.decode()


def test_nine_failures_still_allow_the_right_password_and_reset_the_count(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    make_user("bob", "Viewer", password=PASSWORD)
    client = Client()
    _fail(client, "bob", 9)

    assert _login(client, "bob", PASSWORD).status_code == 302
    client.logout()
    # The success reset bob's counter: nine more failures do not lock him out.
    _fail(Client(), "bob", 9)
    assert _login(Client(), "bob", PASSWORD).status_code == 302


def test_a_username_locked_from_one_address_still_logs_in_from_another(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    make_user("carol", "Viewer", password=PASSWORD)
    _fail(Client(), "carol", 5, ip="10.0.1.1")

    assert LOCKED in _login(Client(), "carol", PASSWORD, ip="10.0.1.1").content.decode()
    assert _login(Client(), "carol", PASSWORD, ip="10.0.2.1").status_code == 302


def test_sprayed_usernames_through_the_proxy_do_not_lock_out_a_real_user(settings):
    """Behind the documented proxy every request arrives from the proxy's address."""
    settings.TRUSTED_PROXIES = [PROXY]
    settings.LOGIN_FAILURE_LIMIT = 10
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 100
    make_user("dave", "Viewer", password=PASSWORD)
    attacker = _via_proxy("198.51.100.66")
    for n in range(60):
        _login(Client(), f"made-up-{n}", "nope", ip=PROXY, **attacker)
    _fail(Client(), "dave", 12, ip=PROXY, **attacker)  # dave's name, from the attacker

    response = _login(Client(), "dave", PASSWORD, ip=PROXY, **_via_proxy("192.0.2.10"))

    assert response.status_code == 302
    event = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).get()
    assert event.ip_address == "192.0.2.10"
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    assert set(failed.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def test_without_the_proxy_setting_every_request_is_the_proxys_address(settings):
    """The reason TRUSTED_PROXIES exists: left empty behind a proxy, the ceiling is shared."""
    settings.TRUSTED_PROXIES = []
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 20
    make_user("dora", "Viewer", password=PASSWORD)
    for n in range(20):
        _login(Client(), f"made-up-{n}", "nope", ip=PROXY, **_via_proxy("198.51.100.66"))

    response = _login(Client(), "dora", PASSWORD, ip=PROXY, **_via_proxy("192.0.2.10"))

    assert LOCKED in response.content.decode()


def test_an_address_reaching_the_ceiling_is_refused_for_every_username(settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 30
    make_user("ed", "Viewer", password=PASSWORD)
    for n in range(30):
        _login(Client(), f"guess-{n}", "nope", ip="10.9.9.9")

    assert LOCKED in _login(Client(), "ed", PASSWORD, ip="10.9.9.9").content.decode()
    assert _login(Client(), "ed", PASSWORD, ip="10.9.9.10").status_code == 302


def test_a_forged_forwarded_header_from_outside_the_proxy_is_not_believed(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.LOGIN_FAILURE_LIMIT = 3
    make_user("fay", "Viewer", password=PASSWORD)
    # Straight to the app server, each attempt claiming to come from somewhere new.
    for n in range(3):
        _login(Client(), "fay", "nope", ip="198.51.100.9", HTTP_X_FORWARDED_FOR=f"10.1.1.{n}")

    response = _login(Client(), "fay", PASSWORD, ip="198.51.100.9", HTTP_X_FORWARDED_FOR="10.1.2.1")

    assert LOCKED in response.content.decode()


def test_the_lockout_ends_when_its_time_has_passed(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_LOCKOUT_SECONDS = 900
    make_user("erin", "Viewer", password=PASSWORD)
    _fail(Client(), "erin", 3)
    assert LOCKED in _login(Client(), "erin", PASSWORD).content.decode()

    LoginThrottle.objects.update(last_failure_at=timezone.now() - timedelta(seconds=901))

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


def test_the_username_is_matched_whatever_its_case_and_spaces(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    make_user("gina", "Viewer", password=PASSWORD)
    for name in ("gina", "GINA", " Gina "):
        _login(Client(), name, "nope")

    assert LOCKED in _login(Client(), "gina", PASSWORD).content.decode()


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
    assert LOCKED in response.content.decode()


# ------------------------------------------------------------ the lockouts page


def test_an_admin_sees_a_lockout_and_lifts_it_and_the_lift_is_audited(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    make_user("hal", "Viewer", password=PASSWORD)
    admin = make_user("boss", "Admin", password=PASSWORD)
    _fail(Client(), "hal", 3, ip="10.7.7.7")
    page = Client()
    page.force_login(admin)

    listing = page.get(reverse("backoffice:lockout_list"))
    assert listing.status_code == 200
    row = LoginThrottle.objects.get(scope=LoginThrottle.Scope.PAIR, username="hal")
    assert "10.7.7.7" in listing.content.decode()

    lifted = page.post(reverse("backoffice:lockout_lift", args=[row.pk]), REMOTE_ADDR="10.8.8.8")

    assert lifted.status_code == 302
    assert _login(Client(), "hal", PASSWORD, ip="10.7.7.7").status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_LOCKOUT_LIFT)
    assert event.actor == admin
    assert event.details["username"] == "hal"
    assert event.details["ip_address"] == "10.7.7.7"
    assert event.ip_address == "10.8.8.8"


def test_lifting_a_lockout_that_is_gone_answers_404(settings):
    admin = make_user("boss", "Admin", password=PASSWORD)
    page = Client()
    page.force_login(admin)

    assert page.post(reverse("backoffice:lockout_lift", args=[999999])).status_code == 404


def test_the_lockouts_page_lists_only_current_lockouts(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    admin = make_user("boss", "Admin", password=PASSWORD)
    _fail(Client(), "ivy", 2, ip="10.6.6.6")  # not yet locked
    page = Client()
    page.force_login(admin)

    content = page.get(reverse("backoffice:lockout_list")).content.decode()

    assert "10.6.6.6" not in content
    assert 'id="no-lockouts"' in content
