"""What this client relies on from the upstream API, and a drift check against a spec.

`RELIED_ON` lists every operation, parameter, header and response field that
`client.py` / `parsing.py` read. `contract_drift(spec)` walks an OpenAPI 3.x
document (resolving local `$ref`s, `allOf`, `oneOf`, `anyOf`) and reports each
of those the document lacks, so reading the real upstream spec turns into a
to-do list for `parsing.py` instead of a surprise in production.

Field paths: `a.b` is a nested property, `a[]` steps into the items of array
`a`, and a leading `*` is "each element of a list", whether the list is a bare
array or a page object's `items` (the tolerant reader accepts both).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

WEBHOOK = "WEBHOOK"  # pseudo-method: `path` is then an event type under `webhooks:`


@dataclass(frozen=True, slots=True)
class Requirement:
    method: str
    path: str
    # Response checked, alternatives separated by "|" (the client accepts either);
    # None for request-only checks.
    status: str | None = None
    fields: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    request_headers: tuple[str, ...] = ()
    response_headers: tuple[str, ...] = ()


_PRODUCT = (
    "sku",
    "name",
    "category",
    "brand",
    "platform",
    "price",
    "netPrice",
    "currency",
    "hasVariants",
    "inStock",
    "updatedAt",
)
_ORDER = ("id", "externalId", "status", "createdAt", "total", "currency", "invoice.number")
_ORDER_ITEM = ("sku", "name", "qty", "unitPrice", "keys")
_DELIVERED_KEY = ("sku", "name", "key")
_ENDPOINT = ("id", "url", "events", "createdAt")


def _under(prefix: str, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}{name}" for name in names)


RELIED_ON: tuple[Requirement, ...] = (
    Requirement(
        "GET",
        "/api/products",
        "200",
        _under("*.", _PRODUCT),
        query_params=("page", "pageSize", "category"),
    ),
    Requirement("GET", "/api/products", "429", response_headers=("Retry-After",)),
    Requirement(
        "GET",
        "/api/products/{sku}",
        "200",
        (
            *_PRODUCT,
            "description",
            "axes[].name",
            "axes[].options",
            *_under("combinations[].", ("orderSku", "options", "price", "netPrice", "inStock")),
        ),
    ),
    Requirement(
        "GET",
        "/api/balance",
        "200",
        (
            "balance",
            "currency",
            "tier",
            "discount",
            *_under(
                "ledger[].",
                ("id", "createdAt", "type", "amount", "balanceAfter", "reference", "description"),
            ),
        ),
    ),
    Requirement(
        "POST",
        "/api/orders",
        "201|200",
        (*_ORDER, *_under("items[].", _ORDER_ITEM)),
        request_headers=("Idempotency-Key",),
        response_headers=("Idempotent-Replayed",),
    ),
    Requirement("GET", "/api/orders", "200", _under("*.", _ORDER), query_params=("limit",)),
    Requirement("GET", "/api/orders/{id}", "200", (*_ORDER, *_under("items[].", _ORDER_ITEM))),
    Requirement("GET", "/api/orders/{id}/keys", "200", _under("*.", _DELIVERED_KEY)),
    Requirement(
        "GET", "/api/orders/{id}/keys", "202", ("status", *_under("keys[].", _DELIVERED_KEY))
    ),
    Requirement("GET", "/api/webhooks", "200", _under("*.", _ENDPOINT)),
    Requirement("POST", "/api/webhooks", "201|200", (*_ENDPOINT, "secret")),
    Requirement("DELETE", "/api/webhooks/{id}"),
    Requirement("GET", "/api/openapi", "200"),
    Requirement(
        WEBHOOK,
        "key.assigned",
        None,
        (
            "id",
            "type",
            "createdAt",
            *_under("data.", ("orderId", "externalId", "sku", "name", "key")),
        ),
        request_headers=("webhook-id", "webhook-timestamp", "webhook-signature"),
    ),
    Requirement(
        WEBHOOK,
        "order.delivered",
        None,
        (
            "id",
            "type",
            "createdAt",
            "data.orderId",
            "data.externalId",
            *_under("data.keys[].", _DELIVERED_KEY),
        ),
        request_headers=("webhook-id", "webhook-timestamp", "webhook-signature"),
    ),
)


def load_bundled_spec() -> dict[str, Any]:
    """This package's own `openapi.yaml` (also what the sandbox serves); a fresh copy."""
    return copy.deepcopy(_bundled_spec())


@functools.cache
def _bundled_spec() -> dict[str, Any]:
    import yaml  # imported late: the client itself does not need PyYAML

    # The C loader when libyaml is available: the pure-Python one is ~10x slower.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = resources.files("licendi").joinpath("openapi.yaml").read_text(encoding="utf-8")
    document = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader in both cases
    if not isinstance(document, dict):
        raise ValueError("licendi/openapi.yaml is not a mapping")
    return document


# ---------------------------------------------------------------- spec walking


