from django.apps import AppConfig


class CharacterizationConfig(AppConfig):
    name = "characterization"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from characterization import cell_import, exports
        from lims import exports as lims_exports
        from lims import sample_import

        lims_exports.register_files(exports.raw_files)
        lims_exports.register_properties(exports.cell_properties)
        sample_import.register_kind_importer("cell", cell_import.CELL_IMPORTER)
