"""The catalog sync: read the Licendi catalog, fetch what changed, apply it in one go.

Called alike by the Celery task and the management command.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

import licendi
from backoffice.upstream import licendi_client
from backoffice.upstream_problems import quarantine_record

from ..bulk import BATCH_ROWS, bulk_insert, bulk_set, chunks, concrete_field
from ..models import Axis, Category, Combination, PriceChange, Product, SyncRun
from ..pricing import RuleBook
from ..signals import combinations_changed
from .pricing import pricing_lock
from .runs import Progress, ProgressCallback, sync_run_start

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=models.Model)

QUARANTINE_SOURCE = "catalog.sync"
LIST_ENDPOINT = "GET /api/products"
DETAIL_ENDPOINT = "GET /api/products/{sku}"


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


class _FingerprintMemo:
    """The fingerprints of the items of a list page, kept with the page object itself.

    The client answers a page whose raw bytes it has read before with the very same
    (immutable) `Page` object (`licendi.client._PageMemo`); its items' fingerprints
    are then those computed last time. Entries hold the page, so an object's id is
    never reused while its entry exists; bounded like the client's memo.
    """

    def __init__(self, max_pages: int) -> None:
        self.max_pages = max_pages
        self._entries: OrderedDict[int, tuple[licendi.Page[licendi.Product], tuple[str, ...]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def __call__(self, page: licendi.Page[licendi.Product]) -> tuple[str, ...]:
        with self._lock:
            entry = self._entries.get(id(page))
            if entry is not None and entry[0] is page:
                self._entries.move_to_end(id(page))
                return entry[1]
        fingerprints = tuple(list_fingerprint(item) for item in page.items)
        with self._lock:
            self._entries[id(page)] = (page, fingerprints)
            self._entries.move_to_end(id(page))
            while len(self._entries) > self.max_pages:
                self._entries.popitem(last=False)
        return fingerprints


_fingerprints = _FingerprintMemo(max_pages=100)


@dataclass
class _Snapshot:
    """Everything one sync read from upstream, held in memory until it is applied."""

    items: dict[str, licendi.Product] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    details: dict[str, licendi.ProductDetail] = field(default_factory=dict)
    known: dict[str, tuple[str, bool]] = field(default_factory=dict)  # sku -> (fp, active)
    complete: bool = True
    # Records that could not be read, skipped: from the list, and from the details.
    list_rejected: list[licendi.Rejected] = field(default_factory=list)
    detail_rejected: dict[str, licendi.Rejected] = field(default_factory=dict)

    @property
    def listed(self) -> int:
        """Records in the list, readable or not."""
        return len(self.items) + len(self.list_rejected)

    @property
    def quarantined(self) -> int:
        return len(self.list_rejected) + len(self.detail_rejected)

    @property
    def quarantined_skus(self) -> set[str]:
        """Products that are upstream but unreadable: never "vanished"."""
        skus = set(self.detail_rejected)
        skus.update(r.ref for r in self.list_rejected if _has_sku(r))
        return skus

    @property
    def unnamed_rejects(self) -> int:
        """List records too broken to tell which product they are."""
        return sum(1 for r in self.list_rejected if not _has_sku(r))


def _has_sku(record: licendi.Rejected) -> bool:
    raw = record.raw
    return isinstance(raw, dict) and raw.get("sku") not in (None, "")


def _fetch(run: SyncRun, progress: Progress) -> _Snapshot:
    """Read the list (its pages side by side) and the details of what changed.

    A pipeline: as each list page arrives, the details of its new or changed products are
    queued at once, so details are fetched while the rest of the list is still read. List
    pages and details go through one client and so one adaptive limiter.
    """
    snapshot = _Snapshot()
    # What the mirror holds, read first so that details can be asked for page by page.
    snapshot.known = {
        sku: (fingerprint, active)
        for sku, fingerprint, active in Product.objects.values_list(
            "sku", "list_fingerprint", "is_active"
        )
    }
    totals: set[int | None] = set()
    with licendi_client(limiter=detail_limiter()) as client:
        details = _DetailFetcher(client)
        try:
            progress.report(phase=SyncRun.Phase.LISTING, done=0, force=True)
            for page in client.product_pages(page_size=settings.CATALOG_SYNC_PAGE_SIZE):
                totals.add(page.total)
                changed = []
                for item, fingerprint in zip(page.items, _fingerprints(page), strict=True):
                    if item.sku in snapshot.items:
                        continue  # listed twice (the list moved while it was read)
                    snapshot.items[item.sku] = item
                    snapshot.fingerprints[item.sku] = fingerprint
                    if snapshot.known.get(item.sku) != (fingerprint, True):
                        changed.append(item.sku)
                details.submit(changed)
                snapshot.list_rejected.extend(
                    # A record named only by its position: say on which page.
                    replace(r, ref=f"page {page.page} {r.ref}") if not _has_sku(r) else r
                    for r in page.rejected
                )
                run.seen = len(snapshot.items)
                progress.report(done=snapshot.listed, total=page.total)
            # Offset paging over a list that changed meanwhile can skip or repeat a product;
            # then the pass is not complete and nothing is deactivated on its evidence.
            total = next(iter(totals)) if len(totals) == 1 else None
            snapshot.complete = not totals or (
                len(totals) == 1 and (total is None or total == snapshot.listed)
            )
            details.gather(snapshot, run, progress)
        finally:
            details.close()
    return snapshot


class _DetailFetcher:
    """GET each detail, as many in flight as the client's limiter allows; the first
    failure (after the client's own retries of 429/5xx/network errors) cancels the rest
    and fails the sync.

    One thread per slot the limiter may ever open: the threads only wait on the network
    and on the limiter, which decides how many requests are really in flight.
    """

    def __init__(self, client: licendi.LicendiClient) -> None:
        self.client = client
        ceiling = client.limiter.ceiling if client.limiter is not None else 1
        self.pool = ThreadPoolExecutor(
            max_workers=max(1, ceiling), thread_name_prefix="catalog-sync"
        )
        self.futures: dict[Future[licendi.ProductDetail], str] = {}

    def submit(self, skus: Iterable[str]) -> None:
        for sku in skus:
            self.futures[self.pool.submit(self.client.get_product, sku)] = sku

    def gather(self, snapshot: _Snapshot, run: SyncRun, progress: Progress) -> None:
        futures = self.futures
        progress.report(phase=SyncRun.Phase.DETAILS, done=0, total=len(futures), force=True)
        for future in as_completed(futures):
            # Results are gathered here, in this one thread: the snapshot needs no lock.
            run.detail_requests += 1
            sku = futures[future]
            try:
                snapshot.details[sku] = future.result()
            except licendi.ContractError as exc:
                # An answer that came but cannot be read: this product waits, the rest
                # of the catalog goes on.
                snapshot.detail_rejected[sku] = licendi.Rejected(
                    ref=sku, reason=exc.message, field=exc.field, raw=exc.raw
                )
            except licendi.LicendiError as exc:
                raise SyncFailed(f"Product {sku}: {type(exc).__name__}: {exc}") from exc
            progress.report(done=len(snapshot.details) + len(snapshot.detail_rejected))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def detail_limiter() -> licendi.AdaptiveLimiter:
    """The concurrency of one sync's detail fetches, from the settings."""
    ceiling = max(1, settings.CATALOG_SYNC_MAX_CONCURRENCY)
    return licendi.AdaptiveLimiter(
        ceiling=ceiling, initial=min(ceiling, max(1, settings.CATALOG_SYNC_CONCURRENCY))
    )


class SyncFailed(Exception):
    """Upstream could not give a complete picture; the mirror was left as it was."""


def _quarantine(run: SyncRun, snapshot: _Snapshot) -> None:
    """Store the unreadable records of this run, then refuse to apply anything when
    they are more than the allowed share: a wholesale change upstream (a renamed
    field, a new money format) must not empty the mirror product by product."""
    run_ref = run.quarantine_ref
    quarantine_record(
        source=QUARANTINE_SOURCE,
        endpoint=LIST_ENDPOINT,
        rejected=snapshot.list_rejected,
        run_ref=run_ref,
    )
    quarantine_record(
        source=QUARANTINE_SOURCE,
        endpoint=DETAIL_ENDPOINT,
        rejected=[snapshot.detail_rejected[sku] for sku in sorted(snapshot.detail_rejected)],
        run_ref=run_ref,
    )
    run.quarantined = snapshot.quarantined
    limit = Decimal(settings.UPSTREAM_QUARANTINE_MAX_PERCENT)
    if snapshot.listed and Decimal(100 * snapshot.quarantined) > limit * snapshot.listed:
        share = Decimal(100 * snapshot.quarantined) / snapshot.listed
        raise SyncFailed(
            f"{snapshot.quarantined} of {snapshot.listed} products could not be read "
            f"({share:.1f} %, above the {limit} % limit): nothing was applied. "
            "See Upstream problems for the reasons."
        )


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


@functools.cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


def _new(model: type[M], values: dict[str, Any]) -> M:
    """`model(**values)` for a row about to be bulk inserted, every column given but the
    primary key. Django's keyword path looks up each field's default and descriptor,
    which for 60,000 combinations cost seconds; the positional path (the one rows read
    from the database take) sets the attributes in column order."""
    names = _attnames(model)
    pk = model._meta.pk
    missing = set(names).difference(values, () if pk is None else (pk.attname,))
    if missing:
        raise TypeError(f"{model.__name__}: no value for {', '.join(sorted(missing))}")
    return model(*[values.get(name) for name in names])


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
    for chunk in chunks(skus):
        found.update(Product.objects.filter(sku__in=chunk).values_list("sku", "pk"))
    return found


def _category_ids(names: Iterable[str]) -> dict[str, int]:
    wanted = sorted({name for name in names if name})
    Category.objects.bulk_create(
        [Category(name=name) for name in wanted], ignore_conflicts=True, batch_size=BATCH_ROWS
    )
    ids: dict[str, int] = {}
    for chunk in chunks(wanted):
        ids.update(Category.objects.filter(name__in=chunk).values_list("name", "id"))
    return ids


def _apply(run: SyncRun, snapshot: _Snapshot) -> None:
    """Write one sync's findings in ONE transaction: all of it, or (on error) none."""
    now = timezone.now()
    details = snapshot.details
    skus = sorted(details)
    with transaction.atomic():
        pricing_lock()
        category_ids = _category_ids(d.category for d in details.values())
        before = _product_ids(skus)
        rows = [
            _product_row(details[sku], snapshot.fingerprints[sku], category_ids, now)
            for sku in skus
        ]
        # The sync lock means no one else inserts products meanwhile: new ones are
        # streamed in, changed ones updated in place (first_seen_at kept).
        bulk_insert(Product, [row for row in rows if row.sku not in before])
        attnames = [concrete_field(Product, name).attname for name in _PRODUCT_UPDATE_FIELDS]
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
        run.unchanged = len(snapshot.items) - len(skus) - len(snapshot.detail_rejected)

        _replace_axes(details, product_ids)
        price_changes = _upsert_combinations(details, product_ids, category_ids, now)

        if not snapshot.complete:
            run.error = "The product list changed while it was read: nothing was deactivated."
        elif snapshot.unnamed_rejects:
            run.error = (
                f"{snapshot.unnamed_rejects} product records without a readable sku were "
                "quarantined: nothing was deactivated."
            )
        else:
            run.deactivated = _deactivate_missing(snapshot, now)

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
                "quarantined",
                "error",
            ]
        )
        if skus or run.deactivated:
            # Nothing written, nothing to tell (the channel's offers refresh would find
            # no change either).
            combinations_changed.send(sender=Combination, combination_ids=None)


