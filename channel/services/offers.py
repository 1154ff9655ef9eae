"""The offers feed's change markers: the channel's copy of what a shop sees of each
combination, refreshed from the catalog.

The catalog tells the channel that combinations changed through the
`catalog.signals.combinations_changed` signal (catalog imports nothing of the channel);
the receiver queues `offers_refresh`, which compares the catalog with the stored offers
and gives each row that differs the next change marker. A periodic full refresh repairs
anything a lost task missed, and picks up a changed MIN_MARGIN_PERCENT.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from backoffice.jobs import enqueue
from catalog.bulk import bulk_set
from catalog.models import Combination

from ..models import Offer, OfferCounter

CHUNK = 5000
_COMPARED = (
    "order_sku",
    "product_sku",
    "name",
    "selling_price",
    "currency",
    "in_stock",
    "sellable",
    "meets_margin",
)


def offers_changed(*, combination_ids: Collection[int] | None) -> None:
    """Queue a refresh of these combinations (None: all) once the catalog write commits."""
    enqueue(
        "channel.tasks.offers_refresh",
        combination_ids=sorted(combination_ids) if combination_ids is not None else None,
    )


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _wanted(row: tuple[Any, ...], min_margin: Decimal) -> tuple[Any, ...]:
    (
        _pk,
        order_sku,
        product_sku,
        product_name,
        label,
        selling_price,
        currency,
        in_stock,
        active,
        product_active,
        margin_percent,
    ) = row
    name = f"{product_name} {label}".strip()[:300]
    sellable = bool(active and product_active and selling_price is not None)
    meets_margin = margin_percent is not None and margin_percent >= min_margin
    return (
        order_sku,
        product_sku,
        name,
        selling_price,
        currency,
        in_stock,
        sellable,
        meets_margin,
    )


def _catalog_rows(ids: Sequence[int] | None) -> Iterator[tuple[Any, ...]]:
    fields = (
        "pk",
        "order_sku",
        "product__sku",
        "product__name",
        "label",
        "selling_price",
        "product__currency",
        "in_stock",
        "is_active",
        "product__is_active",
        "margin_percent",
    )
    base = Combination.objects.order_by("pk").values_list(*fields)
    if ids is None:
        yield from base.iterator(chunk_size=CHUNK)
        return
    for chunk in _chunks(ids):
        yield from base.filter(pk__in=chunk)


def _stored(ids: Sequence[int] | None) -> dict[int, tuple[Any, ...]]:
    base = Offer.objects.order_by().values_list("combination_id", *_COMPARED)
    if ids is None:
        return {row[0]: tuple(row[1:]) for row in base.iterator(chunk_size=CHUNK)}
    stored: dict[int, tuple[Any, ...]] = {}
    for chunk in _chunks(ids):
        stored.update((row[0], tuple(row[1:])) for row in base.filter(combination_id__in=chunk))
    return stored


def _insert(offers: list[Offer]) -> None:
    """INSERT new offers; on PostgreSQL streamed with COPY (the first refresh writes every
    combination: Django's bulk_create spends most of its time preparing values)."""
    if connection.vendor != "postgresql":
        Offer.objects.bulk_create(offers, batch_size=2000)
        return
    # Every concrete field has a column (only virtual fields have none).
    fields = [field for field in Offer._meta.concrete_fields if field.column]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(field.column) for field in fields if field.column)
    # Identifiers come from the model's metadata; values go through COPY.
    sql = f"COPY {qn(Offer._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for offer in offers:
            copy.write_row([getattr(offer, field.attname) for field in fields])


def _lock_counter() -> OfferCounter:
    OfferCounter.objects.bulk_create([OfferCounter(id=1)], ignore_conflicts=True)
    return OfferCounter.objects.select_for_update().get(id=1)


def offers_refresh(*, combination_ids: Collection[int] | None = None) -> int:
    """Bring the offers of these combinations (None: every one) in line with the catalog;
    returns how many got a new change marker. Running it twice changes nothing."""
    ids = sorted(set(combination_ids)) if combination_ids is not None else None
    min_margin = Decimal(settings.MIN_MARGIN_PERCENT)
    with transaction.atomic():
        # Held to commit: refreshes take turns, so markers are committed in order.
        counter = _lock_counter()
        stored = _stored(ids)
        now = timezone.now()
        seq = counter.last_seq
        created: list[Offer] = []
        updated: list[tuple[Any, ...]] = []
        for row in _catalog_rows(ids):
            wanted = _wanted(row, min_margin)
            current = stored.get(row[0])
            if current == wanted:
                continue
            seq += 1
            if current is None:
                created.append(
                    Offer(
                        combination_id=row[0],
                        **dict(zip(_COMPARED, wanted, strict=True)),
                        seq=seq,
                        changed_at=now,
                    )
                )
            else:
                updated.append((row[0], *wanted, seq, now))
        _insert(created)
        bulk_set(Offer, [*_COMPARED, "seq", "changed_at"], updated)
        if seq != counter.last_seq:
            counter.last_seq = seq
            counter.save(update_fields=["last_seq"])
    return len(created) + len(updated)
