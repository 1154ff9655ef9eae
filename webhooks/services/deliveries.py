"""Deliveries: recording each verified delivery once, and applying it.

Deliveries are at least once and out of order. Two database facts make that safe:
an event id is inserted once (ON CONFLICT DO NOTHING), and the keys an event carries
go through `orders.services.keys_deliver_many`, which stores each key once whatever path
(order response, webhook, polling) delivered it first.

The receiver does one INSERT per delivery and no per-event task or cache call: a drain
task applies every `received` event in batches (row locks with SKIP LOCKED, in id
order, the keys of a batch stored together), each web process asks for a drain at most
every WEBHOOK_DRAIN_QUEUE_SECONDS from a thread of its own, and a drain is queued only
when none is pending (a cache flag, cleared when a drain starts), so a burst of
deliveries costs one Celery publish per drain, not one each.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import traceback as tb
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Field, Q
from django.utils import timezone

from backoffice import crypto
from backoffice.jobs import enqueue
from licendi import DeliveredKey
from orders import services as order_services

from .. import payloads
from ..models import WebhookEvent
from ..receiver import Delivery
from .failures import webhook_event_failure_record, webhook_events_failure_record

logger = logging.getLogger(__name__)

# A `received` event this old lost its task (broker outage, worker killed): beat retries it.
RECEIVED_GRACE = timedelta(minutes=2)
PROCESS_TASK = "webhooks.tasks.webhook_event_process"
DRAIN_TASK = "webhooks.tasks.webhook_events_drain"
# Set while a drain is queued and not yet started. It expires, so a drain lost on its
# way to the worker (broker outage) only delays the next one by this long; the beat
# drain (WEBHOOK_DRAIN_SWEEP_SECONDS) covers a quiet period after such a loss.
DRAIN_PENDING_KEY = "webhooks:drain-pending"
DRAIN_PENDING_SECONDS = 10
# Events applied per transaction: enough to spread the commit, short enough that a
# repeated delivery of a locked event (its duplicate counter) waits little.
DRAIN_BATCH = 100
# A drain stops taking new batches after this long and queues its successor, so one
# task never holds a worker for minutes behind a backlog.
DRAIN_SECONDS = 20.0


def _concrete_field(name: str) -> Field[Any, Any]:
    field = WebhookEvent._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"WebhookEvent.{name} is not a column")
    return field


# What a new event's row holds beside what the delivery brings: written as literals in
# the statement, so a delivery binds (and the driver quotes) only its own values.
_NEW_EVENT_CONSTANTS: dict[str, str | int] = {
    "status": WebhookEvent.Status.RECEIVED.value,
    "attempts": 0,
    "duplicate_count": 0,
    "keys_stored": 0,
    "error": "",
    "traceback": "",
}
# The delivery's own values, bound as parameters in this order.
_NEW_EVENT_VALUES = (
    "event_id",
    "type",
    "upstream_order_id",
    "external_id",
    "payload",
    "key_count",
    "occurred_at",
    "received_at",
)


def _literal(value: str | int) -> str:
    if isinstance(value, int):
        return str(int(value))
    return "'" + value.replace("'", "''") + "'"


@functools.cache
def _insert_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(WebhookEvent._meta.db_table)
    names = [*_NEW_EVENT_VALUES, *_NEW_EVENT_CONSTANTS]
    columns = ", ".join(quote(str(_concrete_field(name).column)) for name in names)
    values = ", ".join(
        ["%s"] * len(_NEW_EVENT_VALUES) + [_literal(v) for v in _NEW_EVENT_CONSTANTS.values()]
    )
    # The unique index on event_id decides, even between concurrent requests: the
    # second insert waits for the first to commit, then does nothing.
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({values}) "  # noqa: S608 - names quoted, values bound, constants ours
        f"ON CONFLICT ({quote('event_id')}) DO NOTHING RETURNING {quote('id')}"
    )


@functools.cache
def _server_binding_cursor(vendor: str) -> type | None:
    """The cursor class that binds values server-side on PostgreSQL with psycopg 3 (the
    backend's own, as OPTIONS["server_side_binding"] selects it); None elsewhere."""
    if vendor != "postgresql":
        return None
    from django.db.backends.postgresql import base

    return getattr(base, "ServerBindingCursor", None)


def _insert_cursor(db: Any) -> Any:
    """A cursor of `db` for the INSERT of a new event.

    On PostgreSQL with psycopg 3 the statement's 8 values are bound server-side: Django's
    default cursor quotes each value into the SQL text, about 50,000 instructions a
    delivery more than sending them as parameters. No statement is prepared (Django
    leaves prepare_threshold unset, so connection poolers keep working). The cursor is
    wrapped as `db.cursor()` wraps its own (errors, query logging, execute wrappers)."""
    binding = _server_binding_cursor(db.vendor)
    if binding is None:
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        return db._prepare_cursor(binding(db.connection))


# A stored body as JSON text, what JSONField's default encoder writes up to escapes that
# jsonb does not keep (non-ASCII characters go as they are: the column stores the same
# value). Built once: json.dumps builds an encoder per call. A decoded body holds no
# cycle to check for. Holds no state between calls, so threads share it.
_payload_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def webhook_event_record(*, delivery: Delivery) -> tuple[int, bool]:
    """Store a verified delivery once; returns (event pk or 0, created).

    A new event is applied by the next drain (one is queued on commit unless one is
    already pending). A repeated one only bumps its duplicate counter: status, body
    and result stay as they are.
    """
    received_at = timezone.now()
    # The default connection, looked up once (each use of `connection` looks it up again).
    db = transaction.get_connection()
    # Values of known types (a dict of JSON values, aware datetimes), so the fields'
    # preparation (expressions, naive-datetime warnings, the driver's Jsonb wrapper) is
    # skipped: the body is encoded as JSON text, which the jsonb column accepts, and the
    # datetimes only go through the backend's adaptation (nothing on PostgreSQL, a naive
    # string on SQLite).
    adapt_datetime = db.ops.adapt_datetimefield_value
    params: list[Any] = [
        delivery.event_id,
        delivery.type,
        delivery.upstream_order_id,
        delivery.external_id,
        _payload_json(delivery.payload),
        delivery.key_count,
        adapt_datetime(delivery.occurred_at),
        adapt_datetime(received_at),
    ]
    # One statement, so no transaction of its own: in autocommit (a request) this is one
    # round trip to the database instead of BEGIN, INSERT, COMMIT.
    with _insert_cursor(db) as cursor:
        cursor.execute(_insert_sql(), params)
        inserted = cursor.fetchone()
    if inserted is None:
        stored = WebhookEvent.objects.filter(event_id=delivery.event_id)
        bump = {"duplicate_count": F("duplicate_count") + 1, "last_duplicate_at": received_at}
        if stored.filter(status=WebhookEvent.Status.RECEIVED).update(**bump):
            # This UPDATE held the row lock of an event not yet applied, and a drain that
            # ran meanwhile skipped it (SKIP LOCKED): ask for another once it is released,
            # rather than leave the event to the beat's sweep.
            db.on_commit(_drain_requests.delivered, robust=True)
        else:
            stored.update(**bump)
        return 0, False
    db.on_commit(_drain_requests.delivered, robust=True)
    return int(inserted[0]), True


class _DrainRequests:
    """Calls `drain_soon()` for this process's deliveries from one background thread, at
    most once per WEBHOOK_DRAIN_QUEUE_SECONDS, and always once after the last of them.

    `drain_soon()` is a round trip to the cache (and sometimes a Celery publish); a burst
    of deliveries does not need one each, and a request should not wait for one. A
    delivery only sets an event. The thread wakes on it, waits out the rest of the
    interval since its previous call, clears the event and calls `drain_soon()`: a
    delivery that finds the event set commits before that clear, so the call after it
    follows its commit, at most the interval later, and no event waits for the beat
    drain. At 0 every delivery calls `drain_soon()` itself, at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def delivered(self) -> None:
        if self._wake.is_set():
            # The thread has yet to clear it: its next call follows this commit. Checked
            # first, so most deliveries of a burst read no setting (never set at 0).
            return
        if float(settings.WEBHOOK_DRAIN_QUEUE_SECONDS) <= 0:
            drain_soon()
            return
        with self._lock:
            # Started by the first delivery of each process (after gunicorn forks).
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="webhook-drain-requests", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        last = float("-inf")
        while True:
            self._wake.wait()
            interval = float(settings.WEBHOOK_DRAIN_QUEUE_SECONDS)
            time.sleep(max(0.0, last + interval - time.monotonic()))
            self._wake.clear()
            last = time.monotonic()
            try:
                drain_soon()
            except Exception:
                # The beat drain (WEBHOOK_DRAIN_SWEEP_SECONDS) picks the events up.
                logger.warning("webhook drain could not be queued", exc_info=True)


_drain_requests = _DrainRequests()


def drain_soon() -> None:
    """Queue a drain unless one is queued and not started yet (called after a commit).

    A drain clears the flag before it reads, so an event committed before this call is
    either seen by the pending drain or queues a new one: none is left behind.
    """
    try:
        pending = not cache.add(DRAIN_PENDING_KEY, 1, timeout=DRAIN_PENDING_SECONDS)
    except Exception:
        # Without the cache every commit queues a drain: more tasks, nothing left behind.
        logger.warning("webhook drain flag unavailable; queueing a drain", exc_info=True)
        pending = False
    if not pending:
        enqueue(DRAIN_TASK)


def _scrub(text: str, keys: Sequence[str]) -> str:
    """An error text with any licence key of the event masked (exceptions may quote one)."""
    for key in keys:
        if key:
            text = text.replace(key, crypto.mask(key))
    return text


def webhook_event_process(*, event_pk: int) -> WebhookEvent:
    """Apply one stored event; safe to run twice and from any status.

    The event row is locked for the whole step, so concurrent runs (a drain, a beat
    pass, a reprocess click) apply it once; a done event is left alone.
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        _apply([event])
        return event


# What applying an event may change on its row.
_OUTCOME_FIELDS = (
    "attempts",
    "status",
    "error",
    "traceback",
    "processed_at",
    "keys_stored",
    "purchase_order",
)
_Ready = tuple[WebhookEvent, list[DeliveredKey]]


def _apply(events: Sequence[WebhookEvent]) -> None:
    """Apply events whose rows the caller holds locked, and save their outcomes.

    The keys of all of them go to their purchase orders in one `keys_deliver_many`
    call, in a savepoint. If that fails as a whole (one event's keys break an insert, a
    deadlock with an order being placed), it is rolled back and each event is applied
    in a savepoint of its own: the event at fault is recorded failed, the others apply.
    """
    pending = [event for event in events if event.status not in WebhookEvent.DONE_STATUSES]
    ready: list[_Ready] = []
    for event in pending:
        event.attempts += 1
        if event.type not in WebhookEvent.KNOWN_TYPES:
            event.status = WebhookEvent.Status.IGNORED
            event.error, event.traceback = "", ""
            event.processed_at = timezone.now()
            continue
        try:
            ready.append((event, payloads.stored_keys(event.payload)))
        except Exception as exc:
            _failed(event, exc, [])
    if len(ready) > 1:
        try:
            _outcomes_set(ready, _deliver(ready))
            ready = []
        except Exception as exc:
            # Only the type: the message may quote a key; each event's own attempt
            # below records its error, scrubbed of that event's keys.
            logger.warning(
                "webhook batch of %d events failed (%s); applying them one by one",
                len(ready),
                type(exc).__name__,
            )
    for item in ready:
        try:
            _outcomes_set([item], _deliver([item]))
        except Exception as exc:
            _failed(item[0], exc, item[1])
    if pending:
        _outcomes_save(pending)


def _outcomes_save(events: Sequence[WebhookEvent]) -> None:
    """Save what applying changed on these events, in one statement.

    On PostgreSQL an UPDATE ... FROM (VALUES ...): Django's bulk_update builds a CASE
    expression per field and row, and building it cost more than applying the events.
    Elsewhere (the SQLite demo) bulk_update.
    """
    if connection.vendor != "postgresql":
        WebhookEvent.objects.bulk_update(events, _OUTCOME_FIELDS)
        return
    fields = [_concrete_field(name) for name in ("id", *_OUTCOME_FIELDS)]
    quote = connection.ops.quote_name
    casts = [str(field.db_type(connection)) for field in fields]
    row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    names = [str(field.column) for field in fields]
    assignments = ", ".join(f"{quote(name)} = v.{quote(name)}" for name in names[1:])
    sql = (
        f"UPDATE {quote(WebhookEvent._meta.db_table)} AS e SET {assignments} "  # noqa: S608 - names quoted, values bound
        f"FROM (VALUES {', '.join([row] * len(events))}) "
        f"AS v({', '.join(quote(name) for name in names)}) WHERE e.{quote('id')} = v.{quote('id')}"
    )
    params = [
        field.get_db_prep_save(getattr(event, str(field.attname)), connection)
        for event in events
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _deliver(ready: Sequence[_Ready]) -> list[order_services.DeliveryOutcome]:
    with transaction.atomic():
        return order_services.keys_deliver_many(
            deliveries=[
                order_services.KeyDelivery(
                    upstream_order_id=event.upstream_order_id,
                    external_id=event.external_id or None,
                    keys=keys,
                )
                for event, keys in ready
            ],
            source="webhook",
        )


def _outcomes_set(
    ready: Sequence[_Ready], outcomes: Sequence[order_services.DeliveryOutcome]
) -> None:
    now = timezone.now()
    for (event, _), outcome in zip(ready, outcomes, strict=True):
        if outcome.purchase_order is None:
            if event.status != WebhookEvent.Status.FOREIGN:
                event.status = WebhookEvent.Status.WAITING
            event.error = "No purchase order matches this order yet."
            event.traceback = ""
            continue
        event.status = WebhookEvent.Status.PROCESSED
        event.keys_stored = outcome.added
        event.purchase_order = outcome.purchase_order
        event.error, event.traceback = "", ""
        event.processed_at = now


def _failed(event: WebhookEvent, exc: Exception, keys: Sequence[DeliveredKey]) -> None:
    """Record on the event why it failed (called from the `except` that caught `exc`)."""
    clear = [key.key for key in keys]
    event.status = WebhookEvent.Status.FAILED
    event.error = _scrub(f"{type(exc).__name__}: {exc}", clear)[:2000]
    event.traceback = _scrub(tb.format_exc(), clear)
    logger.warning(
        "webhook event %s (%s) failed: %s", event.event_id, event.type, type(exc).__name__
    )


def _drain_batch(*, limit: int, claimed: list[int]) -> tuple[int, dict[str, int]]:
    """Apply up to `limit` received events in one transaction; returns (taken, statuses).

    SKIP LOCKED lets concurrent drains take disjoint batches; `keys_deliver_many` locks
    the batch's purchase orders in primary key order, so two drains touching the same
    orders wait for each other rather than deadlock. `claimed` receives the ids taken.
    """
    counts: dict[str, int] = {}
    with transaction.atomic():
        events = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookEvent.Status.RECEIVED)
            .order_by("pk")[:limit]
        )
        claimed[:] = [event.pk for event in events]
        _apply(events)
    for event in events:
        counts[str(event.status)] = counts.get(str(event.status), 0) + 1
    return len(events), counts


