"""Celery tasks of the core app: thin, take plain values, call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from lims.services import heartbeat_record


@shared_task(bind=True, name="lims.heartbeat")
def heartbeat(self, token: str) -> None:
    """Prove a worker is alive and can write to the database."""
    heartbeat_record(
        worker=self.request.hostname or "unknown", token=token, received_at=timezone.now()
    )
