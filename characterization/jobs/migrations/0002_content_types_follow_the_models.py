from django.db import migrations

# The models that moved from characterization to jobs (jobs 0001), by content type name.
MOVED = (
    "analysisdefinition",
    "analysisjob",
    "analysisresult",
    "historicalanalysisdefinition",
    "historicalanalysisjob",
    "historicalanalysisresult",
)


def move_content_types(apps, schema_editor, source: str, target: str) -> None:
    """Rename the moved models' content types from `source` to `target` app label: the same
    rows, so their permissions, the groups holding those and the admin log entries follow.
    On a new database there are none yet (post_migrate creates them under jobs); a row already
    under `target` is left as it is."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    for model in MOVED:
        if not types.filter(app_label=target, model=model).exists():
            types.filter(app_label=source, model=model).update(app_label=target)


def forwards(apps, schema_editor):
    move_content_types(apps, schema_editor, "characterization", "jobs")


def backwards(apps, schema_editor):
    move_content_types(apps, schema_editor, "jobs", "characterization")


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_analysis_models_from_characterization"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
