from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="WorkerHeartbeat",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("worker", models.CharField(max_length=200)),
                ("token", models.CharField(max_length=64, unique=True)),
                ("received_at", models.DateTimeField()),
                ("written_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["-written_at"]},
        ),
        migrations.AddConstraint(
            model_name="workerheartbeat",
            constraint=models.CheckConstraint(
                condition=~models.Q(worker=""), name="heartbeat_worker_not_empty"
            ),
        ),
    ]
