from django.apps import AppConfig


class LimsConfig(AppConfig):
    name = "lims"
    verbose_name = "Kiln registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from lims.roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="kiln-sync-roles")
