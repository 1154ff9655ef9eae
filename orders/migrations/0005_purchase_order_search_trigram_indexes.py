"""Trigram indexes for the purchase order search, on PostgreSQL only
(backoffice.search_indexes).

The PO list searches the PO number and the Licendi order id with `icontains` (any part of
either): without these indexes each search read every purchase order, twice (the count,
then the page).
"""

from django.db import migrations

from backoffice.search_indexes import trigram_index_operations


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_key_hash_exact")]

    operations = trigram_index_operations(
        "orders_purchaseorder",
        {"po_external_id_trgm": "external_id", "po_upstream_id_trgm": "upstream_id"},
    )
