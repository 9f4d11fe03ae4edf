"""Sending work to the workers: a job, the inspection of a stored file, a recovery sweep.

The tasks are found by name in the Celery app's registry (tasks.py registers them; the jobs
app imports it when Django starts), so the services that send never import the tasks that
call them. The names are stable: queued messages and beat entries name them.
"""

from __future__ import annotations

import contextlib
import logging

from django.utils import timezone

from characterization.jobs.errors import TRANSIENT_ERRORS
from characterization.jobs.models import AnalysisJob, JobStatus
from lims.celery import app

logger = logging.getLogger(__name__)

JOB_TASK = "characterization.analysis_job_run"
INSPECT_TASK = "characterization.raw_file_inspect"
RECOVER_TASK = "characterization.jobs_recover"
BROKER_WAIT_MESSAGE = "waiting for the job broker"
QUEUED_MESSAGE = "queued"
SEND_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3}


def job_send(job_id: int) -> bool:
    """Send the job's Celery message; never raises. With the broker down the job stays queued
    with "waiting for the job broker" and jobs_recover sends it again later."""
    task = app.tasks[JOB_TASK]
    try:
        task.apply_async(args=[job_id], retry=True, retry_policy=SEND_RETRY_POLICY)
    except Exception as exc:  # any broker failure must not break the upload that queued it
        logger.warning("job %s: could not reach the job broker: %s", job_id, exc)
        with contextlib.suppress(*TRANSIENT_ERRORS):
            AnalysisJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
                progress_message=BROKER_WAIT_MESSAGE, sent_at=None
            )
        return False
    with contextlib.suppress(*TRANSIENT_ERRORS):
        AnalysisJob.objects.filter(pk=job_id).update(sent_at=timezone.now())
        AnalysisJob.objects.filter(
            pk=job_id, status=JobStatus.QUEUED, progress_message=BROKER_WAIT_MESSAGE
        ).update(progress_message=QUEUED_MESSAGE)
    return True


def raw_file_inspect_send(raw_id: int) -> bool:
    """Send the inspection of a newly stored file to a worker; never raises (with the broker
    down the file stays "not read yet" and jobs_recover sends it later)."""
    task = app.tasks[INSPECT_TASK]
    try:
        task.apply_async(args=[raw_id], retry=True, retry_policy=SEND_RETRY_POLICY)
    except Exception as exc:  # a broker failure must not break the upload
        logger.warning("raw file %s: could not reach the job broker: %s", raw_id, exc)
        return False
    return True


def jobs_recover_send(*, restarted_worker: str) -> None:
    """Ask a worker for a recovery sweep (a worker that starts takes back what its previous
    life left running); never raises: beat sends one within a minute anyway."""
    task = app.tasks[RECOVER_TASK]
    try:
        task.apply_async(kwargs={"restarted_worker": restarted_worker}, retry=False)
    except Exception as exc:  # the broker just went away again
        logger.warning("could not send jobs_recover at worker start: %s", exc)
