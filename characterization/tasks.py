"""Celery tasks of the characterization app: thin, take ids, call a service (job_services)."""

from __future__ import annotations

from celery import shared_task

from characterization import job_services
from characterization import storage_check as storage_check_service


@shared_task(
    bind=True,
    name="characterization.analysis_job_run",
    autoretry_for=job_services.TRANSIENT_ERRORS,
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
    return job_services.analysis_job_run(
        job_id=job_id,
        worker=self.request.hostname or "unknown",
        redelivered=bool(delivery.get("redelivered")) or bool(self.request.retries),
    )


@shared_task(name="characterization.jobs_recover", acks_late=True)
def jobs_recover(restarted_worker: str = "") -> dict:
    """Send jobs the broker never received; take back jobs whose worker died (beat, 1/min)."""
    return job_services.jobs_recover(restarted_worker=restarted_worker).as_dict()


@shared_task(
    name="characterization.raw_file_inspect",
    autoretry_for=job_services.TRANSIENT_ERRORS,
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def raw_file_inspect(raw_id: int) -> str:
    """Read a newly stored file once and record what Kiln made of it."""
    return job_services.raw_file_inspect(raw_id=raw_id)


@shared_task(
    name="characterization.storage_check",
    acks_late=False,  # hours on a large store: a redelivery would only start it over
    soft_time_limit=6 * 3600,
    time_limit=6 * 3600 + 300,
)
def storage_check() -> dict:
    """Weekly (beat): the file store against the database; stale orphans and leftovers are
    removed, the rest reported on the dashboard."""
    report = storage_check_service.storage_check_run(repair=True).as_dict()
    return {key: value for key, value in report.items() if key != "findings"}
