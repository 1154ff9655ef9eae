from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self) -> None:
        from .models import Combination
        from .receivers import on_combinations_changed
        from .signals import combinations_changed

        combinations_changed.connect(
            on_combinations_changed, sender=Combination, dispatch_uid="catalog.list_cache"
        )
