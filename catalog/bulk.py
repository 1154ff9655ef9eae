"""Bulk writes for the sync and the repricing: tens of thousands of rows in seconds.

Django's `bulk_update` builds a CASE WHEN per row and field and `bulk_create` prepares
every value in Python; at 60,000 combinations both cost tens of seconds. On PostgreSQL
these helpers stream rows with COPY (psycopg's C path): straight into the table for
inserts, into a temporary table joined by one UPDATE for updates. Other databases (the
SQLite demo) use Django's bulk methods: slower, same result.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection, models

T = TypeVar("T")

# Rows per INSERT/UPDATE statement and ids per IN (...) list: well under SQLite's
# parameter limit and large enough that 60,000 combinations take few round trips.
BATCH_ROWS = 1000


def concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The concrete field `name` of `model` (a reverse relation has no column to write)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"{model._meta.label}.{name} is not a concrete field")
    return field


def _column(field: models.Field[Any, Any]) -> str:
    if field.column is None:
        raise TypeError(f"{field} has no column")
    return field.column


class _Row:
    """Turns model values into COPY values. COPY adapts Decimal, int, bool, str and aware
    datetimes natively; only JSON needs the adapter Django's field produces."""

    def __init__(self, fields: Sequence[models.Field[Any, Any]]) -> None:
        self.json = [
            field if field.get_internal_type() == "JSONField" else None for field in fields
        ]

    def __call__(self, values: Sequence[Any]) -> list[Any]:
        return [
            value if field is None or value is None else field.get_db_prep_save(value, connection)
            for field, value in zip(self.json, values, strict=True)
        ]


def bulk_set(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """UPDATE `fields` of `model` for each row `(pk, value, value, ...)`; returns rows sent."""
    if not rows:
        return 0
    meta = model._meta
    model_fields = [concrete_field(model, name) for name in fields]
    if connection.vendor != "postgresql":
        objects = []
        for pk, *values in rows:
            obj = model(pk=pk)
            for field, value in zip(model_fields, values, strict=True):
                setattr(obj, field.attname, value)
            objects.append(obj)
        model._default_manager.bulk_update(objects, list(fields), batch_size=BATCH_ROWS)
        return len(rows)

    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    pk_column = qn(_column(meta.pk))
    columns = [qn(_column(field)) for field in model_fields]
    row = _Row(model_fields)
    scratch = qn(f"bulk_set_{uuid.uuid4().hex[:12]}")
    # Identifiers come from model metadata or are generated here; values go through COPY.
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {scratch} AS "  # noqa: S608 - identifiers only, quoted
            f"SELECT {pk_column}, {', '.join(columns)} FROM {table} WITH NO DATA"
        )
        try:
            with cursor.copy(
                f"COPY {scratch} ({pk_column}, {', '.join(columns)}) FROM STDIN"
            ) as copy:
                for pk, *values in rows:
                    copy.write_row([pk, *row(values)])
            assignments = ", ".join(f"{column} = v.{column}" for column in columns)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {scratch} AS v "  # noqa: S608 - identifiers only
                f"WHERE {table}.{pk_column} = v.{pk_column}"
            )
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
    return len(rows)


def bulk_insert(model: type[models.Model], objects: Sequence[models.Model]) -> int:
    """INSERT new rows (their ids are not read back)."""
    if not objects:
        return 0
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects, batch_size=BATCH_ROWS)
        return len(objects)
    meta = model._meta
    qn = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    columns = ", ".join(qn(_column(field)) for field in fields)
    attnames = [field.attname for field in fields]
    row = _Row(fields)
    copy_sql = f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for obj in objects:
            copy.write_row(row([getattr(obj, name) for name in attnames]))
    return len(objects)


def chunks(values: Sequence[T], size: int = BATCH_ROWS) -> Iterator[Sequence[T]]:
    """`values` in slices of `size`: rows per statement, ids per IN (...) list."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
