"""Every write of the core app goes through here, in a transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lims.lineage import ancestor_depths
from lims.models import (
    CODE_PREFIX,
    Project,
    Sample,
    SampleCodeCounter,
    SampleEdge,
    SampleKind,
    SampleStatus,
    WorkerHeartbeat,
)
from lims.validators import raise_problems


@dataclass(frozen=True)
class ParentLink:
    """A parent of a new sample: how it was used and how much of it was consumed."""

    parent: Sample
    role: str
    amount: float | None = None
    amount_unit: str = ""


def sample_code_allocate(*, kind: str, year: int | None = None) -> str:
    """Next code for a kind, e.g. CAT-2026-0042; unique under concurrent creation.

    The counter row is created if missing (ignore_conflicts tolerates a racing insert), then
    locked with SELECT ... FOR UPDATE so that two transactions never receive the same number.
    """
    prefix = CODE_PREFIX[SampleKind(kind)]
    year = year or timezone.localdate().year
    with transaction.atomic():
        SampleCodeCounter.objects.bulk_create(
            [SampleCodeCounter(prefix=prefix, year=year)], ignore_conflicts=True
        )
        counter = SampleCodeCounter.objects.select_for_update().get(prefix=prefix, year=year)
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{prefix}-{year}-{counter.last:04d}"


def sample_codes_allocate(*, kind: str, count: int, year: int | None = None) -> list[str]:
    """`count` consecutive new codes for a kind under one lock of its counter (bulk import)."""
    prefix = CODE_PREFIX[SampleKind(kind)]
    year = year or timezone.localdate().year
    with transaction.atomic():
        SampleCodeCounter.objects.bulk_create(
            [SampleCodeCounter(prefix=prefix, year=year)], ignore_conflicts=True
        )
        counter = SampleCodeCounter.objects.select_for_update().get(prefix=prefix, year=year)
        first = counter.last + 1
        counter.last += count
        counter.save(update_fields=["last"])
    return [f"{prefix}-{year}-{number:04d}" for number in range(first, first + count)]


@transaction.atomic
def sample_register(
    *,
    kind: str,
    name: str,
    owner=None,
    formula: str = "",
    status: str = SampleStatus.ACTIVE,
    location: str = "",
    project: Project | None = None,
    notes: str = "",
    parents: Iterable[ParentLink] = (),
    initial_mass_g: float | None = None,
) -> Sample:
    """Create a sample with a fresh code and link it to its parents in one transaction;
    `initial_mass_g` starts the stock of a powder no batch made (lims.stock)."""
    if kind not in SampleKind.values:
        raise ValidationError({"kind": f"unknown sample kind {kind!r}"})
    if not name.strip():
        raise ValidationError({"name": "a sample needs a name"})
    raise_problems([("initial_mass_g", "powder_amount_g", initial_mass_g)])
    sample = Sample.objects.create(
        code=sample_code_allocate(kind=kind),
        kind=kind,
        name=name.strip(),
        formula=formula,
        status=status,
        location=location,
        owner=owner,
        project=project,
        notes=notes,
        initial_mass_g=initial_mass_g,
    )
    for link in parents:
        lineage_link(parent=link.parent, child=sample, role=link.role, amount=link.amount,
                     amount_unit=link.amount_unit)  # fmt: skip
    return sample


@transaction.atomic
def lineage_link(
    *, parent: Sample, child: Sample, role: str, amount: float | None = None, amount_unit: str = ""
) -> SampleEdge:
    """Add parent -> child; refused when the child is already an ancestor of the parent."""
    if parent.pk == child.pk:
        raise ValidationError({"parent": f"{parent.code} cannot be its own parent"})
    # Lock both ends so that two concurrent links cannot close a cycle between them.
    list(Sample.objects.select_for_update().filter(pk__in=[parent.pk, child.pk]))
    if child.pk in ancestor_depths(parent.pk):
        raise ValidationError(
            {"parent": f"{parent.code} descends from {child.code}; linking would make a cycle"}
        )
    if amount is not None and amount < 0:
        raise ValidationError({"amount": "the amount consumed cannot be negative"})
    edge, _ = SampleEdge.objects.get_or_create(
        parent=parent, child=child, role=role,
        defaults={"amount": amount, "amount_unit": amount_unit},
    )  # fmt: skip
    return edge


@transaction.atomic
def heartbeat_record(*, worker: str, token: str, received_at: datetime) -> WorkerHeartbeat:
    """Record that `worker` ran the heartbeat task; idempotent per token (redelivery-safe)."""
    heartbeat, _ = WorkerHeartbeat.objects.get_or_create(
        token=token, defaults={"worker": worker, "received_at": received_at}
    )
    return heartbeat
