from __future__ import annotations

from typing import Any

from django import forms

from .models import NotificationKind


class PreferencesForm(forms.Form):
    """One "e-mail me" checkbox per kind the user receives."""

    def __init__(self, *args: Any, kinds: list[NotificationKind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in kinds:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label,
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )
