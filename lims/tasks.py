"""Celery tasks of the core app: thin, take plain values, call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from lims import transfers
from lims.services import heartbeat_record


@shared_task(bind=True, name="lims.heartbeat")
def heartbeat(self, token: str) -> None:
    """Prove a worker is alive and can write to the database."""
    heartbeat_record(
        worker=self.request.hostname or "unknown", token=token, received_at=timezone.now()
    )


@shared_task(bind=True, name="lims.transfer_run", acks_late=True)
def transfer_run(self, transfer_id: int) -> str:
    """Build an export's file or run an import on the worker (lims.transfers)."""
    delivery = self.request.delivery_info or {}
    return transfers.transfer_run(
        transfer_id=transfer_id,
        worker=self.request.hostname or "unknown",
        redelivered=bool(delivery.get("redelivered")),
    )


@shared_task(name="lims.transfers_sweep", acks_late=True)
def transfers_sweep() -> dict:
    """Remove old export files; fail transfers no worker will finish (beat, hourly)."""
    return transfers.transfers_sweep()
