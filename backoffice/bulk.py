"""Bulk actions on rows selected in a list: the ids a form sent, and what became of
each row. The checkbox column is `backoffice.tables.SelectColumn`.

A bulk action reuses the service of its single version row by row and reports every
row: the ones done, and the ones refused with the reason (an id that names no row, a
row in the wrong state). Bad input never raises: a forged or stale id is a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest

# A list page shows at most 100 rows (backoffice.lists.MAX_PER_PAGE): no selection is longer.
MAX_SELECTED = 100
# Refusal reasons shown in the message before "and N more".
SHOWN_REASONS = 10


@dataclass
class BulkOutcome:
    """The rows a bulk action did, and the ones it refused (label, reason)."""

    noun: str  # "key", "event", "item": pluralised with "s"
    done: list[Any] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def refuse(self, label: str, reason: str) -> None:
        self.refused.append((label, reason))

    def count(self, n: int) -> str:
        return f"{n} {self.noun}{'' if n == 1 else 's'}"

    def message(self, did: str) -> str:
        """ "2 keys assigned to Ada. 1 refused: #7 (already belongs to a customer)."."""
        text = f"{self.count(len(self.done))} {did}."
        if self.refused:
            reasons = [f"{label} ({reason})" for label, reason in self.refused[:SHOWN_REASONS]]
            more = len(self.refused) - SHOWN_REASONS
            if more > 0:
                reasons.append(f"{more} more")
            text += f" {len(self.refused)} refused: {'; '.join(reasons)}."
        return text


def parse_id(raw: str, *, digits: int = 12) -> int | None:
    """A whole number of at most `digits` ASCII digits from a form or query string, or
    None (so a forged value is a refusal or a default, never a 500)."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and 0 < len(raw) <= digits:
        return int(raw)
    return None


def selected_ids(values: Iterable[str], outcome: BulkOutcome) -> list[int]:
    """The row ids of a submitted selection, in order and once each; anything that is not
    an id, or past MAX_SELECTED, is refused on `outcome`."""
    ids: list[int] = []
    for raw in values:
        pk = parse_id(raw)
        if not pk:
            outcome.refuse(repr(raw.strip()[:20]), "not an id")
        elif pk in ids:
            continue
        elif len(ids) >= MAX_SELECTED:
            outcome.refuse(f"#{pk}", f"more than {MAX_SELECTED} selected")
        else:
            ids.append(pk)
    return ids


def report(request: HttpRequest, outcome: BulkOutcome, did: str) -> None:
    """The outcome as one message: success when every row was done, else a warning."""
    level = messages.success if outcome.done and not outcome.refused else messages.warning
    level(request, outcome.message(did))
