"""Trigram indexes for the catalog search, on PostgreSQL only.

The catalog list searches product names and brands with `icontains`, which PostgreSQL
runs as `UPPER(column::text) LIKE UPPER('%term%')`: a GIN index of `gin_trgm_ops` over
that same expression answers it without reading every product (the sku prefix match
already has its `varchar_pattern_ops` index from the unique constraint). The indexes are
not part of the models' state: SQLite, the demo's database, has no GIN indexes and runs
the same `icontains` query by scanning the few demo rows, so on any database other than
PostgreSQL this migration does nothing.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# The expression must be the one `icontains` writes, cast included, for the planner to
# match it (Django's OpClass(Upper(...)) leaves out the parentheses PostgreSQL needs).
EXPRESSION_INDEXES = {
    "product_name_trgm": 'UPPER("name"::text)',
    "product_brand_trgm": 'UPPER("brand"::text)',
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in EXPRESSION_INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX "{name}" ON "catalog_product" USING gin (({expression}) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in EXPRESSION_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_merge_money_fields_and_sync_quarantine")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
