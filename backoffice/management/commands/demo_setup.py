"""Prepare the local demo: one user per role and the login printed on start."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from backoffice.permissions import ROLES


class Command(BaseCommand):
    help = "Create demo users (one per role, plus 'demo' with every role) and print the login."

    def handle(self, *args: Any, **options: Any) -> None:
        password: str = getattr(settings, "DEMO_PASSWORD", "")
        if not settings.DEBUG or not password:
            raise CommandError(
                "demo_setup only runs with the demo settings (backoffice.settings.dev)"
            )
        User = get_user_model()
        users = {"demo": list(ROLES)} | {role.lower().replace(" ", "-"): [role] for role in ROLES}
        for username, roles in users.items():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.set(Group.objects.filter(name__in=roles))
        # The first catalog and wallet reads, so the demo has data before beat's first
        # interval; the worker picks them up once it and the sandbox are running.
        from catalog.tasks import catalog_sync
        from wallet.tasks import wallet_sync

        catalog_sync.delay(trigger="command")
        wallet_sync.delay(reason="demo start")
        self.stdout.write(
            self.style.SUCCESS(
                "\n  Back-office: http://127.0.0.1:8000/\n"
                f"  Log in as 'demo' (every role) with password: {password}\n"
                f"  Single-role users with the same password: {', '.join(list(users)[1:])}\n"
                "  Sandbox (fake Licendi): http://127.0.0.1:8100/"
                " with X-Api-Key: sandbox-demo-key\n"
            )
        )
