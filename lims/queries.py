"""Reads shared by the core pages and the API."""

from __future__ import annotations

from django.apps import apps

from lims import health
from lims.models import Sample, SampleKind, WorkerHeartbeat
from lims.roles import CHEMIST, LAB_MANAGER


def system_health() -> dict:
    return {"database": health.database_state(), "broker": health.broker_state()}


def last_heartbeat() -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.first()


def heartbeat_for(token: str) -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.filter(token=token).first() if token else None


def role_label(user) -> str:
    names = set(user.groups.values_list("name", flat=True))
    if user.is_superuser or LAB_MANAGER in names:
        return "Lab manager"
    return "Chemist" if CHEMIST in names else "Guest"


def dashboard_cards() -> list[dict]:
    """One card per section, counting what each app has (apps not built yet count 0); void
    records are kept but not counted."""
    samples = Sample.objects.filter(voided_at__isnull=True)
    cells = samples.filter(kind=SampleKind.CELL).count()
    return [
        {"title": "Samples", "section": "samples", "count": samples.count(),
         "hint": "powders, electrodes, cells"},
        {"title": "Synthesis", "section": "synthesis",
         "count": _count("synthesis", "Batch", voided_at__isnull=True),
         "hint": "batches planned and made"},
        {"title": "Cells", "section": "cells", "count": cells, "hint": "coin cells built"},
        {"title": "Jobs", "section": "jobs",
         "count": _count("jobs", "AnalysisJob", status__in=["queued", "running"]),
         "hint": "analyses queued or running"},
    ]  # fmt: skip


def _count(app_label: str, model_name: str, **filters) -> int:
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return 0
    return model.objects.filter(**filters).count()
