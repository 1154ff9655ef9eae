"""The catalog's own receivers: what the catalog keeps for its pages follows its writes."""

from __future__ import annotations

from typing import Any

from backoffice.list_cache import scope_changed

from .selectors import CATALOG_SCOPE


def on_combinations_changed(sender: Any, **kwargs: Any) -> None:
    # Sent inside the writing transaction: the kept counts and choices go on commit.
    scope_changed(CATALOG_SCOPE)
