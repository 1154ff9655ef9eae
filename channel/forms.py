"""Forms of the Admin pages for API clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from .models import Action, ApiClient

if TYPE_CHECKING:
    # Generic only for the type checker: Django's classes are not subscriptable at runtime.
    ClientModelForm = forms.ModelForm[ApiClient]
else:
    ClientModelForm = forms.ModelForm

SETTINGS_FIELDS = [
    "actions",
    "allow_out_of_stock",
    "allow_below_margin",
    "daily_spend_cap",
    "order_spend_cap",
    "margin_floor_percent",
    "approval_threshold",
    "callback_url",
]


class ClientSettingsForm(ClientModelForm):
    actions = forms.MultipleChoiceField(
        choices=Action.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(Action.values),
        help_text="What the client's token may do",
    )
    callback_url = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=500,
        help_text="Where delivered and failed fulfilments are announced (signed)",
    )

    class Meta:
        model = ApiClient
        fields = SETTINGS_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("daily_spend_cap", "order_spend_cap", "approval_threshold"):
            value = cleaned.get(name)
            if value is not None and value < 0:
                self.add_error(name, "Cannot be negative")
        daily, per_order = cleaned.get("daily_spend_cap"), cleaned.get("order_spend_cap")
        if daily is not None and per_order is not None and per_order > daily:
            self.add_error("order_spend_cap", "The per-order cap cannot exceed the daily cap")
        return cleaned

    def settings(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in SETTINGS_FIELDS}


class ClientCreateForm(ClientSettingsForm):
    class Meta:
        model = ApiClient
        fields = ["name", *SETTINGS_FIELDS]


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Shown to the shop with every refusal")
