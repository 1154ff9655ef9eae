from django.apps import AppConfig


class ChannelConfig(AppConfig):
    name = "channel"
    verbose_name = "Sales channel"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
        # Registers the tasks in every process: backoffice.jobs.enqueue looks them up by
        # name, and Celery's autodiscovery only imports tasks modules when a worker starts.
        from . import tasks  # noqa: F401
