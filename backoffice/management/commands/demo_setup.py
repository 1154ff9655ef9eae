"""Prepare the local demo: one user per role and the login printed on start."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from backoffice.demo import demo_users, login_banner
from backoffice.jobs import enqueue


class Command(BaseCommand):
    help = "Create demo users (one per role, plus 'demo' with every role) and print the login."

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = getattr(settings, "DEMO_PASSWORD", "")
        if not password:
            raise CommandError(
                "demo_setup only runs with the demo settings (backoffice.settings.dev)"
            )
        User = get_user_model()
        for username, roles in demo_users().items():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.set(Group.objects.filter(name__in=roles))
        # The first catalog and wallet reads, so the demo has data before beat's first
        # interval; the worker picks them up once it and the sandbox are running.
        enqueue("catalog.tasks.catalog_sync", trigger="command")
        enqueue("wallet.tasks.wallet_sync", reason="demo start")
        self.stdout.write(self.style.SUCCESS(login_banner(password=password)))