class _Spec:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, node: Any, _depth: int = 0) -> Any:
        """Follow local `$ref`s (`#/a/b`); unresolvable ones become None."""
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            if _depth > 50:  # a reference cycle
                return None
            ref = node["$ref"]
            if not ref.startswith("#/"):
                return None
            target: Any = self.document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    return None
                target = target[part]
            node = target
            _depth += 1
        return node

    def variants(self, schema: Any, _depth: int = 0) -> Iterator[Mapping[str, Any]]:
        """The schema and every schema it composes (allOf/oneOf/anyOf), refs resolved.

        A field counts as present when any variant has it: for allOf that is
        exact, for oneOf/anyOf it matches a reader tolerant of every branch.
        """
        schema = self.resolve(schema)
        if not isinstance(schema, Mapping) or _depth > 20:
            return
        yield schema
        for keyword in ("allOf", "oneOf", "anyOf"):
            for sub in schema.get(keyword) or ():
                yield from self.variants(sub, _depth + 1)

    def _array_items(self, schema: Any) -> list[Any]:
        found = []
        for variant in self.variants(schema):
            if "items" in variant and (
                variant.get("type") == "array"
                or (isinstance(variant.get("type"), list) and "array" in variant["type"])
                or "properties" not in variant
            ):
                found.append(variant["items"])
        return found

    def _property(self, schema: Any, name: str) -> list[Any]:
        found = []
        for variant in self.variants(schema):
            properties = variant.get("properties")
            if isinstance(properties, Mapping) and name in properties:
                found.append(properties[name])
        return found

    def has_field(self, schema: Any, path: str) -> bool:
        current = [schema]
        for step in path.split("."):
            following: list[Any] = []
            for node in current:
                if step == "*":
                    following += self._array_items(node)
                    for items in self._property(node, "items"):
                        following += self._array_items(items)
                elif step.endswith("[]"):
                    for prop in self._property(node, step[:-2]):
                        following += self._array_items(prop)
                else:
                    following += self._property(node, step)
            if not following:
                return False
            current = following
        return True


_PARAM = re.compile(r"\{[^}/]*\}")


def _normalise(path: str) -> str:
    # Parameter names are the upstream's choice ({id} vs {orderId}); positions matter.
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def _find_path_item(spec: _Spec, path: str) -> Mapping[str, Any] | None:
    paths = spec.document.get("paths")
    if not isinstance(paths, Mapping):
        return None
    wanted = _normalise(path)
    for candidate, item in paths.items():
        if isinstance(candidate, str) and _normalise(candidate) == wanted:
            resolved = spec.resolve(item)
            return resolved if isinstance(resolved, Mapping) else None
    return None


def _find_response(
    spec: _Spec, operation: Mapping[str, Any], status: str
) -> Mapping[str, Any] | None:
    responses = operation.get("responses")
    if not isinstance(responses, Mapping):
        return None
    for key in (status, f"{status[0]}XX", f"{status[0]}xx"):
        for candidate, response in responses.items():
            if str(candidate) == key:
                resolved = spec.resolve(response)
                return resolved if isinstance(resolved, Mapping) else None
    return None


def _json_schema(spec: _Spec, holder: Mapping[str, Any] | None) -> Any:
    """The schema of the JSON content of a response or request body."""
    if holder is None:
        return None
    content = holder.get("content")
    if not isinstance(content, Mapping):
        return None
    for media_type, media in content.items():
        if "json" in str(media_type) and isinstance(media, Mapping):
            return media.get("schema")
    return None


def _parameter_names(
    spec: _Spec, path_item: Mapping[str, Any], operation: Mapping[str, Any], where: str
) -> set[str]:
    names = set()
    for source in (path_item, operation):
        for parameter in source.get("parameters") or ():
            parameter = spec.resolve(parameter)
            if isinstance(parameter, Mapping) and parameter.get("in") == where:
                names.add(str(parameter.get("name", "")).lower())
    return names


def _check(spec: _Spec, requirement: Requirement) -> Iterator[str]:
    label = f"{requirement.method} {requirement.path}"
    if requirement.method == WEBHOOK:
        label = f"webhook {requirement.path}"
        webhooks = spec.document.get("webhooks")
        path_item = (
            spec.resolve(webhooks.get(requirement.path)) if isinstance(webhooks, Mapping) else None
        )
        method = "post"
    else:
        path_item = _find_path_item(spec, requirement.path)
        method = requirement.method.lower()
    if not isinstance(path_item, Mapping) or not isinstance(path_item.get(method), Mapping):
        yield f"{label}: operation missing"
        return
    operation: Mapping[str, Any] = path_item[method]

    for kind, wanted in (
        ("query", requirement.query_params),
        ("header", requirement.request_headers),
    ):
        present = _parameter_names(spec, path_item, operation, kind)
        for name in wanted:
            if name.lower() not in present:
                yield f"{label}: {kind} parameter {name} missing"

    if requirement.method == WEBHOOK:
        body = spec.resolve(operation.get("requestBody"))
        schema = _json_schema(spec, body if isinstance(body, Mapping) else None)
        prefix = f"{label}:"
    elif requirement.status is not None:
        response = None
        for status in requirement.status.split("|"):
            response = _find_response(spec, operation, status)
            if response is not None:
                break
        prefix = f"{label} -> {requirement.status}:"
        if response is None:
            yield f"{prefix} response missing"
            return
        headers = response.get("headers")
        present = {str(h).lower() for h in headers} if isinstance(headers, Mapping) else set()
        for name in requirement.response_headers:
            if name.lower() not in present:
                yield f"{prefix} response header {name} missing"
        schema = _json_schema(spec, response)
    else:
        return

    if requirement.fields and schema is None:
        yield f"{prefix} JSON schema missing"
        return
    for field in requirement.fields:
        if not spec.has_field(schema, field):
            yield f"{prefix} field {field} missing"


def contract_drift(
    spec: Mapping[str, Any], requirements: tuple[Requirement, ...] = RELIED_ON
) -> list[str]:
    """Every operation, parameter, header and field we rely on that `spec` lacks.

    An empty list means the upstream document still describes everything the
    client reads. Extra upstream fields are not reported: the reader ignores them.
    """
    walker = _Spec(spec)
    problems: list[str] = []
    for requirement in requirements:
        problems.extend(_check(walker, requirement))
    return problems
