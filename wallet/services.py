"""Wallet actions: read the balance upstream, mirror the ledger, audit its continuity.

The chain rule: an entry's balanceAfter equals the previous entry's balanceAfter plus
its own amount. Upstream shows only the 20 most recent entries, so when more than 20
happen between two reads the newest stored entry and the oldest new one do not chain:
that is recorded as a Gap holding exactly the money unaccounted for. A gap is closed
only by entries that fill it and make the chain hold end to end (an import of the
supplier's statement); a later read that adds nothing in between proves nothing.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

import licendi
from backoffice.jobs import enqueue
from backoffice.list_cache import scope_changed
from backoffice.upstream import licendi_client

from . import selectors
from .models import BalanceSnapshot, Gap, LedgerEntry, SyncFailure, SyncStatus

logger = logging.getLogger(__name__)

# Distance between the positions of consecutive entries appended by a sync: room for
# about a million imported entries between any two of them.
POSITION_STEP = 1 << 20
# Upstream returns at most this many entries per read.
UPSTREAM_LEDGER_WINDOW = 20


class WalletError(Exception):
    """A wallet action that cannot be done as asked (the message says why)."""


@dataclass(frozen=True)
class SyncResult:
    read: int
    new: int
    snapshot_changed: bool
    gaps_opened: int
    gaps_closed: int

    @property
    def may_have_missed(self) -> bool:
        """A full window of entries, all new: more may have happened than we saw."""
        return self.read >= UPSTREAM_LEDGER_WINDOW and self.new == self.read


@dataclass(frozen=True)
class RecordResult:
    new: int
    gaps_opened: int
    gaps_closed: int


def _status_locked() -> SyncStatus:
    SyncStatus.objects.get_or_create(pk=SyncStatus.SINGLETON_PK)
    return SyncStatus.objects.select_for_update().get(pk=SyncStatus.SINGLETON_PK)


def wallet_sync(*, client: licendi.LicendiClient | None = None) -> SyncResult:
    """Read GET /api/balance and mirror it. Safe to run twice: a repeated read writes nothing.

    An upstream error is recorded (SyncFailure and the status row) and re-raised so the
    task can decide whether to retry.
    """
    attempted_at = timezone.now()
    try:
        if client is None:
            with licendi_client() as own_client:
                balance = own_client.get_balance()
        else:
            balance = client.get_balance()
    except licendi.LicendiError as exc:
        wallet_sync_failure_record(error=exc, occurred_at=attempted_at)
        raise
    return wallet_balance_record(balance=balance, read_at=attempted_at)


def wallet_sync_failure_record(
    *, error: licendi.LicendiError, occurred_at: datetime
) -> SyncFailure:
    # str(LicendiError) never contains the API key (licendi.errors guarantees it).
    with transaction.atomic():
        status = _status_locked()
        failure = SyncFailure.objects.create(
            occurred_at=occurred_at,
            error_class=type(error).__name__,
            status_code=error.status,
            code=error.code or "",
            message=str(error)[:2000],
        )
        status.last_attempt_at = occurred_at
        status.last_error = f"{type(error).__name__}: {error}"[:2000]
        status.last_error_at = occurred_at
        status.failures_in_a_row += 1
        status.save(
            update_fields=["last_attempt_at", "last_error", "last_error_at", "failures_in_a_row"]
        )
    logger.warning("wallet sync failed: %s", failure.message)
    return failure


@transaction.atomic
def wallet_balance_record(*, balance: licendi.Balance, read_at: datetime) -> SyncResult:
    """Store what one balance read showed: snapshot on change, new ledger entries, gaps."""
    status = _status_locked()
    snapshot_changed = _snapshot_record(balance=balance, read_at=read_at)
    # The API lists newest first; the chain is walked oldest first.
    chronological = list(reversed(balance.ledger))
    recorded = _segment_record(
        entries=chronological, source=LedgerEntry.Source.SYNC, now=read_at, is_latest=True
    )
    status.last_attempt_at = read_at
    status.last_success_at = read_at
    status.failures_in_a_row = 0
    status.last_read_count = len(chronological)
    status.last_new_count = recorded.new
    status.save(
        update_fields=[
            "last_attempt_at",
            "last_success_at",
            "failures_in_a_row",
            "last_read_count",
            "last_new_count",
        ]
    )
    return SyncResult(
        read=len(chronological),
        new=recorded.new,
        snapshot_changed=snapshot_changed,
        gaps_opened=recorded.gaps_opened,
        gaps_closed=recorded.gaps_closed,
    )


@transaction.atomic
def ledger_entries_import(*, entries: Sequence[licendi.LedgerEntry]) -> RecordResult:
    """Add entries learned outside the 20-entry window (e.g. the supplier's statement).

    `entries` are consecutive upstream entries, newest first like the API. They are
    placed by the chain: next to entries already stored that they include, or after
    the entry an open gap starts from when their first entry chains to it. Gaps close
    only when the chain then holds from one side of the gap to the other.
    """
    if not entries:
        return RecordResult(new=0, gaps_opened=0, gaps_closed=0)
    _status_locked()
    return _segment_record(
        entries=list(reversed(entries)),
        source=LedgerEntry.Source.IMPORT,
        now=timezone.now(),
        is_latest=False,
    )


def _snapshot_record(*, balance: licendi.Balance, read_at: datetime) -> bool:
    latest = BalanceSnapshot.objects.order_by("-recorded_at", "-id").first()
    if latest is not None and latest.same_as(
        balance=balance.balance,
        currency=balance.currency,
        tier=balance.tier,
        discount=balance.discount,
    ):
        return False
    BalanceSnapshot.objects.create(
        balance=balance.balance,
        currency=balance.currency,
        tier=balance.tier,
        discount=balance.discount,
        recorded_at=read_at,
    )
    return True


def _segment_record(
    *,
    entries: list[licendi.LedgerEntry],
    source: str,
    now: datetime,
    is_latest: bool,
) -> RecordResult:
    """Store a run of consecutive upstream entries (oldest first) and re-audit around them.

    `is_latest`: the run is upstream's most recent window, so a run sharing no entry
    with the mirror goes after the newest stored entry.
    """
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise WalletError("The entries contain the same ledger id twice.")
    known = {row.upstream_id: row for row in LedgerEntry.objects.filter(upstream_id__in=ids)}
    if len(known) == len(entries):
        return RecordResult(new=0, gaps_opened=0, gaps_closed=0)

    # Split the run into stretches of unknown entries, each placed after the stored
    # entry that precedes it in the run (or, at the start of the run, by _anchor_for).
    first_known = next((known[e.id] for e in entries if e.id in known), None)
    stretches: list[tuple[LedgerEntry | None, list[licendi.LedgerEntry]]] = []
    previous: LedgerEntry | None = None
    previous_known = False
    for index, entry in enumerate(entries):
        if entry.id in known:
            previous, previous_known = known[entry.id], True
            continue
        if index > 0 and not previous_known:
            stretches[-1][1].append(entry)
            continue
        anchor = (
            previous
            if index > 0
            else _anchor_for(
                first=entry, last=entries[-1], first_known=first_known, is_latest=is_latest
            )
        )
        stretches.append((anchor, [entry]))
        previous_known = False

    new_rows: list[LedgerEntry] = []
    touched: list[tuple[LedgerEntry | None, LedgerEntry | None]] = []
    for anchor, stretch in stretches:
        following = _following(anchor)
        positions = _positions_between(anchor, following, len(stretch))
        rows = [
            LedgerEntry(
                upstream_id=entry.id,
                position=position,
                created_at=entry.created_at or now,
                type=entry.type,
                amount=entry.amount,
                balance_after=entry.balance_after,
                reference=entry.reference or "",
                description=entry.description or "",
                source=source,
                first_seen_at=now,
            )
            for entry, position in zip(stretch, positions, strict=True)
        ]
        new_rows.extend(rows)
        touched.append((anchor, following))
    # The status row lock serialises writers, so ignore_conflicts only guards the
    # impossible; it keeps a re-read harmless even then.
    LedgerEntry.objects.bulk_create(new_rows, ignore_conflicts=True)
    if new_rows:
        # bulk_create sends no post_save: drop the ledger page's kept totals on commit.
        scope_changed(selectors.LEDGER_SCOPE)

    opened = closed = 0
    adjacency_claimed = _claimed_pairs(entries)
    for anchor, following in touched:
        o, c = _audit_range(
            start=anchor, end=following, claimed=adjacency_claimed, now=now, source=source
        )
        opened += o
        closed += c
    return RecordResult(new=len(new_rows), gaps_opened=opened, gaps_closed=closed)


def _anchor_for(
    *,
    first: licendi.LedgerEntry,
    last: licendi.LedgerEntry,
    first_known: LedgerEntry | None,
    is_latest: bool,
) -> LedgerEntry | None:
    """The stored entry an unknown stretch at the start of a run goes after."""
    if first_known is not None:
        # The run continues into a stored entry: the stretch sits just before it.
        return (
            LedgerEntry.objects.filter(position__lt=first_known.position)
            .order_by("-position")
            .first()
        )
    if is_latest:
        return LedgerEntry.objects.order_by("-position").first()
    # An import with no entry in common with the mirror goes inside an open gap: the one
    # whose first side its first entry chains from, or whose far side its last entry
    # chains into (the two sides of an open gap are adjacent in the mirror).
    starts_there = Q(after_entry__balance_after=first.balance_after - first.amount)
    ends_there = Q(before_entry__balance_after=last.balance_after + F("before_entry__amount"))
    gap = (
        Gap.objects.filter(starts_there | ends_there, status=Gap.Status.OPEN)
        .select_related("after_entry")
        .order_by("after_entry__position")
        .first()
    )
    if gap is None:
        raise WalletError(
            f"Cannot place entry {first.id}: it neither includes a stored entry nor chains "
            "to either side of an open gap. Include the entries on either side of the gap."
        )
    return gap.after_entry


def _following(anchor: LedgerEntry | None) -> LedgerEntry | None:
    entries = LedgerEntry.objects.order_by("position")
    if anchor is not None:
        entries = entries.filter(position__gt=anchor.position)
    return entries.first()


def _positions_between(
    anchor: LedgerEntry | None, following: LedgerEntry | None, count: int
) -> list[int]:
    if following is None:
        start = anchor.position if anchor is not None else 0
        return [start + POSITION_STEP * (i + 1) for i in range(count)]
    low = (
        anchor.position if anchor is not None else following.position - POSITION_STEP * (count + 1)
    )
    step = (following.position - low) // (count + 1)
    if step < 1:
        raise WalletError(
            f"No room to place {count} entries before {following.upstream_id}; "
            "import them in smaller parts."
        )
    return [low + step * (i + 1) for i in range(count)]


def _claimed_pairs(entries: list[licendi.LedgerEntry]) -> set[tuple[str, str]]:
    """Pairs upstream itself showed as consecutive (inside one read or import)."""
    return {(a.id, b.id) for a, b in itertools.pairwise(entries)}


def _audit_range(
    *,
    start: LedgerEntry | None,
    end: LedgerEntry | None,
    claimed: set[tuple[str, str]],
    now: datetime,
    source: str,
) -> tuple[int, int]:
    """Check every adjacent pair from `start` to `end` (inclusive) and reconcile the gaps.

    Open gaps between entries that are no longer adjacent (something was placed
    between them) are closed: as filled when the chain now holds across them,
    otherwise as narrowed to the smaller gaps that remain.
    """
    rows = LedgerEntry.objects.order_by("position")
    if start is not None:
        rows = rows.filter(position__gte=start.position)
    if end is not None:
        rows = rows.filter(position__lte=end.position)
    chain = list(rows.only("id", "upstream_id", "position", "amount", "balance_after"))
    opened = closed = 0
    broken: list[tuple[LedgerEntry, LedgerEntry]] = []
    for previous, entry in itertools.pairwise(chain):
        if previous.balance_after + entry.amount != entry.balance_after:
            broken.append((previous, entry))
    adjacent = {(a.pk, b.pk) for a, b in itertools.pairwise(chain)}

    if len(chain) >= 2:
        stale = (
            Gap.objects.select_for_update(of=("self",))
            .select_related("after_entry", "before_entry")
            .filter(
                status=Gap.Status.OPEN,
                after_entry__position__gte=chain[0].position,
                before_entry__position__lte=chain[-1].position,
            )
        )
        for gap in stale:
            if (gap.after_entry_id, gap.before_entry_id) in adjacent:
                continue
            inside = [(a, b) for a, b in broken if _gap_covers(gap, a, b)]
            if inside:
                remaining = sum((_unaccounted(a, b) for a, b in inside), Decimal("0.00"))
                gap.resolution = (
                    f"Narrowed by {source}: {len(inside)} smaller gap(s) remain, "
                    f"{remaining} unaccounted."
                )
            else:
                gap.resolution = f"Filled by {source}: the entries between now chain exactly."
            gap.status = Gap.Status.CLOSED
            gap.closed_at = now
            gap.save(update_fields=["status", "closed_at", "resolution"])
            closed += 1

    for previous, entry in broken:
        kind = (
            Gap.Kind.MISMATCH
            if (previous.upstream_id, entry.upstream_id) in claimed
            else Gap.Kind.MISSED
        )
        _, created = Gap.objects.get_or_create(
            after_entry=previous,
            before_entry=entry,
            defaults={
                "kind": kind,
                "amount": _unaccounted(previous, entry),
                "detected_at": now,
            },
        )
        opened += int(created)
    return opened, closed


def _gap_covers(gap: Gap, a: LedgerEntry, b: LedgerEntry) -> bool:
    return gap.after_entry.position <= a.position and b.position <= gap.before_entry.position


def _unaccounted(previous: LedgerEntry, entry: LedgerEntry) -> Decimal:
    """What the entries missing between two stored entries must add up to."""
    missing: Decimal = entry.balance_after - entry.amount - previous.balance_after
    return missing


def wallet_sync_failure_is_transient(exc: BaseException) -> bool:
    """Whether a failed read may succeed if tried again soon (timeouts, 5xx, 429)."""
    return licendi.is_transient(exc)


def wallet_sync_request(*, reason: str) -> None:
    """Ask for a wallet read now (after an order settled, the Refresh button); sent when
    the surrounding transaction commits."""
    enqueue("wallet.tasks.wallet_sync", reason=reason)


def wallet_sync_soon_countdown() -> int:
    """Seconds before a follow-up read; never beyond the broker's visibility timeout.

    Celery's Redis transport redelivers a task still unacknowledged after the
    visibility timeout, so a longer countdown would run the task twice.
    """
    wanted = settings.WALLET_SYNC_SOON_SECONDS
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {}
    visibility = int(options.get("visibility_timeout", 3600))
    return max(1, min(int(wanted), visibility // 2))


def ledger_statement_parse(*, raw: bytes) -> list[licendi.LedgerEntry]:
    """Entries from a statement file: the API's ledger JSON (`{"ledger": [...]}` or a list).

    Parsing goes through the client's tolerant reader, the one place that knows the
    upstream shape.
    """
    try:
        return licendi.parse_ledger_statement(raw)
    except licendi.ContractError as exc:
        raise WalletError(f"The file is not JSON ledger entries: {exc.message}") from exc
