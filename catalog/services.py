"""State changes of the catalog: the sync from Licendi, pricing rules and selling prices.

Called alike by views, the Celery task and the management command.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

import licendi
from backoffice.audit import audit_record
from backoffice.models import AuditEvent
from backoffice.upstream import licendi_client

from .bulk import bulk_insert, bulk_set
from .models import Axis, Category, Combination, PriceChange, PricingRule, Product, SyncRun
from .pricing import RuleBook
from .signals import combinations_changed

logger = logging.getLogger(__name__)

T = TypeVar("T")
ProgressCallback = Callable[[SyncRun], None]

# Rows per INSERT/UPDATE statement and ids per IN (...) list: well under SQLite's
# parameter limit and large enough that 60,000 combinations take few round trips.
BATCH_SIZE = 1000
# Progress is written to the run row at most this often (the live page polls every 2 s).
PROGRESS_WRITE_SECONDS = 0.5


def _chunks(values: Sequence[T], size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- pricing ---------------------------------------------------------------------------

_PRICED_FIELDS = ["selling_price", "margin", "margin_percent", "priced_by_rule"]
# Any 64-bit number unique in the project: the advisory lock that serialises repricing.
_PRICING_LOCK_KEY = 0x6361745F70726963  # "cat_pric"


def _pricing_lock() -> None:
    """Serialise writers of selling prices until the current transaction ends.

    A sync applying new net prices and a rule change repricing the same rows would
    otherwise each compute margins from what the other has not committed yet. SQLite
    serialises writers by itself.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PRICING_LOCK_KEY])


def pricing_apply(*, where: Q | None = None) -> int:
    """Recompute selling price, margin and margin % of the combinations matching `where`
    (all of them when None) from the active pricing rules; returns how many changed.

    Rows whose figures are already right are not written, so running it twice is cheap
    and a sync that changed nothing writes nothing.
    """
    with transaction.atomic():
        _pricing_lock()
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


