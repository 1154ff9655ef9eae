from __future__ import annotations

import json
import logging
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from licendi import (
    ContractError,
    LicendiError,
    NotFound,
    OrderLineRequest,
    RateLimited,
    RequestInProgress,
    ServerError,
    TransportError,
)
from licendi.client import default_ssl_context
from tests.licendi.fakes import (
    API_KEY,
    BASE_URL,
    ClientFactory,
    ScriptedUpstream,
    error_response,
    json_response,
)

PRODUCT = {"sku": "1", "name": "P", "price": "2.00", "netPrice": "1.50"}
ORDER = {
    "id": "ord-1",
    "externalId": "PO-1",
    "status": "delivered",
    "total": "1.50",
    "items": [{"sku": "1", "qty": 1, "unitPrice": "1.50", "keys": ["SECRET-KEY-1"]}],
}
LINES = [OrderLineRequest(sku="1", qty=1)]


def balance_ok() -> httpx.Response:
    return json_response(200, {"balance": "10.00"})


# ---------------------------------------------------------------- requests


def test_every_request_sends_api_key_and_accept_json(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(balance_ok())
    make_client(upstream).get_balance()

    request = upstream.requests[0]
    assert request.headers["X-Api-Key"] == API_KEY
    assert request.headers["Accept"] == "application/json"
    assert request.url.path == "/api/balance"


def test_every_request_carries_host_user_agent_and_the_configured_timeout(
    make_client: ClientFactory,
) -> None:
    upstream = ScriptedUpstream(balance_ok())
    make_client(upstream, timeout=7.0, user_agent="reseller/2").get_balance()

    request = upstream.requests[0]
    assert request.headers["Host"] == httpx.URL(BASE_URL).host
    assert request.headers["User-Agent"] == "reseller/2"
    assert request.extensions["timeout"] == {"connect": 5.0, "read": 7.0, "write": 7.0, "pool": 7.0}


def test_clients_share_one_tls_context_that_verifies_certificates() -> None:
    context = default_ssl_context()

    assert default_ssl_context() is context  # built (and the CA bundle read) once
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.get_ca_certs() or context.cert_store_stats()["x509_ca"]


def test_cookies_set_by_upstream_are_never_sent_back(make_client: ClientFactory) -> None:
    # The API authenticates by its key header alone; a cookie jar would only cost time.
    upstream = ScriptedUpstream(
        json_response(200, {"balance": "10.00"}, headers={"Set-Cookie": "session=abc; Path=/"})
    )
    client = make_client(upstream)
    client.get_balance()
    client.get_balance()

    assert "Cookie" not in upstream.requests[1].headers


def test_list_products_sends_paging_and_category(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(json_response(200, {"items": [PRODUCT], "total": 1}))
    page = make_client(upstream).list_products(page=2, page_size=50, category="Windows")

    assert dict(upstream.requests[0].url.params) == {
        "page": "2",
        "pageSize": "50",
        "category": "Windows",
    }
    assert page.items[0].net_price == Decimal("1.50")


def test_iter_product_pages_stops_when_total_is_reached(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(
        json_response(200, {"items": [PRODUCT, PRODUCT], "page": 1, "pageSize": 2, "total": 3}),
        json_response(
            200, {"items": [{**PRODUCT, "sku": "3"}], "page": 2, "pageSize": 2, "total": 3}
        ),
        json_response(500, {}),  # never reached
    )
    pages = list(make_client(upstream).iter_product_pages(page_size=2))

    assert [len(p.items) for p in pages] == [2, 1]
    assert len(upstream.requests) == 2


def test_iter_product_pages_stops_on_empty_page(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(
        json_response(200, {"items": [PRODUCT, PRODUCT]}),
        json_response(200, {"items": []}),
    )
    pages = list(make_client(upstream).iter_product_pages(page_size=2))

    assert len(pages) == 1
    assert len(upstream.requests) == 2


def test_iter_product_pages_takes_a_bare_array_as_everything(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(json_response(200, [PRODUCT] * 3))
    pages = list(make_client(upstream).iter_product_pages(page_size=2))

    assert len(pages) == 1
    assert len(pages[0].items) == 3
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    ("sku", "expected_path"),
    [
        ("13200::0-0", "/api/products/13200::0-0"),
        ("../x", "/api/products/..%2Fx"),
        ("a/b?c#d", "/api/products/a%2Fb%3Fc%23d"),
        ("50%", "/api/products/50%25"),
    ],
)
def test_path_segments_are_quoted_so_an_id_cannot_escape(
    make_client: ClientFactory, sku: str, expected_path: str
) -> None:
    upstream = ScriptedUpstream(json_response(200, PRODUCT))
    make_client(upstream).get_product(sku)

    assert upstream.requests[0].url.raw_path.decode() == expected_path


@pytest.mark.parametrize("bad", ["", "  ", ".", ".."])
def test_empty_or_dot_ids_are_rejected_before_any_request(
    make_client: ClientFactory, bad: str
) -> None:
    upstream = ScriptedUpstream(json_response(200, ORDER))
    client = make_client(upstream)

    for call in (
        client.get_product,
        client.get_order,
        client.get_order_keys,
        client.delete_webhook,
    ):
        with pytest.raises(ValueError):
            call(bad)
    assert upstream.requests == []


def test_create_order_sends_body_external_id_and_idempotency_key(
    make_client: ClientFactory,
) -> None:
    upstream = ScriptedUpstream(json_response(201, ORDER))
    result = make_client(upstream).create_order(
        items=LINES, external_id="PO-1", idempotency_key="idem-1"
    )

    request = upstream.requests[0]
    assert request.headers["Idempotency-Key"] == "idem-1"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "items": [{"sku": "1", "qty": 1}],
        "externalId": "PO-1",
    }
    assert result.http_status == 201
    assert result.replayed is False
    assert result.order.items[0].keys == ("SECRET-KEY-1",)


def test_replayed_header_is_reported(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(json_response(200, ORDER, {"Idempotent-Replayed": "true"}))
    result = make_client(upstream).create_order(
        items=LINES, external_id="PO-1", idempotency_key="idem-1"
    )

    assert result.replayed is True
    assert result.http_status == 200


def test_create_order_requires_an_idempotency_key(make_client: ClientFactory) -> None:
    client = make_client(ScriptedUpstream(json_response(201, ORDER)))

    with pytest.raises(ValueError):
        client.create_order(items=LINES, external_id="PO-1", idempotency_key="")


def test_get_order_keys_202_is_pending(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(json_response(202, {"status": "pending"}))

    assert make_client(upstream).get_order_keys("ord-1").status == "pending"


def test_delete_webhook_accepts_an_empty_204(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(httpx.Response(204))
    make_client(upstream).delete_webhook("wh-1")

    assert upstream.requests[0].method == "DELETE"
    assert upstream.requests[0].url.path == "/api/webhooks/wh-1"


def test_get_openapi_accepts_json(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(json_response(200, {"openapi": "3.1.0", "paths": {}}))

    assert make_client(upstream).get_openapi()["openapi"] == "3.1.0"
    assert upstream.requests[0].headers["Accept"].startswith("application/json")


def test_get_openapi_accepts_yaml(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(
        httpx.Response(
            200,
            content=b"openapi: 3.1.0\npaths: {}\n",
            headers={"Content-Type": "application/yaml"},
        )
    )

    assert make_client(upstream).get_openapi() == {"openapi": "3.1.0", "paths": {}}


# ---------------------------------------------------------------- retries


def test_429_is_retried_after_the_retry_after_seconds(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(
        error_response(429, "rate_limited", headers={"Retry-After": "7"}),
        error_response(429, "rate_limited", headers={"Retry-After": "2"}),
        balance_ok(),
    )
    factory_client = make_client(upstream)

    assert factory_client.get_balance().balance == Decimal("10.00")
    assert make_client.sleeps == [7.0, 2.0]
    assert len(upstream.requests) == 3


def test_retry_after_is_capped_at_backoff_max(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(
        error_response(429, "rate_limited", headers={"Retry-After": "3600"}), balance_ok()
    )
    make_client(upstream, backoff_max=30.0).get_balance()

    assert make_client.sleeps == [30.0]


def test_500_is_retried_with_exponential_backoff_and_full_jitter(
    make_client: ClientFactory,
) -> None:
    upstream = ScriptedUpstream(
        error_response(500, "internal_error"),
        error_response(502, "internal_error"),
        error_response(503, "internal_error"),
        balance_ok(),
    )
    # rng=0.5 makes the jitter visible: half of base * 2**attempt.
    make_client(upstream, backoff_base=1.0, rng=lambda: 0.5).get_balance()

    assert make_client.sleeps == [0.5, 1.0, 2.0]


def test_backoff_never_exceeds_backoff_max(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(error_response(500, "internal_error"))
    client = make_client(
        upstream, max_retries=8, backoff_base=1.0, backoff_max=5.0, rng=lambda: 1.0
    )

    with pytest.raises(ServerError):
        client.get_balance()

    assert make_client.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0]


def test_timeout_is_retried(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(
        httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), balance_ok()
    )

    assert make_client(upstream).get_balance().balance == Decimal("10.00")
    assert len(upstream.requests) == 3


@pytest.mark.parametrize(
    "dropped",
    [
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("server disconnected without sending a response"),
        httpx.ConnectError("connection refused"),
    ],
)
def test_dropped_or_refused_connection_is_retried(
    make_client: ClientFactory, dropped: Exception
) -> None:
    upstream = ScriptedUpstream(dropped, balance_ok())

    assert make_client(upstream).get_balance().balance == Decimal("10.00")
    assert len(upstream.requests) == 2


def test_exhausted_retries_on_timeout_raise_transport_error(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(httpx.ReadTimeout("slow"))

    with pytest.raises(TransportError) as caught:
        make_client(upstream, max_retries=3).get_balance()

    assert caught.value.timeout is True
    assert len(upstream.requests) == 4
    assert len(make_client.sleeps) == 3


def test_exhausted_retries_raise_the_last_typed_error(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(
        error_response(500, "internal_error"), error_response(429, "rate_limited")
    )

    with pytest.raises(RateLimited):
        make_client(upstream, max_retries=2).get_balance()

    assert len(upstream.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_other_4xx_are_never_retried(make_client: ClientFactory, status: int) -> None:
    upstream = ScriptedUpstream(error_response(status, "nope"), balance_ok())

    with pytest.raises(Exception):  # noqa: B017 - the mapping itself is tested elsewhere
        make_client(upstream).get_balance()

    assert len(upstream.requests) == 1
    assert make_client.sleeps == []


def test_unsupported_scheme_is_not_retried(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(httpx.UnsupportedProtocol("ftp"), balance_ok())

    with pytest.raises(TransportError):
        make_client(upstream).get_balance()

    assert len(upstream.requests) == 1


def test_order_post_is_retried_with_the_same_idempotency_key_and_body(
    make_client: ClientFactory,
) -> None:
    upstream = ScriptedUpstream(
        httpx.ReadTimeout("slow"),
        error_response(500, "internal_error"),
        httpx.RemoteProtocolError("dropped"),
        error_response(409, "request_in_progress"),
        json_response(200, ORDER, {"Idempotent-Replayed": "true"}),
    )
    result = make_client(upstream).create_order(
        items=LINES, external_id="PO-1", idempotency_key="idem-42"
    )

    assert len(upstream.requests) == 5
    assert {r.headers["Idempotency-Key"] for r in upstream.requests} == {"idem-42"}
    assert len({r.content for r in upstream.requests}) == 1
    assert result.replayed is True


def test_request_in_progress_is_retried_only_for_orders(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(error_response(409, "request_in_progress"), balance_ok())

    with pytest.raises(RequestInProgress):
        make_client(upstream).get_balance()

    assert len(upstream.requests) == 1


def test_not_found_is_raised_at_once(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(error_response(404, "not_found"))

    with pytest.raises(NotFound):
        make_client(upstream).get_order("ord-missing")

    assert len(upstream.requests) == 1


# ---------------------------------------------------------------- logging and threads


def test_logs_carry_method_path_status_but_no_key_or_body(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    upstream = ScriptedUpstream(error_response(500, "internal_error"), json_response(201, ORDER))
    caplog.set_level(logging.DEBUG, logger="licendi")

    make_client(upstream).create_order(items=LINES, external_id="PO-1", idempotency_key="idem-9")

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST /api/orders" in text
    assert "201" in text
    assert "attempt=2" in text
    for secret in (API_KEY, "SECRET-KEY-1", "idem-9", "PO-1"):
        assert secret not in text


def test_one_client_serves_many_threads(make_client: ClientFactory) -> None:
    lock = threading.Lock()
    seen: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        with lock:
            seen.append(request.url.path)
        return json_response(200, {**ORDER, "id": request.url.path.rsplit("/", 1)[-1]})

    client = make_client(upstream)
    with ThreadPoolExecutor(max_workers=8) as pool:
        orders = list(pool.map(client.get_order, [f"ord-{i}" for i in range(64)]))

    assert [o.id for o in orders] == [f"ord-{i}" for i in range(64)]
    assert len(seen) == 64


def test_client_is_a_context_manager(make_client: ClientFactory) -> None:
    with make_client(ScriptedUpstream(balance_ok())) as client:
        client.get_balance()


WEBHOOK = {
    "id": "wh-1",
    "url": "https://x.test/h",
    "events": ["order.delivered"],
    "secret": "whsec_AAAA",
}


@pytest.mark.parametrize(
    "processed_maybe",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        error_response(500, "internal_error"),
    ],
)
def test_webhook_registration_is_not_repeated_when_it_may_have_been_processed(
    make_client: ClientFactory, processed_maybe: Exception | httpx.Response
) -> None:
    upstream = ScriptedUpstream(processed_maybe, json_response(201, WEBHOOK))

    with pytest.raises((TransportError, ServerError)):
        make_client(upstream).create_webhook(url="https://x.test/h", events=["order.delivered"])

    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    "not_processed",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("no route"),
        error_response(429, "rate_limited", headers={"Retry-After": "1"}),
    ],
)
def test_webhook_registration_is_repeated_when_upstream_never_processed_it(
    make_client: ClientFactory, not_processed: Exception | httpx.Response
) -> None:
    upstream = ScriptedUpstream(not_processed, json_response(201, WEBHOOK))

    endpoint = make_client(upstream).create_webhook(
        url="https://x.test/h", events=["order.delivered"]
    )

    assert endpoint.id == "wh-1"
    assert len(upstream.requests) == 2


def test_connect_failure_says_the_request_was_never_sent(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(httpx.ConnectError("refused"))

    with pytest.raises(TransportError) as caught:
        make_client(upstream, max_retries=0).get_balance()

    assert caught.value.request_sent is False
    assert caught.value.timeout is False


def test_iter_product_pages_refuses_an_upstream_that_ignores_paging(
    make_client: ClientFactory,
) -> None:
    # Same full page whatever `page` says, no total: stopping would truncate the
    # catalog and looping would never end.
    upstream = ScriptedUpstream(json_response(200, {"items": [PRODUCT, PRODUCT]}))

    with pytest.raises(ContractError) as caught:
        list(make_client(upstream).iter_product_pages(page_size=2))

    assert caught.value.field == "page"
    assert len(upstream.requests) == 2


def test_redirects_are_not_followed(make_client: ClientFactory) -> None:
    upstream = ScriptedUpstream(
        httpx.Response(302, headers={"Location": "https://elsewhere.test/api/balance"})
    )

    with pytest.raises(LicendiError) as caught:
        make_client(upstream).get_balance()

    assert caught.value.status == 302
    assert len(upstream.requests) == 1


def test_delete_after_an_uncertain_attempt_treats_not_found_as_done(
    make_client: ClientFactory,
) -> None:
    upstream = ScriptedUpstream(httpx.ReadTimeout("slow"), error_response(404, "not_found"))

    make_client(upstream).delete_webhook("wh-1")

    assert len(upstream.requests) == 2


def test_delete_of_an_unknown_endpoint_is_not_found_even_after_a_rate_limit(
    make_client: ClientFactory,
) -> None:
    upstream = ScriptedUpstream(
        error_response(429, "rate_limited", headers={"Retry-After": "1"}),
        error_response(404, "not_found"),
    )

    with pytest.raises(NotFound):
        make_client(upstream).delete_webhook("wh-unknown")
