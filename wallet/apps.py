from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"

    def ready(self) -> None:
        from backoffice.signals import purchase_order_settled

        from . import handlers

        # The orders app announces a settled submission; the wallet refreshes itself.
        purchase_order_settled.connect(
            handlers.purchase_order_settled, dispatch_uid="wallet.purchase_order_settled"
        )
