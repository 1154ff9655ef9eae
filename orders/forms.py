"""Forms of the orders pages: they parse input; the services change state."""

from typing import TYPE_CHECKING

from django import forms

from .models import Customer


class BootstrapMixin:
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


if TYPE_CHECKING:
    CustomerFormBase = forms.ModelForm[Customer]
else:  # generic to the type checker only (no django-stubs-ext at run time)
    CustomerFormBase = forms.ModelForm


class CustomerForm(BootstrapMixin, CustomerFormBase):
    class Meta:
        model = Customer
        fields = ["name", "company", "email", "vat_id", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class DraftForm(BootstrapMixin, forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.order_by("name"),
        required=False,
        empty_label="— stock (no customer) —",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LineForm(BootstrapMixin, forms.Form):
    order_sku = forms.CharField(max_length=100, label="Order sku")
    quantity = forms.IntegerField(min_value=0, max_value=1000, initial=1)


class NewOrderForm(DraftForm):
    order_sku = forms.CharField(max_length=100, required=False, label="First item (order sku)")
    quantity = forms.IntegerField(min_value=1, max_value=1000, initial=1, required=False)


class KeyAssignForm(BootstrapMixin, forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.order_by("name"))


class RejectForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(max_length=500, required=False)