def webhook_events_drain(
    *, batch: int = DRAIN_BATCH, max_seconds: float = DRAIN_SECONDS
) -> dict[str, int]:
    """Apply every received event, a batch per transaction; returns counts by status.

    An event whose processing fails is recorded `failed` and the rest of its batch is
    applied (`_apply`). A batch that fails as a whole (a lost connection, a statement
    timeout) is rolled back and its events are applied one transaction each. If the
    drain itself fails, the error is written on the events it had taken (or, before it
    took any, on the events waiting to be drained) and then raised.
    """
    try:
        cache.delete(DRAIN_PENDING_KEY)
    except Exception:
        # The flag then expires by itself; the events are applied all the same.
        logger.warning("webhook drain flag could not be cleared", exc_info=True)
    totals: dict[str, int] = {"applied": 0}
    deadline = time.monotonic() + max_seconds
    while True:
        claimed: list[int] = []
        try:
            try:
                taken, counts = _drain_batch(limit=batch, claimed=claimed)
            except DatabaseError:
                logger.warning("webhook drain batch rolled back; applying its events one by one")
                taken, counts = _drain_one_by_one(limit=batch)
        except Exception as exc:
            webhook_events_failure_record(event_pks=claimed, error=exc, limit=batch)
            raise
        totals["applied"] += taken
        for status, n in counts.items():
            totals[status] = totals.get(status, 0) + n
        if taken < batch:
            return totals
        # More are waiting: let another worker process join (one at a time, through the
        # flag), so a backlog is applied by every free worker, not by this one alone.
        drain_soon()
        if time.monotonic() > deadline:
            # Leave this worker to other tasks; the queued drain picks up the rest.
            return totals


