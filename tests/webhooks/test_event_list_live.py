"""The event list follows events being applied and stops polling once none is."""

import re

import pytest
from django.urls import reverse

from webhooks.models import WebhookEvent

from .factories import WebhookEventFactory

pytestmark = pytest.mark.django_db
POLLING = 'hx-trigger="every 3s, live-refresh from:body"'


def test_the_event_list_polls_while_an_event_on_it_is_being_applied(client_for):
    event = WebhookEventFactory(status=WebhookEvent.Status.RECEIVED)
    client = client_for("Admin")
    url = reverse("webhooks:event_list")

    page = client.get(url, {"status": "received"}).content.decode()
    assert POLLING in page
    # It re-reads the same page (filters kept) and keeps only its live part.
    assert re.search(r'id="event-live"[^>]*hx-get="[^"]*\?status=received"', page)
    assert 'hx-select="#event-live"' in page

    WebhookEvent.objects.filter(pk=event.pk).update(status=WebhookEvent.Status.FAILED)
    settled = client.get(url).content.decode()
    assert 'data-in-flight="false"' in settled and POLLING not in settled
