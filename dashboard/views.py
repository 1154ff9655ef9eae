"""The home page: what needs me, the wallet, the syncs, and 30 days of spend and balance."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from backoffice import permissions as p
from backoffice.auth import permission_required
from backoffice.http import AuthenticatedHttpRequest
from backoffice.upstream_selectors import new_shapes

from . import selectors
from .todos import todos_for

# How often the page refreshes its live part (seconds); dashboard.js pauses while the
# tab is hidden.
REFRESH_SECONDS = 20


def _live_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "todos": todos_for(user),
        "balance": selectors.balance_card(),
        "syncs": [selectors.catalog_sync_card(), selectors.wallet_sync_card()],
        "refresh_seconds": REFRESH_SECONDS,
    }


@permission_required(p.VIEW)
@require_safe
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _live_context(request)
    chart = selectors.wallet_chart_series()
    context["chart"] = chart
    # Before the mirror's first ledger entry there is nothing to draw.
    context["chart_has_data"] = any(value is not None for value in chart["balance"])
    context["upstream_new_shapes"] = new_shapes()
    return render(request, "dashboard/home.html", context)


@permission_required(p.VIEW)
@require_safe
def live(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The part of the home page that htmx polls: to-dos, balance, syncs."""
    return render(request, "dashboard/_live.html", _live_context(request))
