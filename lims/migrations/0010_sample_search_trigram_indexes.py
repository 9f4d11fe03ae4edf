"""Sample search through trigram indexes (PostgreSQL's pg_trgm): the list's `q` matches code,
name or formula in any case (`UPPER(col) LIKE UPPER('%term%')`), which these GIN indexes answer
without reading the table. Not declared on the model: SQLite (the quickstart) has no GIN, and
its search stays a scan, which a quickstart's few thousand samples do not feel."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

COLUMNS = ("code", "name", "formula")


def _run(apps, schema_editor, template: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(template.format(column=column))


def create(apps, schema_editor) -> None:
    _run(apps, schema_editor, "CREATE INDEX IF NOT EXISTS sample_{column}_trgm ON lims_sample "
         "USING gin (UPPER({column}::text) gin_trgm_ops)")  # fmt: skip


def drop(apps, schema_editor) -> None:
    _run(apps, schema_editor, "DROP INDEX IF EXISTS sample_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("lims", "0009_sample_list_indexes")]

    operations = [TrigramExtension(), migrations.RunPython(create, drop)]
