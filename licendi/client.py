"""HTTP client for the Licendi Reseller API.

One `httpx.Client` per `LicendiClient`; httpx documents its Client as safe to
share between threads, and this class keeps no other mutable state, so one
instance can serve a whole worker thread pool.

Retries: only failures whose outcome may change on a second try (connection
problems, timeouts, 429, 5xx, and 409 request_in_progress for orders). A POST
to /api/orders is retried only because it carries the caller's Idempotency-Key,
and every attempt sends the same key and the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx

from . import parsing
from .concurrency import AdaptiveLimiter, Outcome
from .errors import (
    ContractError,
    LicendiError,
    NotFound,
    RateLimited,
    RequestInProgress,
    ServerError,
    TransportError,
    UnreadableOrderAnswer,
    error_for_status,
)
from .observations import Observations, redact
from .records import (
    Balance,
    Order,
    OrderKeys,
    OrderLineRequest,
    OrderListing,
    OrderResult,
    Page,
    Product,
    ProductDetail,
    WebhookEndpoint,
)
from .retry import backoff_delay, parse_retry_after

logger = logging.getLogger("licendi")
R = TypeVar("R")

DEFAULT_USER_AGENT = "licendi-python/0.1"
MAX_PRODUCT_PAGE_SIZE = 500  # [assumed] upstream maximum
MAX_ORDER_LIMIT = 200  # [doc]
# Pages of the catalog asked for past the last full one when upstream gives no total.
READ_AHEAD_PAGES = 4

# Transport failures worth a second try. Others (e.g. an unsupported URL scheme)
# are configuration mistakes that no retry can fix.
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Failures that happen before a single byte of the request is sent.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


# The endpoints as the contract names them, for reports: ids become placeholders.
_ENDPOINT_TEMPLATES = (
    ("/api/products/", "", "/api/products/{sku}"),
    ("/api/orders/", "/keys", "/api/orders/{id}/keys"),
    ("/api/orders/", "", "/api/orders/{id}"),
    ("/api/webhooks/", "", "/api/webhooks/{id}"),
)


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """The certificate-verifying TLS context every client of this process shares.

    httpx would build one per client and load the whole CA bundle into it (about 50 ms,
    each sync and each order call); a context is safe to share between clients and
    threads. Verification is httpx's default: certifi's bundle, or `SSL_CERT_FILE` /
    `SSL_CERT_DIR` when set.
    """
    return httpx.create_ssl_context()


def endpoint_of(method: str, path: str) -> str:
    """`GET /api/products/13200` -> `GET /api/products/{sku}`."""
    for prefix, suffix, template in _ENDPOINT_TEMPLATES:
        if path.startswith(prefix) and path.endswith(suffix) and len(path) > len(prefix + suffix):
            return f"{method} {template}"
    return f"{method} {path}"


def _segment(value: str, what: str) -> str:
    """Quote one path segment so an id like `../x` or `a/b` cannot change the route."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    if value in (".", ".."):
        raise ValueError(f"{what} {value!r} is not a valid identifier")
    # ':' stays readable in combination skus ("13200::0-0"); '/' and '%' are escaped.
    return quote(value, safe=":")


class LicendiClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = 10.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        user_agent: str = DEFAULT_USER_AGENT,
        observations: Observations | None = None,
        limiter: AdaptiveLimiter | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        if not api_key:
            raise ValueError("api_key is required")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if isinstance(timeout, int | float):
            # A short connect timeout fails fast on an unreachable host; reads may
            # legitimately take longer (orders settle synchronously).
            timeout = httpx.Timeout(timeout, connect=min(float(timeout), 5.0))
        self.max_retries = max_retries
        # Where the parsers' notes go (coercions, unknown and missing fields).
        self.observations = observations
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._rng = rng
        # Shared by every thread using this client: how many exchanges may be in flight.
        self.limiter = limiter
        # Enough pooled connections for the limiter's ceiling: a connection closed after
        # each request would cost a handshake per request.
        pool = max(20, limiter.ceiling if limiter is not None else 0)
        self._http = httpx.Client(
            limits=httpx.Limits(max_connections=pool + 10, max_keepalive_connections=pool),
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={
                "X-Api-Key": api_key,
                "Accept": "application/json",
                "User-Agent": user_agent,
            },
            follow_redirects=False,
            verify=default_ssl_context(),
        )
        # Each exchange goes straight to the transport the client would pick for this
        # base URL (a proxy from the environment included), with the client's merged
        # default headers and timeout: `Client.request` would also build and merge the
        # URL from its parts, wrap the request for auth and redirects (none here: the API
        # key is a header and redirects are refused) and run each answer through a cookie
        # jar (the API sets none). That is about a third of the client's CPU per request,
        # which bounds a catalog sync against a distant supplier.
        self._base = str(self._http.base_url).rstrip("/")
        self._send = self._http._transport_for_url(self._http.base_url).handle_request
        self._headers = self._http.headers
        self._timeout = {"timeout": self._http.timeout.as_dict()}

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LicendiClient(base_url={str(self._http.base_url)!r})"

    # ------------------------------------------------------------ catalog

    def list_products(
        self, *, page: int = 1, page_size: int = 100, category: str | None = None
    ) -> Page[Product]:
        if page < 1:
            raise ValueError("page is 1-based")
        if not 1 <= page_size <= MAX_PRODUCT_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PRODUCT_PAGE_SIZE}")
        params: dict[str, Any] = {"page": page, "pageSize": page_size}
        if category is not None:
            params["category"] = category
        response = self._request("GET", "/api/products", params=params)
        key = (hashlib.sha256(response.content).digest(), page, page_size)
        known = _READ_PAGES.get(key)
        if known is not None:
            return known
        noticed = _Noticing(self.observations)
        result = self._parse(
            response,
            lambda body: parsing.parse_page(
                body, parsing.parse_product, page=page, page_size=page_size, lenient=True
            ),
            observations=noticed,
        )
        if not noticed.count and not result.rejected:
            _READ_PAGES.put(key, result)
        return result

    def iter_product_pages(
        self, *, page_size: int = MAX_PRODUCT_PAGE_SIZE, category: str | None = None
    ) -> Iterator[Page[Product]]:
        """Every page of the catalog, stopping at `total`, an empty page or a bare array.

        A catalog sync treats products missing from the pages as withdrawn, so
        an upstream that ignores paging is a ContractError, never a silently
        short (or endless) listing.
        """
        page_number = 1
        seen = 0
        previous_first: str | None = None
        while True:
            current = self.list_products(page=page_number, page_size=page_size, category=category)
            if not current.items and not current.rejected:
                return
            first = current.items[0].sku if current.items else current.rejected[0].ref
            if current.page != page_number or first == previous_first:
                raise ContractError(
                    f"upstream ignored page={page_number} (answered page {current.page})",
                    field="page",
                    method="GET",
                    path="/api/products",
                )
            yield current
            seen += len(current.items) + len(current.rejected)
            if current.total is not None and seen >= current.total:
                return
            if (
                current.total is None
                and len(current.items) + len(current.rejected) < current.page_size
            ):
                # Without a total, a short page is the last one.
                return
            previous_first = first
            page_number += 1

    def product_pages(
        self,
        *,
        page_size: int = MAX_PRODUCT_PAGE_SIZE,
        category: str | None = None,
        workers: int | None = None,
        read_ahead: int = READ_AHEAD_PAGES,
    ) -> Iterator[Page[Product]]:
        """Every page of the catalog like `iter_product_pages`, several read at once.

        The first page says how many records there are (`total`); the other pages are then
        requested side by side, through the limiter like every request of this client, and
        yielded as they arrive, in no particular order. Without a total, `read_ahead` pages
        are kept in flight past the last full page read and reading stops at the first
        short or empty page (pages asked for past it come back empty and are dropped).
        A page that fails raises at once (after the client's own retries) and the pages
        still queued are not sent. An upstream that ignores `page` (every page the first
        one, or another page number echoed) is a ContractError, as in `iter_product_pages`.

        `workers` is the number of threads (default: the limiter's ceiling, else 4); the
        limiter decides how many of their requests are really in flight.
        """
        first = self.list_products(page=1, page_size=page_size, category=category)
        if not first.items and not first.rejected:
            return
        if first.page != 1:
            raise self._paging_ignored(1, first.page)
        first_sku = _first_sku(first)
        yield first
        records = len(first.items) + len(first.rejected)
        # Page 1 is full whenever there is more, so its size is the upstream's page size
        # (which may be smaller than the one asked for).
        per_page = max(1, records)
        if first.total is not None and first.total <= records:
            return
        if first.total is None and records < first.page_size:
            return  # without a total, a short page is the last one
        if workers is None:
            workers = self.limiter.ceiling if self.limiter is not None else 4
        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="licendi-pages")
        pending: dict[Future[Page[Product]], int] = {}
        try:

            def ask(number: int) -> None:
                future = pool.submit(
                    self.list_products, page=number, page_size=page_size, category=category
                )
                pending[future] = number

            highest = 1  # the highest page number asked for
            # The last page to read: from the total, or (without one) the first short page.
            end = -(-first.total // per_page) if first.total is not None else None
            # Pages asked for and not yet answered, at most: enough to keep every worker
            # busy, and bounded whatever total the upstream claims (a total of a billion
            # with three pages behind it must not queue a billion requests).
            window = 2 * max(1, workers)
            while True:
                if end is not None:
                    while highest < end and len(pending) < window:
                        highest += 1
                        ask(highest)
                else:
                    while len(pending) < max(1, read_ahead):
                        highest += 1
                        ask(highest)
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=pending.__getitem__):
                    number = pending.pop(future)
                    try:
                        page = future.result()
                    except LicendiError as exc:
                        exc.path = f"/api/products?page={number}"  # which page, in the cause
                        raise
                    count = len(page.items) + len(page.rejected)
                    if count == 0:
                        if end is None or number <= end:
                            end = number - 1  # the list ends before this page
                        continue
                    if page.page != number or (first_sku and _first_sku(page) == first_sku):
                        raise self._paging_ignored(number, page.page)
                    if end is not None and number > end:
                        continue  # past the end found meanwhile (the list shrank)
                    if page.total is not None and first.total is not None:
                        # A list that grew while it was read: its new last pages are read
                        # too (the caller sees the totals differ: the pass is not sure).
                        end = max(end or 0, -(-page.total // per_page))
                    elif count < page.page_size:
                        end = number if end is None else min(end, number)
                    yield page
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _paging_ignored(asked: int, answered: int) -> ContractError:
        return ContractError(
            f"upstream ignored page={asked} (answered page {answered})",
            field="page",
            method="GET",
            path="/api/products",
        )

    def get_product(self, sku: str) -> ProductDetail:
        response = self._request("GET", f"/api/products/{_segment(sku, 'sku')}")
        return self._parse(response, parsing.parse_product_detail)

    # ------------------------------------------------------------ wallet

    def get_balance(self) -> Balance:
        return self._parse(self._request("GET", "/api/balance"), parsing.parse_balance)

    # ------------------------------------------------------------ orders

    def create_order(
        self,
        *,
        items: Sequence[OrderLineRequest],
        external_id: str,
        idempotency_key: str,
    ) -> OrderResult:
        """Place an order. The caller owns `idempotency_key` and must persist it
        before calling, so that any later retry (here or in another process)
        reuses it: the client never invents one.
        """
        if not idempotency_key or not idempotency_key.strip():
            raise ValueError("idempotency_key is required")
        if not external_id:
            raise ValueError("external_id is required")
        if not items:
            raise ValueError("an order needs at least one item")
        body = parsing.order_request_body(items=items, external_id=external_id)
        response = self._request(
            "POST",
            "/api/orders",
            json_body=body,
            headers={"Idempotency-Key": idempotency_key},
            retry_in_progress=True,
        )
        try:
            order = self._parse(response, parsing.parse_order)
        except ContractError as exc:
            # A 2xx answer means the order was accepted and paid: never let it look
            # like an unknown outcome. The caller keeps the raw answer and looks the
            # order up by its externalId.
            raise UnreadableOrderAnswer(
                f"the answer to the order could not be read: {exc.message}",
                raw=response.content,
                status=response.status_code,
            ) from exc
        replayed = response.headers.get("Idempotent-Replayed", "").strip().lower() == "true"
        return OrderResult(
            order=order, replayed=replayed, http_status=response.status_code, raw=response.content
        )

    def list_orders(self, *, limit: int = 50) -> list[Order]:
        """The readable orders of the listing (see `order_listing` for the skipped ones)."""
        return list(self.order_listing(limit=limit).orders)

    def order_listing(self, *, limit: int = 50) -> OrderListing:
        """GET /api/orders, each order read on its own: unreadable ones are reported in
        `skipped` instead of failing the whole listing."""
        if not 1 <= limit <= MAX_ORDER_LIMIT:
            raise ValueError(f"limit must be within 1..{MAX_ORDER_LIMIT}")
        response = self._request("GET", "/api/orders", params={"limit": limit})
        return self._parse(response, parsing.parse_order_listing)

    def get_order(self, order_id: str) -> Order:
        response = self._request("GET", f"/api/orders/{_segment(order_id, 'order_id')}")
        return self._parse(response, parsing.parse_order)

    def get_order_keys(self, order_id: str) -> OrderKeys:
        response = self._request("GET", f"/api/orders/{_segment(order_id, 'order_id')}/keys")
        return self._parse(
            response, lambda body: parsing.parse_order_keys(response.status_code, body)
        )

    # ------------------------------------------------------------ webhooks

    def list_webhooks(self) -> list[WebhookEndpoint]:
        return self._parse(self._request("GET", "/api/webhooks"), parsing.parse_webhook_endpoints)

    def create_webhook(self, *, url: str, events: Sequence[str]) -> WebhookEndpoint:
        """Register an endpoint. The returned `secret` is shown only this once upstream."""
        if not url:
            raise ValueError("url is required")
        if isinstance(events, str) or not events:
            raise ValueError("events must be a non-empty list of event names")
        # No Idempotency-Key on this endpoint: a retry after a timeout could
        # register the endpoint twice, so only unprocessed attempts are repeated.
        response = self._request(
            "POST",
            "/api/webhooks",
            json_body=parsing.webhook_request_body(url=url, events=events),
            idempotent=False,
        )
        return self._parse(response, parsing.parse_webhook_endpoint)

    def delete_webhook(self, endpoint_id: str) -> None:
        try:
            self._request("DELETE", f"/api/webhooks/{_segment(endpoint_id, 'endpoint_id')}")
        except NotFound as exc:
            # After a timeout or 5xx the first attempt may have deleted it already:
            # "gone" is what was asked for.
            if not exc.earlier_attempt_uncertain:
                raise

    # ------------------------------------------------------------ contract

    def get_openapi(self) -> dict[str, Any]:
        """The upstream OpenAPI document, served as JSON or YAML."""
        response = self._request(
            "GET", "/api/openapi", headers={"Accept": "application/json, application/yaml;q=0.5"}
        )
        content_type = response.headers.get("Content-Type", "").lower()
        if "yaml" in content_type or not response.content.lstrip().startswith(b"{"):
            document = _load_yaml(response.content, method="GET", path="/api/openapi")
        else:
            document = self._parse(response, lambda body: body)
        if not isinstance(document, dict):
            raise ContractError(
                "OpenAPI document is not an object", method="GET", path="/api/openapi"
            )
        return document

    # ------------------------------------------------------------ plumbing

    def _parse(
        self,
        response: httpx.Response,
        parse: Callable[[Any], R],
        *,
        observations: Observations | None = None,
    ) -> R:
        method, path = response.request.method, response.request.url.path
        body: Any = None
        try:
            body = parsing.loads(response.content)
            noted = self.observations if observations is None else observations
            with parsing.observing(noted, endpoint_of(method, path)):
                return parse(body)
        except ContractError as exc:
            # Parsers do not know which call they serve; add it for the log line.
            exc.method, exc.path = method, path
            exc.status = response.status_code
            # What could not be read, for a quarantine report (never in str(exc)).
            exc.raw = redact(body)
            raise

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        retry_in_progress: bool = False,
    ) -> httpx.Response:
        """One logical call: retried per the module's rules, typed error when it fails.

        `idempotent=False` marks a write without an Idempotency-Key: it is only
        repeated when upstream certainly did not process it (429, connect failure).
        """
        request_headers = dict(headers or {})
        content: bytes | None = None
        if json_body is not None:
            # Serialised once: every retry sends byte-identical content, which is
            # what upstream compares when it checks an Idempotency-Key.
            content = parsing.dumps(json_body)
            request_headers["Content-Type"] = "application/json"

        attempt = 0
        uncertain = False
        while True:
            started = time.monotonic()
            outcome = self._limited_attempt(method, path, params, content, request_headers)
            elapsed = time.monotonic() - started
            if isinstance(outcome, httpx.Response):
                logger.debug(
                    "licendi %s %s -> %s attempt=%d elapsed=%.3fs",
                    method,
                    path,
                    outcome.status_code,
                    attempt + 1,
                    elapsed,
                )
                return outcome
            retryable = self._is_retryable(
                outcome, idempotent=idempotent, retry_in_progress=retry_in_progress
            )
            outcome.earlier_attempt_uncertain = uncertain
            if not retryable or attempt >= self.max_retries:
                logger.info(
                    "licendi %s %s failed: %s status=%s attempt=%d elapsed=%.3fs",
                    method,
                    path,
                    type(outcome).__name__,
                    outcome.status,
                    attempt + 1,
                    elapsed,
                )
                raise outcome
            delay = self._delay(attempt, outcome)
            logger.info(
                "licendi %s %s retrying after %s: status=%s attempt=%d elapsed=%.3fs delay=%.3fs",
                method,
                path,
                type(outcome).__name__,
                outcome.status,
                attempt + 1,
                elapsed,
                delay,
            )
            self._sleep(delay)
            attempt += 1
            uncertain = (
                uncertain
                or isinstance(outcome, ServerError)
                or (isinstance(outcome, TransportError) and outcome.request_sent)
            )

    def _limited_attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response | LicendiError:
        """`_attempt` inside one of the limiter's slots, telling it how the supplier coped."""
        if self.limiter is None:
            return self._attempt(method, path, params, content, headers)
        with self.limiter.slot() as done:
            started = time.monotonic()
            outcome = self._attempt(method, path, params, content, headers)
            elapsed = time.monotonic() - started
            if isinstance(outcome, httpx.Response):
                done(Outcome(elapsed))
            else:
                congested = isinstance(outcome, RateLimited | ServerError | TransportError)
                retry_after = (
                    outcome.retry_after if isinstance(outcome, RateLimited | ServerError) else None
                )
                done(Outcome(elapsed, congested=congested, retry_after=retry_after))
            return outcome

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        content: bytes | None,
        headers: Mapping[str, str],
    ) -> httpx.Response | LicendiError:
        """One HTTP exchange: the successful response, or the typed error it amounts to."""
        request_headers = self._headers
        if headers:
            request_headers = request_headers.copy()
            request_headers.update(headers)
        request = httpx.Request(
            method,
            self._base + path,
            params=params,
            content=content,
            headers=request_headers,
            extensions=self._timeout,
        )
        try:
            response = self._send(request)
            response.request = request
            try:
                response.read()
            finally:
                response.close()
        except httpx.TransportError as exc:
            timeout = isinstance(exc, httpx.TimeoutException)
            return TransportError(
                f"{'timed out' if timeout else 'connection failed'} ({type(exc).__name__})",
                timeout=timeout,
                retryable=isinstance(exc, _RETRYABLE_TRANSPORT),
                request_sent=not isinstance(exc, _NOT_SENT),
                method=method,
                path=path,
            )
        if response.status_code < 300:
            return response
        if response.status_code < 400:
            # Redirects are not followed: the API key must not travel to another host.
            return LicendiError(
                "unexpected redirect",
                status=response.status_code,
                method=method,
                path=path,
            )
        code, message = parsing.parse_error_body(response.content)
        return error_for_status(
            response.status_code,
            code=code,
            message=message,
            method=method,
            path=path,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    @staticmethod
    def _is_retryable(error: LicendiError, *, idempotent: bool, retry_in_progress: bool) -> bool:
        if isinstance(error, TransportError):
            # A non-idempotent call is repeated only if the first never reached upstream.
            return error.retryable and (idempotent or not error.request_sent)
        if isinstance(error, RequestInProgress):
            return retry_in_progress
        if isinstance(error, RateLimited):
            return True  # refused before processing
        return idempotent and isinstance(error, ServerError)

    def _delay(self, attempt: int, error: LicendiError) -> float:
        retry_after = error.retry_after if isinstance(error, RateLimited | ServerError) else None
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        return backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_max, rng=self._rng)


