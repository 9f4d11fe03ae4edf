"""Reads of analysis jobs shared by the jobs pages, the measurement page, the sample panel and
the admin."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import QueryDict

from characterization.analysis import registry
from characterization.jobs import cache
from characterization.jobs.definitions import table_kind_of
from characterization.jobs.inputs import column_mapping_of, cycling_files
from characterization.jobs.models import (
    ACTIVE_STATUSES,
    AnalysisDefinition,
    AnalysisJob,
    AnalysisResult,
    JobStatus,
)
from characterization.jobs.sending import BROKER_WAIT_MESSAGE
from characterization.models import Measurement
from lims import keyset
from lims.keyset import KeysetPage, keyset_page

LIST_LIMIT = 200
PAGE_SIZE = 50  # the job list's page
# Jobs whose results pages and comparisons use: void records are kept, never used.
IN_USE = Q(
    voided_at__isnull=True,
    result__voided_at__isnull=True,
    raw_file__voided_at__isnull=True,
    measurement__voided_at__isnull=True,
)


def jobs() -> QuerySet[AnalysisJob]:
    return AnalysisJob.objects.select_related(
        "definition", "raw_file", "measurement__sample", "measurement__subject", "result"
    )


@dataclass(frozen=True)
class JobFilters:
    status: str = ""
    q: str = ""
    void: bool = False  # list void jobs (and the jobs of void measurements) too


def jobs_matching(filters: JobFilters) -> QuerySet[AnalysisJob]:
    """The job list's rows as filtered (status, search, void), newest first, all of them."""
    rows = jobs().defer("result__summary", "result__figures")
    if not filters.void:
        rows = rows.filter(voided_at__isnull=True, measurement__voided_at__isnull=True)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.q:
        q = filters.q
        rows = rows.filter(
            Q(measurement__sample__code__icontains=q)
            | Q(measurement__subject__code__icontains=q)
            | Q(measurement__subject__name__icontains=q)
            | Q(raw_file__original_name__icontains=q)
            | Q(definition__name__icontains=q)
            | Q(raw_file__sha256__startswith=q.lower())
        )
    return rows


# what a row of the job list shows (templates/characterization/jobs/_jobs_table.html): the
# parameters, checksums, mappings and results stay in the database
INDEX_FIELDS = (
    "status", "progress_percent", "progress_message", "error", "reused", "kind_version",
    "enqueued_at", "started_at", "finished_at", "worker", "created_at", "voided_at",
    "void_reason", "definition__name", "raw_file__original_name", "raw_file__sha256",
    "measurement__voided_at", "measurement__void_reason", "measurement__sample__code",
    "measurement__subject__code", "measurement__subject__kind",
)  # fmt: skip


def jobs_for_index(filters: JobFilters, query: QueryDict) -> KeysetPage:
    """The page of the job list that `query`'s cursor points at (lims.keyset)."""
    rows = jobs_matching(filters).select_related(None).only(*INDEX_FIELDS)
    rows = rows.select_related(
        "definition", "raw_file", "measurement__sample", "measurement__subject"
    )
    return keyset_page(rows, query, size=PAGE_SIZE)


def status_counts() -> dict[str, str]:
    """The jobs in each status for the list's tabs, counted up to lims.keyset.COUNT_CAP each
    ("1,000+"): one query reading at most that many index entries per status, however many
    hundred thousand jobs a lab has run."""
    cap = keyset.COUNT_CAP
    table = AnalysisJob._meta.db_table
    parts = [f"SELECT %s, COUNT(*) FROM (SELECT 1 FROM {table} WHERE status = %s LIMIT {cap + 1})"
             f" AS counted_{i}" for i in range(len(JobStatus.values))]  # fmt: skip
    params = [value for status in JobStatus.values for value in (status, status)]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        counts = dict(cursor.fetchall())
    return {s: f"{cap:,}+" if counts[s] > cap else f"{counts[s]:,}" for s in JobStatus.values}


def any_active(rows) -> bool:
    return any(job.status in ACTIVE_STATUSES for job in rows)


