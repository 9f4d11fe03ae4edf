"""The lab roles' groups and their Django permissions, kept in sync after every migrate.

The decisions are lims.rules' (every view, the admin and the API ask it); the permissions here
mirror them so that Django's own screens (the admin index, `perms` in templates) agree:

viewer       view everything of the lab apps
chemist      view everything; add and change the lab records (not MANAGER_ONLY ones); whose
             record a chemist may change is decided per record by lims.rules
lab-manager  everything on the lab apps, plus managing users, groups and API tokens
"""

from __future__ import annotations

from django.apps import apps as global_apps

from lims.rules import MANAGER_ONLY

VIEWER = "viewer"
CHEMIST = "chemist"
LAB_MANAGER = "lab-manager"
LAB_APPS = ("lims", "synthesis", "characterization", "jobs")
PEOPLE = {("auth", "user"), ("auth", "group"), ("authtoken", "token"), ("authtoken", "tokenproxy")}


def sync_role_permissions(sender=None, apps=global_apps, **kwargs) -> None:
    """Create the groups if missing and set their permissions exactly (idempotent)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    viewer, _ = Group.objects.get_or_create(name=VIEWER)
    chemist, _ = Group.objects.get_or_create(name=CHEMIST)
    manager, _ = Group.objects.get_or_create(name=LAB_MANAGER)
    lab_perms = list(
        Permission.objects.filter(content_type__app_label__in=LAB_APPS).select_related(
            "content_type"
        )
    )
    people = [
        p
        for p in Permission.objects.filter(
            content_type__app_label__in=["auth", "authtoken"]
        ).select_related("content_type")
        if (p.content_type.app_label, p.content_type.model) in PEOPLE
    ]
    manager.permissions.set([*lab_perms, *people])
    viewer.permissions.set([p for p in lab_perms if _action(p) == "view"])
    chemist.permissions.set([p for p in lab_perms if _chemist_may(p)])


def _action(perm) -> str:
    return perm.codename.split("_", 1)[0]


def _chemist_may(perm) -> bool:
    label = f"{perm.content_type.app_label}.{perm.content_type.model}"
    action = _action(perm)
    return action == "view" or (action in ("add", "change") and label not in MANAGER_ONLY)
