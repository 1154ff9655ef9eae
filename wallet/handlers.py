"""Signal receivers: they only ask for work, the services decide what it means."""

from typing import Any

from . import services


def purchase_order_settled(sender: Any, purchase_order: Any, **kwargs: Any) -> None:
    """An order was placed or refused upstream: the supplier wallet may have moved."""
    services.wallet_sync_request(reason=f"order {purchase_order} settled")
