"""Queueing jobs: one analysis of one file, the automatic analyses of an upload, a definition
on a measurement or on every old measurement, a re-run; and cancelling.

A job snapshots what decides its numbers (spec.py) when it is queued. A stored result with the
same cache key is reused at once; otherwise the Celery message is sent after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from characterization.analysis.errors import AnalysisError
from characterization.jobs.definitions import (
    definition_clean,
    kind_of,
    starts_on,
    table_kind_of,
)
from characterization.jobs.inputs import column_mapping_of, files_for
from characterization.jobs.models import (
    ACTIVE_STATUSES,
    AnalysisDefinition,
    AnalysisJob,
    AnalysisResult,
    JobStatus,
)
from characterization.jobs.sending import QUEUED_MESSAGE, job_send, jobs_send
from characterization.jobs.spec import (
    active_mass_of,
    cell_context_of,
    cell_facts_of,
    job_spec,
    spec_fields,
)
from characterization.models import Measurement, RawFile


@transaction.atomic
def job_enqueue(
    *,
    definition: AnalysisDefinition,
    measurement: Measurement,
    raw_file: RawFile,
    user=None,
    parameters: Mapping | None = None,
) -> AnalysisJob:
    """Queue one analysis of one file (or return the one already queued or running for it).

    A stored result with the same cache key is reused at once; otherwise the Celery message is
    sent after commit. A definition whose analysis this Kiln does not know gives a failed job.
    `parameters` replace the definition's for this run (e.g. a fade window chosen on the
    measurement page); bad ones raise ValidationError naming the parameter.
    """
    inputs = {"definition": definition, "measurement": measurement, "raw_file": raw_file}
    active = AnalysisJob.objects.filter(**inputs, status__in=ACTIVE_STATUSES).first()
    if active is not None:
        return active
    if parameters is not None:
        try:
            kind_of(definition.kind).clean_parameters({**definition.parameters, **parameters})
        except AnalysisError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
    mass, context = cell_facts_of(measurement)
    mapping = column_mapping_of(measurement, raw_file, _table_kind(definition, measurement))
    job = _new_job(definition, measurement, raw_file, user, mass, context, mapping, parameters)
    if job.status == JobStatus.QUEUED:
        _reuse_stored([job], AnalysisResult.objects.filter(cache_key=job.cache_key).first())
    if job.status != JobStatus.QUEUED:  # failed, or a stored result reused
        job.save(force_insert=True)
        return job
    try:
        with transaction.atomic():
            job.save(force_insert=True)
    except IntegrityError:  # a concurrent request queued the same analysis first
        return AnalysisJob.objects.get(**inputs, status__in=ACTIVE_STATUSES)
    transaction.on_commit(partial(job_send, job.pk), robust=True)
    return job


def _new_job(
    definition, measurement, raw_file, user, mass, context, mapping, parameters=None
) -> AnalysisJob:
    """The unsaved job of a definition on a file: queued with its spec, or failed saying why
    the definition cannot run."""
    inputs = {"definition": definition, "measurement": measurement, "raw_file": raw_file}
    try:
        spec = job_spec(
            definition=definition,
            raw_file=raw_file,
            active_mass_mg=mass,
            column_mapping=mapping,
            cell_context=context,
            parameters=parameters,
            measurement=measurement,
        )
    except AnalysisError as exc:
        return AnalysisJob(
            **inputs,
            kind=definition.kind,
            parameters=definition.parameters,
            input_checksums=[raw_file.sha256],
            active_mass_mg=mass,
            column_mapping=mapping,
            status=JobStatus.FAILED,
            error=f"The definition “{definition.name}” cannot run: {exc.message}.",
            finished_at=timezone.now(),
            created_by=user,
        )
    fields = {**inputs, **spec_fields(spec), "created_by": user}
    return AnalysisJob(**fields, progress_message=QUEUED_MESSAGE)


def _reuse_stored(jobs: list[AnalysisJob], *results: AnalysisResult | None) -> None:
    """The queued jobs whose cache key has a stored result (the newest of that key first
    among `results`) take it: succeeded at once, nothing to send."""
    stored: dict[str, AnalysisResult] = {}
    for result in results:
        if result is not None:
            stored.setdefault(result.cache_key, result)
    for job in jobs:
        result = stored.get(job.cache_key) if job.status == JobStatus.QUEUED else None
        if result is not None:
            for name, value in _reused_fields(result).items():
                setattr(job, name, value)


def _table_kind(definition: AnalysisDefinition, measurement: Measurement) -> str | None:
    """The table the definition's analysis reads; for an analysis this code does not know,
    the one the measurement's type gives (its job fails saying why)."""
    try:
        return kind_of(definition.kind).table_kind
    except AnalysisError:
        return table_kind_of(measurement.measurement_type)


