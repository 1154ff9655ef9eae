"""The HTTP face of the sandbox: the contract's /api/* routes and /_sandbox/ control.

Plain werkzeug. Every answer is JSON; every refusal is the contract's
``{"error": {"code", "message"}}``; an unexpected exception is logged and answered
500 ``internal_error`` without a traceback.

Paging limits are the contract's: ``pageSize`` above 500, ``limit`` above 200 or a
``page`` beyond 999,999,999 is refused with 400 ``invalid_request``, as the spec
forbids them (a clamped answer would let a client believe it got what it asked for).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import openapi
from .catalog import STOCK_STATES
from .errors import ApiError
from .faults import KINDS, WHEN, ConnectionDropped, Fault, abort_connection
from .money import parse_money

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .core import Sandbox

logger = logging.getLogger("sandbox.app")

PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 100, 500
ORDERS_LIMIT_DEFAULT, ORDERS_LIMIT_MAX = 50, 200
PAGE_MAX = 999_999_999
MAX_BODY = 1_000_000
_POSITIVE_INT = re.compile(r"[0-9]{1,9}")
_STATUS_CODES = {
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}

_ROUTES = [
    # the contract
    Rule("/api/products", endpoint="products", methods=["GET"]),
    Rule("/api/products/<sku>", endpoint="product", methods=["GET"]),
    Rule("/api/balance", endpoint="balance", methods=["GET"]),
    Rule("/api/orders", endpoint="orders", methods=["GET"]),
    Rule("/api/orders", endpoint="order_create", methods=["POST"]),
    Rule("/api/orders/<order_id>", endpoint="order", methods=["GET"]),
    Rule("/api/orders/<order_id>/keys", endpoint="order_keys", methods=["GET"]),
    Rule("/api/webhooks", endpoint="webhooks", methods=["GET"]),
    Rule("/api/webhooks", endpoint="webhook_create", methods=["POST"]),
    Rule("/api/webhooks/<webhook_id>", endpoint="webhook_delete", methods=["DELETE"]),
    Rule("/api/openapi", endpoint="openapi", methods=["GET"]),
    # control
    Rule("/_sandbox/topup", endpoint="c_topup", methods=["POST"]),
    Rule("/_sandbox/adjust", endpoint="c_adjust", methods=["POST"]),
    Rule("/_sandbox/refund", endpoint="c_refund", methods=["POST"]),
    Rule("/_sandbox/prices", endpoint="c_price", methods=["POST"]),
    Rule("/_sandbox/prices/shuffle", endpoint="c_shuffle", methods=["POST"]),
    Rule("/_sandbox/stock", endpoint="c_stock", methods=["POST"]),
    Rule("/_sandbox/products/<sku>/remove", endpoint="c_remove", methods=["POST"]),
    Rule("/_sandbox/orders", endpoint="c_order", methods=["POST"]),
    Rule("/_sandbox/release", endpoint="c_release", methods=["POST"]),
    Rule("/_sandbox/faults", endpoint="c_faults", methods=["GET"]),
    Rule("/_sandbox/faults", endpoint="c_fault_add", methods=["POST"]),
    Rule("/_sandbox/faults", endpoint="c_faults_clear", methods=["DELETE"]),
    Rule("/_sandbox/state", endpoint="c_state", methods=["GET"]),
    Rule("/_sandbox/requests", endpoint="c_requests", methods=["GET"]),
    Rule("/_sandbox/deliver", endpoint="c_deliver", methods=["POST"]),
    Rule("/_sandbox/deliveries", endpoint="c_deliveries", methods=["GET"]),
    Rule("/_sandbox/deliveries/duplicate", endpoint="c_duplicate", methods=["POST"]),
    Rule("/", endpoint="index", methods=["GET"]),
]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data, separators=(",", ":")),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


class SandboxApp:
    """The WSGI callable. One instance per :class:`~sandbox.Sandbox`."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        # Rules bind to one Map; every Sandbox gets fresh copies.
        self.url_map = Map([rule.empty() for rule in _ROUTES], strict_slashes=False)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        is_api = request.path == "/api" or request.path.startswith("/api/")
        if is_api:
            self.sb._enter_flight()
        try:
            response = self.handle(request, environ)
        finally:
            if is_api:
                self.sb._leave_flight()
        return response(environ, start_response)

    # --- dispatch -------------------------------------------------------------------

    def handle(self, request: Request, environ: dict[str, Any]) -> Response:
        path, method = request.path, request.method
        is_api = path == "/api" or path.startswith("/api/")
        is_control = path.startswith("/_sandbox/")
        if not is_control:
            query = request.query_string.decode("latin-1")
            self.sb._record_request(method, f"{path}?{query}" if query else path)
        fault: Fault | None = None
        if is_api:
            self.sb.faults.pace()
            query = request.query_string.decode("latin-1")
            fault = self.sb.faults.take(method, path, query=query) or self.sb.faults.take_random()
            if fault is not None:
                early = self._apply_fault_before(fault, environ)
                if early is not None:
                    return early
        try:
            if (is_api or is_control) and not self._authorised(request):
                raise ApiError(401, "invalid_api_key", "Missing or invalid X-Api-Key header.")
            adapter = self.url_map.bind_to_environ(environ)
            endpoint, args = adapter.match()
            handler: Callable[..., Response] = getattr(self, f"on_{endpoint}")
            if endpoint != "order_create" and is_api:
                # Orders apply "during" latency after claiming the key (see state).
                self.sb.faults.hold(method, path)
            response = handler(request, **args)
        except ApiError as error:
            response = error_response(error)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            response = error_response(
                ApiError(
                    405,
                    "method_not_allowed",
                    f"{method} is not allowed on {path}; allowed: {allowed}.",
                    headers={"Allow": allowed},
                )
            )
        except NotFound:
            response = error_response(ApiError(404, "not_found", f"No route for {path}."))
        except HTTPException as exc:
            response = error_response(
                ApiError(exc.code or 400, "invalid_request", exc.description or exc.name)
            )
        except ConnectionDropped:
            raise
        except Exception:
            logger.exception("unhandled error on %s %s", method, path)
            response = error_response(
                ApiError(500, "internal_error", "The sandbox failed to handle the request.")
            )
        if fault is not None and fault.kind == "timeout_after":
            abort_connection(environ, "timeout")
        return response

    def _apply_fault_before(self, fault: Fault, environ: dict[str, Any]) -> Response | None:
        if fault.kind == "latency":
            time.sleep(fault.seconds)
            return None
        if fault.kind == "status":
            code = _STATUS_CODES.get(fault.status, "supplier_error")
            return error_response(
                ApiError(fault.status, code, f"Injected supplier fault ({fault.status}).")
            )
        if fault.kind == "rate_limit":
            return error_response(
                ApiError(
                    429,
                    "rate_limited",
                    f"Too many requests; retry after {fault.retry_after} s.",
                    headers={"Retry-After": str(fault.retry_after)},
                )
            )
        if fault.kind in ("drop", "timeout"):
            abort_connection(environ, fault.kind, fault.seconds)
        return None  # timeout_after acts once the request has been processed

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("X-Api-Key", "")
        return hmac.compare_digest(given.encode(), self.sb.api_key.encode())

    # --- input helpers --------------------------------------------------------------

    @staticmethod
    def _json_body(request: Request) -> dict[str, Any]:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise ApiError(413, "payload_too_large", f"Bodies are limited to {MAX_BODY} bytes.")
        raw = request.get_data(cache=True)
        if not raw.strip():
            raise bad_request("A JSON object body is required.")
        try:
            # Decimal for numbers: money never passes through float.
            body = json.loads(raw, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"Body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise bad_request("The body must be a JSON object.")
        return body

    @staticmethod
    def _positive_int(request: Request, name: str, default: int, maximum: int) -> int:
        raw = request.args.get(name)
        if raw is None:
            return default
        if not _POSITIVE_INT.fullmatch(raw) or not 1 <= int(raw) <= maximum:
            raise bad_request(f"{name} must be an integer from 1 to {maximum}, got {raw!r}.")
        return int(raw)

    @staticmethod
    def _items(body: dict[str, Any]) -> tuple[list[tuple[str, Any]], str | None]:
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise bad_request('"items" must be a non-empty list of {"sku", "qty"} objects.')
        parsed: list[tuple[str, Any]] = []
        for item in items:
            if not isinstance(item, dict):
                raise bad_request('Each item must be an object {"sku", "qty"}.')
            sku, qty = item.get("sku"), item.get("qty")
            if not isinstance(sku, str) or not sku:
                raise bad_request("Each item needs a non-empty string sku.")
            parsed.append((sku, qty))  # qty type is checked by state.validate_items (422)
        external_id = body.get("externalId")
        if external_id is not None and (not isinstance(external_id, str) or len(external_id) > 100):
            raise bad_request("externalId must be a string of at most 100 characters, or null.")
        return parsed, external_id

    @staticmethod
    def _string(body: dict[str, Any], name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise bad_request(f'"{name}" must be a non-empty string.')
        return value

    # --- the contract ---------------------------------------------------------------

    def on_index(self, request: Request) -> Response:
        return json_response({"service": "Licendi Reseller API sandbox", "openapi": "/api/openapi"})

    def on_products(self, request: Request) -> Response:
        page = self._positive_int(request, "page", 1, PAGE_MAX)
        page_size = self._positive_int(request, "pageSize", PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
        category = request.args.get("category") or None
        with self.sb.lock:
            products, total = self.sb.catalog.page(
                page=page, page_size=page_size, category=category
            )
            items = [product.to_list_item() for product in products]
        if self.sb.drift is not None:
            items = [self.sb.drift.product_item(item) for item in items]
        return json_response({"items": items, "page": page, "pageSize": page_size, "total": total})

    def on_product(self, request: Request, sku: str) -> Response:
        with self.sb.lock:
            product = self.sb.catalog.get(sku)
            if product is None:
                raise ApiError(404, "not_found", f"No product with sku {sku!r}.")
            detail = product.to_detail()
        if self.sb.drift is not None:
            detail = self.sb.drift.product_detail(detail)
        return json_response(detail)

    def on_balance(self, request: Request) -> Response:
        body = self.sb.state.balance_view()
        if self.sb.drift is not None:
            body = self.sb.drift.balance(body)
        return json_response(body)

    def on_orders(self, request: Request) -> Response:
        page = self._positive_int(request, "page", 1, PAGE_MAX)
        limit = self._positive_int(request, "limit", ORDERS_LIMIT_DEFAULT, ORDERS_LIMIT_MAX)
        with self.sb.lock:
            orders, total = self.sb.state.list_orders(page=page, limit=limit)
            if self.sb.drift is not None:
                # The drifting supplier lists orders with their keys, as objects.
                items = [self.sb.drift.order(order.to_api()) for order in orders]
            else:
                items = [order.to_api(with_keys=False) for order in orders]
        return json_response({"items": items, "page": page, "pageSize": limit, "total": total})

    def on_order_create(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise ApiError(
                400, "idempotency_key_required", "POST /api/orders needs an Idempotency-Key header."
            )
        if len(key) > 255:
            raise bad_request("Idempotency-Key is limited to 255 characters.")
        items, external_id = self._items(self._json_body(request))
        order, replayed = self.sb.state.place_order(
            items=items,
            external_id=external_id,
            idempotency_key=key,
            hold=lambda: self.sb.faults.hold(request.method, request.path),
        )
        with self.sb.lock:
            body = order.to_api()
        if self.sb.drift is not None:
            body = self.sb.drift.order(body)
        if replayed:
            return json_response(body, 200, {"Idempotent-Replayed": "true"})
        return json_response(body, 201)

    def _order(self, order_id: str) -> Any:
        order = self.sb.state.orders.get(order_id)
        if order is None:
            raise ApiError(404, "not_found", f"No order {order_id!r}.")
        return order

    def on_order(self, request: Request, order_id: str) -> Response:
        with self.sb.lock:
            body = self._order(order_id).to_api()
        if self.sb.drift is not None:
            body = self.sb.drift.order(body)
        return json_response(body)

    def on_order_keys(self, request: Request, order_id: str) -> Response:
        with self.sb.lock:
            order = self._order(order_id)
            status = order.status
            if status == "delivered":
                return json_response(order.flat_keys())
            if status == "pending":
                return json_response({"status": "pending"}, 202)
            return json_response({"status": status, "keys": order.flat_keys()}, 202)

    def on_webhooks(self, request: Request) -> Response:
        with self.sb.lock:
            return json_response([wh.to_api() for wh in self.sb.state.webhooks.values()])

    def on_webhook_create(self, request: Request) -> Response:
        body = self._json_body(request)
        endpoint = self.sb.state.add_webhook(body.get("url"), body.get("events"))
        return json_response(endpoint.to_api(with_secret=True), 201)

    def on_webhook_delete(self, request: Request, webhook_id: str) -> Response:
        self.sb.state.delete_webhook(webhook_id)
        return Response(status=204)

    def on_openapi(self, request: Request) -> Response:
        text = openapi.load_text()
        if text is None:
            raise ApiError(
                503,
                "openapi_unavailable",
                "The OpenAPI document (licendi/openapi.yaml) is missing.",
            )
        wants_json = request.accept_mimetypes.best_match(
            ["application/yaml", "application/json"], default="application/yaml"
        )
        if wants_json == "application/json" and request.accept_mimetypes["application/json"]:
            try:
                import yaml
            except ImportError:
                yaml = None  # type: ignore[assignment]
            if yaml is not None:
                try:
                    document = yaml.safe_load(text)
                except yaml.YAMLError as exc:
                    raise ApiError(
                        500, "openapi_invalid", f"openapi.yaml does not parse: {exc}"
                    ) from None
                return Response(
                    json.dumps(document, default=str, indent=2), mimetype="application/json"
                )
        return Response(text, mimetype="application/yaml")

    # --- control ------------------------------------------------------------------

    def on_c_topup(self, request: Request) -> Response:
        body = self._json_body(request)
        try:
            amount = parse_money(body.get("amount"))
        except ValueError as exc:
            raise ApiError(422, "invalid_amount", f"amount: {exc}") from None
        return json_response(self.sb.state.topup(amount).to_api(), 201)

    def on_c_adjust(self, request: Request) -> Response:
        body = self._json_body(request)
        try:
            amount = parse_money(body.get("amount"))
        except ValueError as exc:
            raise ApiError(422, "invalid_amount", f"amount: {exc}") from None
        if not amount:
            raise ApiError(422, "invalid_amount", "An adjustment must not be zero.")
        description = body.get("description") or "Manual adjustment"
        if not isinstance(description, str):
            raise bad_request("description must be a string.")
        return json_response(self.sb.adjust(amount, description), 201)

    def on_c_refund(self, request: Request) -> Response:
        body = self._json_body(request)
        order_id = self._string(body, "orderId")
        amount = None
        if body.get("amount") is not None:
            try:
                amount = parse_money(body["amount"])
            except ValueError as exc:
                raise ApiError(422, "invalid_amount", f"amount: {exc}") from None
        try:
            return json_response(self.sb.refund(order_id, amount), 201)
        except KeyError:
            raise ApiError(404, "not_found", f"No order {order_id!r}.") from None
        except ValueError as exc:
            raise ApiError(422, "invalid_amount", str(exc)) from None

    def on_c_price(self, request: Request) -> Response:
        body = self._json_body(request)
        sku = self._string(body, "sku")
        values: dict[str, Decimal] = {}
        for field, arg in (("netPrice", "net_price"), ("price", "price")):
            if body.get(field) is not None:
                try:
                    values[arg] = parse_money(body[field])
                except ValueError as exc:
                    raise ApiError(422, "invalid_price", f"{field}: {exc}") from None
                if values[arg] <= 0:
                    raise ApiError(422, "invalid_price", f"{field} must be positive.")
        if not values:
            raise bad_request('Give "netPrice", "price" or both.')
        try:
            product = self.sb.set_price(sku, **values)
        except KeyError:
            raise ApiError(404, "not_found", f"No product or combination {sku!r}.") from None
        return json_response(product)

    def on_c_shuffle(self, request: Request) -> Response:
        body = self._json_body(request)
        fraction, seed = body.get("fraction", 0.01), body.get("seed", 2)
        if isinstance(fraction, bool) or not isinstance(fraction, int | Decimal):
            raise bad_request("fraction must be a number between 0 and 1.")
        if not 0 < fraction <= 1:
            raise bad_request("fraction must be a number between 0 and 1.")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise bad_request("seed must be an integer.")
        changed = self.sb.change_prices(fraction=float(fraction), seed=seed)
        return json_response({"changed": changed, "count": len(changed)})

    def on_c_stock(self, request: Request) -> Response:
        body = self._json_body(request)
        sku, state = self._string(body, "sku"), body.get("state")
        if state not in STOCK_STATES:
            raise ApiError(
                422, "invalid_stock_state", f"state must be one of {', '.join(STOCK_STATES)}."
            )
        try:
            product = self.sb.set_stock(sku, state)
        except KeyError:
            raise ApiError(404, "not_found", f"No product or combination {sku!r}.") from None
        return json_response(product)

    def on_c_remove(self, request: Request, sku: str) -> Response:
        try:
            self.sb.remove_product(sku)
        except KeyError:
            raise ApiError(404, "not_found", f"No product {sku!r}.") from None
        return json_response({"sku": sku, "removed": True})

    def on_c_order(self, request: Request) -> Response:
        items, external_id = self._items(self._json_body(request))
        return json_response(self.sb.place_order(items=items, external_id=external_id), 201)

    def on_c_release(self, request: Request) -> Response:
        body = self._json_body(request) if request.get_data(cache=True).strip() else {}
        order_id = body.get("orderId")
        if order_id is not None and not isinstance(order_id, str):
            raise bad_request("orderId must be a string.")
        try:
            released = self.sb.release_pending(order_id)
        except KeyError:
            raise ApiError(404, "not_found", f"No order {order_id!r}.") from None
        return json_response({"released": released})

    def on_c_faults(self, request: Request) -> Response:
        return json_response([fault.to_api() for fault in self.sb.faults.active()])

    def on_c_fault_add(self, request: Request) -> Response:
        body = self._json_body(request)
        kind, path = body.get("kind"), body.get("path")
        if kind not in KINDS:
            raise ApiError(422, "invalid_fault", f"kind must be one of {', '.join(KINDS)}.")
        if not isinstance(path, str):
            raise ApiError(422, "invalid_fault", "path must be a string such as /api/orders.")
        options: dict[str, Any] = {}
        for field, arg, types in (
            ("method", "method", (str,)),
            ("status", "status", (int,)),
            ("retryAfter", "retry_after", (int,)),
            ("seconds", "seconds", (int, Decimal)),
            ("when", "when", (str,)),
        ):
            value = body.get(field)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, types):
                raise ApiError(422, "invalid_fault", f"{field} has the wrong type.")
            options[arg] = float(value) if arg == "seconds" else value
        if "times" in body:
            times = body["times"]
            if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
                raise ApiError(422, "invalid_fault", "times must be a positive integer or null.")
            options["times"] = times
        if options.get("when", "before") not in WHEN:
            raise ApiError(422, "invalid_fault", f"when must be one of {', '.join(WHEN)}.")
        try:
            fault = self.sb.faults.inject(path=path, kind=kind, **options)
        except ValueError as exc:
            raise ApiError(422, "invalid_fault", str(exc)) from None
        return json_response(fault.to_api(), 201)

    def on_c_faults_clear(self, request: Request) -> Response:
        self.sb.faults.clear()
        return Response(status=204)

    def on_c_state(self, request: Request) -> Response:
        return json_response(self.sb.summary())

    def on_c_requests(self, request: Request) -> Response:
        clear = request.args.get("clear") in ("1", "true", "yes")
        served = [{"method": m, "path": p} for m, p in self.sb.requests_served(clear=clear)]
        return json_response({"count": len(served), "requests": served})

    def on_c_deliver(self, request: Request) -> Response:
        return json_response({"delivered": self.sb.deliver_webhooks()})

    def on_c_deliveries(self, request: Request) -> Response:
        return json_response(
            {"pending": self.sb.delivery.pending(), "attempts": self.sb.webhook_deliveries}
        )

    def on_c_duplicate(self, request: Request) -> Response:
        count = self._json_body(request).get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise bad_request("count must be a non-negative integer.")
        self.sb.duplicate_next_deliveries = count
        return json_response({"duplicateNextDeliveries": count})
