"""Core registry: projects, samples with never-changing codes, and the lineage graph."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from simple_history.models import HistoricalRecords

from lims.validators import bound_q, bounded
from lims.voiding import audited_history, void_constraint, void_fields


class Project(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.name


class SampleKind(models.TextChoices):
    """Every kind carries the prefix of its codes (CAT-2026-0042)."""

    REAGENT = "reagent", "Reagent lot"
    PRECURSOR = "precursor", "Precursor powder"
    CATHODE = "cathode", "Cathode powder"
    ELECTRODE = "electrode", "Electrode sheet"
    DISC = "disc", "Electrode disc"
    CELL = "cell", "Coin cell"
    MEASUREMENT = "measurement", "Measurement"
    OTHER = "other", "Other"


#: kinds whose stock in grams is followed (lims.stock): what electrodes and batches draw on
POWDER_KINDS = (SampleKind.PRECURSOR, SampleKind.CATHODE)

CODE_PREFIX = {
    SampleKind.REAGENT: "RGT",
    SampleKind.PRECURSOR: "PRE",
    SampleKind.CATHODE: "CAT",
    SampleKind.ELECTRODE: "ELE",
    SampleKind.DISC: "DISC",
    SampleKind.CELL: "CELL",
    SampleKind.MEASUREMENT: "MEAS",
    SampleKind.OTHER: "SMP",
}


class SampleStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CONSUMED = "consumed", "Consumed"
    DISCARDED = "discarded", "Discarded"


class Sample(models.Model):
    code = models.CharField(max_length=32, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=SampleKind.choices)
    name = models.CharField(max_length=200)
    formula = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        max_length=12, choices=SampleStatus.choices, default=SampleStatus.ACTIVE
    )
    location = models.CharField(max_length=120, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    notes = models.TextField(blank=True)
    # A powder's stock before any draw when no batch made it (a batch's yield wins): lims.stock
    initial_mass_g = models.FloatField(
        "initial amount (g)", null=True, blank=True, validators=[bounded("powder_amount_g")]
    )
    voided_at, voided_by, void_reason = void_fields()
    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the API's cursor pages and the list page: newest first, all kinds or one kind
            models.Index(fields=["-created_at", "-id"], name="sample_newest_first"),
            models.Index(fields=["kind", "-created_at", "-id"], name="sample_kind_newest_first"),
            # sample_by_code looks codes up in any case (code__iexact)
            models.Index(Upper("code"), name="sample_code_upper"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(code=""), name="sample_code_not_empty"),
            models.CheckConstraint(
                condition=models.Q(kind__in=SampleKind.values), name="sample_kind_known"
            ),
            models.CheckConstraint(
                condition=bound_q("initial_mass_g", "powder_amount_g"),
                name="sample_initial_mass_range",
            ),
            void_constraint("sample"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class SampleCodeCounter(models.Model):
    """The last sequence number handed out per code prefix and year (locked while allocating)."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="code_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class EdgeRole(models.TextChoices):
    SUBSTRATE = "substrate", "Substrate"
    REAGENT = "reagent", "Reagent"
    ACTIVE_MATERIAL = "active_material", "Active material"
    COMPONENT = "component", "Component"
    DERIVED_FROM = "derived_from", "Derived from"
    MEASURED_ON = "measured_on", "Measured on"


class SampleEdge(models.Model):
    """parent -> child in the lineage DAG; a cycle is refused by lims.services.lineage_link."""

    parent = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="child_edges")
    child = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="parent_edges")
    role = models.CharField(max_length=20, choices=EdgeRole.choices)
    amount = models.FloatField(null=True, blank=True)
    amount_unit = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = audited_history()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["parent", "child", "role"], name="edge_unique"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("child")), name="edge_not_self"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gte=0),
                name="edge_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} -> {self.child_id} ({self.role})"


class WorkerHeartbeat(models.Model):
    """Written by a Celery worker when asked to prove it is alive (see lims.tasks)."""

    worker = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField()
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-written_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(worker=""), name="heartbeat_worker_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker} at {self.written_at:%Y-%m-%d %H:%M:%S}"


class TransferKind(models.TextChoices):
    ELN = "eln", ".eln archive"
    SAMPLES = "samples", "sample list export"
    ADMIN = "admin", "admin list export"
    IMPORT = "import", "sample import"


class TransferStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"


class Transfer(models.Model):
    """An export or import run on the worker (lims.transfers), so no web request builds a large
    file: who asked, its progress, the file it wrote (or read) under MEDIA_ROOT/transfers/."""

    kind = models.CharField(max_length=12, choices=TransferKind.choices)
    status = models.CharField(
        max_length=12, choices=TransferStatus.choices, default=TransferStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)  # what to export, or the import's options
    title = models.CharField(max_length=200)  # "CELL-2026-0001 with its lineage (.eln)"
    progress_percent = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    file_path = models.CharField(max_length=500, blank=True)  # relative to MEDIA_ROOT
    file_name = models.CharField(max_length=255, blank=True)  # the download's name
    size_bytes = models.BigIntegerField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)  # an import's report
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress_percent__lte=100), name="transfer_progress_percent"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=TransferKind.values), name="transfer_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TransferStatus.values),
                name="transfer_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display().lower()})"

    @property
    def is_active(self) -> bool:
        return self.status in (TransferStatus.QUEUED, TransferStatus.RUNNING)


from lims.stock_models import StockCorrection  # noqa: E402, F401
from lims.token_models import ApiToken  # noqa: E402, F401  (the app loads its models from here)
