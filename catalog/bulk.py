"""Set-based bulk UPDATE: many rows, different values, one statement per batch.

Django's `bulk_update` builds a CASE WHEN per row and field, which costs seconds of
Python for a few thousand rows; a sync or a default-rule change touches up to 60,000.
`UPDATE ... FROM (VALUES ...)` works on PostgreSQL and SQLite (3.33+) and sends the
values as parameters, so it stays safe from injection and fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

BATCH_ROWS = 1000


def bulk_set(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """UPDATE `fields` of `model` for each row `(pk, value, value, ...)`; returns rows sent."""
    if not rows:
        return 0
    if connection.vendor not in ("postgresql", "sqlite"):
        objects = []
        for pk, *values in rows:
            obj = model(pk=pk)
            for name, value in zip(fields, values, strict=True):
                setattr(obj, model._meta.get_field(name).attname, value)
            objects.append(obj)
        model._default_manager.bulk_update(objects, fields, batch_size=BATCH_ROWS)
        return len(rows)

    meta = model._meta
    qn = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    pk_field = meta.pk
    postgres = connection.vendor == "postgresql"

    def value_ref(position: int, field: models.Field) -> str:
        ref = f"v.column{position}"
        # PostgreSQL types a VALUES column from its first non-null literal (or as text):
        # cast to the target column's type. SQLite converts by column affinity.
        return f"CAST({ref} AS {field.cast_db_type(connection)})" if postgres else ref

    assignments = ", ".join(
        f"{qn(field.column)} = {value_ref(position, field)}"
        for position, field in enumerate(model_fields, start=2)
    )
    row_sql = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    table = qn(meta.db_table)
    # The identifiers come from model metadata and every value is a bound parameter.
    sql_head = f"UPDATE {table} SET {assignments} FROM (VALUES "  # noqa: S608
    sql_tail = f") AS v WHERE {table}.{qn(pk_field.column)} = {value_ref(1, pk_field)}"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start : start + BATCH_ROWS]
            params: list[Any] = []
            for pk, *values in batch:
                params.append(pk_field.get_db_prep_value(pk, connection))
                params.extend(
                    field.get_db_prep_save(value, connection)
                    for field, value in zip(model_fields, values, strict=True)
                )
            cursor.execute(sql_head + ", ".join([row_sql] * len(batch)) + sql_tail, params)
    return len(rows)
