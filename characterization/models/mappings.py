"""Column mappings of generic CSV/XLSX tables, saved per instrument and table kind.

Files whose content no reader recognises are read through the mapping of their measurement's
instrument (Measurement.instrument, compared without regard to case) for the table kind the
analysis reads (cycling, impedance, ...); the mapping JSON is checked by building that kind's
pure mapping (parsers.mappings_by_kind).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from characterization.parsers.mapped import MappingError
from characterization.parsers.mappings_by_kind import mapping_of
from characterization.parsers.schema import TABLE_KINDS

TABLE_KIND_CHOICES = [(kind, kind.replace("_", " ")) for kind in TABLE_KINDS]


class InstrumentMapping(models.Model):
    """Which column of an instrument's generic export holds which quantity, in which unit."""

    name = models.CharField(max_length=120, unique=True)
    instrument = models.CharField(
        max_length=120,
        help_text="As entered in the measurements' instrument field (case does not matter).",
    )
    table_kind = models.CharField(
        max_length=20,
        choices=TABLE_KIND_CHOICES,
        default="cycling",
        help_text="The table the mapping reads: cycling, impedance, potential steps, ...",
    )
    mapping = models.JSONField(
        default=dict,
        help_text="The column mapping of its table kind (see characterization.parsers."
        "mappings_by_kind).",
    )
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("instrument"),
                "table_kind",
                name="instrumentmapping_one_per_instrument_kind",
                violation_error_message=(
                    "This instrument already has a column mapping for this table kind."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(instrument=""), name="instrumentmapping_instrument_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.instrument}, {self.get_table_kind_display()})"

    def column_mapping(self) -> Any:
        """The pure mapping of its table kind (MappingError if the stored JSON does not make
        one: parsers.mapped.ColumnMapping for cycling, ImpedanceColumnMapping, ...)."""
        return mapping_of(self.table_kind, self.mapping, name=self.name)

    def snapshot(self) -> dict:
        """What a job records of the mapping it parsed with (its provenance and cache key).
        A cycling snapshot names no table kind: it stays what jobs recorded before there were
        mappings of other kinds (their cache keys unchanged)."""
        data = {
            "name": self.name,
            "instrument": self.instrument,
            "mapping": self.stored_mapping(),
        }
        if self.table_kind != "cycling":
            data["table_kind"] = self.table_kind
        return data

    def stored_mapping(self) -> dict:
        """The mapping's JSON, normalised (every key with its default), without the name."""
        return {k: v for k, v in self.column_mapping().to_dict().items() if k != "name"}

    def clean_fields(self, exclude=None) -> None:
        """The mapping is checked here, not in clean(), so that a form without the JSON field
        (the admin's, which checks its own fields) does not get an error it cannot show."""
        self.instrument = self.instrument.strip()
        super().clean_fields(exclude=exclude)
        if exclude and ("mapping" in exclude or "table_kind" in exclude):
            return
        try:
            self.mapping = self.stored_mapping()
        except MappingError as exc:
            kind = self.get_table_kind_display()
            raise ValidationError({"mapping": [f"{exc} (table kind: {kind})"]}) from None

    @classmethod
    def for_instrument(
        cls, instrument: str, table_kind: str = "cycling"
    ) -> InstrumentMapping | None:
        """The instrument's mapping for the table kind (None: it has none)."""
        instrument = (instrument or "").strip()
        if not instrument:
            return None
        return cls.objects.filter(instrument__iexact=instrument, table_kind=table_kind).first()
