"""Recovery (Celery beat every minute, and when a worker starts): take back running jobs of
dead workers, send queued jobs the broker never received or lost, and the inspections too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from characterization.jobs import delivery
from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.jobs.run import stopped_message
from characterization.jobs.sending import job_send

RESEND_AFTER_S = 30  # a queued job the broker never received is sent again after this long


@dataclass
class RecoverReport:
    resent: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)  # resent: the broker had lost their message

    def as_dict(self) -> dict:
        return {
            "resent": self.resent,
            "requeued": self.requeued,
            "failed": self.failed,
            "lost": self.lost,
        }


def jobs_recover(*, now: datetime | None = None, restarted_worker: str = "") -> RecoverReport:
    """Take back running jobs of dead workers (stale heartbeat, or the worker that just
    restarted under the same name): queued again below KILN_JOB_MAX_ATTEMPTS, else failed.
    Then send queued jobs the broker never received (sent_at empty after RESEND_AFTER_S) or
    whose message it lost (delivery: no longer in its queue after KILN_JOB_LOST_AFTER_S),
    and the same for the inspections of stored files."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.KILN_JOB_STALE_S)
    report = RecoverReport()
    dead = Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale_before)
    if restarted_worker:
        dead |= Q(status=JobStatus.RUNNING, worker=restarted_worker)
    for job in AnalysisJob.objects.filter(dead).only("pk", "attempts", "claim_token"):
        _take_back(job, now=now, report=report)
    never_sent = AnalysisJob.objects.filter(
        status=JobStatus.QUEUED,
        sent_at__isnull=True,
        enqueued_at__lt=now - timedelta(seconds=RESEND_AFTER_S),
    )
    for job_id in never_sent.order_by("id").values_list("pk", flat=True):
        if job_send(job_id):
            report.resent.append(job_id)
    report.lost = delivery.jobs_resend_lost(now=now)
    report.resent += report.lost
    delivery.inspections_resend_lost(now=now)
    return report


def _take_back(job: AnalysisJob, *, now: datetime, report: RecoverReport) -> None:
    held = AnalysisJob.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, claim_token=job.claim_token
    )
    if job.attempts >= settings.KILN_JOB_MAX_ATTEMPTS:
        if held.update(
            status=JobStatus.FAILED,
            claim_token=None,
            finished_at=now,
            progress_message="failed",
            error=stopped_message(job.attempts),
        ):
            report.failed.append(job.pk)
        return
    if held.update(
        status=JobStatus.QUEUED,
        claim_token=None,
        worker="",
        sent_at=None,
        enqueued_at=now,
        progress_percent=0,
        progress_message="queued again: the worker running it stopped",
    ):
        report.requeued.append(job.pk)
        job_send(job.pk)
