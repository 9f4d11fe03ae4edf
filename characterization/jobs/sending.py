"""Sending work to the workers: a job, the inspection of a stored file, a recovery sweep.

The tasks are found by name in the Celery app's registry (tasks.py registers them; the jobs
app imports it when Django starts), so the services that send never import the tasks that
call them. The names are stable: queued messages and beat entries name them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence

from django.db.models import Case, F, Value, When
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
        _mark_waiting([job_id])
        return False
    _mark_sent([job_id])
    return True


def jobs_send(job_ids: Sequence[int]) -> list[int]:
    """Send several jobs' messages over one broker connection (an upload's automatic
    analyses); never raises. Each job is sent, or left waiting for the broker, as by job_send;
    the ids of those sent."""
    if len(job_ids) < 2:
        return [job_id for job_id in job_ids if job_send(job_id)]
    task = app.tasks[JOB_TASK]
    sent: list[int] = []
    waiting: list[int] = []
    try:
        with app.producer_or_acquire() as producer:
            for job_id in job_ids:
                try:
                    task.apply_async(args=[job_id], retry=True, retry_policy=SEND_RETRY_POLICY,
                                     producer=producer)  # fmt: skip
                except Exception as exc:  # any broker failure must not break the upload
                    logger.warning("job %s: could not reach the job broker: %s", job_id, exc)
                    waiting.append(job_id)
                else:
                    sent.append(job_id)
    except Exception as exc:  # the connection itself: the rest are sent one by one
        logger.warning("jobs %s: no connection to the job broker: %s", job_ids, exc)
        done = set(sent) | set(waiting)
        sent += [job_id for job_id in job_ids if job_id not in done and job_send(job_id)]
    _mark_sent(sent)
    _mark_waiting(waiting)
    return sent


def _mark_sent(job_ids: Sequence[int]) -> None:
    """One UPDATE: sent now, and no longer "waiting for the job broker"."""
    if not job_ids:
        return
    waited = When(status=JobStatus.QUEUED, progress_message=BROKER_WAIT_MESSAGE,
                  then=Value(QUEUED_MESSAGE))  # fmt: skip
    with contextlib.suppress(*TRANSIENT_ERRORS):
        AnalysisJob.objects.filter(pk__in=job_ids).update(
            sent_at=timezone.now(), progress_message=Case(waited, default=F("progress_message"))
        )


def _mark_waiting(job_ids: Sequence[int]) -> None:
    """Still queued, "waiting for the job broker": jobs_recover sends them again later."""
    if not job_ids:
        return
    with contextlib.suppress(*TRANSIENT_ERRORS):
        AnalysisJob.objects.filter(pk__in=job_ids, status=JobStatus.QUEUED).update(
            progress_message=BROKER_WAIT_MESSAGE, sent_at=None
        )


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