def _drain_one_by_one(*, limit: int) -> tuple[int, dict[str, int]]:
    pks = list(
        WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {}
    for pk in pks:
        try:
            status = webhook_event_process(event_pk=pk).status
        except (DatabaseError, WebhookEvent.DoesNotExist) as exc:
            logger.warning("webhook event pk=%s could not be applied: %s", pk, type(exc).__name__)
            webhook_event_failure_record(event_pk=pk, error=exc)
            status = "error"
        counts[status] = counts.get(status, 0) + 1
    return len(pks), counts


def webhook_event_process_queued(*, event_pk: int) -> str:
    """What the queued task runs: the event's status once processed, or "missing" when
    it was removed since it was queued (nothing to apply)."""
    try:
        return webhook_event_process(event_pk=event_pk).status
    except WebhookEvent.DoesNotExist:
        return "missing"


def webhook_events_process_waiting(*, limit: int = 500) -> dict[str, int]:
    """Retry waiting events and lost `received` ones; mark long-waiting ones foreign."""
    now = timezone.now()
    pks = list(
        WebhookEvent.objects.filter(
            Q(status=WebhookEvent.Status.WAITING)
            | Q(status=WebhookEvent.Status.RECEIVED, received_at__lt=now - RECEIVED_GRACE)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {"tried": len(pks)}
    for pk in pks:
        status = webhook_event_process(event_pk=pk).status
        counts[status] = counts.get(status, 0) + 1
    hours = settings.WEBHOOK_FOREIGN_AFTER_HOURS
    counts["marked_foreign"] = WebhookEvent.objects.filter(
        status=WebhookEvent.Status.WAITING, received_at__lt=now - timedelta(hours=hours)
    ).update(status=WebhookEvent.Status.FOREIGN)
    return counts


def webhook_events_queue_for_order(*, upstream_id: str | None, external_id: str | None) -> int:
    """Queue (on commit) the events that wait for this order; returns how many."""
    match = Q()
    if upstream_id:
        match |= Q(upstream_order_id=upstream_id)
    if external_id:
        match |= Q(external_id=external_id)
    if not match:
        return 0
    pks = list(
        WebhookEvent.objects.filter(match, status__in=WebhookEvent.WAITING_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in pks:
        enqueue(PROCESS_TASK, event_pk=pk)
    return len(pks)
