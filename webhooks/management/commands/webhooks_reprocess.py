"""Reprocess stored webhook events in bulk (after fixing what made them fail)."""

from django.core.management.base import BaseCommand, CommandError

from webhooks import services
from webhooks.models import WebhookEvent


class Command(BaseCommand):
    help = "Reprocess webhook events by status (default: failed) or by primary key."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--status",
            choices=list(WebhookEvent.Status.values),
            default=None,
            help="Reprocess every event in this status (default: failed, unless --ids).",
        )
        parser.add_argument("--ids", nargs="+", type=int, default=None, help="Event primary keys.")
        parser.add_argument("--limit", type=int, default=10_000, help="At most this many events.")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        events = WebhookEvent.objects.order_by("pk")
        if options["ids"]:
            events = events.filter(pk__in=options["ids"])
            if options["status"]:
                events = events.filter(status=options["status"])
        else:
            events = events.filter(status=options["status"] or WebhookEvent.Status.FAILED)
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        pks = list(events.values_list("pk", flat=True)[: options["limit"]])
        counts: dict[str, int] = {}
        for pk in pks:
            status = services.webhook_event_process(event_pk=pk).status
            counts[status] = counts.get(status, 0) + 1
        summary = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "none"
        self.stdout.write(f"Reprocessed {len(pks)} event(s) -> {summary}")
