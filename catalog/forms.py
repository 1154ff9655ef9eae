"""The pricing rule form: every mistake becomes a form error, never a 500."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms

from .models import Category, PricingRule, Product

# ModelForm is generic for the type checker only (django-stubs); at run time it is not.
if TYPE_CHECKING:
    _ModelForm = forms.ModelForm[PricingRule]
else:
    _ModelForm = forms.ModelForm

MAX_MARKUP_PERCENT = Decimal("1000")


class PricingRuleForm(_ModelForm):
    product_sku = forms.CharField(
        label="Product SKU",
        required=False,
        max_length=64,
        help_text="For a product rule: the product's sku (e.g. 13200).",
    )
    value = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Percent for a % markup, euros for an amount or a fixed price.",
    )

    class Meta:
        model = PricingRule
        fields = ["scope", "category", "brand", "kind", "value", "rounding", "is_active"]
        help_texts = {
            "brand": "For a brand rule: the brand as the catalog spells it.",
            "rounding": "Rounds the selling price up to the chosen price point.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        if isinstance(category, forms.ModelChoiceField):
            category.queryset = Category.objects.order_by("name")
        self.fields["category"].required = False
        self.fields["brand"].required = False
        self.fields["brand"].widget.attrs["list"] = "brand-options"  # datalist in the template
        if self.instance.pk and self.instance.product is not None:
            self.initial["product_sku"] = self.instance.product.sku

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        scope = data.get("scope")
        kind = data.get("kind")
        value = data.get("value")
        sku = (data.get("product_sku") or "").strip()
        brand = (data.get("brand") or "").strip()
        product = None

        if scope == PricingRule.Scope.CATEGORY and not data.get("category"):
            self.add_error("category", "Choose the category this rule prices.")
        if scope == PricingRule.Scope.BRAND:
            if not brand:
                self.add_error("brand", "Enter the brand this rule prices.")
            else:
                known = (
                    Product.objects.filter(brand__iexact=brand)
                    .values_list("brand", flat=True)
                    .first()
                )
                if known is None:
                    self.add_error("brand", f"No product of brand “{brand}” in the catalog.")
                else:
                    brand = known  # stored as the catalog spells it
        if scope == PricingRule.Scope.PRODUCT:
            if not sku:
                self.add_error("product_sku", "Enter the sku of the product this rule prices.")
            else:
                product = Product.objects.filter(sku=sku).first()
                if product is None:
                    self.add_error("product_sku", f"No product with sku “{sku}”.")
        if kind == PricingRule.Kind.FIXED_PRICE and scope != PricingRule.Scope.PRODUCT:
            self.add_error(
                "kind", "A fixed selling price can only be set for one product (product scope)."
            )
        if (
            kind == PricingRule.Kind.MARKUP_PERCENT
            and value is not None
            and value > MAX_MARKUP_PERCENT
        ):
            self.add_error("value", f"A markup above {MAX_MARKUP_PERCENT}% is surely a typo.")

        # Keep only the target the scope uses, so the DB check constraint always holds.
        data["category"] = data.get("category") if scope == PricingRule.Scope.CATEGORY else None
        data["brand"] = brand if scope == PricingRule.Scope.BRAND else ""
        self.instance.product = product if scope == PricingRule.Scope.PRODUCT else None

        if data.get("is_active", False) and not self.errors:
            self._check_no_other_active_rule(scope, data, product)
        return data

    def _check_no_other_active_rule(
        self, scope: str | None, data: dict[str, Any], product: Product | None
    ) -> None:
        others = PricingRule.objects.filter(is_active=True, scope=scope)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if scope == PricingRule.Scope.CATEGORY:
            others = others.filter(category=data["category"])
        elif scope == PricingRule.Scope.BRAND:
            others = others.filter(brand__iexact=data["brand"])
        elif scope == PricingRule.Scope.PRODUCT:
            others = others.filter(product=product)
        if others.exists():
            raise forms.ValidationError(
                "Another active rule already prices this target: edit or deactivate it first."
            )
