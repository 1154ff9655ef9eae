"""Trigram indexes for `icontains` searches, created on PostgreSQL only (for migrations).

Django writes `field__icontains=value` on PostgreSQL as `UPPER(column::text) LIKE
UPPER('%value%')`. A GIN index of `gin_trgm_ops` over that same expression answers it
without reading every row; the expression must be the one `icontains` writes, cast
included, for the planner to match it (Django's `OpClass(Upper(...))` leaves out the
parentheses PostgreSQL needs, hence the SQL here). The indexes are not part of the models'
state: SQLite, the demo's database, has no GIN indexes and runs the same query by
scanning its few rows, so on any other database these operations do nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


def icontains_expression(column: str) -> str:
    return f'UPPER("{column}"::text)'


def trigram_index_operations(table: str, columns: dict[str, str]) -> list[Any]:
    """The operations creating a trigram index `name` on `table` for each `name: column`
    of `columns` (and dropping them when migrating backwards)."""

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, column in columns.items():
            schema_editor.execute(
                f'CREATE INDEX "{name}" ON "{table}" '
                f"USING gin (({icontains_expression(column)}) gin_trgm_ops)"
            )

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in columns:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    return [TrigramExtension(), migrations.RunPython(create, drop, elidable=False)]
