from typing import Any

from django import forms
from django.conf import settings

from backoffice import badges

from .models import WebhookEvent


class EndpointRegisterForm(forms.Form):
    url = forms.URLField(
        label="Public URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where Licendi posts deliveries: this back-office's /hooks/licendi.",
    )
    events = forms.MultipleChoiceField(
        choices=badges.choices("webhooks.WebhookEvent.type", WebhookEvent.KNOWN_TYPES),
        widget=forms.CheckboxSelectMultiple,
        initial=list(WebhookEvent.KNOWN_TYPES),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["url"].initial = settings.WEBHOOK_PUBLIC_URL
