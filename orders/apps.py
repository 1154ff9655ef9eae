from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import Customer
        from .receivers import on_customer_written

        for signal in (post_save, post_delete):
            signal.connect(on_customer_written, sender=Customer, dispatch_uid="orders.list_cache")
