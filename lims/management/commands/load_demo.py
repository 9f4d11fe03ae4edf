"""Load Kiln's demo data: idempotent, re-running it changes nothing."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from lims.roles import CHEMIST, LAB_MANAGER, sync_role_permissions

DEMO_USERS = (
    # username, password, group, first name, last name
    ("chemist", "kiln-chemist", CHEMIST, "Chen", "Li"),
    ("manager", "kiln-manager", LAB_MANAGER, "Maria", "Novak"),
)


class Command(BaseCommand):
    help = "Create the demo users (one chemist, one lab manager) and demo records, once."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        sync_role_permissions()
        User = get_user_model()
        for username, password, group, first, last in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "is_staff": True},
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=group))
            state = "created" if created else "exists"
            self.stdout.write(f"  demo login ({group}): {username} / {password}  [{state}]")
        for loader in self._loaders():
            loader(stdout=self.stdout)

    def _loaders(self):
        """Demo records of the other apps, each an idempotent function(stdout=...)."""
        from django.utils.module_loading import import_string

        loaders = []
        for path in ("synthesis.demo.load", "characterization.demo.load"):
            try:
                loaders.append(import_string(path))
            except ImportError:
                continue
        return loaders
