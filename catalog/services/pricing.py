"""Selling prices: pricing-rule changes and the repricing they cause."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from backoffice.audit import audit_record
from backoffice.models import AuditEvent

from ..bulk import bulk_set
from ..models import Combination, PricingRule
from ..pricing import RuleBook
from ..signals import combinations_changed

_PRICED_FIELDS = ["selling_price", "margin", "margin_percent", "priced_by_rule"]
# Any 64-bit number unique in the project: the advisory lock that serialises repricing.
PRICING_LOCK_KEY = 0x6361745F70726963  # "cat_pric"


def pricing_lock() -> None:
    """Serialise writers of selling prices until the current transaction ends.

    A sync applying new net prices and a rule change repricing the same rows would
    otherwise each compute margins from what the other has not committed yet. SQLite
    serialises writers by itself.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PRICING_LOCK_KEY])


def pricing_apply(*, where: Q | None = None) -> int:
    """Recompute selling price, margin and margin % of the combinations matching `where`
    (all of them when None) from the active pricing rules; returns how many changed.

    Rows whose figures are already right are not written, so running it twice is cheap
    and a sync that changed nothing writes nothing.
    """
    with transaction.atomic():
        pricing_lock()
        book = RuleBook.load()
        rows = (
            Combination.objects.filter(where or Q())
            .order_by()
            .values_list(
                "id",
                "product_id",
                "product__category_id",
                "product__brand",
                "net_price",
                "price",
                "selling_price",
                "margin",
                "margin_percent",
                "priced_by_rule_id",
            )
        )
        changed: list[tuple[Any, ...]] = []
        for row in rows.iterator(chunk_size=5000):
            pk, product_id, category_id, brand, net, rrp, *current = row
            priced = book.price(
                product_id=product_id, category_id=category_id, brand=brand, net=net, rrp=rrp
            )
            wanted = [priced.selling_price, priced.margin, priced.margin_percent, priced.rule_id]
            if wanted != current:
                changed.append((pk, *wanted))
        bulk_set(Combination, _PRICED_FIELDS, changed)
        if changed:
            combinations_changed.send(
                sender=Combination, combination_ids=[row[0] for row in changed]
            )
        return len(changed)


def _rule_targets(rule: PricingRule) -> Q:
    """The combinations a rule can price (whether or not a more specific rule wins)."""
    if rule.scope == PricingRule.Scope.PRODUCT:
        return Q(product_id=rule.product_id)
    if rule.scope == PricingRule.Scope.BRAND:
        return Q(product__brand__iexact=rule.brand)
    if rule.scope == PricingRule.Scope.CATEGORY:
        return Q(product__category_id=rule.category_id)
    return Q()


@dataclass(frozen=True, slots=True)
class RulePreview:
    """What saving a rule would do to the combinations it (or its old version) covers."""

    covered: int  # combinations the rule's target reaches
    changed: int  # of those, how many would get another selling price
    below_min_after: int  # would sell below the minimum margin (or at an undefined one)
    below_min_before: int  # of the same combinations, below it now
    newly_below_min: int  # below it after, not now
    min_margin_percent: Decimal


def pricing_rule_preview(*, rule: PricingRule, min_margin_percent: Decimal) -> RulePreview:
    """Price the covered combinations as if `rule` (unsaved, or an edit of a saved rule)
    were saved, without writing anything: the same RuleBook as pricing_apply."""
    others = PricingRule.objects.filter(is_active=True)
    where = _rule_targets(rule)
    if rule.pk is not None:
        others = others.exclude(pk=rule.pk)
        saved = PricingRule.objects.filter(pk=rule.pk).first()
        if saved is not None:
            # An edit that moves the rule's target also reprices what it leaves.
            where |= _rule_targets(saved)
    book = RuleBook([*others, *([rule] if rule.is_active else [])])

    def below(percent: Decimal | None, selling: Decimal | None) -> bool:
        if selling is None:
            return False  # not priced yet: not flagged (as selectors.below_min_margin)
        return percent is None or percent < min_margin_percent

    covered = changed = after = before = newly = 0
    rows = (
        Combination.objects.filter(where)
        .order_by()
        .values_list(
            "product_id",
            "product__category_id",
            "product__brand",
            "net_price",
            "price",
            "selling_price",
            "margin_percent",
        )
    )
    for product_id, category_id, brand, net, rrp, selling, percent in rows.iterator(
        chunk_size=5000
    ):
        priced = book.price(
            product_id=product_id, category_id=category_id, brand=brand, net=net, rrp=rrp
        )
        covered += 1
        changed += priced.selling_price != selling
        was_below = below(percent, selling)
        is_below = below(priced.margin_percent, priced.selling_price)
        before += was_below
        after += is_below
        newly += is_below and not was_below
    return RulePreview(covered, changed, after, before, newly, min_margin_percent)


def _rule_snapshot(rule: PricingRule) -> dict[str, Any]:
    return {
        "scope": rule.scope,
        "category": rule.category.name if rule.category is not None else None,
        "brand": rule.brand or None,
        "product": rule.product.sku if rule.product is not None else None,
        "kind": rule.kind,
        "value": str(rule.value),
        "rounding": rule.rounding,
        "is_active": rule.is_active,
    }


class PricingRuleConflict(Exception):
    """Another active rule already targets the same default/category/brand/product."""


def _save_rule(rule: PricingRule, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            rule.save(**kwargs)
    except IntegrityError as exc:
        raise PricingRuleConflict("An active rule already exists for this target.") from exc


@transaction.atomic
def pricing_rule_create(*, rule: PricingRule, user: Any) -> PricingRule:
    """Store a new (unsaved) rule, audit it and reprice what it targets."""
    if rule.pk is not None:
        raise ValueError("pricing_rule_create takes an unsaved rule")
    rule.updated_by = user
    _save_rule(rule)
    repriced = pricing_apply(where=_rule_targets(rule))
    audit_record(
        action=AuditEvent.Action.PRICING_RULE_CHANGE,
        actor=user,
        target=rule,
        summary=f"Created pricing rule: {rule}",
        details={"change": "create", "after": _rule_snapshot(rule), "repriced": repriced},
    )
    return rule


@transaction.atomic
def pricing_rule_update(*, rule: PricingRule, user: Any) -> PricingRule:
    """Save edits made to `rule` (a form's instance), audit before/after, reprice both
    the old and the new targets (the scope may have moved)."""
    before = PricingRule.objects.select_related("category", "product").get(pk=rule.pk)
    rule.updated_by = user
    _save_rule(rule)
    repriced = pricing_apply(where=_rule_targets(before) | _rule_targets(rule))
    audit_record(
        action=AuditEvent.Action.PRICING_RULE_CHANGE,
        actor=user,
        target=rule,
        summary=f"Changed pricing rule: {rule}",
        details={
            "change": "update",
            "before": _rule_snapshot(before),
            "after": _rule_snapshot(rule),
            "repriced": repriced,
        },
    )
    return rule


@transaction.atomic
def pricing_rule_delete(*, rule: PricingRule, user: Any) -> int:
    """Delete a rule and reprice what it targeted; returns how many prices changed."""
    snapshot = _rule_snapshot(rule)
    targets = _rule_targets(rule)
    rule_id, label = rule.pk, str(rule)
    rule.delete()
    repriced = pricing_apply(where=targets)
    audit_record(
        action=AuditEvent.Action.PRICING_RULE_CHANGE,
        actor=user,
        target_type=PricingRule._meta.label,
        target_id=str(rule_id),
        summary=f"Deleted pricing rule: {label}",
        details={"change": "delete", "before": snapshot, "repriced": repriced},
    )
    return repriced
