"""Reads shared by the core pages and the API."""

from __future__ import annotations

from lims import health
from lims.models import WorkerHeartbeat
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
    """One card per section; apps add their counts here as their models arrive."""
    return [
        {
            "title": "Samples",
            "section": "samples",
            "count": 0,
            "hint": "powders, electrodes, cells",
        },
        {
            "title": "Synthesis",
            "section": "synthesis",
            "count": 0,
            "hint": "batches planned and made",
        },
        {"title": "Cells", "section": "cells", "count": 0, "hint": "coin cells built"},
        {"title": "Jobs", "section": "jobs", "count": 0, "hint": "analyses queued or running"},
    ]
