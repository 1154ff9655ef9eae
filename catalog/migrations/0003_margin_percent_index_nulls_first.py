"""Margin % index with NULLS FIRST on PostgreSQL.

The list sorts margin % ascending with undefined margins (selling price 0) first, the
worst case; PostgreSQL's default index order (NULLS LAST) cannot serve that ORDER BY.
SQLite already orders NULLs first and rejects NULLS FIRST in an index, so it keeps the
index from 0002; the model state is unchanged either way.
"""

from django.db import migrations

FORWARD = (
    "DROP INDEX IF EXISTS combo_active_margin_pct; "
    "CREATE INDEX combo_active_margin_pct ON catalog_combination "
    "(is_active, margin_percent NULLS FIRST)"
)
BACKWARD = (
    "DROP INDEX IF EXISTS combo_active_margin_pct; "
    "CREATE INDEX combo_active_margin_pct ON catalog_combination (is_active, margin_percent)"
)


def _run(sql: str):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_sync_runs_pricing_rules_price_history"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
