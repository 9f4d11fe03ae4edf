"""Corrections of a powder's stock (imported by lims.models): a signed amount with who, when and
why. Rows are only added, never changed: a wrong correction is undone by another one."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from lims.validators import bound_q
from lims.voiding import audited_history


class StockCorrection(models.Model):
    """+ for powder found or returned, − for a loss (spilled, taken for XRD); lims.stock adds
    these to the initial amount minus what was drawn."""

    sample = models.ForeignKey(
        "lims.Sample", on_delete=models.PROTECT, related_name="stock_corrections"
    )
    delta_g = models.FloatField("change (g)")
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    history = audited_history()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=bound_q("delta_g", "stock_correction_g", null=False)
                & ~models.Q(delta_g=0),
                name="stock_correction_delta_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="stock_correction_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delta_g:+g} g on sample {self.sample_id}"
