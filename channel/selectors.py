"""Read queries of the channel: the offers feed, a fulfilment's keys, the Admin pages."""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from backoffice import crypto
from orders.models import LicenceKey

from .errors import ChannelError, NotFound
from .models import ApiClient, CallbackDelivery, ChannelCall, Fulfilment, Offer, OfferCounter

logger = logging.getLogger(__name__)
DEFAULT_PAGE = 1000
MAX_PAGE = 5000


# --- the offers feed -------------------------------------------------------------------
#
# A cursor is an opaque string. "s:<after>": every offer whose change marker is above
# <after>, offered or not (a row no longer offered is a removal). "f:<after>:<upto>": a
# full read in progress: offered rows with markers in (<after>, <upto>], where <upto>
# was the newest marker when the full read began; its last page hands over "s:<upto>",
# so whatever changed during the full read comes with the next since-read.


@dataclass(frozen=True)
class Cursor:
    after: int
    upto: int | None = None  # set while a full read pages

    def encode(self) -> str:
        raw = f"f:{self.after}:{self.upto}" if self.upto is not None else f"s:{self.after}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            kind, *numbers = raw.split(":")
            parsed = [int(n) for n in numbers]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ChannelError(
                "invalid_cursor", "This cursor was not issued by the feed", status=400
            ) from None
        if kind == "s" and len(parsed) == 1 and parsed[0] >= 0:
            return cls(parsed[0])
        if kind == "f" and len(parsed) == 2 and 0 <= parsed[0] <= parsed[1]:
            return cls(parsed[0], parsed[1])
        raise ChannelError("invalid_cursor", "This cursor was not issued by the feed", status=400)


@dataclass(frozen=True)
class OfferItem:
    offer: Offer
    available: bool
    cursor: str


@dataclass(frozen=True)
class OffersPage:
    items: list[OfferItem]
    next_cursor: str
    has_more: bool


def _offered(client: ApiClient) -> Q:
    condition = Q(sellable=True)
    if not client.allow_out_of_stock:
        condition &= Q(in_stock=True)
    if not client.allow_below_margin:
        condition &= Q(meets_margin=True)
    return condition


def _is_offered(client: ApiClient, offer: Offer) -> bool:
    return (
        offer.sellable
        and (offer.in_stock or client.allow_out_of_stock)
        and (offer.meets_margin or client.allow_below_margin)
    )


def offers_page(*, client: ApiClient, since: str | None, limit: int = DEFAULT_PAGE) -> OffersPage:
    """One page of the feed for this client: a full read without `since`, else what
    changed after it. Ordered by change marker, so paging never skips a row."""
    if not 1 <= limit <= MAX_PAGE:
        raise ChannelError("invalid_request", f"limit must be 1 to {MAX_PAGE}", status=400)
    if since:
        cursor = Cursor.decode(since)
    else:
        newest = OfferCounter.objects.filter(id=1).values_list("last_seq", flat=True).first()
        cursor = Cursor(0, newest or 0)
    rows = Offer.objects.filter(seq__gt=cursor.after).order_by("seq")
    if cursor.upto is not None:
        rows = rows.filter(_offered(client), seq__lte=cursor.upto)
    page = list(rows[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    items = [
        OfferItem(offer, _is_offered(client, offer), Cursor(offer.seq).encode()) for offer in page
    ]
    last = page[-1].seq if page else cursor.after
    if cursor.upto is not None and has_more:
        next_cursor = Cursor(last, cursor.upto)
    elif cursor.upto is not None:
        next_cursor = Cursor(cursor.upto)
    else:
        next_cursor = Cursor(last)
    return OffersPage(items, next_cursor.encode(), has_more)


# --- fulfilments -------------------------------------------------------------------------


def fulfilment_of_client(*, client: ApiClient, fulfilment_id: int) -> Fulfilment:
    fulfilment = (
        Fulfilment.objects.select_related("purchase_order")
        .prefetch_related("lines")
        .filter(client=client, pk=fulfilment_id)
        .first()
    )
    if fulfilment is None:
        raise NotFound("not_found", f"No fulfilment {fulfilment_id} for this client")
    return fulfilment


def fulfilment_keys(fulfilment: Fulfilment) -> list[tuple[str, str]]:
    """(order sku, clear key) of every key handed to the customer by this fulfilment."""
    condition = Q(pk__in=fulfilment.stock_keys.values("pk"))
    if fulfilment.purchase_order_id is not None:
        condition |= Q(purchase_order_id=fulfilment.purchase_order_id)
    keys = LicenceKey.objects.filter(condition).order_by("order_sku", "pk")
    try:
        return [(key.order_sku, crypto.decrypt(key.key_encrypted)) for key in keys]
    except crypto.InvalidToken:
        # A key stored under an encryption key no longer configured: the keys are safe,
        # the shop should retry once the configuration is fixed (logged for operators).
        logger.error("fulfilment %s: a stored key does not decrypt", fulfilment.pk)
        raise ChannelError(
            "keys_unreadable", "The keys cannot be read right now; retry later", status=503
        ) from None


# --- Admin pages -------------------------------------------------------------------------


def clients_overview() -> QuerySet[ApiClient]:
    return ApiClient.objects.annotate(
        call_count=Count("calls", distinct=True), last_call_at=Max("calls__at")
    ).order_by("name")


def client_calls(client: ApiClient) -> QuerySet[ChannelCall]:
    return ChannelCall.objects.filter(client=client).order_by("-at", "-id")


def client_fulfilments(client: ApiClient) -> QuerySet[Fulfilment]:
    return (
        Fulfilment.objects.filter(client=client)
        .select_related("customer", "purchase_order")
        .order_by("-created_at", "-id")
    )


def client_callbacks(client: ApiClient) -> QuerySet[CallbackDelivery]:
    return (
        CallbackDelivery.objects.filter(client=client)
        .select_related("fulfilment")
        .order_by("-created_at", "-id")
    )
