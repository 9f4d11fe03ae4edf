"""Batches: a recipe version made once, its frozen plan, what was weighed and done."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from lims.validators import bound_q, bounded
from lims.voiding import audited_history, void_constraint, void_fields
from synthesis.models.recipes import CoatingBasis

DEFAULT_TOLERANCE_PERCENT = 2.0


class BatchStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


# Allowed moves; services change status only with a conditional UPDATE over these.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    BatchStatus.PLANNED: (BatchStatus.IN_PROGRESS, BatchStatus.FAILED),
    BatchStatus.IN_PROGRESS: (BatchStatus.COMPLETED, BatchStatus.FAILED),
    BatchStatus.COMPLETED: (),
    BatchStatus.FAILED: (),
}
OPEN_STATUSES = (BatchStatus.PLANNED, BatchStatus.IN_PROGRESS)


class SeriesParameter(models.TextChoices):
    COATING_WT_PERCENT = "coating_wt_percent", "Coating wt%"
    CALCINATION_TEMPERATURE_C = "calcination_temperature_c", "Calcination temperature (°C)"
    MASS_G = "mass_g", "Target / substrate mass (g)"


class Series(models.Model):
    """Batches planned together, varying one parameter over a list of values."""

    name = models.CharField(max_length=200)
    recipe = models.ForeignKey("synthesis.Recipe", on_delete=models.PROTECT, related_name="series")
    parameter = models.CharField(max_length=30, choices=SeriesParameter.choices)
    values = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "series"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parameter__in=SeriesParameter.values),
                name="series_parameter_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Batch(models.Model):
    code = models.CharField(max_length=32, unique=True, editable=False)
    recipe = models.ForeignKey("synthesis.Recipe", on_delete=models.PROTECT, related_name="batches")
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.PROTECT, related_name="batches"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="synthesis_batches"
    )
    project = models.ForeignKey("lims.Project", null=True, blank=True, on_delete=models.PROTECT)
    status = models.CharField(
        max_length=12, choices=BatchStatus.choices, default=BatchStatus.PLANNED
    )
    substrate = models.ForeignKey(
        "lims.Sample",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="substrate_of_batches",
    )
    target_mass_g = models.FloatField(
        "target mass (g)",
        null=True,
        blank=True,
        validators=[bounded("batch_mass_g", "target mass")],
    )
    substrate_mass_g = models.FloatField(
        "substrate mass (g)",
        null=True,
        blank=True,
        validators=[bounded("batch_mass_g", "substrate mass")],
    )
    coating_wt_percent = models.FloatField(
        "coating wt%", null=True, blank=True, validators=[bounded("coating_wt_percent")]
    )
    coating_basis = models.CharField(max_length=10, choices=CoatingBasis.choices, blank=True)
    scale = models.FloatField(default=1.0, help_text="Batch mass / recipe reference mass.")
    plan = models.JSONField(default=dict, help_text="The chemistry plan frozen at planning.")
    calcination_temperature_c = models.FloatField(
        null=True, blank=True, db_index=True, validators=[bounded("calcination_temperature_c")]
    )
    calcination_duration_h = models.FloatField(null=True, blank=True)
    tolerance_percent = models.FloatField(
        default=DEFAULT_TOLERANCE_PERCENT, validators=[bounded("tolerance_percent")]
    )
    product = models.OneToOneField(
        "lims.Sample",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="produced_by_batch",
    )
    yield_mass_g = models.FloatField(
        "yield (g)", null=True, blank=True, validators=[bounded("yield_mass_g")]
    )
    failure_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    voided_at, voided_by, void_reason = void_fields()
    history = audited_history()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "batches"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=BatchStatus.values), name="batch_status_known"
            ),
            models.CheckConstraint(
                # Exactly one size: a target mass (synthesis) or a substrate mass (coating).
                condition=(
                    models.Q(target_mass_g__gt=0, substrate_mass_g__isnull=True)
                    | models.Q(target_mass_g__isnull=True, substrate_mass_g__gt=0)
                ),
                name="batch_one_positive_mass",
            ),
            models.CheckConstraint(
                condition=models.Q(coating_wt_percent__isnull=True)
                | (models.Q(coating_wt_percent__gt=0) & models.Q(coating_wt_percent__lt=100)),
                name="batch_wt_percent_range",
            ),
            models.CheckConstraint(
                condition=bound_q("target_mass_g", "batch_mass_g")
                & bound_q("substrate_mass_g", "batch_mass_g"),
                name="batch_mass_at_most_10_kg",
            ),
            models.CheckConstraint(
                condition=bound_q("calcination_temperature_c", "calcination_temperature_c"),
                name="batch_calcination_range",
            ),
            models.CheckConstraint(
                condition=bound_q("tolerance_percent", "tolerance_percent", null=False),
                name="batch_tolerance_range",
            ),
            models.CheckConstraint(condition=models.Q(scale__gt=0), name="batch_scale_positive"),
            models.CheckConstraint(
                condition=bound_q("yield_mass_g", "yield_mass_g"), name="batch_yield_range"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=BatchStatus.COMPLETED) | models.Q(product__isnull=False),
                name="batch_completed_has_product",
            ),
            void_constraint("batch"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.recipe.name}"

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def mass_g(self) -> float:
        return self.substrate_mass_g if self.substrate_mass_g is not None else self.target_mass_g

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def theoretical_yield_g(self) -> float | None:
        """Target mass, or substrate + coating mass for a coating."""
        if self.target_mass_g is not None:
            return self.target_mass_g
        coating = (self.plan.get("coating") or {}).get("mass_g")
        return self.substrate_mass_g + coating if coating is not None else None

    @property
    def yield_percent(self) -> float | None:
        theoretical = self.theoretical_yield_g
        if self.yield_mass_g is None or not theoretical:
            return None
        return 100 * self.yield_mass_g / theoretical


class BatchReagent(models.Model):
    """A reagent line of the batch: planned amount (frozen), lot used, what was weighed."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="reagents")
    line = models.ForeignKey(
        "synthesis.ReagentLine", on_delete=models.PROTECT, related_name="batch_reagents"
    )
    order = models.PositiveSmallIntegerField()
    lot = models.ForeignKey(
        "synthesis.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="uses"
    )
    planned_mass_g = models.FloatField("planned mass (g)", null=True, blank=True)
    planned_volume_ml = models.FloatField("planned volume (mL)", null=True, blank=True)
    actual_mass_g = models.FloatField(
        "actual mass (g)", null=True, blank=True, validators=[bounded("reagent_mass_g")]
    )
    actual_volume_ml = models.FloatField(
        "actual volume (mL)", null=True, blank=True, validators=[bounded("reagent_volume_ml")]
    )
    deviation_percent = models.FloatField("deviation (%)", null=True, blank=True)
    flagged = models.BooleanField(default=False, help_text="Deviation beyond the tolerance.")
    history = audited_history()

    class Meta:
        ordering = ["batch", "order"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="batch_reagent_unique"),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{f}__isnull": True}) | models.Q(**{f"{f}__gt": 0}),
                    name=f"batch_reagent_{f}_positive",
                )
                for f in (
                    "planned_mass_g",
                    "planned_volume_ml",
                    "actual_mass_g",
                    "actual_volume_ml",
                )
            ],
            models.CheckConstraint(
                condition=bound_q("actual_mass_g", "reagent_mass_g")
                & bound_q("actual_volume_ml", "reagent_volume_ml"),
                name="batch_reagent_actual_at_most_100_kg",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch.code} · {self.line.name}"

    @property
    def actual_recorded(self) -> bool:
        return self.actual_mass_g is not None or self.actual_volume_ml is not None


class BatchStepLog(models.Model):
    """What happened at one recipe step of a batch."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="step_logs")
    step = models.ForeignKey("synthesis.RecipeStep", on_delete=models.PROTECT, related_name="logs")
    order = models.PositiveSmallIntegerField()
    done = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    equipment = models.CharField(max_length=120, blank=True, help_text="furnace, stirrer, ...")
    actual_temperature_c = models.FloatField(
        null=True, blank=True, validators=[bounded("temperature_c", "actual temperature")]
    )
    rpm = models.PositiveIntegerField(null=True, blank=True, validators=[bounded("rpm")])
    notes = models.TextField(blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["batch", "order"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "step"], name="step_log_unique"),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(started_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="step_log_ends_after_start",
            ),
            models.CheckConstraint(
                condition=bound_q("actual_temperature_c", "temperature_c"),
                name="step_log_temperature_range",
            ),
            models.CheckConstraint(condition=bound_q("rpm", "rpm"), name="step_log_rpm_range"),
        ]

    def __str__(self) -> str:
        return f"{self.batch.code} step {self.order}"