class _Noticing(Observations):
    """Passes notes on to `target` (if any), counting them."""

    def __init__(self, target: Observations | None) -> None:
        super().__init__()
        self.target = target
        self.count = 0

    def add(self, *, endpoint: str, kind: Any, field: str, detail: str, example: Any) -> None:
        self.count += 1
        if self.target is not None:
            self.target.add(
                endpoint=endpoint, kind=kind, field=field, detail=detail, example=example
            )


class _PageMemo:
    """Catalog pages read before, by the SHA-256 of their raw answer and the page asked.

    A catalog sync with no upstream change receives the very bytes it received last
    time; reading them again (JSON decode, 500 records each) was most of the client's
    CPU in such a sync. The same bytes asked as the same page read as the same `Page`
    (reading is deterministic), so a page seen before is answered from here: there is
    nothing to invalidate, and a page that differs by one byte is read afresh. Only
    pages read without a single note or rejected record are kept, so drift and
    quarantine are counted on every read, as before. Process-wide and bounded (least
    recently used first out).
    """

    def __init__(self, max_pages: int) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[tuple[bytes, int, int], Page[Product]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[bytes, int, int]) -> Page[Product] | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[bytes, int, int], page: Page[Product]) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


# Enough for a catalog of 50,000 products at the largest page size (about 35 MB).
_READ_PAGES = _PageMemo(max_pages=100)


def _first_sku(page: Page[Product]) -> str | None:
    """The sku of a page's first readable record (None: nothing readable on it)."""
    return page.items[0].sku if page.items else None


def _load_yaml(raw: bytes, *, method: str, path: str) -> Any:
    try:
        import yaml  # imported late: only needed when upstream serves YAML
    except ImportError as exc:  # pragma: no cover - PyYAML is a declared dependency
        raise ContractError(
            "OpenAPI document is YAML and PyYAML is not installed", method=method, path=path
        ) from exc
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ContractError(
            f"OpenAPI document is not valid YAML: {exc}", method=method, path=path
        ) from exc
