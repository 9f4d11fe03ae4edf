"""Corrections and voids of samples: each in one transaction with one audit row and its reason.

A sample is never deleted: it is voided (kept, marked, hidden from lists) and its lineage stays
whole; its descendants are not voided, their pages say that an ancestor is. A measurement is a
sample and a measurement row at once: voiding either voids both.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from lims.models import Sample
from lims.voiding import Change, record_correct, record_void, refuse_void, void_along

#: what a correction may change on a sample (the code, kind and owner never change)
SAMPLE_FIELDS = ("name", "location", "notes")


@transaction.atomic
def sample_correct(*, sample: Sample, user, reason: str, **values) -> list[Change]:
    """Correct the name, location or notes of a sample, with a reason (one audit row)."""
    unknown = set(values) - set(SAMPLE_FIELDS)
    if unknown:
        raise TypeError(f"sample_correct cannot change {sorted(unknown)}")
    locked = Sample.objects.select_for_update().get(pk=sample.pk)
    refuse_void(locked)
    cleaned = {name: str(value).strip() for name, value in values.items() if value is not None}
    if "name" in cleaned and not cleaned["name"]:
        raise ValidationError({"name": f"{locked.code} needs a name."})
    return record_correct(record=locked, user=user, reason=reason, values=cleaned)


@transaction.atomic
def sample_void(*, sample: Sample, user, reason: str) -> Sample:
    """Void a sample (a measurement's sample voids its measurement row too); its descendants
    stay as they are."""
    voided = record_void(record=sample, user=user, reason=reason)
    measurement = getattr(voided, "measurement", None)
    if measurement is not None and measurement.voided_at is None:
        void_along(measurement, voided, user=user)
    return voided
