"""What the reader noticed about upstream's shapes, as plain data.

`licendi.parsing` reads leniently: it coerces values with one obvious meaning, ignores
fields it does not know and fills optional ones that are missing. None of that is
silent: each deviation from the contract is noted on an `Observations` collector (when
the caller passed one to the client), and each record that still cannot be read becomes
a `Rejected` entry instead of an exception that would stop the whole listing. The
caller decides what to persist; this package knows nothing of storage.

Examples and raw records are redacted (`redact`) before they are kept: a licence key or
a secret never leaves the client inside an observation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

NoteKind = Literal["coercion", "unknown_field", "missing_field"]

REDACTED = "[redacted]"
# A field whose name, lower-cased and stripped of separators, contains one of these is
# never kept in an example or a quarantined record: upstream may rename `key` to `Key`,
# `license_key` or `activationKey`, and a renamed key must not be stored in clear.
SECRET_NAME_PARTS = ("key", "secret", "token", "password", "serial")
# A value shaped like a licence key (groups of letters and digits joined by dashes) is
# redacted whatever its field is called.
_KEY_SHAPED = re.compile(r"[A-Za-z0-9]{4,8}(?:-[A-Za-z0-9]{4,8}){2,}")
_SEPARATORS = re.compile(r"[^a-z0-9]")


def is_secret_name(name: str) -> bool:
    normalized = _SEPARATORS.sub("", name.lower())
    return any(part in normalized for part in SECRET_NAME_PARTS)


# An example is for a human to recognise the shape; a whole catalog is not needed.
MAX_EXAMPLE_CHARS = 2000
# Distinct notes one collector keeps. Field names come from upstream: an object keyed by
# data (a sku per key) would otherwise make one note per record.
MAX_NOTES = 500
OVERFLOW_FIELD = "(more fields not listed)"

_INDEX = re.compile(r"\[\d+\]")


def field_pattern(where: str) -> str:
    """`items[250].inStock` -> `items[].inStock`: one counter per field, not per record."""
    return _INDEX.sub("[]", where)


def redact(value: Any, *, name: str = "") -> Any:
    """A copy of a JSON value with every secret-named field's value replaced."""
    if name and is_secret_name(name):
        return REDACTED
    if isinstance(value, str) and _KEY_SHAPED.fullmatch(value.strip()):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact(v, name=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _leaf(field: str) -> str:
    """`items[].keys[]` -> `keys`: the name whose value an example is."""
    return field.rsplit(".", 1)[-1].split("[", 1)[0]


def _shorten(value: Any) -> Any:
    text = repr(value)
    if len(text) <= MAX_EXAMPLE_CHARS:
        return value
    return text[:MAX_EXAMPLE_CHARS] + "…"


@dataclass(slots=True)
class ShapeNote:
    """One kind of deviation on one field of one endpoint, counted."""

    endpoint: str  # "GET /api/products"
    kind: NoteKind
    field: str  # "items[].inStock"
    detail: str  # "number -> boolean", "" for unknown and missing fields
    count: int
    example: Any  # redacted JSON value of the first occurrence


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that could not be read: skipped, kept (redacted) with the reason."""

    ref: str  # the record's sku or id when readable, else its position ("items[3]")
    reason: str
    field: str | None
    raw: Any  # redacted JSON of the record


class Observations:
    """Thread-safe tally of `ShapeNote`s (one client may serve several threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._notes: dict[tuple[str, str, str, str], ShapeNote] = {}

    def add(self, *, endpoint: str, kind: NoteKind, field: str, detail: str, example: Any) -> None:
        key = (endpoint, kind, field, detail)
        with self._lock:
            note = self._notes.get(key)
            if note is None and len(self._notes) >= MAX_NOTES:
                key = (endpoint, kind, OVERFLOW_FIELD, "")
                field, detail, example = OVERFLOW_FIELD, "", None
                note = self._notes.get(key)
            if note is None:
                self._notes[key] = ShapeNote(
                    endpoint=endpoint,
                    kind=kind,
                    field=field,
                    detail=detail,
                    count=1,
                    example=_shorten(redact(example, name=_leaf(field))),
                )
            else:
                note.count += 1

    def notes(self) -> list[ShapeNote]:
        with self._lock:
            return sorted(
                (replace(note) for note in self._notes.values()),
                key=lambda n: (n.endpoint, n.kind, n.field, n.detail),
            )

    def drain(self) -> list[ShapeNote]:
        """The notes so far, and a fresh start (for a caller that persists in batches)."""
        notes = self.notes()
        with self._lock:
            self._notes.clear()
        return notes

    def __len__(self) -> int:
        with self._lock:
            return len(self._notes)
