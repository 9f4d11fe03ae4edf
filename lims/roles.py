"""The two lab roles and their permissions, kept in sync after every migrate.

chemist      view everything; add and change records of the lab apps (ownership rules in services)
lab-manager  everything on the lab apps, plus managing users and groups
"""

from __future__ import annotations

from django.apps import apps as global_apps

CHEMIST = "chemist"
LAB_MANAGER = "lab-manager"
LAB_APPS = ("lims", "synthesis", "characterization")
MANAGER_ONLY_MODELS = {
    ("synthesis", "recipe"),
    ("synthesis", "recipestep"),
    ("synthesis", "reagentline"),
}


def sync_role_permissions(sender=None, apps=global_apps, **kwargs) -> None:
    """Create the groups if missing and grant their permissions (idempotent)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    chemist, _ = Group.objects.get_or_create(name=CHEMIST)
    manager, _ = Group.objects.get_or_create(name=LAB_MANAGER)
    lab_perms = Permission.objects.filter(content_type__app_label__in=LAB_APPS)
    manager.permissions.add(*lab_perms)
    manager.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="auth", content_type__model__in=["user", "group"]
        )
    )
    for perm in lab_perms.select_related("content_type"):
        key = (perm.content_type.app_label, perm.content_type.model)
        action = perm.codename.split("_", 1)[0]
        if action == "view" or (action in ("add", "change") and key not in MANAGER_ONLY_MODELS):
            chemist.permissions.add(perm)