def _product_row(
    detail: licendi.ProductDetail, fingerprint: str, category_ids: dict[str, int], now: datetime
) -> Product:
    return _new(
        Product,
        {
            "sku": detail.sku,
            "name": detail.name[:300],
            "category_id": category_ids.get(detail.category),
            "brand": detail.brand[:100],
            "platform": detail.platform[:100],
            "description": detail.description,
            "price": detail.price,
            "net_price": detail.net_price,
            "currency": detail.currency or "EUR",
            "has_variants": bool(detail.combinations),
            "in_stock": detail.in_stock,
            "upstream_updated_at": detail.updated_at,
            "list_fingerprint": fingerprint,
            "is_active": True,
            "first_seen_at": now,
            "last_seen_at": now,
            "deactivated_at": None,
        },
    )


def _replace_axes(details: dict[str, licendi.ProductDetail], product_ids: dict[str, int]) -> None:
    ids = sorted(product_ids.values())
    for chunk in chunks(ids):
        Axis.objects.filter(product_id__in=chunk).delete()
    bulk_insert(
        Axis,
        [
            _new(
                Axis,
                {
                    "product_id": product_ids[sku],
                    "position": position,
                    "name": axis.name[:100],
                    "options": list(axis.options),
                },
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
    for chunk in chunks(sorted(product_ids.values())):
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
                to_create.append(
                    _new(
                        Combination,
                        {
                            "order_sku": wanted.order_sku,
                            "price_changed_at": None,
                            **dict(zip(_STATE_ATTRS, target, strict=True)),
                        },
                    )
                )
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
    attnames = [concrete_field(Combination, name).attname for name in _COMBINATION_UPDATE_FIELDS]
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
    """Products absent from a complete list pass become inactive (never deleted).

    A product whose record was quarantined is present upstream, only unreadable: it
    keeps its last good state.
    """
    present = snapshot.items.keys() | snapshot.quarantined_skus
    missing = sorted(
        sku
        for sku, (_fingerprint, active) in snapshot.known.items()
        if active and sku not in present
    )
    for chunk in chunks(missing):
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
        batch_size=BATCH_ROWS,
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
    run = sync_run_start(trigger=trigger, user=user)
    if run.status != SyncRun.Status.RUNNING:
        logger.info("catalog sync skipped: %s", run.error)
        return run
    reporter = Progress(run, progress)
    try:
        snapshot = _fetch(run, reporter)
        _quarantine(run, snapshot)
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
                "quarantined",
            ]
        )
        if progress is not None:
            progress(run)
        return run
    logger.info(
        "catalog sync #%s: seen=%s created=%s updated=%s deactivated=%s price_changes=%s "
        "detail_requests=%s quarantined=%s",
        run.pk,
        run.seen,
        run.created,
        run.updated,
        run.deactivated,
        run.price_changes,
        run.detail_requests,
        run.quarantined,
    )
    if progress is not None:
        progress(run)
    return run
