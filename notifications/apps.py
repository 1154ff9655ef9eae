from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        # Receivers for immediacy; the periodic scan catches whatever they miss.
        from . import receivers

        receivers.connect()
