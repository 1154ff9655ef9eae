"""Trigram indexes for the catalog search, on PostgreSQL only (backoffice.search_indexes).

The catalog list searches product names and brands with `icontains`; the sku prefix match
already has its `varchar_pattern_ops` index from the unique constraint.
"""

from django.db import migrations

from backoffice.search_indexes import trigram_index_operations


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_merge_money_fields_and_sync_quarantine")]

    operations = trigram_index_operations(
        "catalog_product", {"product_name_trgm": "name", "product_brand_trgm": "brand"}
    )
