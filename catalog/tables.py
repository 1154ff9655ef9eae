"""django-tables2 tables of the catalog pages (all extend backoffice.tables.BaseTable)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import django_tables2 as tables
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS, urlencode
from django.utils.safestring import SafeString

from backoffice.tables import (
    BadgeColumn,
    BaseTable,
    BooleanColumn,
    DateTimeColumn,
    MoneyColumn,
    SelectColumn,
    format_cell,
    money_text,
)

from . import selectors
from .models import Combination, PriceChange, PricingRule, SyncRun

INACTIVE_BADGE = SafeString(' <span class="badge text-bg-secondary">inactive</span>')
MARGIN_UNDEFINED = SafeString('<span class="margin-below" title="Selling price is 0">n/a</span>')


class CombinationTable(BaseTable):
    """One row per orderable thing: what we can sell, what it costs, what we earn."""

    # Rows ticked here go onto a purchase order ("Add selected to purchase order").
    select = SelectColumn(
        form="catalog-selection",
        field_name="sku",
        value=lambda record: record.order_sku,
        label=lambda record: " ".join(
            filter(None, [record.product.name, record.label, f"({record.order_sku})"])
        ),
    )
    name = tables.Column(
        accessor="product__name", verbose_name="Product", order_by=("product__name", "order_sku")
    )
    # Shown under the product name; separate columns only in exports. Hidden columns
    # cost nothing at render time, and rendering cells is what a list page spends on.
    label = tables.Column(verbose_name="Options", orderable=False, visible=False)
    order_sku = tables.Column(verbose_name="Order SKU", orderable=False)
    brand = tables.Column(accessor="product__brand", orderable=False)
    category = tables.Column(
        accessor="product__category__name",
        verbose_name="Category",
        orderable=False,
        visible=False,
    )
    net_price = MoneyColumn(verbose_name="Net")
    price = MoneyColumn(verbose_name="RRP")
    selling_price = MoneyColumn(verbose_name="Selling")
    margin = MoneyColumn(verbose_name="Margin")
    margin_percent = tables.Column(
        verbose_name="Margin %", attrs={"td": {"class": "money"}, "th": {"class": "money"}}
    )
    in_stock = BooleanColumn(verbose_name="Stock", orderable=False)
    rule = tables.Column(
        accessor="priced_by_rule", verbose_name="Priced by", orderable=False, default="RRP"
    )

    class Meta(BaseTable.Meta):
        model = Combination
        fields = (
            "select",
            "name",
            "label",
            "order_sku",
            "brand",
            "category",
            "net_price",
            "price",
            "selling_price",
            "margin",
            "margin_percent",
            "in_stock",
            "rule",
        )
        order_by = ("name",)
        row_attrs = {"data-order-sku": lambda record: record.order_sku}

    export_exclude = ("select",)
    # Up to this many rows, sorting them beats walking the name index (order_name).
    SORT_MATCHES_MAX = 5000

    def __init__(self, *args, sort_matches: bool = False, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.sort_matches = sort_matches  # read by order_name while the base class sorts
        super().__init__(*args, **kwargs)
        self.min_margin = selectors.min_margin_percent()
        # One reverse() per page rather than per row: the sku is the URL's last segment.
        self._detail_url = reverse("catalog:product_detail", args=["-"]).rpartition("-/")

    def product_url(self, sku: str) -> str:
        if not sku or "/" in sku:
            return reverse("catalog:product_detail", args=[sku])  # as reverse() judges it
        head, _slot, tail = self._detail_url
        return f"{head}{quote(sku, safe=RFC3986_SUBDELIMS + '~:@')}/{tail}"

    def render_name(self, record: Combination) -> str:
        url = self.product_url(record.product.sku)
        inactive = "" if record.is_active else INACTIVE_BADGE
        return format_cell(
            '<a href="{}">{}</a>{}<div class="small text-muted">{}</div>',
            url,
            record.product.name,
            inactive,
            record.label,
        )

    def order_name(
        self, queryset: QuerySet[Combination], is_descending: bool
    ) -> tuple[QuerySet[Combination], bool]:
        """By product name, then order sku. With many rows the product name index serves
        a page at once. With few (a search, a small brand: `sort_matches`, from the row
        count) PostgreSQL would still walk that index, skipping every product the filter
        leaves out until it has a page: the matches of "windows 11" all sort late, and the
        planner, assuming them spread evenly, reads most of the 20,000 products for 50
        rows. Then the rows are ordered by `name || ''`: the same order under the same
        collation, but no index serves it, so the matches (found through the trigram
        index) are sorted instead."""
        if not self.sort_matches:
            return queryset, False  # the column's order_by: product__name, order_sku
        keys = (selectors.name_sort_key("product__"), F("order_sku"))
        ordering = [key.desc() if is_descending else key.asc() for key in keys]
        return queryset.order_by(*ordering), True

    def value_name(self, record: Combination) -> str:
        return record.product.name

    def render_order_sku(self, value: str) -> str:
        return format_cell("<code>{}</code>", value)

    def render_margin_percent(self, record: Combination) -> str:
        value = record.margin_percent
        if record.selling_price is None:
            return "—"
        if value is None:
            return MARGIN_UNDEFINED
        if value < self.min_margin:
            return format_cell('<span class="margin-below">{}</span>', f"{value:.2f}")
        return f"{value:.2f}"

    def value_margin_percent(self, record: Combination) -> Decimal | None:
        return record.margin_percent

    def render_rule(self, record: Combination) -> str:
        rule = record.priced_by_rule
        return f"{rule.get_scope_display()}: {rule.describe()}" if rule else "RRP"

    def value_rule(self, record: Combination) -> str:
        return self.render_rule(record)

    def order_margin_percent(
        self, queryset: QuerySet[Combination], is_descending: bool
    ) -> tuple[QuerySet[Combination], bool]:
        # An undefined margin % (selling price 0) is the worst case: first when ascending.
        field = F("margin_percent")
        ordering = field.desc(nulls_last=True) if is_descending else field.asc(nulls_first=True)
        return queryset.order_by(ordering, "id"), True


def _change(old: Decimal | None, new: Decimal | None) -> str:
    """An amount before and after: "12.00 → 13.50 EUR" (the currency said once)."""
    return f"{money_text(old, '')} → {money_text(new)}"


class PriceChangeTable(BaseTable):
    changed_at = DateTimeColumn(verbose_name="When")
    product = tables.Column(accessor="combination__product__name", verbose_name="Product")
    label = tables.Column(accessor="combination__label", verbose_name="Options", orderable=False)
    order_sku = tables.Column(accessor="combination__order_sku", verbose_name="Order SKU")
    net = tables.Column(empty_values=(), verbose_name="Net old → new", orderable=False)
    rrp = tables.Column(empty_values=(), verbose_name="RRP old → new", orderable=False)
    delta = tables.Column(empty_values=(), verbose_name="Net Δ %", orderable=False)
    margin_change = tables.Column(empty_values=(), verbose_name="Margin old → new", orderable=False)
    new_margin_percent = tables.Column(verbose_name="Margin % after", orderable=False)
    sync_run = tables.Column(verbose_name="Sync", orderable=False)

    class Meta(BaseTable.Meta):
        model = PriceChange
        fields = (
            "changed_at",
            "product",
            "label",
            "order_sku",
            "net",
            "rrp",
            "delta",
            "margin_change",
            "new_margin_percent",
            "sync_run",
        )
        order_by = ("-changed_at",)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.min_margin = selectors.min_margin_percent()

    def render_product(self, record: PriceChange) -> str:
        product = record.combination.product
        url = reverse("catalog:product_detail", args=[product.sku])
        return format_cell('<a href="{}">{}</a>', url, product.name)

    def render_net(self, record: PriceChange) -> str:
        return _change(record.old_net_price, record.new_net_price)

    def render_rrp(self, record: PriceChange) -> str:
        return _change(record.old_price, record.new_price)

    def render_delta(self, record: PriceChange) -> str:
        if not record.old_net_price:
            return "—"
        percent = (record.new_net_price - record.old_net_price) * 100 / record.old_net_price
        css = "text-danger" if percent > 0 else "text-success"
        return format_cell('<span class="{}">{}</span>', css, f"{percent:+.1f}%")

    def render_margin_change(self, record: PriceChange) -> str:
        return _change(record.old_margin, record.new_margin)

    def render_new_margin_percent(self, value: Decimal | None) -> str:
        if value is None:
            return "—"
        if value < self.min_margin:
            return format_cell('<span class="margin-below">{}</span>', f"{value:.2f}")
        return f"{value:.2f}"

    def render_sync_run(self, value: SyncRun) -> str:
        return f"#{value.pk}"


class SyncRunTable(BaseTable):
    id = tables.Column(verbose_name="#")
    started_at = DateTimeColumn(seconds=True, verbose_name="Started")
    duration = tables.Column(empty_values=(), orderable=False)
    status = BadgeColumn()
    trigger = BadgeColumn()
    triggered_by = tables.Column(verbose_name="By", default="—", orderable=False)
    seen = tables.Column(orderable=False)
    created = tables.Column(orderable=False)
    updated = tables.Column(orderable=False)
    unchanged = tables.Column(orderable=False)
    deactivated = tables.Column(orderable=False)
    price_changes = tables.Column(verbose_name="Price changes", orderable=False)
    detail_requests = tables.Column(verbose_name="Detail GETs", orderable=False)
    quarantined = tables.Column(orderable=False)
    error = tables.Column(orderable=False, default="")

    class Meta(BaseTable.Meta):
        model = SyncRun
        fields = (
            "id",
            "started_at",
            "duration",
            "status",
            "trigger",
            "triggered_by",
            "seen",
            "created",
            "updated",
            "unchanged",
            "deactivated",
            "price_changes",
            "detail_requests",
            "quarantined",
            "error",
        )
        order_by = ("-started_at",)
        row_attrs = {"data-status": lambda record: record.status}

    def render_duration(self, record: SyncRun) -> str:
        duration = record.duration
        return "—" if duration is None else f"{duration.total_seconds():.1f}s"

    def render_triggered_by(self, value: AbstractBaseUser) -> str:
        return value.get_username()

    def render_error(self, value: str) -> str:
        return format_cell('<span class="small text-break">{}</span>', value)

    def render_quarantined(self, record: SyncRun, value: int) -> str:
        if not value:
            return "0"
        return format_cell(
            '<a href="{}?{}#quarantine">{}</a>',
            reverse("backoffice:upstream_problems"),
            urlencode({"run": record.quarantine_ref}),
            value,
        )


class PricingRuleTable(BaseTable):
    scope = BadgeColumn()
    target = tables.Column(accessor="target_label", verbose_name="Applies to", orderable=False)
    rule = tables.Column(empty_values=(), verbose_name="Selling price", orderable=False)
    is_active = BooleanColumn(verbose_name="Active")
    updated_at = DateTimeColumn(verbose_name="Changed")
    updated_by = tables.Column(verbose_name="By", default="—", orderable=False)
    actions = tables.Column(empty_values=(), verbose_name="", orderable=False)

    class Meta(BaseTable.Meta):
        model = PricingRule
        fields = ("scope", "target", "rule", "is_active", "updated_at", "updated_by", "actions")
        row_attrs = {"data-rule": lambda record: record.pk}

    def render_rule(self, record: PricingRule) -> str:
        return record.describe()

    def render_updated_by(self, value: AbstractBaseUser) -> str:
        return value.get_username()

    def render_actions(self, record: PricingRule) -> str:
        return format_cell(
            '<a class="btn btn-sm btn-outline-primary" href="{}">Edit</a> '
            '<a class="btn btn-sm btn-outline-danger" href="{}">Delete</a>',
            reverse("catalog:rule_edit", args=[record.pk]),
            reverse("catalog:rule_delete", args=[record.pk]),
        )
