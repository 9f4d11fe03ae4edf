from django.apps import AppConfig


class CharacterizationConfig(AppConfig):
    name = "characterization"
    default_auto_field = "django.db.models.BigAutoField"
