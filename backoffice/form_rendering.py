"""The one form renderer: Bootstrap 5 classes on every widget, from one place.

`FORM_RENDERER` points at `BootstrapFormRenderer`, so every Django form and every
django-filter form gets its widgets' classes from `BootstrapBoundField` (Django 5.2's
`bound_field_class`), instead of each form looping over its fields. The filter forms of
the list pages use `CompactFormRenderer`: small controls and the inline field template.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting

CHECK_WIDGETS = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)


def bootstrap_class(widget: forms.Widget, size: str = "") -> str:
    """The Bootstrap class of a widget: a check, a select or a text-like control."""
    if isinstance(widget, CHECK_WIDGETS):
        return "form-check-input"
    base = "form-select" if isinstance(widget, forms.Select) else "form-control"
    return f"{base} {base}-{size}" if size else base


class BootstrapBoundField(forms.BoundField):
    def build_widget_attrs(
        self, attrs: dict[str, Any], widget: forms.Widget | None = None
    ) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        widget = widget or self.field.widget
        if widget.is_hidden:
            return attrs
        if "class" not in attrs and "class" not in widget.attrs:
            size = getattr(self.form.renderer, "control_size", "")
            inner = getattr(widget, "widgets", None)  # a range: its parts share the class
            css = bootstrap_class(inner[0] if inner else widget, size)
            attrs["class"] = f"{css} is-invalid" if self.errors else css
        return attrs


class BootstrapFormRenderer(TemplatesSetting):
    bound_field_class = BootstrapBoundField
    field_template_name = "forms/field.html"
    control_size = ""


class CompactFormRenderer(BootstrapFormRenderer):
    """Small controls side by side: the filter bar above a list."""

    field_template_name = "forms/filter_field.html"
    control_size = "sm"
