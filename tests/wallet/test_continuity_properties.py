"""Laws of ledger continuity, checked on generated ledgers and read patterns (Hypothesis).

A true upstream ledger is generated (amounts, and now and then a balance that jumps: an
entry whose balanceAfter is not the previous balance plus its amount). It is read the way
the API shows it, the most recent few entries at a time, with any number of entries
happening between two reads. Whatever the pattern:

- an open gap sits between two stored neighbours exactly when the later one's balanceAfter
  is not the earlier one's plus its amount, and holds exactly the money the true ledger
  moved in between that the mirror does not show;
- importing the whole statement puts every entry in its true order and leaves open only
  the jumps that upstream really has.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import licendi
from wallet.models import Gap, LedgerEntry
from wallet.services import ledger_entries_import, wallet_balance_record

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# Each example runs in a savepoint that is rolled back, so the database fixture of the
# test is safely shared by the examples.
db_examples = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

cents = st.decimals(min_value=Decimal("-300.00"), max_value=Decimal("300.00"), places=2)
nonzero = cents.filter(lambda amount: amount != 0)
# Mostly none; sometimes upstream's balance jumps by an amount no entry explains.
jumps = st.one_of(st.just(Decimal(0)), st.just(Decimal(0)), nonzero)


@dataclass(frozen=True)
class TrueEntry:
    index: int
    amount: Decimal
    jump: Decimal
    balance_after: Decimal

    @property
    def id(self) -> str:
        return f"L{self.index:04d}"

    def record(self) -> licendi.LedgerEntry:
        return licendi.LedgerEntry(
            id=self.id,
            type="order" if self.amount < 0 else "topup",
            amount=self.amount,
            balance_after=self.balance_after,
            created_at=START + timedelta(minutes=self.index),
        )


@st.composite
def ledgers(draw: st.DrawFn) -> list[TrueEntry]:
    balance = draw(st.decimals(min_value=0, max_value=10_000, places=2))
    entries = []
    for index, (amount, jump) in enumerate(
        draw(st.lists(st.tuples(nonzero, jumps), min_size=1, max_size=30))
    ):
        balance += amount + jump
        entries.append(TrueEntry(index, amount, jump, balance))
    return entries


# (entries that happen before the read, how many recent entries the read shows)
read_patterns = st.lists(
    st.tuples(st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=5)),
    min_size=1,
    max_size=8,
)


def read_all(truth: list[TrueEntry], pattern: list[tuple[int, int]]) -> set[int]:
    """Replay the reads; returns the indexes the mirror has seen."""
    happened = 0
    seen: set[int] = set()
    for step, (new, window) in enumerate(pattern):
        happened = min(len(truth), happened + new)
        shown = truth[max(0, happened - window) : happened]
        seen.update(entry.index for entry in shown)
        wallet_balance_record(
            balance=licendi.Balance(
                balance=shown[-1].balance_after if shown else Decimal(0),
                ledger=tuple(entry.record() for entry in reversed(shown)),
            ),
            read_at=START + timedelta(hours=step + 1),
        )
    return seen


def open_gaps() -> dict[tuple[str, str], Decimal]:
    return {
        (gap.after_entry.upstream_id, gap.before_entry.upstream_id): gap.amount
        for gap in Gap.objects.filter(status=Gap.Status.OPEN).select_related(
            "after_entry", "before_entry"
        )
    }


def expected_gaps(truth: list[TrueEntry], stored: list[int]) -> dict[tuple[str, str], Decimal]:
    """What the true ledger moved between stored neighbours that the mirror cannot see."""
    expected = {}
    for a, b in itertools.pairwise(stored):
        unseen = sum((truth[i].amount for i in range(a + 1, b)), Decimal(0))
        unseen += sum((truth[i].jump for i in range(a + 1, b + 1)), Decimal(0))
        if unseen != 0:
            expected[(truth[a].id, truth[b].id)] = unseen
    return expected


@db_examples
@given(truth=ledgers(), pattern=read_patterns)
def test_gaps_are_exactly_the_broken_links_with_exactly_the_unseen_money(db, truth, pattern):
    with transaction.atomic():
        seen = read_all(truth, pattern)

        stored = list(LedgerEntry.objects.order_by("position"))
        assert [entry.upstream_id for entry in stored] == [truth[i].id for i in sorted(seen)]
        broken = {
            (a.upstream_id, b.upstream_id): b.balance_after - b.amount - a.balance_after
            for a, b in itertools.pairwise(stored)
            if a.balance_after + b.amount != b.balance_after
        }
        assert open_gaps() == broken == expected_gaps(truth, sorted(seen))
        transaction.set_rollback(True)


@db_examples
@given(truth=ledgers(), pattern=read_patterns)
def test_importing_the_whole_statement_leaves_only_the_real_jumps_open(db, truth, pattern):
    with transaction.atomic():
        seen = read_all(truth, pattern)
        if not seen:
            transaction.set_rollback(True)
            return

        ledger_entries_import(entries=[entry.record() for entry in reversed(truth)])

        stored = LedgerEntry.objects.order_by("position").values_list("upstream_id", flat=True)
        assert list(stored) == [entry.id for entry in truth]
        jumps = {(truth[e.index - 1].id, e.id): e.jump for e in truth[1:] if e.jump != 0}
        assert open_gaps() == jumps
        transaction.set_rollback(True)
