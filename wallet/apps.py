from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from backoffice.signals import purchase_order_settled

        from . import handlers
        from .models import LedgerEntry

        # The ledger page keeps its totals until an entry is written (wallet.selectors).
        for signal in (post_save, post_delete):
            signal.connect(
                handlers.ledger_entry_written, sender=LedgerEntry, dispatch_uid="wallet.list_cache"
            )

        # The orders app announces a settled submission; the wallet refreshes itself.
        purchase_order_settled.connect(
            handlers.purchase_order_settled, dispatch_uid="wallet.purchase_order_settled"
        )
