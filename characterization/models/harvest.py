"""What the cycler PCs' harvesters sent (characterization.harvest): each file on a PC, every
version of it received, and the channel -> cell assignments that place files without a code.

A HarvestedFile is one file on one PC, named by (source, path); while it has no measurement it
is listed on /measurements/unplaced/ for someone to assign. A running test grows its file: each
new content is a HarvestVersion (a RawFile stored once by SHA-256); older versions stay linked to
the measurement, voided as superseded, so the analyses run on the newest only.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from characterization.models.measurements import Measurement, RawFile


class Placement(models.TextChoices):
    CODE = "code", "Sample code in the file name or a folder"
    CHANNEL = "channel", "Channel assignment"
    ASSIGNED = "assigned", "Assigned by hand"


class HarvestedFile(models.Model):
    """One file on one cycler PC; its measurement once placed (none: unplaced, listed)."""

    source = models.CharField(max_length=120, help_text="The harvester's name (the PC).")
    path = models.CharField(max_length=500, help_text="Relative to the watched folder.")
    channel = models.CharField(max_length=60, blank=True)
    measurement = models.ForeignKey(
        Measurement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="harvested_files",
    )
    placement = models.CharField(max_length=10, choices=Placement.choices, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "path"], name="harvested_file_once"),
            models.CheckConstraint(
                condition=~Q(source="") & ~Q(path=""), name="harvested_file_named"
            ),
            models.CheckConstraint(
                condition=Q(measurement__isnull=True, placement="", placed_at__isnull=True)
                | Q(
                    measurement__isnull=False,
                    placement__in=Placement.values,
                    placed_at__isnull=False,
                ),
                name="harvested_file_placed_all_or_none",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.path}"


class HarvestVersion(models.Model):
    """One content of a harvested file as it was received."""

    harvested_file = models.ForeignKey(
        HarvestedFile, on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField()
    raw_file = models.ForeignKey(RawFile, on_delete=models.PROTECT, related_name="harvests")
    file_mtime = models.DateTimeField(
        null=True, blank=True, help_text="When the file was last written, by the PC's clock."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["harvested_file", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["harvested_file", "version"], name="harvest_version_once"
            ),
            models.UniqueConstraint(
                fields=["harvested_file", "raw_file"], name="harvest_content_once"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="harvest_version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.harvested_file} v{self.version}"


class ChannelAssignment(models.Model):
    """A cycler channel holds a cell from `valid_from` until `valid_to` (open: still there)."""

    source = models.CharField(max_length=120, help_text="The harvester's name (the PC).")
    channel = models.CharField(max_length=60, help_text='As the harvester sends it: "unit3-ch5".')
    cell = models.ForeignKey(
        "lims.Sample",
        on_delete=models.PROTECT,
        related_name="channel_assignments",
        limit_choices_to={"kind": "cell"},
    )
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["source", "channel", "-valid_from"]
        indexes = [models.Index(fields=["source", "channel", "valid_from"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source="") & ~Q(channel=""), name="channel_assignment_named"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="channel_assignment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.channel} → {self.cell_id}"

    def clean(self) -> None:
        """A cell, and no other assignment of the channel overlapping this one (checked here:
        SQLite, the quickstart's database, has no exclusion constraints)."""
        if self.cell_id and self.cell.kind != "cell":
            raise ValidationError({"cell": f"{self.cell.code} is not a cell."})
        overlapping = ChannelAssignment.objects.filter(
            source=self.source, channel=self.channel
        ).exclude(pk=self.pk)
        if self.valid_to is not None:
            overlapping = overlapping.filter(valid_from__lt=self.valid_to)
        if self.valid_from is not None:
            overlapping = overlapping.filter(
                Q(valid_to__isnull=True) | Q(valid_to__gt=self.valid_from)
            )
        clash = overlapping.select_related("cell").first()
        if clash is not None:
            raise ValidationError(
                {"valid_from": f"{self.channel} on {self.source} holds {clash.cell.code} then."}
            )
