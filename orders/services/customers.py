"""Creating and editing customers, the people keys are bought for."""

from __future__ import annotations

from typing import Any

from ..models import Customer


def customer_create(
    *, name: str, company: str = "", email: str = "", vat_id: str = "", notes: str = ""
) -> Customer:
    return Customer.objects.create(
        name=name, company=company, email=email, vat_id=vat_id, notes=notes
    )


def customer_update(*, customer: Customer, **fields: Any) -> Customer:
    allowed = {"name", "company", "email", "vat_id", "notes"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Unknown customer fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(customer, name, value)
    customer.save(update_fields=[*fields, "updated_at"])
    return customer
