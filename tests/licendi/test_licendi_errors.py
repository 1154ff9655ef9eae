from __future__ import annotations

import pickle

import httpx
import pytest

from licendi import (
    AuthenticationFailed,
    ContractError,
    IdempotencyKeyReused,
    InsufficientBalance,
    InvalidQuantity,
    LicendiError,
    NotFound,
    OrderLineRequest,
    OutOfStock,
    RateLimited,
    RequestInProgress,
    ServerError,
    TransportError,
    UnknownSku,
    Unprocessable,
    is_definite_refusal,
    is_transient,
)
from tests.licendi.fakes import API_KEY, ClientFactory, ScriptedUpstream, error_response

LINES = [OrderLineRequest(sku="13200", qty=1)]


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "invalid_api_key", AuthenticationFailed),
        (402, "insufficient_balance", InsufficientBalance),
        (404, "not_found", NotFound),
        (422, "unknown_sku", UnknownSku),
        (422, "out_of_stock", OutOfStock),
        (422, "invalid_quantity", InvalidQuantity),
        (422, "idempotency_key_reused", IdempotencyKeyReused),
        (422, "something_new", Unprocessable),
        (400, "bad_request", LicendiError),
    ],
)
def test_each_error_status_and_code_maps_to_its_exception(
    make_client: ClientFactory, status: int, code: str, expected: type[LicendiError]
) -> None:
    upstream = ScriptedUpstream(error_response(status, code, "explained"))
    client = make_client(upstream)

    with pytest.raises(expected) as caught:
        client.create_order(items=LINES, external_id="PO-1", idempotency_key="k1")

    error = caught.value
    assert type(error) is expected
    assert (error.status, error.code, error.message) == (status, code, "explained")
    assert (error.method, error.path) == ("POST", "/api/orders")
    assert len(upstream.requests) == 1  # a 4xx is never retried


def test_request_in_progress_maps_to_its_exception_outside_orders(
    make_client: ClientFactory,
) -> None:
    client = make_client(ScriptedUpstream(error_response(409, "request_in_progress")))

    with pytest.raises(RequestInProgress):
        client.get_balance()


def test_rate_limited_and_server_error_map_after_retries(make_client: ClientFactory) -> None:
    client = make_client(ScriptedUpstream(error_response(429, "rate_limited")), max_retries=0)
    with pytest.raises(RateLimited):
        client.get_balance()

    client = make_client(ScriptedUpstream(error_response(503, "internal_error")), max_retries=0)
    with pytest.raises(ServerError):
        client.get_balance()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, AuthenticationFailed),
        (402, InsufficientBalance),
        (404, NotFound),
        (409, RequestInProgress),
        (422, Unprocessable),
        (429, RateLimited),
        (502, ServerError),
    ],
)
def test_non_json_error_body_still_maps_by_status(
    make_client: ClientFactory, status: int, expected: type[LicendiError]
) -> None:
    upstream = ScriptedUpstream(httpx.Response(status, text="<html>Bad things</html>"))
    client = make_client(upstream, max_retries=0)

    with pytest.raises(expected) as caught:
        client.get_balance()

    assert caught.value.code is None


def test_error_messages_never_contain_the_api_key(make_client: ClientFactory) -> None:
    client = make_client(ScriptedUpstream(httpx.ConnectError("boom")), max_retries=0)

    with pytest.raises(TransportError) as caught:
        client.get_balance()

    assert API_KEY not in str(caught.value)
    assert API_KEY not in repr(caught.value)
    assert API_KEY not in repr(client)


def test_malformed_success_body_is_a_contract_error_with_request_context(
    make_client: ClientFactory,
) -> None:
    client = make_client(ScriptedUpstream(httpx.Response(200, json={"currency": "EUR"})))

    with pytest.raises(ContractError) as caught:
        client.get_balance()

    assert caught.value.field == "balance"
    assert (caught.value.method, caught.value.path) == ("GET", "/api/balance")


def test_only_402_and_422_are_definite_refusals() -> None:
    assert is_definite_refusal(InsufficientBalance("x"))
    assert is_definite_refusal(OutOfStock("x"))
    assert is_definite_refusal(UnknownSku("x"))
    assert is_definite_refusal(InvalidQuantity("x"))
    assert is_definite_refusal(Unprocessable("x"))
    for unknown_outcome in (
        TransportError("x", timeout=True),
        ServerError("x"),
        RateLimited("x"),
        RequestInProgress("x"),
        AuthenticationFailed("x"),
        NotFound("x"),
        ContractError("x"),
    ):
        assert not is_definite_refusal(unknown_outcome)


def test_idempotency_key_reused_is_not_a_refusal_because_an_order_exists_under_that_key() -> None:
    assert not is_definite_refusal(IdempotencyKeyReused("x"))


def test_transient_errors_are_the_retryable_ones() -> None:
    for transient in (
        TransportError("x"),
        ServerError("x"),
        RateLimited("x"),
        RequestInProgress("x"),
    ):
        assert is_transient(transient)
    for permanent in (
        InsufficientBalance("x"),
        OutOfStock("x"),
        AuthenticationFailed("x"),
        NotFound("x"),
        ContractError("x"),
    ):
        assert not is_transient(permanent)


def test_errors_survive_pickling_with_their_attributes() -> None:
    # Task queues pickle exceptions between processes.
    error = RateLimited(
        "slow down", status=429, code="rate_limited", method="GET", path="/api/x", retry_after=3.0
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert type(copy) is RateLimited
    assert (copy.status, copy.code, copy.retry_after, str(copy)) == (
        429,
        "rate_limited",
        3.0,
        str(error),
    )
