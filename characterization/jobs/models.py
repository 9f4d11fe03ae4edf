"""Stored analyses: definitions (which analysis, which parameters), jobs and cached results.

An AnalysisDefinition names a registered analysis kind (code in the repository, never code from
the database) with parameters checked against the kind's schema, and the measurement types it
runs on automatically. An AnalysisJob is one run of a definition on one raw file of a
measurement: it snapshots everything that decides the numbers (kind version, parser version,
cleaned parameters, input SHA-256, the cell's active mass and what else Kiln knows of the cell
(cell_context), and, for a generic table, the column mapping it is read with) and their hash,
the cache key. An AnalysisResult is stored once per cache key, so identical inputs reuse it
instead of computing; it keeps its plausibility warnings beside its numbers.

The tables keep the names they had in the characterization app (Meta.db_table and the history
tables' table_name): the models moved to this app without moving a row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from simple_history.models import HistoricalRecords

from characterization.jobs.definitions import definition_clean
from lims.voiding import audited_history, void_constraint, void_fields


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
_CONTEXT_HELP = (
    "What Kiln knew of the measured cell when the job was queued (electrode role, active "
    "material formula, 1C, declared voltage window, capacity ceiling); part of the cache key."
)
_MAPPING_HELP = (
    "The instrument column mapping a generic table was read with ({name, instrument, mapping}); "
    "empty for files a cycler reader recognised."
)


class AnalysisDefinition(models.Model):
    """A registered analysis kind with its parameters, chosen by the lab managers."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(
        "analysis", max_length=60, help_text="A registered analysis kind (code in the repository)."
    )
    parameters = models.JSONField(
        default=dict, blank=True, help_text="Checked against the analysis' parameter schema."
    )
    auto_run_for = models.JSONField(
        "run automatically for",
        default=list,
        blank=True,
        help_text="Measurement types whose uploaded files start this analysis (those whose "
        "files give the table it reads).",
    )
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(table_name="characterization_historicalanalysisdefinition")

    class Meta:
        db_table = "characterization_analysisdefinition"
        ordering = ["name"]
        permissions = [
            ("manage_analysisdefinition", "Can add and change analysis definitions"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.parameters, self.auto_run_for = definition_clean(
            kind=self.kind, parameters=self.parameters, auto_run_for=self.auto_run_for
        )


_RESULT_NUMBERS = ["summary", "figures", "artifacts", "warnings", "column_mapping", "cell_context"]


class AnalysisResult(models.Model):
    """What one analysis computed, stored once per cache key; artefacts under
    MEDIA_ROOT/results/<cache_key>/ ([{name, path, sha256, size}], path relative to MEDIA_ROOT)."""

    cache_key = models.CharField(max_length=64, unique=True, editable=False)
    kind = models.CharField("analysis", max_length=60)
    kind_version = models.PositiveIntegerField("analysis version")
    parser_version = models.CharField(max_length=20)
    parameters = models.JSONField(default=dict)
    input_checksums = models.JSONField("input SHA-256", default=list)
    active_mass_mg = models.FloatField("active mass (mg)", null=True, blank=True)
    column_mapping = models.JSONField(default=dict, blank=True, help_text=_MAPPING_HELP)
    cell_context = models.JSONField(default=dict, blank=True, help_text=_CONTEXT_HELP)
    summary = models.JSONField(default=dict)
    figures = models.JSONField(default=dict)
    artifacts = models.JSONField(default=list)
    warnings = models.JSONField(
        default=list,
        blank=True,
        help_text="Plausibility warnings: [{code, message, cycles, severity}].",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at, voided_by, void_reason = void_fields()
    # who voided it and why; the numbers themselves never change, so they are not copied
    history = audited_history(
        excluded_fields=_RESULT_NUMBERS, table_name="characterization_historicalanalysisresult"
    )

    class Meta:
        db_table = "characterization_analysisresult"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("cache_key"), 64), name="analysisresult_key_length"
            ),
            void_constraint("analysisresult"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} v{self.kind_version} ({self.cache_key[:12]})"

    def artifact(self, name: str) -> dict | None:
        return next((a for a in self.artifacts if a.get("name") == name), None)

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def flags(self) -> list[dict]:
        """The warnings that say the numbers may be wrong (severity "flag")."""
        return [w for w in self.warnings or [] if w.get("severity") == "flag"]


class AnalysisJob(models.Model):
    """One run of a definition on one raw file of a measurement."""

    definition = models.ForeignKey(
        AnalysisDefinition, on_delete=models.PROTECT, related_name="jobs"
    )
    measurement = models.ForeignKey(
        "characterization.Measurement", on_delete=models.CASCADE, related_name="analysis_jobs"
    )
    raw_file = models.ForeignKey(
        "characterization.RawFile", on_delete=models.PROTECT, related_name="analysis_jobs"
    )
    # What decides the numbers, frozen when the job is created (and the versions re-read by the
    # worker that runs it): the cache key is the SHA-256 of these.
    kind = models.CharField("analysis", max_length=60)
    kind_version = models.PositiveIntegerField("analysis version", null=True, blank=True)
    parser_version = models.CharField(max_length=20, blank=True)
    parameters = models.JSONField(default=dict)
    input_checksums = models.JSONField("input SHA-256", default=list)
    active_mass_mg = models.FloatField("active mass (mg)", null=True, blank=True)
    column_mapping = models.JSONField(default=dict, blank=True, help_text=_MAPPING_HELP)
    cell_context = models.JSONField(default=dict, blank=True, help_text=_CONTEXT_HELP)
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)

    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    # A new token per claim: only the run holding it may report progress or finish the job.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    enqueued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField("sent to the broker", null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    result = models.ForeignKey(
        AnalysisResult, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs"
    )
    reused = models.BooleanField(
        "result reused", default=False, help_text="Identical inputs had been analysed before."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at, voided_by, void_reason = void_fields()
    # Who queued what, when (progress and status move by conditional UPDATEs, which the
    # history does not see: the row's own timestamps, attempts and worker record those).
    history = audited_history(table_name="characterization_historicalanalysisjob")

    class Meta:
        db_table = "characterization_analysisjob"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status"], name="analysisjob_status"),
            models.Index(fields=["measurement", "-created_at"], name="analysisjob_measurement"),
            # the job list's keyset pages (lims.keyset): newest first
            models.Index(fields=["-created_at", "-id"], name="analysisjob_newest_first"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="analysisjob_status_known"
            ),
            models.CheckConstraint(
                condition=Q(progress_percent__gte=0) & Q(progress_percent__lte=100),
                name="analysisjob_progress_percent",
            ),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.SUCCEEDED) | Q(result__isnull=False),
                name="analysisjob_succeeded_has_result",
            ),
            # A double click or a concurrent upload cannot queue the same analysis twice.
            models.UniqueConstraint(
                fields=["definition", "measurement", "raw_file"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="analysisjob_one_active_per_input",
            ),
            void_constraint("analysisjob"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk}: {self.definition} on {self.raw_file.original_name} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def can_cancel(self) -> bool:
        return self.is_active

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
