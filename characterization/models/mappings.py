"""Column mappings of generic CSV/XLSX tables, saved once per instrument.

Files whose content no cycler reader recognises are read through the mapping of their
measurement's instrument (Measurement.instrument, compared without regard to case); the
mapping JSON is checked by building the pure parsers.mapped.ColumnMapping from it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from characterization.parsers.mapped import ColumnMapping, MappingError


class InstrumentMapping(models.Model):
    """Which column of an instrument's generic export holds which quantity, in which unit."""

    name = models.CharField(max_length=120, unique=True)
    instrument = models.CharField(
        max_length=120,
        help_text="As entered in the measurements' instrument field (case does not matter).",
    )
    mapping = models.JSONField(
        default=dict, help_text="The column mapping (see characterization.parsers.mapped)."
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
                name="instrumentmapping_one_per_instrument",
                violation_error_message="This instrument already has a column mapping.",
            ),
            models.CheckConstraint(
                condition=~Q(instrument=""), name="instrumentmapping_instrument_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.instrument})"

    def column_mapping(self) -> ColumnMapping:
        """The pure mapping (MappingError if the stored JSON is incomplete)."""
        return ColumnMapping.from_dict(self.mapping, name=self.name)

    def snapshot(self) -> dict:
        """What a job records of the mapping it parsed with (its provenance and cache key)."""
        return {
            "name": self.name,
            "instrument": self.instrument,
            "mapping": self.column_mapping().to_dict(),
        }

    def clean_fields(self, exclude=None) -> None:
        """The mapping is checked here, not in clean(), so that a form without the JSON field
        (the admin's, which checks its own fields) does not get an error it cannot show."""
        self.instrument = self.instrument.strip()
        super().clean_fields(exclude=exclude)
        if exclude and "mapping" in exclude:
            return
        try:
            self.mapping = self.column_mapping().to_dict()
        except MappingError as exc:
            raise ValidationError({"mapping": [str(exc)]}) from None

    @classmethod
    def for_instrument(cls, instrument: str) -> InstrumentMapping | None:
        instrument = (instrument or "").strip()
        if not instrument:
            return None
        return cls.objects.filter(instrument__iexact=instrument).first()
