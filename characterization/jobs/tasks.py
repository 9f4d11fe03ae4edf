"""Celery tasks of the jobs: thin, take ids, call a service. Their names are the ones they had
in the characterization app (queued messages and beat entries name them: sending.py)."""

from __future__ import annotations

from celery import shared_task

from characterization.jobs import inspection, recovery, run
from characterization.jobs.errors import TRANSIENT_ERRORS
from characterization.jobs.sending import INSPECT_TASK, JOB_TASK, RECOVER_TASK


@shared_task(
    bind=True,
    name=JOB_TASK,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
    acks_late=True,
)
def analysis_job_run(self, job_id: int) -> str:
    """Run one analysis job. A redelivered message (the worker that had it died) or a retry
    may take the job over from the run that held it; the claim keeps it to one result."""
    delivery = self.request.delivery_info or {}
    return run.analysis_job_run(
        job_id=job_id,
        worker=self.request.hostname or "unknown",
        redelivered=bool(delivery.get("redelivered")) or bool(self.request.retries),
    )


@shared_task(name=RECOVER_TASK, acks_late=True)
def jobs_recover(restarted_worker: str = "") -> dict:
    """Send jobs the broker never received; take back jobs whose worker died (beat, 1/min)."""
    return recovery.jobs_recover(restarted_worker=restarted_worker).as_dict()


@shared_task(
    name=INSPECT_TASK,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def raw_file_inspect(raw_id: int) -> str:
    """Read a newly stored file once and record what Kiln made of it."""
    return inspection.raw_file_inspect(raw_id=raw_id)
