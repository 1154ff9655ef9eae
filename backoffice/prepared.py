"""Reads whose SQL is the same on every call, built and compiled once.

A query that every page runs (the wallet banner) cost more to build with the ORM and to
compile to SQL than to run. When nothing in it varies (no argument, no clock, no
setting read per call), its SQL and parameters are worked out once per thread and
database connection, and each call only executes them; the rows go through the same
converters (`SQLCompiler.results_iter`) as the QuerySet's own, so values have the same
types on every database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


class PreparedValues:
    """The rows of `build()`, a `.values(...)` QuerySet, as dicts (as iterating it gives).

    `build` must return the same query every time: it is called once per thread and
    connection, and the SQL compiled from it is reused.
    """

    def __init__(self, build: Callable[[], QuerySet[Any]], using: str = DEFAULT_DB_ALIAS) -> None:
        self._build = build
        self._using = using
        # Per thread: a compiler belongs to the connection it was made for.
        self._local = threading.local()

    def _prepared(self) -> tuple[Any, str, tuple[Any, ...], list[str]]:
        connection = connections[self._using]
        prepared = getattr(self._local, "prepared", None)
        if prepared is None or prepared[0] is not connection:
            query = self._build().query
            compiler = query.get_compiler(self._using)
            sql, params = compiler.as_sql()
            # The names of the row's columns, as ValuesIterable reads them.
            names = list(query.selected or {}) or [
                *query.extra_select,
                *query.values_select,
                *query.annotation_select,
            ]
            prepared = self._local.prepared = (connection, compiler, sql, tuple(params), names)
        return prepared[1:]

    def rows(self) -> list[dict[str, Any]]:
        compiler, sql, params, names = self._prepared()
        with compiler.connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        return [dict(zip(names, row, strict=True)) for row in compiler.results_iter([fetched])]
