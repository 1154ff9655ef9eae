from django import forms
from django.conf import settings

from .services import WEBHOOK_EVENT_TYPES


class EndpointRegisterForm(forms.Form):
    url = forms.URLField(
        label="Public URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where Licendi posts deliveries: this back-office's /hooks/licendi.",
    )
    events = forms.MultipleChoiceField(
        choices=[(name, name) for name in WEBHOOK_EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        initial=list(WEBHOOK_EVENT_TYPES),
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["url"].initial = settings.WEBHOOK_PUBLIC_URL
