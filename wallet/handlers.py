"""Signal receivers: they only ask for work, the services decide what it means."""

from typing import Any

from backoffice.list_cache import scope_changed

from . import services
from .selectors import LEDGER_SCOPE


def purchase_order_settled(sender: Any, purchase_order: Any, **kwargs: Any) -> None:
    """An order was placed or refused upstream: the supplier wallet may have moved."""
    services.wallet_sync_request(reason=f"order {purchase_order} settled")


def ledger_entry_written(sender: Any, **kwargs: Any) -> None:
    """An entry was saved or deleted one at a time: what the ledger page keeps is stale."""
    scope_changed(LEDGER_SCOPE)
