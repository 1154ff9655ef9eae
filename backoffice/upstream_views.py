"""The "Upstream problems" page: records skipped as unreadable, and shapes drifting."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import permissions as p
from . import upstream_selectors as selectors
from .auth import permission_required
from .lists import configure_table
from .upstream_problems import drift_acknowledge as acknowledge_service
from .upstream_tables import DriftObservationTable, QuarantinedRecordTable


@permission_required(p.VIEW)
def upstream_problems(request: HttpRequest) -> HttpResponse:
    run_ref = request.GET.get("run", "").strip()[:60]
    drift = DriftObservationTable(selectors.drift_observations(), prefix="drift-")
    configure_table(request, drift)
    quarantine = QuarantinedRecordTable(
        selectors.quarantined_records(run_ref=run_ref), prefix="quarantine-"
    )
    configure_table(request, quarantine)
    return render(
        request,
        "backoffice/upstream_problems.html",
        {
            "drift_table": drift,
            "quarantine_table": quarantine,
            "run_ref": run_ref,
            "new_shapes": selectors.new_shapes(),
            "can_acknowledge": request.user.has_perm(p.RUN_SYNCS),
        },
    )


@permission_required(p.RUN_SYNCS)
@require_POST
def drift_acknowledge(request: HttpRequest) -> HttpResponse:
    count = acknowledge_service()
    messages.success(request, f"{count} new upstream shapes marked as looked at.")
    return redirect("backoffice:upstream_problems")