def analysis_files(definition: AnalysisDefinition, measurement: Measurement) -> list[RawFile]:
    """The files of the measurement the definition's analysis reads."""
    table_kind = _table_kind(definition, measurement)
    return files_for(measurement, table_kind) if table_kind else []


def _reused_fields(result: AnalysisResult) -> dict:
    now = timezone.now()
    when = timezone.localtime(result.created_at).strftime("%Y-%m-%d %H:%M")
    return {
        "status": JobStatus.SUCCEEDED,
        "result": result,
        "reused": True,
        "progress_percent": 100,
        "progress_message": f"reused the result computed {when} from identical inputs",
        "finished_at": now,
    }


def jobs_create_for_measurement(
    *, measurement: Measurement, user=None, new_measurement: bool = False
) -> list[AnalysisJob]:
    """The automatic analyses of a measurement: every enabled definition its type starts
    (definitions.starts_on), on every file it reads that has no job of that definition yet.
    Called on upload: the cell is read once for all the jobs, their stored results looked up
    in one query, the jobs inserted together and their messages sent together after commit.
    `new_measurement`: made in the caller's transaction, so it has no job yet and no other
    request can queue one for it."""
    definitions = [
        d
        for d in AnalysisDefinition.objects.filter(enabled=True).order_by("id")
        if starts_on(d, measurement.measurement_type)
    ]
    if not definitions:
        return []
    done = (  # every job of the measurement: a pair not in it has no active job either
        set()
        if new_measurement
        else set(
            AnalysisJob.objects.filter(measurement=measurement).values_list(
                "raw_file_id", "definition_id"
            )
        )
    )
    files_of: dict[str | None, list[RawFile]] = {}  # table kind -> the files read as it
    reads = {}
    for definition in definitions:
        table_kind = _table_kind(definition, measurement)
        if table_kind not in files_of:
            files_of[table_kind] = files_for(measurement, table_kind) if table_kind else []
        reads[definition.pk] = files_of[table_kind]
    wanted = [
        (raw, definition)
        for raw in dict.fromkeys(raw for files in files_of.values() for raw in files)
        for definition in definitions
        if raw in reads[definition.pk] and (raw.pk, definition.pk) not in done
    ]
    return _jobs_create(measurement, wanted, user, racing=not new_measurement) if wanted else []


def _jobs_create(
    measurement: Measurement,
    wanted: list[tuple[RawFile, AnalysisDefinition]],
    user,
    *,
    racing: bool = True,
) -> list[AnalysisJob]:
    """The jobs of (file, definition) pairs that have none yet, as job_enqueue would queue
    them one by one (which it does when a concurrent request queued one of them first; not
    `racing`: none can)."""
    mass, context = cell_facts_of(measurement)
    mappings: dict[tuple[int, str | None], dict] = {}  # (file, table kind) -> its mapping
    jobs = []
    for raw, definition in wanted:
        table_kind = _table_kind(definition, measurement)
        if (raw.pk, table_kind) not in mappings:
            mappings[raw.pk, table_kind] = column_mapping_of(measurement, raw, table_kind)
        mapping = dict(mappings[raw.pk, table_kind])
        jobs.append(_new_job(definition, measurement, raw, user, mass, context, mapping))
    keys = {job.cache_key for job in jobs if job.status == JobStatus.QUEUED}
    if keys:  # ordered newest first, as job_enqueue's .first()
        _reuse_stored(jobs, *AnalysisResult.objects.filter(cache_key__in=keys))
    try:
        with transaction.atomic(savepoint=racing):
            bulk_create_with_history(jobs, AnalysisJob)
    except IntegrityError:  # a concurrent request queued one of them first
        if not racing:
            raise
        return [
            job_enqueue(definition=definition, measurement=measurement, raw_file=raw, user=user)
            for raw, definition in wanted
        ]
    queued = [job.pk for job in jobs if job.status == JobStatus.QUEUED]
    if queued:
        transaction.on_commit(partial(jobs_send, queued), robust=True)
    return jobs


