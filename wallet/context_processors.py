"""Wallet state for the low-balance banner shown across the back-office."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .selectors import wallet_banner_state


def wallet_status(request: HttpRequest) -> dict[str, Any]:
    """At most one small query per page, and none for anonymous visitors (login page)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Templates rendered inside the page (tables, partials) run context processors again.
    if not hasattr(request, "_wallet_banner_state"):
        request._wallet_banner_state = wallet_banner_state()  # type: ignore[attr-defined]
    state = request._wallet_banner_state  # type: ignore[attr-defined]
    if state is None:
        return {"wallet_known": False, "wallet_low_balance": False, "wallet_open_gaps": 0}
    threshold = settings.LOW_BALANCE_THRESHOLD
    return {
        # Read by other apps' pages too (the order builder shows the balance last seen).
        "wallet_known": True,
        "wallet_seen_at": state["synced_at"] or state["recorded_at"],
        "wallet_low_balance": state["balance"] < threshold,
        "wallet_balance": state["balance"],
        "wallet_currency": state["currency"],
        "wallet_threshold": threshold,
        "wallet_open_gaps": state["open_gaps"] or 0,
    }
