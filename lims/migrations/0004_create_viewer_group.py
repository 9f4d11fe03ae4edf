"""Create the viewer role (reads everything, writes nothing); its permissions are set after every
migrate (lims.roles)."""

from django.db import migrations


def create_viewer(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="viewer")


def delete_viewer(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="viewer").delete()


class Migration(migrations.Migration):
    dependencies = [("lims", "0003_sample_registry")]

    operations = [migrations.RunPython(create_viewer, delete_viewer)]
