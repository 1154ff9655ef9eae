from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from orders.signals import purchase_order_known

        from . import handlers

        purchase_order_known.connect(
            handlers.purchase_order_known, dispatch_uid="webhooks.purchase_order_known"
        )
