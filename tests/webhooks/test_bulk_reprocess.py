"""Reprocessing events selected on the event log: each reported, one audit row, no 500."""

import pytest

from backoffice.models import AuditEvent
from tests.conftest import messages_of
from webhooks import services
from webhooks.models import WebhookEvent

from .factories import WebhookEventFactory

pytestmark = pytest.mark.django_db
URL = "/webhooks/events/reprocess/"


@pytest.fixture
def events():
    return {
        # An unknown type is applied by being ignored: it ends done.
        "applies": WebhookEventFactory(type="order.refunded", status=WebhookEvent.Status.FAILED),
        # No purchase order matches it: it goes on waiting.
        "waits": WebhookEventFactory(
            upstream_order_id="ord-nowhere", status=WebhookEvent.Status.FAILED
        ),
        "done": WebhookEventFactory(status=WebhookEvent.Status.PROCESSED),
    }


def test_each_event_is_reprocessed_or_refused_with_its_reason(events, user_in_role):
    admin = user_in_role("Admin")
    pks = [events["applies"].pk, events["waits"].pk, events["done"].pk, 987654]

    outcome = services.webhook_events_reprocess(event_pks=pks, user=admin)

    assert outcome.done == [events["applies"].event_id]
    assert outcome.refused == [
        (
            events["waits"].event_id,
            "waiting for its order: No purchase order matches this order yet.",
        ),
        (f"#{events['done'].pk}", "already processed"),
        ("#987654", "no such event"),
    ]
    events["applies"].refresh_from_db()
    assert events["applies"].status == WebhookEvent.Status.IGNORED
    assert events["applies"].attempts == 1
    events["done"].refresh_from_db()
    assert events["done"].attempts == 0  # left alone


def test_one_audit_row_names_the_count_and_the_ids(events, user_in_role):
    admin = user_in_role("Admin")
    pks = [events["applies"].pk, events["waits"].pk]

    services.webhook_events_reprocess(event_pks=pks, user=admin)

    audit = AuditEvent.objects.get(action=AuditEvent.Action.WEBHOOK_EVENTS_REPROCESS)
    assert audit.actor == admin
    assert audit.details == {"count": 2, "ids": pks, "processed": [events["applies"].pk]}


def test_the_page_action_reports_every_row_and_keeps_the_list_filters(events, client_for):
    client = client_for("Admin")
    response = client.post(
        URL,
        {
            "ids": [str(events["applies"].pk), "abc", "999999", str(events["waits"].pk)],
            "next": "?status=failed&page=1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/webhooks/?status=failed&page=1"
    [message] = messages_of(response)
    assert message.startswith("1 event reprocessed. 3 refused: 'abc' (not an id); #999999")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_EVENTS_REPROCESS).count() == 1


def test_the_page_action_never_redirects_elsewhere(client_for, events):
    client = client_for("Admin")
    response = client.post(URL, {"ids": [str(events["done"].pk)], "next": "//evil.example/x"})
    assert response["Location"] == "/webhooks/"


def test_nothing_selected_is_said_and_audits_nothing(client_for):
    response = client_for("Admin").post(URL, {})
    assert response.status_code == 302
    assert messages_of(response) == ["Select at least one event to reprocess."]
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.WEBHOOK_EVENTS_REPROCESS).exists()


def test_only_webhook_managers_reprocess_and_only_by_post(client_for, events):
    pk = str(events["applies"].pk)
    assert client_for("Buyer").post(URL, {"ids": [pk]}).status_code == 403
    assert client_for("Admin").get(URL).status_code == 405
    events["applies"].refresh_from_db()
    assert events["applies"].attempts == 0


def test_the_event_list_has_a_labelled_checkbox_per_row(client_for, events):
    html = client_for("Admin").get("/webhooks/").content.decode()
    event = events["applies"]
    assert (
        f'name="ids" value="{event.pk}" form="event-bulk" '
        f'aria-label="Select event {event.event_id} (order.refunded)"'
    ) in html
    assert 'data-select-all="event-bulk"' in html
    assert 'id="event-bulk"' in html
