import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The analysis models join this app in Django's state only: their tables keep their names
    (Meta.db_table), so not a row moves. characterization 0007 then drops them from its state,
    and 0002 moves their content types (permissions, group permissions, admin log entries)."""

    initial = True

    dependencies = [
        ("characterization", "0006_void_records_and_result_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AnalysisDefinition",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=120, unique=True)),
                        (
                            "kind",
                            models.CharField(
                                help_text="A registered analysis kind (code in the repository).",
                                max_length=60,
                                verbose_name="analysis",
                            ),
                        ),
                        (
                            "parameters",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="Checked against the analysis' parameter schema.",
                            ),
                        ),
                        (
                            "auto_run_for",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="Measurement types whose uploaded files start this analysis (those whose files give the table it reads).",
                                verbose_name="run automatically for",
                            ),
                        ),
                        ("enabled", models.BooleanField(default=True)),
                        ("description", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "characterization_analysisdefinition",
                        "ordering": ["name"],
                        "permissions": [
                            ("manage_analysisdefinition", "Can add and change analysis definitions")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="AnalysisResult",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("cache_key", models.CharField(editable=False, max_length=64, unique=True)),
                        ("kind", models.CharField(max_length=60, verbose_name="analysis")),
                        (
                            "kind_version",
                            models.PositiveIntegerField(verbose_name="analysis version"),
                        ),
                        ("parser_version", models.CharField(max_length=20)),
                        ("parameters", models.JSONField(default=dict)),
                        (
                            "input_checksums",
                            models.JSONField(default=list, verbose_name="input SHA-256"),
                        ),
                        (
                            "active_mass_mg",
                            models.FloatField(
                                blank=True, null=True, verbose_name="active mass (mg)"
                            ),
                        ),
                        (
                            "column_mapping",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="The instrument column mapping a generic table was read with ({name, instrument, mapping}); empty for files a cycler reader recognised.",
                            ),
                        ),
                        (
                            "cell_context",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="What Kiln knew of the measured cell when the job was queued (electrode role, active material formula, 1C, declared voltage window, capacity ceiling); part of the cache key.",
                            ),
                        ),
                        ("summary", models.JSONField(default=dict)),
                        ("figures", models.JSONField(default=dict)),
                        ("artifacts", models.JSONField(default=list)),
                        (
                            "warnings",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="Plausibility warnings: [{code, message, cycles, severity}].",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "voided_at",
                            models.DateTimeField(
                                blank=True,
                                db_index=True,
                                editable=False,
                                null=True,
                                verbose_name="voided at",
                            ),
                        ),
                        (
                            "void_reason",
                            models.TextField(
                                blank=True, editable=False, verbose_name="reason it is void"
                            ),
                        ),
                        (
                            "voided_by",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="voided by",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "characterization_analysisresult",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="AnalysisJob",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("kind", models.CharField(max_length=60, verbose_name="analysis")),
                        (
                            "kind_version",
                            models.PositiveIntegerField(
                                blank=True, null=True, verbose_name="analysis version"
                            ),
                        ),
                        ("parser_version", models.CharField(blank=True, max_length=20)),
                        ("parameters", models.JSONField(default=dict)),
                        (
                            "input_checksums",
                            models.JSONField(default=list, verbose_name="input SHA-256"),
                        ),
                        (
                            "active_mass_mg",
                            models.FloatField(
                                blank=True, null=True, verbose_name="active mass (mg)"
                            ),
                        ),
                        (
                            "column_mapping",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="The instrument column mapping a generic table was read with ({name, instrument, mapping}); empty for files a cycler reader recognised.",
                            ),
                        ),
                        (
                            "cell_context",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="What Kiln knew of the measured cell when the job was queued (electrode role, active material formula, 1C, declared voltage window, capacity ceiling); part of the cache key.",
                            ),
                        ),
                        ("cache_key", models.CharField(blank=True, db_index=True, max_length=64)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("running", "Running"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                    ("cancelled", "Cancelled"),
                                ],
                                default="queued",
                                max_length=12,
                            ),
                        ),
                        ("progress_percent", models.PositiveSmallIntegerField(default=0)),
                        ("progress_message", models.CharField(blank=True, max_length=200)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("worker", models.CharField(blank=True, max_length=200)),
                        ("claim_token", models.UUIDField(blank=True, editable=False, null=True)),
                        ("enqueued_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "sent_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="sent to the broker"
                            ),
                        ),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("error", models.TextField(blank=True)),
                        (
                            "reused",
                            models.BooleanField(
                                default=False,
                                help_text="Identical inputs had been analysed before.",
                                verbose_name="result reused",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "voided_at",
                            models.DateTimeField(
                                blank=True,
                                db_index=True,
                                editable=False,
                                null=True,
                                verbose_name="voided at",
                            ),
                        ),
                        (
                            "void_reason",
                            models.TextField(
                                blank=True, editable=False, verbose_name="reason it is void"
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "definition",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="jobs",
                                to="jobs.analysisdefinition",
                            ),
                        ),
                        (
                            "measurement",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="analysis_jobs",
                                to="characterization.measurement",
                            ),
                        ),
                        (
                            "raw_file",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="analysis_jobs",
                                to="characterization.rawfile",
                            ),
                        ),
                        (
                            "voided_by",
                            models.ForeignKey(
                                blank=True,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="voided by",
                            ),
                        ),
                        (
                            "result",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="jobs",
                                to="jobs.analysisresult",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "characterization_analysisjob",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="HistoricalAnalysisDefinition",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(db_index=True, max_length=120)),
                        (
                            "kind",
                            models.CharField(
                                help_text="A registered analysis kind (code in the repository).",
                                max_length=60,
                                verbose_name="analysis",
                            ),
                        ),
                        (
                            "parameters",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="Checked against the analysis' parameter schema.",
                            ),
                        ),
                        (
                            "auto_run_for",
                            models.JSONField(
                                blank=True,
                                default=list,
                                help_text="Measurement types whose uploaded files start this analysis (those whose files give the table it reads).",
                                verbose_name="run automatically for",
                            ),
                        ),
                        ("enabled", models.BooleanField(default=True)),
                        ("description", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(blank=True, editable=False)),
                        ("updated_at", models.DateTimeField(blank=True, editable=False)),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")],
                                max_length=1,
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical analysis definition",
                        "verbose_name_plural": "historical analysis definitions",
                        "db_table": "characterization_historicalanalysisdefinition",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalAnalysisJob",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        ("kind", models.CharField(max_length=60, verbose_name="analysis")),
                        (
                            "kind_version",
                            models.PositiveIntegerField(
                                blank=True, null=True, verbose_name="analysis version"
                            ),
                        ),
                        ("parser_version", models.CharField(blank=True, max_length=20)),
                        ("parameters", models.JSONField(default=dict)),
                        (
                            "input_checksums",
                            models.JSONField(default=list, verbose_name="input SHA-256"),
                        ),
                        (
                            "active_mass_mg",
                            models.FloatField(
                                blank=True, null=True, verbose_name="active mass (mg)"
                            ),
                        ),
                        (
                            "column_mapping",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="The instrument column mapping a generic table was read with ({name, instrument, mapping}); empty for files a cycler reader recognised.",
                            ),
                        ),
                        (
                            "cell_context",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="What Kiln knew of the measured cell when the job was queued (electrode role, active material formula, 1C, declared voltage window, capacity ceiling); part of the cache key.",
                            ),
                        ),
                        ("cache_key", models.CharField(blank=True, db_index=True, max_length=64)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "Queued"),
                                    ("running", "Running"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                    ("cancelled", "Cancelled"),
                                ],
                                default="queued",
                                max_length=12,
                            ),
                        ),
                        ("progress_percent", models.PositiveSmallIntegerField(default=0)),
                        ("progress_message", models.CharField(blank=True, max_length=200)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("worker", models.CharField(blank=True, max_length=200)),
                        ("claim_token", models.UUIDField(blank=True, editable=False, null=True)),
                        ("enqueued_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "sent_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="sent to the broker"
                            ),
                        ),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("error", models.TextField(blank=True)),
                        (
                            "reused",
                            models.BooleanField(
                                default=False,
                                help_text="Identical inputs had been analysed before.",
                                verbose_name="result reused",
                            ),
                        ),
                        ("created_at", models.DateTimeField(blank=True, editable=False)),
                        (
                            "voided_at",
                            models.DateTimeField(
                                blank=True,
                                db_index=True,
                                editable=False,
                                null=True,
                                verbose_name="voided at",
                            ),
                        ),
                        (
                            "void_reason",
                            models.TextField(
                                blank=True, editable=False, verbose_name="reason it is void"
                            ),
                        ),
                        ("history_change_reason", models.TextField(null=True)),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")],
                                max_length=1,
                            ),
                        ),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "definition",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="jobs.analysisdefinition",
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "measurement",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="characterization.measurement",
                            ),
                        ),
                        (
                            "raw_file",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="characterization.rawfile",
                            ),
                        ),
                        (
                            "result",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="jobs.analysisresult",
                            ),
                        ),
                        (
                            "voided_by",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="voided by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical analysis job",
                        "verbose_name_plural": "historical analysis jobs",
                        "db_table": "characterization_historicalanalysisjob",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalAnalysisResult",
                    fields=[
                        (
                            "id",
                            models.BigIntegerField(
                                auto_created=True, blank=True, db_index=True, verbose_name="ID"
                            ),
                        ),
                        (
                            "cache_key",
                            models.CharField(db_index=True, editable=False, max_length=64),
                        ),
                        ("kind", models.CharField(max_length=60, verbose_name="analysis")),
                        (
                            "kind_version",
                            models.PositiveIntegerField(verbose_name="analysis version"),
                        ),
                        ("parser_version", models.CharField(max_length=20)),
                        ("parameters", models.JSONField(default=dict)),
                        (
                            "input_checksums",
                            models.JSONField(default=list, verbose_name="input SHA-256"),
                        ),
                        (
                            "active_mass_mg",
                            models.FloatField(
                                blank=True, null=True, verbose_name="active mass (mg)"
                            ),
                        ),
                        ("created_at", models.DateTimeField(blank=True, editable=False)),
                        (
                            "voided_at",
                            models.DateTimeField(
                                blank=True,
                                db_index=True,
                                editable=False,
                                null=True,
                                verbose_name="voided at",
                            ),
                        ),
                        (
                            "void_reason",
                            models.TextField(
                                blank=True, editable=False, verbose_name="reason it is void"
                            ),
                        ),
                        ("history_change_reason", models.TextField(null=True)),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")],
                                max_length=1,
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "voided_by",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                editable=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="voided by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical analysis result",
                        "verbose_name_plural": "historical analysis results",
                        "db_table": "characterization_historicalanalysisresult",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.AddIndex(
                    model_name="analysisresult",
                    index=models.Index(
                        fields=["kind", "-created_at"], name="characteriz_kind_22b0e7_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="analysisresult",
                    constraint=models.CheckConstraint(
                        condition=django.db.models.lookups.Exact(
                            django.db.models.functions.text.Length("cache_key"), 64
                        ),
                        name="analysisresult_key_length",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="analysisresult",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("void_reason", ""),
                                ("voided_at__isnull", True),
                                ("voided_by__isnull", True),
                            ),
                            models.Q(
                                ("voided_at__isnull", False),
                                ("voided_by__isnull", False),
                                models.Q(("void_reason", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="analysisresult_void_all_or_none",
                    ),
                ),
                migrations.AddIndex(
                    model_name="analysisjob",
                    index=models.Index(fields=["status"], name="analysisjob_status"),
                ),
                migrations.AddIndex(
                    model_name="analysisjob",
                    index=models.Index(
                        fields=["measurement", "-created_at"], name="analysisjob_measurement"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="analysisjob",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            (
                                "status__in",
                                ["queued", "running", "succeeded", "failed", "cancelled"],
                            )
                        ),
                        name="analysisjob_status_known",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="analysisjob",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("progress_percent__gte", 0), ("progress_percent__lte", 100)
                        ),
                        name="analysisjob_progress_percent",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="analysisjob",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "succeeded"), _negated=True),
                            ("result__isnull", False),
                            _connector="OR",
                        ),
                        name="analysisjob_succeeded_has_result",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="analysisjob",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status__in", ("queued", "running"))),
                        fields=("definition", "measurement", "raw_file"),
                        name="analysisjob_one_active_per_input",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="analysisjob",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("void_reason", ""),
                                ("voided_at__isnull", True),
                                ("voided_by__isnull", True),
                            ),
                            models.Q(
                                ("voided_at__isnull", False),
                                ("voided_by__isnull", False),
                                models.Q(("void_reason", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="analysisjob_void_all_or_none",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