def _rule_snapshot(rule: PricingRule) -> dict[str, Any]:
    return {
        "scope": rule.scope,
        "category": rule.category.name if rule.category_id else None,
        "brand": rule.brand or None,
        "product": rule.product.sku if rule.product_id else None,
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
def pricing_rule_create(
    *, rule: PricingRule, user: Any, request: HttpRequest | None = None
) -> PricingRule:
    """Store a new (unsaved) rule, audit it and reprice what it targets."""
    if rule.pk is not None:
        raise ValueError("pricing_rule_create takes an unsaved rule")
    rule.updated_by = user
    _save_rule(rule)
    repriced = pricing_apply(where=_rule_targets(rule))
    audit_record(
        action=AuditEvent.Action.PRICING_RULE_CHANGE,
        actor=user,
        request=request,
        target=rule,
        summary=f"Created pricing rule: {rule}",
        details={"change": "create", "after": _rule_snapshot(rule), "repriced": repriced},
    )
    return rule


@transaction.atomic
def pricing_rule_update(
    *, rule: PricingRule, user: Any, request: HttpRequest | None = None
) -> PricingRule:
    """Save edits made to `rule` (a form's instance), audit before/after, reprice both
    the old and the new targets (the scope may have moved)."""
    before = PricingRule.objects.select_related("category", "product").get(pk=rule.pk)
    rule.updated_by = user
    _save_rule(rule)
    repriced = pricing_apply(where=_rule_targets(before) | _rule_targets(rule))
    audit_record(
        action=AuditEvent.Action.PRICING_RULE_CHANGE,
        actor=user,
        request=request,
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
def pricing_rule_delete(*, rule: PricingRule, user: Any, request: HttpRequest | None = None) -> int:
    """Delete a rule and reprice what it targeted; returns how many prices changed."""
    snapshot = _rule_snapshot(rule)
    targets = _rule_targets(rule)
    rule_id, label = rule.pk, str(rule)
    rule.delete()
    repriced = pricing_apply(where=targets)
    audit_record(
        action=AuditEvent.Action.PRICING_RULE_CHANGE,
        actor=user,
        request=request,
        target_type=PricingRule._meta.label,
        target_id=str(rule_id),
        summary=f"Deleted pricing rule: {label}",
        details={"change": "delete", "before": snapshot, "repriced": repriced},
    )
    return repriced


# --- sync: locking and progress ---------------------------------------------------------


def _sync_run_start(*, trigger: str, user: Any) -> SyncRun:
    """A new running SyncRun, or a finished "skipped" one when another sync holds the lock.

    The lock is the partial unique index on status='running': the INSERT itself is the
    atomic test-and-set, on PostgreSQL and SQLite alike. A running row whose heartbeat is
    older than the task hard time limit belongs to a dead worker and is taken over.
    """
    triggered_by = user if getattr(user, "is_authenticated", False) else None
    for _attempt in range(2):
        now = timezone.now()
        try:
            with transaction.atomic():
                return SyncRun.objects.create(
                    started_at=now,
                    heartbeat_at=now,
                    status=SyncRun.Status.RUNNING,
                    trigger=trigger,
                    triggered_by=triggered_by,
                )
        except IntegrityError:
            stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
            taken_over = SyncRun.objects.filter(
                status=SyncRun.Status.RUNNING, heartbeat_at__lt=stale_before
            ).update(
                status=SyncRun.Status.FAILED,
                finished_at=now,
                error="Abandoned: no progress for longer than the task time limit; "
                "taken over by a new sync.",
            )
            if not taken_over:
                break
    holder = SyncRun.objects.filter(status=SyncRun.Status.RUNNING).values_list("pk", flat=True)
    now = timezone.now()
    return SyncRun.objects.create(
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
        status=SyncRun.Status.SKIPPED,
        trigger=trigger,
        triggered_by=triggered_by,
        phase=SyncRun.Phase.DONE,
        error=f"Another sync was running (run #{holder.first()}).",
    )


class _Progress:
    """Writes the run's progress to its row (throttled) and tells an optional listener."""

    FIELDS = ("phase", "progress_done", "progress_total", "seen", "detail_requests")

    def __init__(self, run: SyncRun, listener: ProgressCallback | None) -> None:
        self.run = run
        self.listener = listener
        self._written = 0.0

    def report(
        self,
        *,
        phase: str | None = None,
        done: int | None = None,
        total: int | None = None,
        force: bool = False,
    ) -> None:
        run = self.run
        if phase is not None:
            run.phase = phase
        if done is not None:
            run.progress_done = done
        if total is not None:
            run.progress_total = total
        now = time.monotonic()
        if force or now - self._written >= PROGRESS_WRITE_SECONDS:
            self._written = now
            run.heartbeat_at = timezone.now()
            # A plain UPDATE in autocommit: the live page sees it at once.
            SyncRun.objects.filter(pk=run.pk).update(
                heartbeat_at=run.heartbeat_at, **{name: getattr(run, name) for name in self.FIELDS}
            )
        if self.listener is not None:
            self.listener(run)


# --- sync: fetching -----------------------------------------------------------------------


def list_fingerprint(item: licendi.Product) -> str:
    """Hash of everything the list says about a product: a change means "fetch details"."""
    parts = [
        item.sku,
        item.name,
        item.category,
        item.brand,
        item.platform,
        str(item.price),
        str(item.net_price),
        item.currency,
        str(item.has_variants),
        str(item.in_stock),
        item.updated_at.isoformat() if item.updated_at else "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class _Snapshot:
    """Everything one sync read from upstream, held in memory until it is applied."""

    items: dict[str, licendi.Product] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    details: dict[str, licendi.ProductDetail] = field(default_factory=dict)
    known: dict[str, tuple[str, bool]] = field(default_factory=dict)  # sku -> (fp, active)
    complete: bool = True


def _fetch(run: SyncRun, progress: _Progress) -> _Snapshot:
    snapshot = _Snapshot()
    last_total: int | None = None
    with licendi_client() as client:
        progress.report(phase=SyncRun.Phase.LISTING, done=0, force=True)
        for page in client.iter_product_pages(page_size=settings.CATALOG_SYNC_PAGE_SIZE):
            for item in page.items:
                snapshot.items[item.sku] = item
            last_total = page.total
            run.seen = len(snapshot.items)
            progress.report(done=run.seen, total=page.total)
        # Offset paging over a list that changed meanwhile can skip a product; then the
        # pass is not complete and nothing is deactivated on its evidence.
        snapshot.complete = last_total is None or last_total == len(snapshot.items)

        snapshot.known = {
            sku: (fingerprint, active)
            for sku, fingerprint, active in Product.objects.values_list(
                "sku", "list_fingerprint", "is_active"
            )
        }
        to_fetch = []
        for sku, item in snapshot.items.items():
            fingerprint = snapshot.fingerprints[sku] = list_fingerprint(item)
            if snapshot.known.get(sku) != (fingerprint, True):
                to_fetch.append(sku)

        progress.report(phase=SyncRun.Phase.DETAILS, done=0, total=len(to_fetch), force=True)
        if to_fetch:
            _fetch_details(client, to_fetch, snapshot, run, progress)
    return snapshot


def _fetch_details(
    client: licendi.LicendiClient,
    skus: list[str],
    snapshot: _Snapshot,
    run: SyncRun,
    progress: _Progress,
) -> None:
    """GET each detail with bounded concurrency; the first failure (after the client's own
    retries of 429/5xx/network errors) cancels the rest and fails the sync."""
    pool = ThreadPoolExecutor(
        max_workers=max(1, settings.CATALOG_SYNC_CONCURRENCY), thread_name_prefix="catalog-sync"
    )
    try:
        futures = {pool.submit(client.get_product, sku): sku for sku in skus}
        for future in as_completed(futures):
            run.detail_requests += 1
            sku = futures[future]
            try:
                snapshot.details[sku] = future.result()
            except licendi.LicendiError as exc:
                raise SyncFailed(f"Product {sku}: {type(exc).__name__}: {exc}") from exc
            progress.report(done=len(snapshot.details))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class SyncFailed(Exception):
    """Upstream could not give a complete picture; the mirror was left as it was."""


# --- sync: applying -----------------------------------------------------------------------

_PRODUCT_UPDATE_FIELDS = [
    "name",
    "category",
    "brand",
    "platform",
    "description",
    "price",
    "net_price",
    "currency",
    "has_variants",
    "in_stock",
    "upstream_updated_at",
    "list_fingerprint",
    "is_active",
    "last_seen_at",
    "deactivated_at",
]
_COMBINATION_UPDATE_FIELDS = [
    "product",
    "options",
    "label",
    "price",
    "net_price",
    "in_stock",
    "is_active",
    "price_changed_at",
    "selling_price",
    "margin",
    "margin_percent",
    "priced_by_rule",
]


@dataclass(frozen=True, slots=True)
class _WantedCombination:
    order_sku: str
    options: list[int]
    label: str
    price: Decimal
    net_price: Decimal
    in_stock: bool


def _wanted_combinations(detail: licendi.ProductDetail) -> list[_WantedCombination]:
    """What the mirror should hold for a product: its combinations, or for a product
    without variants exactly one combination ordered by the plain sku."""
    if not detail.combinations:
        return [
            _WantedCombination(detail.sku, [], "", detail.price, detail.net_price, detail.in_stock)
        ]
    wanted = []
    for combo in detail.combinations:
        labels = []
        for axis_number, index in enumerate(combo.options):
            axis = detail.axes[axis_number] if axis_number < len(detail.axes) else None
            if axis is not None and 0 <= index < len(axis.options):
                labels.append(axis.options[index])
        wanted.append(
            _WantedCombination(
                combo.order_sku,
                list(combo.options),
                ", ".join(labels)[:300],
                combo.price,
                combo.net_price,
                combo.in_stock,
            )
        )
    return wanted


def _product_ids(skus: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(skus):
        found.update(Product.objects.filter(sku__in=chunk).values_list("sku", "pk"))
    return found


def _category_ids(names: Iterable[str]) -> dict[str, int]:
    wanted = sorted({name for name in names if name})
    Category.objects.bulk_create(
        [Category(name=name) for name in wanted], ignore_conflicts=True, batch_size=BATCH_SIZE
    )
    ids: dict[str, int] = {}
    for chunk in _chunks(wanted):
        ids.update(Category.objects.filter(name__in=chunk).values_list("name", "id"))
    return ids


def _apply(run: SyncRun, snapshot: _Snapshot) -> None:
    """Write one sync's findings in ONE transaction: all of it, or (on error) none."""
    now = timezone.now()
    details = snapshot.details
    skus = sorted(details)
    with transaction.atomic():
        _pricing_lock()
        category_ids = _category_ids(d.category for d in details.values())
        before = _product_ids(skus)
        rows = [
            _product_row(details[sku], snapshot.fingerprints[sku], category_ids, now)
            for sku in skus
        ]
        # The sync lock means no one else inserts products meanwhile: new ones are
        # streamed in, changed ones updated in place (first_seen_at kept).
        bulk_insert(Product, [row for row in rows if row.sku not in before])
        attnames = [Product._meta.get_field(name).attname for name in _PRODUCT_UPDATE_FIELDS]
        bulk_set(
            Product,
            _PRODUCT_UPDATE_FIELDS,
            [
                (before[row.sku], *(getattr(row, name) for name in attnames))
                for row in rows
                if row.sku in before
            ],
        )
        product_ids = _product_ids(skus)
        run.created = len(skus) - len(before)
        run.updated = len(before)
        run.unchanged = len(snapshot.items) - len(skus)

        _replace_axes(details, product_ids)
        price_changes = _upsert_combinations(details, product_ids, category_ids, now)

        if snapshot.complete:
            run.deactivated = _deactivate_missing(snapshot, now)
        else:
            run.error = "The product list changed while it was read: nothing was deactivated."

        _record_price_changes(price_changes, run, now)
        run.price_changes = len(price_changes)

        run.status = SyncRun.Status.SUCCEEDED
        run.phase = SyncRun.Phase.DONE
        run.finished_at = run.heartbeat_at = timezone.now()
        run.save(
            update_fields=[
                "status",
                "phase",
                "finished_at",
                "heartbeat_at",
                "seen",
                "created",
                "updated",
                "unchanged",
                "deactivated",
                "price_changes",
                "detail_requests",
                "error",
            ]
        )
        combinations_changed.send(sender=Combination, combination_ids=None)


def _product_row(
    detail: licendi.ProductDetail, fingerprint: str, category_ids: dict[str, int], now: datetime
) -> Product:
    return Product(
        sku=detail.sku,
        name=detail.name[:300],
        category_id=category_ids.get(detail.category),
        brand=detail.brand[:100],
        platform=detail.platform[:100],
        description=detail.description,
        price=detail.price,
        net_price=detail.net_price,
        currency=detail.currency or "EUR",
        has_variants=bool(detail.combinations),
        in_stock=detail.in_stock,
        upstream_updated_at=detail.updated_at,
        list_fingerprint=fingerprint,
        is_active=True,
        first_seen_at=now,
        last_seen_at=now,
        deactivated_at=None,
    )


def _replace_axes(details: dict[str, licendi.ProductDetail], product_ids: dict[str, int]) -> None:
    ids = sorted(product_ids.values())
    for chunk in _chunks(ids):
        Axis.objects.filter(product_id__in=chunk).delete()
    bulk_insert(
        Axis,
        [
            Axis(
                product_id=product_ids[sku],
                position=position,
                name=axis.name[:100],
                options=list(axis.options),
            )
            for sku, detail in details.items()
            for position, axis in enumerate(detail.axes)
        ],
    )


@dataclass(frozen=True, slots=True)
class _PendingPriceChange:
    combination: Combination
    old_net: Decimal
    old_price: Decimal
    old_margin: Decimal | None


def _upsert_combinations(
    details: dict[str, licendi.ProductDetail],
    product_ids: dict[str, int],
    category_ids: dict[str, int],
    now: datetime,
) -> list[_PendingPriceChange]:
    """Create, update or retire the combinations of the changed products, priced by the
    rules in the same pass (no second UPDATE of every row by pricing_apply)."""
    book = RuleBook.load()
    existing: dict[str, Combination] = {}
    for chunk in _chunks(sorted(product_ids.values())):
        existing.update((c.order_sku, c) for c in Combination.objects.filter(product_id__in=chunk))
    wanted_skus: set[str] = set()
    to_create: list[Combination] = []
    to_update: list[Combination] = []
    price_changes: list[_PendingPriceChange] = []
    for sku, detail in details.items():
        product_id = product_ids[sku]
        category_id = category_ids.get(detail.category)
        brand = detail.brand[:100]
        for wanted in _wanted_combinations(detail):
            wanted_skus.add(wanted.order_sku)
            priced = book.price(
                product_id=product_id,
                category_id=category_id,
                brand=brand,
                net=wanted.net_price,
                rrp=wanted.price,
            )
            target = (
                product_id,
                wanted.options,
                wanted.label,
                wanted.net_price,
                wanted.price,
                wanted.in_stock,
                True,
                priced.selling_price,
                priced.margin,
                priced.margin_percent,
                priced.rule_id,
            )
            combo = existing.get(wanted.order_sku)
            if combo is None:
                combo = Combination(order_sku=wanted.order_sku)
                _set_combination(combo, target)
                to_create.append(combo)
                continue
            if (combo.net_price, combo.price) != (wanted.net_price, wanted.price):
                price_changes.append(
                    _PendingPriceChange(combo, combo.net_price, combo.price, combo.margin)
                )
                combo.price_changed_at = now
            elif _combination_state(combo) == target:
                continue
            _set_combination(combo, target)
            to_update.append(combo)
    # Combinations a changed product no longer offers: kept for the orders that name them.
    for order_sku, combo in existing.items():
        if order_sku not in wanted_skus and combo.is_active:
            combo.is_active = False
            to_update.append(combo)
    bulk_insert(Combination, to_create)
    attnames = [Combination._meta.get_field(name).attname for name in _COMBINATION_UPDATE_FIELDS]
    bulk_set(
        Combination,
        _COMBINATION_UPDATE_FIELDS,
        [(combo.pk, *(getattr(combo, name) for name in attnames)) for combo in to_update],
    )
    return price_changes


_STATE_ATTRS = (
    "product_id",
    "options",
    "label",
    "net_price",
    "price",
    "in_stock",
    "is_active",
    "selling_price",
    "margin",
    "margin_percent",
    "priced_by_rule_id",
)


def _combination_state(combo: Combination) -> tuple[Any, ...]:
    return tuple(getattr(combo, name) for name in _STATE_ATTRS)


def _set_combination(combo: Combination, state: tuple[Any, ...]) -> None:
    for name, value in zip(_STATE_ATTRS, state, strict=True):
        setattr(combo, name, value)


def _deactivate_missing(snapshot: _Snapshot, now: datetime) -> int:
    """Products absent from a complete list pass become inactive (never deleted)."""
    missing = sorted(
        sku
        for sku, (_fingerprint, active) in snapshot.known.items()
        if active and sku not in snapshot.items
    )
    for chunk in _chunks(missing):
        Product.objects.filter(sku__in=chunk, is_active=True).update(
            is_active=False, deactivated_at=now, list_fingerprint=""
        )
        Combination.objects.filter(product__sku__in=chunk, is_active=True).update(is_active=False)
    return len(missing)


def _record_price_changes(pending: list[_PendingPriceChange], run: SyncRun, now: datetime) -> None:
    PriceChange.objects.bulk_create(
        [
            PriceChange(
                combination=change.combination,
                sync_run=run,
                changed_at=now,
                old_net_price=change.old_net,
                new_net_price=change.combination.net_price,
                old_price=change.old_price,
                new_price=change.combination.price,
                old_margin=change.old_margin,
                new_margin=change.combination.margin,
                new_margin_percent=change.combination.margin_percent,
            )
            for change in pending
        ],
        batch_size=BATCH_SIZE,
    )


# --- sync: the service --------------------------------------------------------------------


def catalog_sync(
    *, trigger: str, user: Any = None, progress: ProgressCallback | None = None
) -> SyncRun:
    """Mirror the Licendi catalog: read the list, fetch details of new or changed products
    only, then apply everything in one transaction.

    Returns the SyncRun: succeeded, failed (the mirror untouched, the cause in `error`),
    or skipped (another sync holds the lock). Safe to run twice: a second run with no
    upstream change fetches no detail and writes no catalog row.
    """
    if trigger not in SyncRun.Trigger.values:
        raise ValueError(f"unknown trigger {trigger!r}")
    run = _sync_run_start(trigger=trigger, user=user)
    if run.status != SyncRun.Status.RUNNING:
        logger.info("catalog sync skipped: %s", run.error)
        return run
    reporter = _Progress(run, progress)
    try:
        snapshot = _fetch(run, reporter)
        reporter.report(
            phase=SyncRun.Phase.APPLYING, done=0, total=len(snapshot.details), force=True
        )
        _apply(run, snapshot)
    except Exception as exc:  # every failure, including a soft time limit, ends the run
        logger.exception("catalog sync #%s failed", run.pk)
        run.status = SyncRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        run.finished_at = run.heartbeat_at = timezone.now()
        run.save(
            update_fields=[
                "status",
                "error",
                "finished_at",
                "heartbeat_at",
                "seen",
                "detail_requests",
            ]
        )
        if progress is not None:
            progress(run)
        return run
    logger.info(
        "catalog sync #%s: seen=%s created=%s updated=%s deactivated=%s price_changes=%s "
        "detail_requests=%s",
        run.pk,
        run.seen,
        run.created,
        run.updated,
        run.deactivated,
        run.price_changes,
        run.detail_requests,
    )
    if progress is not None:
        progress(run)
    return run
