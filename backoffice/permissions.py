"""The project's permissions and the roles (groups) that hold them.

Every view checks one of these codenames (app label `backoffice`). The roles are
created by a data migration from ROLES, so this table is the single source of truth
shown in the README.
"""

VIEW = "backoffice.view_backoffice"
PLACE_ORDERS = "backoffice.place_orders"
MANAGE_CUSTOMERS = "backoffice.manage_customers"
APPROVE_ORDERS = "backoffice.approve_orders"
VIEW_FINANCE = "backoffice.view_finance"
EXPORT_DATA = "backoffice.export_data"
REVEAL_KEYS = "backoffice.reveal_keys"
MANAGE_PRICING = "backoffice.manage_pricing"
MANAGE_WEBHOOKS = "backoffice.manage_webhooks"
MANAGE_USERS = "backoffice.manage_users"
VIEW_AUDIT = "backoffice.view_audit"
RUN_SYNCS = "backoffice.run_syncs"

# (codename, description) as declared on backoffice.models.Access.
PERMISSIONS: list[tuple[str, str]] = [
    ("view_backoffice", "Read catalog, orders, customers and wallet (keys masked)"),
    ("place_orders", "Create, confirm and cancel purchase orders"),
    ("manage_customers", "Create and edit customers, assign keys to them"),
    ("approve_orders", "Approve purchase orders above the approval threshold"),
    ("view_finance", "Read the ledger, reconciliation and gaps"),
    ("export_data", "Export tables (catalog, ledger) to CSV/XLSX"),
    ("reveal_keys", "Reveal, copy, email and export licence keys"),
    ("manage_pricing", "Edit pricing rules"),
    ("manage_webhooks", "Register, rotate and delete webhook endpoints; reprocess events"),
    ("manage_users", "Manage staff users and their roles"),
    ("view_audit", "Read the audit log"),
    ("run_syncs", "Start catalog, wallet and order syncs by hand"),
]

ROLES: dict[str, list[str]] = {
    "Viewer": ["view_backoffice"],
    "Buyer": ["view_backoffice", "place_orders", "manage_customers", "run_syncs"],
    "Approver": ["view_backoffice", "approve_orders"],
    "Finance": ["view_backoffice", "view_finance", "export_data", "view_audit", "run_syncs"],
    "Key custodian": ["view_backoffice", "reveal_keys"],
    "Admin": [codename for codename, _ in PERMISSIONS],
}
