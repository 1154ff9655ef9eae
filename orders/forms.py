"""Forms of the orders pages: they parse input; the services change state.

Their Bootstrap classes come from the project's form renderer (backoffice.form_rendering).
"""

from typing import TYPE_CHECKING

from django import forms

from .models import Customer

if TYPE_CHECKING:
    CustomerFormBase = forms.ModelForm[Customer]
else:  # generic to the type checker only (no django-stubs-ext at run time)
    CustomerFormBase = forms.ModelForm


class CustomerForm(CustomerFormBase):
    class Meta:
        model = Customer
        fields = ["name", "company", "email", "vat_id", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class DraftForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.order_by("name"),
        required=False,
        empty_label="— stock (no customer) —",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LineForm(forms.Form):
    order_sku = forms.CharField(max_length=100, label="Order sku")
    quantity = forms.IntegerField(min_value=0, max_value=1000, initial=1)


class NewOrderForm(DraftForm):
    order_sku = forms.CharField(max_length=100, required=False, label="First item (order sku)")
    quantity = forms.IntegerField(min_value=1, max_value=1000, initial=1, required=False)


class KeyAssignForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.order_by("name"))


class KeyBulkAssignForm(KeyAssignForm):
    email = forms.BooleanField(required=False, label="Also e-mail them to the customer")


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)
