"""State changes of the catalog, by concern: pricing rules and selling prices
(`pricing`), the sync from Licendi (`sync`) and the sync runs it records (`runs`).

Callers import from `catalog.services`; the modules are an arrangement, not an API.
"""

from .pricing import (
    PricingRuleConflict,
    RulePreview,
    pricing_apply,
    pricing_rule_create,
    pricing_rule_delete,
    pricing_rule_preview,
    pricing_rule_update,
)
from .runs import ProgressCallback, SyncAlreadyRunning, catalog_sync_request
from .sync import SyncFailed, catalog_sync, list_fingerprint

__all__ = [
    "PricingRuleConflict",
    "ProgressCallback",
    "RulePreview",
    "SyncAlreadyRunning",
    "SyncFailed",
    "catalog_sync",
    "catalog_sync_request",
    "list_fingerprint",
    "pricing_apply",
    "pricing_rule_create",
    "pricing_rule_delete",
    "pricing_rule_preview",
    "pricing_rule_update",
]
