from django.apps import AppConfig


class ChannelConfig(AppConfig):
    name = "channel"
    verbose_name = "Sales channel"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
