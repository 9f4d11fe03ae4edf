"""Every write of the core app goes through here, in a transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from lims.models import WorkerHeartbeat


@transaction.atomic
def heartbeat_record(*, worker: str, token: str, received_at: datetime) -> WorkerHeartbeat:
    """Record that `worker` ran the heartbeat task; idempotent per token (redelivery-safe)."""
    heartbeat, _ = WorkerHeartbeat.objects.get_or_create(
        token=token, defaults={"worker": worker, "received_at": received_at}
    )
    return heartbeat
