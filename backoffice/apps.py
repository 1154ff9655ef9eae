from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Back-office"

    def ready(self) -> None:
        # Connects the login/logout audit receivers.
        from . import accounts  # noqa: F401
