"""Is the configured upstream still the Licendi this back-office was built for?

Two independent answers, so the check is useful even against a supplier that serves no
`/api/openapi`:

1. the upstream's OpenAPI document (when it serves one) against what the client relies
   on (`licendi.contract_drift`);
2. the shapes actually served: a few harmless reads (a page of products, one product,
   the balance, the order list) through a client that notes every coercion, unknown
   field and missing field, and every record it could not read; plus the shapes earlier
   runs noticed that nobody has looked at yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from licendi import LicendiClient, LicendiError, Rejected, ShapeNote, contract_drift

from .upstream import licendi_client
from .upstream_selectors import drift_observations

PROBE_PAGE_SIZE = 50
PROBE_ORDER_LIMIT = 20
PROBES = 3  # products, balance, orders (a product detail needs the product list)


@dataclass
class ContractReport:
    spec_error: str | None = None  # why the upstream spec could not be compared
    spec_drift: list[str] = field(default_factory=list)
    probe_errors: list[str] = field(default_factory=list)  # "GET /api/balance: ..."
    notes: list[ShapeNote] = field(default_factory=list)  # seen by this check's reads
    rejected: list[tuple[str, Rejected]] = field(default_factory=list)  # (endpoint, record)
    earlier_new_shapes: list[str] = field(default_factory=list)

    @property
    def unreachable(self) -> bool:
        """Nothing at all could be read: a configuration problem, not drift."""
        return self.spec_error is not None and len(self.probe_errors) >= PROBES

    @property
    def problems(self) -> int:
        """What needs a person: the spec lacks something, a read failed, a record could
        not be read, or a shape differs from the contract."""
        return (
            len(self.spec_drift)
            + len(self.probe_errors)
            + len(self.rejected)
            + len(self.notes)
            + len(self.earlier_new_shapes)
        )


def contract_check(*, probe: bool = True) -> ContractReport:
    report = ContractReport()
    with licendi_client() as client:
        try:
            report.spec_drift = contract_drift(client.get_openapi())
        except LicendiError as exc:
            report.spec_error = str(exc)
        if probe:
            _probe(client, report)
            if client.observations is not None:
                report.notes = client.observations.notes()
    report.earlier_new_shapes = [
        f"{o.endpoint}: {o.get_kind_display().lower()} {o.field}"
        + (f" ({o.detail})" if o.detail else "")
        + f", seen {o.count} times since {o.first_seen_at:%Y-%m-%d %H:%M}"
        for o in drift_observations().filter(acknowledged_at__isnull=True)
    ]
    return report


def _probe(client: LicendiClient, report: ContractReport) -> None:
    def attempt(endpoint: str, read: Any) -> Any:
        try:
            return read()
        except LicendiError as exc:
            report.probe_errors.append(f"{endpoint}: {exc}")
            return None

    page = attempt(
        "GET /api/products",
        lambda: client.list_products(page=1, page_size=PROBE_PAGE_SIZE),
    )
    if page is not None:
        report.rejected.extend(("GET /api/products", r) for r in page.rejected)
        if page.items:
            # A product with variants shows the most of the detail shape.
            sample = next((p for p in page.items if p.has_variants), page.items[0])
            attempt("GET /api/products/{sku}", lambda: client.get_product(sample.sku))
    attempt("GET /api/balance", client.get_balance)
    attempt("GET /api/orders", lambda: client.list_orders(limit=PROBE_ORDER_LIMIT))