def jobs_run_definition(
    *, definition: AnalysisDefinition, measurement: Measurement, user=None
) -> list[AnalysisJob]:
    """Run one definition (chosen on the measurement page) on every file of the measurement
    its analysis reads."""
    return [
        job_enqueue(definition=definition, measurement=measurement, raw_file=raw, user=user)
        for raw in analysis_files(definition, measurement)
    ]


def job_rerun(*, job: AnalysisJob, user=None) -> AnalysisJob:
    """Run the job's definition again on the same file (with today's code, parameters and
    active mass; identical inputs reuse the stored result)."""
    return job_enqueue(
        definition=job.definition, measurement=job.measurement, raw_file=job.raw_file, user=user
    )


@dataclass
class RerunReport:
    queued: int = 0
    reused: int = 0
    up_to_date: int = 0

    def __str__(self) -> str:
        return (
            f"{self.queued} job(s) queued, {self.reused} reused a stored result, "
            f"{self.up_to_date} already up to date"
        )


def definition_rerun_all(*, definition: AnalysisDefinition, user=None) -> RerunReport:
    """Run a definition over every old measurement it applies to (after a new analysis or
    parser version, or new parameters): the measurements of its automatic types and those it
    ran on before; a file whose latest job already has today's cache key is left alone."""
    definition_clean(  # a definition this code cannot run is refused before any job
        kind=definition.kind,
        parameters=definition.parameters,
        auto_run_for=definition.auto_run_for,
    )
    report = RerunReport()
    ran_on = AnalysisJob.objects.filter(definition=definition).values("measurement_id")
    measurements = Measurement.objects.filter(
        Q(measurement_type__in=definition.auto_run_for or []) | Q(pk__in=ran_on)
    ).order_by("id")
    for measurement in measurements.iterator(chunk_size=200):
        _rerun_on(definition, measurement, user, report)
    return report


def _rerun_on(definition, measurement: Measurement, user, report: RerunReport) -> None:
    mass = active_mass_of(measurement)
    table_kind = kind_of(definition.kind).table_kind
    for raw in files_for(measurement, table_kind):
        try:
            key = job_spec(
                definition=definition,
                raw_file=raw,
                active_mass_mg=mass,
                column_mapping=column_mapping_of(measurement, raw, table_kind),
                cell_context=cell_context_of(measurement),
                measurement=measurement,
            ).cache_key
        except AnalysisError:  # queued below as a failed job that says why
            key = None
        current = AnalysisJob.objects.filter(
            definition=definition, measurement=measurement, raw_file=raw, cache_key=key
        ).exclude(status__in=[JobStatus.FAILED, JobStatus.CANCELLED])
        if current.exists():
            report.up_to_date += 1
            continue
        job = job_enqueue(definition=definition, measurement=measurement, raw_file=raw, user=user)
        if job.reused:
            report.reused += 1
        else:
            report.queued += 1


def job_cancel(*, job: AnalysisJob, user=None) -> bool:
    """Cancel a queued or running job; a running one stops at its next progress report and
    writes nothing. False when the job had already finished."""
    who = f" by {user.get_username()}" if user is not None else ""
    return bool(
        AnalysisJob.objects.filter(pk=job.pk, status__in=ACTIVE_STATUSES).update(
            status=JobStatus.CANCELLED,
            claim_token=None,
            finished_at=timezone.now(),
            progress_message=f"cancelled{who}",
        )
    )
