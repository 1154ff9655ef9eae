"""Idle staff are logged out after SESSION_IDLE_SECONDS; CSRF is enforced on forms."""

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.middleware import IDLE_PUSHED_AT_KEY
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def _cached_copy_gone(session_key: str) -> None:
    """The cache's copy of a session expired or was lost (the row stays)."""
    caches[django_settings.SESSION_CACHE_ALIAS].delete(KEY_PREFIX + session_key)


def test_the_idle_timeout_comes_from_session_idle_seconds(settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_SECONDS
    assert "backoffice.middleware.IdleSessionMiddleware" in settings.MIDDLEWARE


def _expiring_soon(client: Client, settings) -> None:
    """The stored session as SESSION_IDLE_SECONDS less 5 s of idling leaves it."""
    session = client.session
    pushed_at = session[IDLE_PUSHED_AT_KEY]
    session[IDLE_PUSHED_AT_KEY] = pushed_at - settings.SESSION_IDLE_SECONDS + 5
    session.save()
    row = _session_row(client)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() + timedelta(seconds=5))


def test_each_page_load_pushes_the_expiry_forward(client_for, settings):
    client = client_for("Viewer")
    client.get(reverse("home"))
    _expiring_soon(client, settings)

    client.get(reverse("home"))

    expiry = _session_row(client).expire_date
    expected = timezone.now() + timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    assert abs((expiry - expected).total_seconds()) < 30


def test_a_page_load_soon_after_the_last_push_writes_nothing(client_for, settings):
    settings.SESSION_IDLE_REFRESH_SECONDS = 60
    client = client_for("Viewer")
    client.get(reverse("home"))
    before = _session_row(client).expire_date

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("catalog:product_list"))

    assert _session_row(client).expire_date == before
    assert not [q for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_a_page_load_after_the_refresh_interval_pushes_again(client_for, settings):
    settings.SESSION_IDLE_REFRESH_SECONDS = 60
    client = client_for("Viewer")
    client.get(reverse("home"))
    session = client.session
    session[IDLE_PUSHED_AT_KEY] -= 61
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(seconds=settings.SESSION_IDLE_SECONDS - 61)
    )

    client.get(reverse("home"))

    expiry = _session_row(client).expire_date
    expected = timezone.now() + timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    assert abs((expiry - expected).total_seconds()) < 30
    assert client.session[IDLE_PUSHED_AT_KEY] >= int(time.time()) - 30


def test_background_htmx_polling_does_not_keep_an_idle_session_alive(client_for, settings):
    client = client_for("Viewer")
    client.get(reverse("home"))
    _expiring_soon(client, settings)
    before = _session_row(client).expire_date

    client.get(reverse("home"), HTTP_HX_REQUEST="true")

    assert _session_row(client).expire_date == before


def test_an_htmx_post_is_activity(client_for, settings):
    client = client_for("Viewer")
    client.get(reverse("home"))
    _expiring_soon(client, settings)
    before = _session_row(client).expire_date

    client.post(reverse("home"), HTTP_HX_REQUEST="true")  # 405 or 200: still the user acting

    assert _session_row(client).expire_date > before + timedelta(minutes=1)


def test_an_idle_session_is_logged_out(client_for):
    client = client_for("Viewer")
    assert client.get(reverse("home")).status_code == 200
    row = _session_row(client)
    # What SESSION_IDLE_SECONDS without a request does to the stored session: the row's
    # expiry passes, and the cache's copy, kept for as long, is gone.
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    _cached_copy_gone(row.session_key)

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_page_load_reads_its_session_from_the_cache_and_survives_losing_it(client_for):
    client = client_for("Viewer")
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("catalog:product_list")).status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"]]

    _cached_copy_gone(client.session.session_key)  # a cache restart: the row still holds it
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("catalog:product_list")).status_code == 200
    assert [q for q in queries if "django_session" in q["sql"]]


def test_login_without_a_csrf_token_is_refused_with_the_project_403_page():
    make_user("csrf-user", "Viewer", password="pw-for-tests-only")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"), {"username": "csrf-user", "password": "pw-for-tests-only"}
    )
    assert response.status_code == 403
    assert "Request id" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_forms_refuse_a_post_without_a_csrf_token():
    admin = make_user("csrf-admin", "Admin")
    target = make_user("csrf-target", "Viewer")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)

    response = client.post(reverse("backoffice:user_deactivate", args=[target.pk]))

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active


def test_only_the_webhook_receiver_is_exempt_from_csrf():
    from django.urls import get_resolver

    from tests.test_url_permissions import iter_url_patterns

    exempt = sorted(
        name
        for name, _route, pattern in iter_url_patterns(get_resolver())
        if getattr(pattern.callback, "csrf_exempt", False) and not name.startswith("admin:")
    )
    # The sales-channel API authenticates by bearer token only, never a session cookie:
    # a forged cross-site request carries no credential there.
    channel_api = {
        "channel_api:offers",
        "channel_api:fulfilments",
        "channel_api:fulfilment_get",
        "channel_api:openapi-json",
        "channel_api:api-root",
    }
    assert set(exempt) <= {"webhooks:receiver", *channel_api}
