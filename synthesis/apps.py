from django.apps import AppConfig


class SynthesisConfig(AppConfig):
    name = "synthesis"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from synthesis import lineage_filters, panels

        panels.register()
        lineage_filters.register()
