"""Endpoint management: register (secret shown once), list, delete, rotate; permissions."""

import re

import pytest
from django.test import Client

from backoffice import crypto
from backoffice.models import AuditEvent
from webhooks.models import WebhookEndpoint
from webhooks.views import NEW_SECRET_SESSION_KEY

from .conftest import RECEIVER
from .factories import event_body, signed_headers

pytestmark = pytest.mark.django_db

PAGE = "/webhooks/endpoints/"
SECRET_PATTERN = re.compile(rb"whsec_[A-Za-z0-9+/=]+")


def deliver(secret: str) -> int:
    body = event_body("ping", {})
    return (
        Client()
        .post(RECEIVER, data=body, content_type="application/json", **signed_headers(secret, body))
        .status_code
    )


def register(admin_client, url="http://127.0.0.1:8000/hooks/licendi", events=None):
    events = events or ["order.delivered", "key.assigned"]
    return admin_client.post(PAGE, {"url": url, "events": events}, follow=True)


def shown_secret(response) -> str:
    found = SECRET_PATTERN.findall(response.content)
    assert len(found) == 1, "the secret is shown exactly once on the registration answer"
    return found[0].decode()


def assert_no_secret_in_audit(*secrets: str) -> None:
    for event in AuditEvent.objects.all():
        text = f"{event.summary} {event.details}"
        assert not any(secret in text for secret in secrets)
        assert "whsec_" not in text


def test_registering_shows_the_secret_once_and_stores_it_encrypted(sandbox, admin_client):
    response = register(admin_client)
    assert response.status_code == 200
    assert response.redirect_chain == [(PAGE, 302)]  # a reload cannot register twice
    assert response["Cache-Control"] == "no-store"
    secret = shown_secret(response)

    endpoint = WebhookEndpoint.objects.get()
    upstream = sandbox.state.webhooks[endpoint.upstream_id]
    assert upstream.secret == secret and upstream.url == "http://127.0.0.1:8000/hooks/licendi"
    assert secret not in endpoint.secret_encrypted
    assert crypto.decrypt(endpoint.secret_encrypted) == secret

    assert NEW_SECRET_SESSION_KEY not in admin_client.session  # shown, then forgotten
    again = admin_client.get(PAGE)
    assert again.status_code == 200
    assert not SECRET_PATTERN.search(again.content)
    assert endpoint.upstream_id.encode() in again.content

    audit = AuditEvent.objects.get(action=AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGE)
    assert audit.details["upstream_id"] == endpoint.upstream_id
    assert_no_secret_in_audit(secret)
    assert deliver(secret) == 200


def test_the_page_defaults_to_the_configured_public_url(sandbox, admin_client, settings):
    settings.WEBHOOK_PUBLIC_URL = "https://backoffice.example/hooks/licendi"
    response = admin_client.get(PAGE)
    assert b'value="https://backoffice.example/hooks/licendi"' in response.content


def test_the_list_shows_endpoints_that_exist_only_upstream(sandbox, admin_client):
    orphan = sandbox.state.add_webhook("https://elsewhere.example/hook", ["order.delivered"])
    response = admin_client.get(PAGE)
    assert orphan.id.encode() in response.content
    assert b"not registered here" in response.content
    deleted = admin_client.post(f"/webhooks/endpoints/upstream/{orphan.id}/delete/")
    assert deleted.status_code == 302
    assert orphan.id not in sandbox.state.webhooks


def test_an_upstream_only_endpoint_with_an_odd_id_still_lists(sandbox, admin_client, monkeypatch):
    from licendi import WebhookEndpoint as Upstream
    from licendi import client as licendi_client_module

    odd = Upstream(id="wh/odd id", url="https://elsewhere.example/hook", events=("key.assigned",))
    monkeypatch.setattr(licendi_client_module.LicendiClient, "list_webhooks", lambda self: [odd])
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    assert b"wh/odd id" in response.content


