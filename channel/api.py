"""The channel's JSON API (django-ninja): offers feed and fulfilments, for shops.

Each operation parses input, checks the client's allow-list, calls one service or
selector and shapes the answer. Refusals are `ChannelError`s, answered by one handler as
`{"error": {"code", "message"}}` with a stable code. The call log is written around
every operation by channel.urls.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.params.functions import Header
from ninja.security import HttpBearer

from . import selectors, services
from .errors import ERROR_CODES, ChannelError, Forbidden, Unauthenticated
from .models import Action, ApiClient, Fulfilment
from .schemas import (
    CustomerOut,
    ErrorDetail,
    ErrorOut,
    FulfilmentIn,
    FulfilmentOut,
    KeyOut,
    LineOut,
    OffersOut,
    OffersQuery,
)


class ClientToken(HttpBearer):
    """`Authorization: Bearer <token>`; a missing, unknown, rotated or revoked token is a
    401 naming which (never ninja's bare "Unauthorized")."""

    def __call__(self, request: HttpRequest) -> ApiClient | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("missing_token", "Send Authorization: Bearer <token>")
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> ApiClient | None:
        client = services.client_authenticate(token=token)
        request.channel_client = client  # type: ignore[attr-defined]
        return client


api = NinjaAPI(
    title="Reseller back-office: sales channel",
    version="1",
    description=(
        "Offers feed and fulfilments for shops. Errors answer "
        '`{"error": {"code", "message"}}`; the codes: '
        + "; ".join(f"`{code}`: {text}" for code, text in ERROR_CODES.items())
    ),
    urls_namespace="channel_api",
    openapi_url="/openapi",
    docs_url=None,
    auth=ClientToken(),
)

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut}
KEY_ERRORS: dict[int, Any] = {503: ErrorOut}


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    request.channel_error_code = code  # type: ignore[attr-defined]
    return api.create_response(
        request, {"error": {"code": code, "message": message}}, status=status
    )


@api.exception_handler(ChannelError)
def channel_error(request: HttpRequest, exc: ChannelError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message)


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', '')}"
        for error in exc.errors[:10]
    )
    return _error(request, 400, "invalid_request", problems or "Malformed request")


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "invalid_token", "The token is not valid")


def _require(request: HttpRequest, action: str) -> ApiClient:
    request.channel_action = action  # type: ignore[attr-defined]
    client: ApiClient = request.auth  # type: ignore[attr-defined]
    if not client.may(action):
        raise Forbidden("action_not_allowed", f"This client may not {action}")
    return client


@api.get(
    "/offers",
    url_name="offers",
    response={200: OffersOut, **ERRORS},
    summary="Offers: a full read, or what changed since a cursor",
)
def offers(request: HttpRequest, query: Query[OffersQuery]) -> dict[str, Any]:
    """Without `since`: every combination offered to this client, paged (follow
    `nextCursor` while `hasMore`). With `since`: every offer changed after that cursor,
    including removals (`available: false`). Keep the last `nextCursor` for the next read."""
    client = _require(request, Action.OFFERS_READ)
    page = selectors.offers_page(client=client, since=query.since, limit=query.limit)
    return {
        "offers": [
            {
                "sku": item.offer.order_sku,
                "productSku": item.offer.product_sku,
                "name": item.offer.name,
                "price": item.offer.selling_price if item.available else None,
                "currency": item.offer.currency,
                "inStock": item.offer.in_stock,
                "available": item.available,
                "cursor": item.cursor,
            }
            for item in page.items
        ],
        "nextCursor": page.next_cursor,
        "hasMore": page.has_more,
    }


def _fulfilment_out(fulfilment: Fulfilment, *, with_keys: bool) -> FulfilmentOut:
    keys = (
        [KeyOut(sku=sku, key=key) for sku, key in selectors.fulfilment_keys(fulfilment)]
        if with_keys
        else []
    )
    error = (
        ErrorDetail(code=fulfilment.failure_code, message=fulfilment.failure_message)
        if fulfilment.failure_code
        else None
    )
    return FulfilmentOut(
        id=fulfilment.pk,
        orderId=fulfilment.shop_order_id,
        state=fulfilment.state,
        url=_fulfilment_path(fulfilment.pk),
        customer=CustomerOut(email=fulfilment.customer.email, name=fulfilment.customer.name),
        lines=[
            LineOut(
                sku=line.order_sku,
                quantity=line.quantity,
                price=line.unit_price_paid,
                fromStock=line.from_stock,
            )
            for line in fulfilment.lines.all()
        ],
        keys=keys,
        error=error,
        createdAt=fulfilment.created_at,
        deliveredAt=fulfilment.delivered_at,
    )


def _fulfilment_path(fulfilment_id: int) -> str:
    return reverse("channel_api:fulfilment_get", kwargs={"fulfilment_id": fulfilment_id})


@api.post(
    "/fulfilments",
    url_name="fulfilments",
    response={
        201: FulfilmentOut,
        202: FulfilmentOut,
        409: ErrorOut,
        422: ErrorOut,
        **ERRORS,
        **KEY_ERRORS,
    },
    summary="Fulfil a paid shop order",
)
def fulfilment_create(
    request: HttpRequest,
    payload: FulfilmentIn,
    idempotency_key: Annotated[str | None, Header(None, alias="Idempotency-Key")] = None,
) -> Status[FulfilmentOut]:
    """201 with the keys when stock covers the order; 202 with the fulfilment's `url`
    when keys must be bought (or an Approver must agree first). The same Idempotency-Key
    and body answer with the first answer's status again (the fulfilment as it is now,
    the keys when that status was 201); another body is 422 `idempotency_key_reused`."""
    client = _require(request, Action.FULFILMENTS_WRITE)
    answer = services.fulfilment_create(
        client_id=client.pk,
        idempotency_key=idempotency_key or "",
        request=payload.to_request(),
    )
    request.channel_fulfilment_id = answer.fulfilment.pk  # type: ignore[attr-defined]
    fulfilment = selectors.fulfilment_of_client(client=client, fulfilment_id=answer.fulfilment.pk)
    body = _fulfilment_out(fulfilment, with_keys=answer.status == 201)
    return Status(answer.status, body)


@api.get(
    "/fulfilments/{fulfilment_id}",
    url_name="fulfilment_get",
    response={200: FulfilmentOut, 404: ErrorOut, **ERRORS, **KEY_ERRORS},
    summary="A fulfilment's state and, once final, its keys",
)
def fulfilment_get(request: HttpRequest, fulfilment_id: int) -> FulfilmentOut:
    client = _require(request, Action.FULFILMENTS_READ)
    selectors.fulfilment_of_client(client=client, fulfilment_id=fulfilment_id)
    # Linked in the call log only once it is known to be this client's.
    request.channel_fulfilment_id = fulfilment_id  # type: ignore[attr-defined]
    # The PO may have moved since the last signal: look now rather than answer stale.
    services.fulfilment_sync(fulfilment_id=fulfilment_id)
    fulfilment = selectors.fulfilment_of_client(client=client, fulfilment_id=fulfilment_id)
    return _fulfilment_out(fulfilment, with_keys=fulfilment.is_final)
