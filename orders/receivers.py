"""The orders app's own receivers: what it keeps for its pages follows its writes."""

from __future__ import annotations

from typing import Any

from backoffice.list_cache import scope_changed

from .selectors import CUSTOMERS_SCOPE


def on_customer_written(sender: Any, **kwargs: Any) -> None:
    scope_changed(CUSTOMERS_SCOPE)