def test_upstream_errors_become_a_message_never_a_500(sandbox, admin_client):
    sandbox.faults.inject(
        method="POST", path="/api/webhooks", kind="status", status=503, times=None
    )
    sandbox.faults.inject(method="GET", path="/api/webhooks", kind="status", status=500, times=None)
    response = register(admin_client)
    assert response.status_code == 200
    assert b"did not register" in response.content
    assert b"Could not list" in response.content
    assert not WebhookEndpoint.objects.exists()


def test_an_invalid_form_is_shown_with_its_errors(sandbox, admin_client):
    response = admin_client.post(PAGE, {"url": "not a url", "events": ["order.shipped"]})
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_deleting_removes_it_upstream_and_its_secret_stops_verifying(sandbox, admin_client):
    secret = shown_secret(register(admin_client))
    endpoint = WebhookEndpoint.objects.get()
    assert deliver(secret) == 200
    for _ in range(2):  # a second click finds it deleted and says so
        assert admin_client.post(f"/webhooks/endpoints/{endpoint.pk}/delete/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.status == WebhookEndpoint.Status.DELETED
    assert endpoint.upstream_id not in sandbox.state.webhooks
    assert deliver(secret) == 401
    assert AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_ENDPOINT_CHANGE).count() == 2


def test_rotation_accepts_both_secrets_during_the_overlap_and_only_the_new_one_after(
    sandbox, admin_client
):
    old_secret = shown_secret(register(admin_client))
    old = WebhookEndpoint.objects.get()

    rotated = admin_client.post(f"/webhooks/endpoints/{old.pk}/rotate/", follow=True)
    assert rotated.status_code == 200
    new_secret = shown_secret(rotated)
    assert new_secret != old_secret
    old.refresh_from_db()
    new = old.replaced_by
    assert old.status == WebhookEndpoint.Status.RETIRING and new.status == "active"
    assert set(sandbox.state.webhooks) == {old.upstream_id, new.upstream_id}
    assert deliver(old_secret) == 200 and deliver(new_secret) == 200

    assert b"Finish rotation" in admin_client.get("/webhooks/endpoints/").content
    finished = admin_client.post(f"/webhooks/endpoints/{old.pk}/finish-rotation/")
    assert finished.status_code == 302
    old.refresh_from_db()
    assert old.status == WebhookEndpoint.Status.DELETED
    assert set(sandbox.state.webhooks) == {new.upstream_id}
    assert deliver(old_secret) == 401 and deliver(new_secret) == 200

    actions = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.SECRET_ROTATION).values_list(
            "details__change", flat=True
        )
    )
    assert sorted(actions) == ["rotation_finished", "rotation_started"]
    assert_no_secret_in_audit(old_secret, new_secret)


def test_rotating_a_retiring_endpoint_is_refused_with_a_message(sandbox, admin_client):
    register(admin_client)
    old = WebhookEndpoint.objects.get()
    admin_client.post(f"/webhooks/endpoints/{old.pk}/rotate/")
    again = admin_client.post(f"/webhooks/endpoints/{old.pk}/rotate/", follow=True)
    assert b"Only an active endpoint can be rotated" in again.content
    assert WebhookEndpoint.objects.count() == 2


@pytest.mark.parametrize(
    "url",
    [
        PAGE,
        "/webhooks/",
        "/webhooks/events/1/",
    ],
)
def test_pages_need_the_manage_webhooks_permission(client_for, client, url):
    assert client_for("Viewer").get(url).status_code == 403
    assert client_for("Buyer").get(url).status_code == 403
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


@pytest.mark.parametrize(
    "url",
    [
        "/webhooks/endpoints/1/delete/",
        "/webhooks/endpoints/1/rotate/",
        "/webhooks/endpoints/1/finish-rotation/",
        "/webhooks/endpoints/upstream/wh-1/delete/",
        "/webhooks/events/1/reprocess/",
    ],
)
def test_actions_need_the_manage_webhooks_permission(client_for, client, url):
    assert client_for("Viewer").post(url).status_code == 403
    assert client.post(url).status_code == 302
    assert client_for("Admin").get(url).status_code == 405
