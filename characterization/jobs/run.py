"""The worker's run of one job: claim it, read its file's table, run the analysis, store the
result once, finish; every write conditional on still holding the claim.

A duplicate or redelivered message therefore writes one result; bad data fails at once with a
sentence a chemist understands; transient errors (database, broker) put the job back and are
re-raised so Celery retries with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from characterization.analysis import registry
from characterization.analysis.errors import AnalysisError
from characterization.jobs import cache, table_memo
from characterization.jobs.companions import load_companions
from characterization.jobs.definitions import kind_of, title_of
from characterization.jobs.errors import TRANSIENT_ERRORS, JobDataError, JobLost
from characterization.jobs.models import AnalysisJob, AnalysisResult, JobStatus
from characterization.jobs.results import result_store
from characterization.jobs.spec import JobSpec, spec_fields
from characterization.parsers import ParseError
from characterization.parsers.reader import PARSER_VERSION

logger = logging.getLogger(__name__)

PROGRESS_EVERY_S = 0.5  # at most two progress writes per second


def analysis_job_run(*, job_id: int, worker: str, redelivered: bool = False) -> str:
    """Run one job if this delivery can claim it; returns what happened (for the task log).

    Claimable: a queued job; a running job whose heartbeat is older than KILN_JOB_STALE_S; a
    running job when this delivery is a redelivery or a retry (the run that had it died or gave
    it back) - the last two only below KILN_JOB_MAX_ATTEMPTS, after which the job fails.
    """
    token = uuid.uuid4()
    if not _claim(job_id, worker=worker, token=token, redelivered=redelivered):
        return _not_claimed(job_id, redelivered=redelivered)
    job = AnalysisJob.objects.select_related("raw_file", "definition", "measurement__subject").get(
        pk=job_id
    )
    run = _Run(job, token)
    try:
        return run.execute()
    except JobLost:
        logger.info("job %s was cancelled or taken over; this run stops", job_id)
        return "lost"
    except (JobDataError, ParseError, AnalysisError) as exc:
        run.fail(_chemist_message(job, exc))
        return "failed"
    except TRANSIENT_ERRORS:
        run.give_back()
        raise
    except MemoryError:
        logger.warning("job %s: out of memory", job_id)
        run.fail(
            f"{title_of(job.kind)} of {job.raw_file.original_name} failed: it needs more memory "
            f"than a Kiln worker may use (KILN_WORKER_MEMORY_MB = "
            f"{settings.KILN_WORKER_MEMORY_MB} MB); split the test into shorter files, or ask "
            "the lab manager to raise the limit."
        )
        return "failed"
    except SoftTimeLimitExceeded:
        limit_min = settings.CELERY_TASK_SOFT_TIME_LIMIT / 60
        run.fail(
            f"The analysis took longer than the time limit of {limit_min:g} minutes and was "
            "stopped; ask the lab manager to raise KILN_TASK_SOFT_TIME_LIMIT_S."
        )
        return "failed"
    except Exception as exc:
        logger.exception("job %s: internal error", job_id)
        run.fail(
            "Kiln could not finish this analysis because of an internal error "
            f"({type(exc).__name__}); the details are in the worker log for the lab manager."
        )
        raise


def _claim(job_id: int, *, worker: str, token: uuid.UUID, redelivered: bool) -> bool:
    now = timezone.now()
    below_limit = Q(attempts__lt=settings.KILN_JOB_MAX_ATTEMPTS)
    stale = Q(heartbeat_at__lt=now - timedelta(seconds=settings.KILN_JOB_STALE_S))
    claimable = Q(status=JobStatus.QUEUED) | (Q(status=JobStatus.RUNNING) & stale & below_limit)
    if redelivered:
        claimable |= Q(status=JobStatus.RUNNING) & below_limit
    return bool(
        AnalysisJob.objects.filter(claimable, pk=job_id).update(
            status=JobStatus.RUNNING,
            worker=worker[:200],
            claim_token=token,
            attempts=F("attempts") + 1,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            progress_percent=0,
            progress_message="starting",
            error="",
        )
    )


def _not_claimed(job_id: int, *, redelivered: bool) -> str:
    """A redelivered job still running after the maximum attempts keeps killing its worker."""
    if redelivered:
        failed = AnalysisJob.objects.filter(
            pk=job_id,
            status=JobStatus.RUNNING,
            attempts__gte=settings.KILN_JOB_MAX_ATTEMPTS,
        ).update(
            status=JobStatus.FAILED,
            claim_token=None,
            finished_at=timezone.now(),
            error=stopped_message(settings.KILN_JOB_MAX_ATTEMPTS),
        )
        if failed:
            return "failed"
    return "skipped"


def stopped_message(attempts: int) -> str:
    """Why a job whose worker kept dying failed."""
    return (
        f"The worker stopped {attempts} times while running this job (it may need more "
        f"memory than the {settings.KILN_WORKER_MEMORY_MB} MB a worker may use, "
        "KILN_WORKER_MEMORY_MB, or more time); ask the lab manager to look at the worker log."
    )


class _Run:
    """One claimed run of a job: every write is conditional on still holding the claim."""

    def __init__(self, job: AnalysisJob, token: uuid.UUID) -> None:
        self.job = job
        self.token = token
        self._last_progress = 0.0

    def _mine(self):
        return AnalysisJob.objects.filter(
            pk=self.job.pk, claim_token=self.token, status=JobStatus.RUNNING
        )

    def progress(self, percent: float, message: str, *, force: bool = True) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        updated = self._mine().update(
            progress_percent=max(0, min(100, int(percent))),
            progress_message=message[:200],
            heartbeat_at=timezone.now(),
        )
        if not updated:
            raise JobLost

    def execute(self) -> str:
        job, raw = self.job, self.job.raw_file
        kind = kind_of(job.kind)
        spec = JobSpec(
            kind=kind.key,
            kind_version=kind.version,
            parser_version=PARSER_VERSION,
            parameters=kind.clean_parameters(job.parameters),
            input_checksums=list(job.input_checksums),
            active_mass_mg=job.active_mass_mg,
            column_mapping=dict(job.column_mapping or {}),
            cell_context=dict(job.cell_context or {}),
        )
        if spec.cache_key != job.cache_key:  # this worker runs newer code than the enqueuer
            self._mine().update(**spec_fields(spec))
        existing = AnalysisResult.objects.filter(cache_key=spec.cache_key).first()
        if existing is not None:
            return self.finish(existing, reused=True)
        if kind.needs_active_mass and job.active_mass_mg is None:
            raise JobDataError(_no_mass_message(job, kind))
        self.progress(5, f"reading {raw.original_name}")
        table, file_metadata, cached = table_memo.normalised_table(
            raw, table_kind=kind.table_kind, column_mapping=spec.column_mapping
        )
        source = "cached table" if cached else "parsed"
        self.progress(25, f"{len(table):,} rows ({source}); running {kind.title}")
        companions = load_companions(kind, spec.cell_context, _read_companion)
        context = spec.analysis_context(
            lambda p, m: self.progress(25 + 0.65 * p, m, force=False), file_metadata, companions
        )
        output = kind.run(table, spec.parameters, context)
        self.progress(92, "saving results")
        result = result_store(spec, output)
        return self.finish(result, reused=False)

    def finish(self, result: AnalysisResult, *, reused: bool) -> str:
        message = "reused an identical earlier result" if reused else "done"
        updated = self._mine().update(
            status=JobStatus.SUCCEEDED,
            result=result,
            reused=reused,
            progress_percent=100,
            progress_message=message,
            heartbeat_at=timezone.now(),
            finished_at=timezone.now(),
        )
        if not updated:
            raise JobLost
        return "reused" if reused else "succeeded"

    def fail(self, message: str) -> None:
        with contextlib.suppress(*TRANSIENT_ERRORS):
            self._mine().update(
                status=JobStatus.FAILED,
                error=message,
                progress_message="failed",
                finished_at=timezone.now(),
            )

    def give_back(self) -> None:
        """A transient error: queue the job again for the task's retry (if the database lets
        us; otherwise the retry takes it over as a redelivery)."""
        with contextlib.suppress(*TRANSIENT_ERRORS):
            self._mine().update(
                status=JobStatus.QUEUED,
                claim_token=None,
                progress_percent=0,
                progress_message="a service was briefly unreachable; retrying",
            )


def _chemist_message(job: AnalysisJob, exc: Exception) -> str:
    raw = job.raw_file
    text = str(exc).replace(raw.sha256, raw.original_name)
    if isinstance(exc, JobDataError):
        return text
    if isinstance(exc, ParseError):
        return text if text.startswith(raw.original_name) else f"{raw.original_name}: {text}"
    text = text.rstrip(".")
    return f"{title_of(job.kind)} of {raw.original_name} failed: {text}."


def _no_mass_message(job: AnalysisJob, kind: registry.AnalysisKind) -> str:
    subject = job.measurement.subject
    return (
        f"{kind.title} of {job.raw_file.original_name} failed: it needs the active mass of the "
        f"electrode, and {subject.code} ({subject.get_kind_display().lower()}) has none. "
        "Record the measurement on the coin cell built from weighed discs."
    )


def _read_companion(raw, table_kind: str):
    """A companion file's table (through the Parquet cache) and its reader's metadata."""
    table, _cached = cache.normalised_table(raw, table_kind=table_kind, column_mapping={})
    return table, table.attrs.pop(cache.FILE_METADATA, {})
