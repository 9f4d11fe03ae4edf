"""Core registry models. The sample registry itself grows here in the lineage issue."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by a Celery worker when asked to prove it is alive (see lims.tasks)."""

    worker = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField()
    written_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-written_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(worker=""), name="heartbeat_worker_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker} at {self.written_at:%Y-%m-%d %H:%M:%S}"
