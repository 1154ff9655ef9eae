"""The one form renderer: Bootstrap 5 classes on every widget, from one place.

`FORM_RENDERER` points at `BootstrapFormRenderer`, so every Django form and every
django-filter form gets its widgets' classes from `BootstrapBoundField` (Django 5.2's
`bound_field_class`), instead of each form looping over its fields. The filter forms of
the list pages use `CompactFormRenderer`: small controls and the inline field template.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer, TemplatesSetting
from django.utils.safestring import SafeString, mark_safe

from .escaping import conditional_escape

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


class CompactBoundField(BootstrapBoundField):
    def as_field_group(self) -> SafeString:
        """`forms/filter_field.html` written in Python: the filter bar renders one per
        field on every page of a list, and through the template engine its fields cost
        as much as the table's rows. The markup is the template's, whitespace aside
        (`tests/backoffice/test_filter_fields.py` compares the two)."""
        ranged = bool(getattr(self.field.widget, "suffixes", None))
        target = f"{self.auto_id}_0" if ranged else self.auto_id
        control = self.as_widget()
        parts = [
            f'<label class="form-label small mb-0" for="{_escape(target)}">'
            f"{_escape(self.label)}</label>",
            f'<div class="d-flex gap-1">{control}</div>' if ranged else control,
        ]
        parts += [f'<div class="text-danger small">{_escape(e)}</div>' for e in self.errors]
        return mark_safe("".join(parts))  # noqa: S308, S703 - every part is escaped above


class CompactFormRenderer(BootstrapFormRenderer):
    """Small controls side by side: the filter bar above a list."""

    bound_field_class = CompactBoundField
    field_template_name = "forms/filter_field.html"
    control_size = "sm"


# A select escapes each of its options' values and labels.
_escape = conditional_escape


def _attrs_html(attrs: dict[str, Any]) -> str:
    """Django's widgets/attrs.html in Python: `False` leaves out, `True` is a bare name."""
    return "".join(
        f" {_escape(name)}" if value is True else f' {_escape(name)}="{_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class _PythonWidget:
    """A widget whose markup is written in Python from Django's own widget context."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        return self.html(self.widget_context(name, value, attrs))

    def widget_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        return self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined,no-any-return]

    def html(self, widget: dict[str, Any]) -> SafeString:
        raise NotImplementedError


class FastSelect(_PythonWidget, forms.Select):
    """A select written in Python rather than through the widget templates.

    The template engine renders each option through two included templates, which made
    the filter bar's few selects cost as much as the table below them. The options are
    written straight from the choices, with Django's rules for which are selected
    (`ChoiceWidget.optgroups`) but without the dictionary it builds for each option's
    template. The markup is the same as Django's `select.html`/`select_option.html`, the
    layout whitespace aside (`tests/backoffice/test_filter_fields.py`).
    """

    def widget_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        # Widget.get_context: the name, formatted value and attributes, not the options.
        widget: dict[str, Any] = forms.Widget.get_context(self, name, value, attrs)["widget"]
        if self.allow_multiple_selected:
            widget["attrs"]["multiple"] = True
        return widget

    def html(self, widget: dict[str, Any]) -> SafeString:
        parts = [f'<select name="{_escape(widget["name"])}"', _attrs_html(widget["attrs"]), ">"]
        parts += self._options(widget["value"])
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308, S703 - every part is escaped

    def _options(self, value: list[str]) -> list[str]:
        """`<option>`s (in `<optgroup>`s for grouped choices), selected as
        `ChoiceWidget.optgroups` selects them: the first option whose value is among
        `value` (every one of them for a multiple select)."""
        parts: list[str] = []
        has_selected = False
        many = self.allow_multiple_selected
        for option_value, option_label in self.choices:
            if isinstance(option_label, (list, tuple)):
                group, choices = option_value, option_label
            else:
                group = None
                choices = [("" if option_value is None else option_value, option_label)]
            if group:
                parts.append(f'<optgroup label="{_escape(group)}">')
            for subvalue, sublabel in choices:
                selected = (many or not has_selected) and str(subvalue) in value
                has_selected |= selected
                mark = " selected" if selected else ""
                parts.append(
                    f'<option value="{_escape(str(subvalue))}"{mark}>{_escape(sublabel)}</option>'
                )
            if group:
                parts.append("</optgroup>")
        return parts


class FastInputMixin(_PythonWidget):
    """A text or number input written in Python: Django's `text.html`/`number.html`
    (which include `input.html` and `attrs.html`), stripped as the renderer strips them."""

    def html(self, widget: dict[str, Any]) -> SafeString:
        shown = widget["value"]
        value_html = f' value="{_escape(shown)}"' if shown is not None else ""
        return mark_safe(  # noqa: S308, S703 - every part is escaped
            f'<input type="{_escape(widget["type"])}" name="{_escape(widget["name"])}"'
            f"{value_html}{_attrs_html(widget['attrs'])}>"
        )


class FastTextInput(FastInputMixin, forms.TextInput):
    pass


class FastNumberInput(FastInputMixin, forms.NumberInput):
    pass


_FAST_WIDGETS: dict[type[forms.Widget], type[forms.Widget]] = {
    forms.Select: FastSelect,
    forms.TextInput: FastTextInput,
    forms.NumberInput: FastNumberInput,
}


def use_fast_selects(fields: dict[str, forms.Field]) -> None:
    """Render the plain selects, text and number inputs of `fields` (a form class's base
    fields) in Python (same markup, no templates)."""
    for field in fields.values():
        fast = _FAST_WIDGETS.get(type(field.widget))
        if fast is not None:
            # The field's own widget instance: choices and attributes stay as set.
            field.widget.__class__ = fast