def job_detail(pk: int) -> AnalysisJob:
    """The job with its definition, file, measurement and result (raises DoesNotExist)."""
    return jobs().select_related("created_by", "measurement__operator").get(pk=pk)


def job_status(pk: int) -> AnalysisJob:
    """Only what the progress partial shows, for polling every 2 s."""
    return AnalysisJob.objects.only(
        "status",
        "progress_percent",
        "progress_message",
        "error",
        "attempts",
        "worker",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "enqueued_at",
        "reused",
    ).get(pk=pk)


def broker_note(jobs: Iterable[AnalysisJob] | QuerySet[AnalysisJob]) -> str | None:
    """A sentence for the page when some of these jobs could not be sent (the job broker is
    down: job_send left them queued, "waiting for the job broker"), else None."""
    ids = jobs.values("pk") if isinstance(jobs, QuerySet) else [job.pk for job in jobs]
    waiting = AnalysisJob.objects.filter(
        pk__in=ids, status=JobStatus.QUEUED, progress_message=BROKER_WAIT_MESSAGE
    ).count()
    if not waiting:
        return None
    what = "the job is" if waiting == 1 else f"{waiting} jobs are"
    return (
        f"The job broker is not reachable: {what} queued and will be sent to a worker when it "
        "is back."
    )


def jobs_of_measurement(measurement: Measurement) -> list[AnalysisJob]:
    return list(
        jobs()
        .defer("result__summary", "result__figures")
        .filter(measurement=measurement, voided_at__isnull=True)
        .order_by("raw_file_id", "definition__name", "-created_at")
    )


def latest_results_of_measurement(measurement: Measurement) -> list[AnalysisJob]:
    """The newest succeeded job per (definition, file), with its result (figures included)."""
    seen, latest = set(), []
    rows = jobs().filter(IN_USE, measurement=measurement, status=JobStatus.SUCCEEDED)
    for job in rows.order_by("raw_file_id", "definition__name", "-finished_at", "-id"):
        key = (job.definition_id, job.raw_file_id)
        if key not in seen:
            seen.add(key)
            latest.append(job)
    return latest


def finished_count(measurement: Measurement) -> int:
    return (
        AnalysisJob.objects.filter(measurement=measurement)
        .exclude(status__in=ACTIVE_STATUSES)
        .count()
    )


def runnable_definitions(measurement: Measurement | None = None) -> QuerySet[AnalysisDefinition]:
    """Enabled definitions; for a measurement, those whose analysis reads the table its type
    gives (no cycling summary offered on a DSC measurement)."""
    enabled = AnalysisDefinition.objects.filter(enabled=True).order_by("name")
    if measurement is None:
        return enabled
    table_kind = table_kind_of(measurement.measurement_type)
    keys = [k.key for k in registry.kinds().values() if k.table_kind == table_kind]
    return enabled.filter(kind__in=keys)


def measurement_by_code(code: str) -> Measurement:
    return Measurement.objects.select_related("sample", "subject").get(sample__code=code)


def cached_table(raw, measurement: Measurement) -> pd.DataFrame | None:
    """The file's normalised table if an analysis has cached it (never parses in a request);
    a generic table's is the one read through its instrument's current column mapping."""
    mapping = column_mapping_of(measurement, raw)
    path = cache.parquet_path(raw.sha256, mapping)
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception:  # a damaged cache: the next analysis rebuilds it
        return None


def cycling_file(measurement: Measurement, sha256: str):
    return next((r for r in cycling_files(measurement) if r.sha256 == sha256), None)


def artifact_file(result: AnalysisResult, name: str) -> Path | None:
    artifact = result.artifact(name)
    if artifact is None:
        return None
    path = (Path(settings.MEDIA_ROOT) / artifact["path"]).resolve()
    root = Path(settings.MEDIA_ROOT).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def fade_definition() -> AnalysisDefinition | None:
    """The enabled voltage-fade definition the measurement page's window form runs."""
    return runnable_definitions().filter(kind="voltage_fade").order_by("id").first()
