"""Every write of the analysis jobs: definitions, enqueueing, running, cancelling, recovering.

The life of a job (DESIGN.md "How data flows" 4-5):

1. ``job_enqueue`` snapshots what decides the numbers (kind and parser version, cleaned
   parameters, input SHA-256, the cell's active mass) and hashes it into the cache key. A result
   with that key already stored: the job succeeds at once (``reused``). Otherwise the job is
   queued and the Celery message is sent after the transaction commits; if the broker is down
   the upload still succeeds and the job waits ("waiting for the job broker").
2. ``analysis_job_run`` (called by the thin Celery task) claims the job with one conditional
   UPDATE and a fresh claim token, loads the normalised table (Parquet cache by SHA-256, else the
   parser), runs the analysis with progress written to the row, stores the result once per cache
   key and finishes with an UPDATE conditional on still holding the claim. A duplicate or
   redelivered message therefore writes one result; bad data fails at once with a sentence a
   chemist understands; transient errors (database, broker) put the job back and are re-raised
   so Celery retries with backoff.
3. ``jobs_recover`` (Celery beat every minute, and when a worker starts) sends jobs the broker
   never received and takes back running jobs whose worker stopped sending progress.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import pandas as pd
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from characterization import job_delivery, storage
from characterization.analysis import registry
from characterization.analysis.errors import AnalysisError
from characterization.models import (
    ACTIVE_STATUSES,
    AnalysisDefinition,
    AnalysisJob,
    AnalysisResult,
    CoinCell,
    InstrumentMapping,
    JobStatus,
    Measurement,
    MeasurementType,
    RawFile,
    ReadState,
)
from characterization.parsers import (
    ColumnMapping,
    MappingError,
    NotCyclingFileError,
    ParseError,
    UnpackLimits,
    read_cycler_file,
    read_eis_file,
    read_mapped_file,
)
from characterization.parsers.reader import PARSER_VERSION
from characterization.parsers.verdict import (
    FileVerdict,
    verdict_of_eis,
    verdict_of_error,
    verdict_of_table,
)
from lims.lineage import ancestor_depths
from lims.models import Sample

logger = logging.getLogger(__name__)

BROKER_WAIT_MESSAGE = "waiting for the job broker"
QUEUED_MESSAGE = "queued"
RESEND_AFTER_S = 30  # a queued job the broker never received is sent again after this long
PROGRESS_EVERY_S = 0.5  # at most two progress writes per second
PARQUET_DIR = "parquet"
RESULTS_DIR = "results"
# Files a chemist meant as cycler files even when their content was not recognised (a damaged
# or truncated upload): they get jobs, which fail saying what is wrong with the file.
CYCLER_EXTENSIONS = (".nda", ".ndax", ".mpr", ".mpt", ".res")
# Files no cycler reader recognises, read through the column mapping saved for the measurement's
# instrument (InstrumentMapping) when it has one.
TABLE_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx")
SEND_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3}


def transient_errors() -> tuple[type[BaseException], ...]:
    """Errors that go away by themselves (database or broker briefly unreachable): retried."""
    import redis.exceptions
    from kombu.exceptions import OperationalError as BrokerOperationalError

    return (
        OperationalError,
        InterfaceError,
        BrokerOperationalError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        ConnectionError,
    )


TRANSIENT_ERRORS = transient_errors()


class JobLost(Exception):
    """The job was cancelled or taken over by another run while this one worked on it."""


class JobDataError(Exception):
    """The job cannot succeed with this input; the message is shown to the chemist."""


# --- definitions ------------------------------------------------------------------------------


def definition_clean(
    *, kind: str, parameters: Mapping | None, auto_run_for: Iterable[str] | None
) -> tuple[dict, list[str]]:
    """Cleaned (parameters, auto_run_for) of a definition, or ValidationError by field."""
    try:
        analysis = _kind(kind)
    except AnalysisError as exc:
        raise ValidationError({"kind": [exc.message]}) from None
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ValidationError({"parameters": ["give the parameters as a JSON object"]})
    try:
        cleaned = analysis.clean_parameters(parameters)
    except AnalysisError as exc:
        raise ValidationError({"parameters": [exc.message]}) from None
    types = list(auto_run_for or [])
    unknown = [t for t in types if t not in MeasurementType.values]
    if unknown:
        known = ", ".join(MeasurementType.values)
        raise ValidationError(
            {"auto_run_for": [f"unknown measurement type {unknown[0]!r}; known: {known}"]}
        )
    return cleaned, sorted(set(types), key=types.index)


def _kind(key: str) -> registry.AnalysisKind:
    registry.kinds()  # imports the shipped kinds into the registry
    return registry.get_kind(key)


@transaction.atomic
def analysis_definitions_seed(*, user=None) -> list[AnalysisDefinition]:
    """A definition with default parameters for every registered kind that has none (by name
    = the kind's title); idempotent. Migration 0002 seeds the shipped kinds the same way."""
    created = []
    for kind in registry.kinds().values():
        if AnalysisDefinition.objects.filter(kind=kind.key).exists():
            continue
        definition, made = AnalysisDefinition.objects.get_or_create(
            name=kind.title,
            defaults={
                "kind": kind.key,
                "parameters": kind.clean_parameters({}),
                "auto_run_for": list(kind.measurement_types),
                "created_by": user,
            },
        )
        if made:
            created.append(definition)
    return created


# --- what a job computes ----------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """Everything that decides a job's numbers, and its hash."""

    kind: str
    kind_version: int
    parser_version: str
    parameters: dict
    input_checksums: list[str]
    active_mass_mg: float | None
    column_mapping: dict = field(default_factory=dict)  # InstrumentMapping.snapshot(), or {}
    cell_context: dict = field(default_factory=dict)  # cell_context_of(), or {}

    @property
    def cache_key(self) -> str:
        return cache_key_for(
            kind=self.kind,
            kind_version=self.kind_version,
            parser_version=self.parser_version,
            parameters=self.parameters,
            input_checksums=self.input_checksums,
            active_mass_mg=self.active_mass_mg,
            column_mapping=self.column_mapping,
            cell_context=self.cell_context,
        )

    def analysis_context(self, progress) -> registry.AnalysisContext:
        """The context the analysis runs with: the cell as it was when the job was queued."""
        context = dict(self.cell_context)
        window = context.pop("voltage_window_v", None)
        return registry.AnalysisContext(
            active_mass_mg=self.active_mass_mg,
            progress=progress,
            voltage_window_v=tuple(window) if window else None,
            **{k: v for k, v in context.items() if k in _CONTEXT_KEYS},
        )


def cache_key_for(
    *,
    kind: str,
    kind_version: int,
    parser_version: str,
    parameters: Mapping,
    input_checksums: Sequence[str],
    active_mass_mg: float | None,
    column_mapping: Mapping | None = None,
    cell_context: Mapping | None = None,
) -> str:
    """SHA-256 of the canonical JSON of the inputs (sorted keys, no spaces, no NaN); the
    column mapping and the cell context enter only when there is one."""
    document = {
        "kind": kind,
        "kind_version": int(kind_version),
        "parser_version": str(parser_version),
        "parameters": dict(parameters),
        "inputs": list(input_checksums),
        "active_mass_mg": None if active_mass_mg is None else float(active_mass_mg),
    }
    if column_mapping:
        document["column_mapping"] = dict(column_mapping)
    if cell_context:
        document["cell_context"] = dict(cell_context)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def active_mass_of(measurement: Measurement) -> float | None:
    """The active mass (mg) of the coin cell measured, None for a powder or other sample."""
    cell = CoinCell.objects.filter(sample_id=measurement.subject_id).only("active_mass_mg").first()
    return cell.active_mass_mg if cell else None


_CONTEXT_KEYS = ("electrode", "formula", "one_c_ma_per_g", "capacity_ceiling_mah_g")


def cell_context_of(measurement: Measurement) -> dict:
    """What Kiln knows of the measured cell, besides its active mass, that decides the numbers
    or their plausibility checks (part of the cache key): the measurement's declared voltage
    window; for a coin cell its electrode role, its 1C, the formula of its active material
    (the powder's, else the nearest ancestor's) and the lab's capacity ceiling for its role."""
    context: dict = {}
    window = (measurement.conditions or {}).get("voltage_window_v")
    if isinstance(window, list | tuple) and len(window) == 2 and any(v is not None for v in window):
        context["voltage_window_v"] = [None if v is None else float(v) for v in window]
    cell = (
        CoinCell.objects.select_related("electrode__active_material")
        .filter(sample_id=measurement.subject_id)
        .first()
    )
    if cell is None:
        return context
    context["electrode"] = cell.electrode_role
    context["one_c_ma_per_g"] = float(cell.one_c_ma_per_g)
    formula = active_material_formula(cell)
    if formula:
        context["formula"] = formula
    context["capacity_ceiling_mah_g"] = float(
        settings.KILN_CAPACITY_CEILING_MAH_G[cell.electrode_role]
    )
    return context


def active_material_formula(cell: CoinCell) -> str:
    """The formula of the cell's active material: its powder's, else (a coated powder whose
    product has none) the nearest ancestor's that has one; "" when none is recorded."""
    powder = cell.electrode.active_material
    if powder.formula:
        return powder.formula
    depths = ancestor_depths(powder.pk)
    with_formula = Sample.objects.filter(pk__in=list(depths)).exclude(formula="")
    nearest = min(with_formula, key=lambda s: depths[s.pk], default=None)
    return nearest.formula if nearest else ""


def job_spec(
    *,
    definition: AnalysisDefinition,
    raw_file: RawFile,
    active_mass_mg: float | None,
    column_mapping: dict | None = None,
    cell_context: dict | None = None,
    parameters: Mapping | None = None,
) -> JobSpec:
    """The spec of a definition on a file, with this process' kind and parser versions;
    `parameters` (checked against the kind) replace the definition's for this run."""
    kind = _kind(definition.kind)
    chosen = (
        definition.parameters if parameters is None else {**definition.parameters, **parameters}
    )
    return JobSpec(
        kind=kind.key,
        kind_version=kind.version,
        parser_version=PARSER_VERSION,
        parameters=kind.clean_parameters(chosen),
        input_checksums=[raw_file.sha256],
        active_mass_mg=active_mass_mg,
        column_mapping=dict(column_mapping or {}),
        cell_context=dict(cell_context or {}),
    )


def cycling_files(measurement: Measurement) -> list[RawFile]:
    """Raw files of the measurement a cycling analysis should read: those recognised as cycler
    files, damaged ones that carry a cycler extension (their jobs say what is wrong) and, when
    the instrument has a column mapping, unrecognised tables (.csv, .tsv, .txt, .xlsx)."""
    links = measurement.files.select_related("raw_file").filter(raw_file__voided_at__isnull=True)
    raws = [link.raw_file for link in links]  # a void file is kept, not analysed again
    mapped = InstrumentMapping.for_instrument(measurement.instrument) is not None
    return [
        raw
        for raw in raws
        if raw.detected_format
        or raw.original_name.lower().endswith(CYCLER_EXTENSIONS)
        or (mapped and _is_mapped_table(raw))
    ]


def _is_mapped_table(raw: RawFile) -> bool:
    return not raw.detected_format and raw.original_name.lower().endswith(TABLE_EXTENSIONS)


def column_mapping_of(measurement: Measurement, raw_file: RawFile) -> dict:
    """The snapshot of the column mapping the file is read with: its instrument's mapping for
    an unrecognised table, {} for a cycler file (read by its format's reader)."""
    if not _is_mapped_table(raw_file):
        return {}
    mapping = InstrumentMapping.for_instrument(measurement.instrument)
    if mapping is None:
        return {}
    try:
        return mapping.snapshot()
    except MappingError:  # saved before a stricter check: the job fails saying so
        return {"name": mapping.name, "instrument": mapping.instrument, "mapping": mapping.mapping}


# --- enqueueing -------------------------------------------------------------------------------


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
    mass = active_mass_of(measurement)
    mapping = column_mapping_of(measurement, raw_file)
    if parameters is not None:
        try:
            _kind(definition.kind).clean_parameters({**definition.parameters, **parameters})
        except AnalysisError as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
    try:
        spec = job_spec(
            definition=definition,
            raw_file=raw_file,
            active_mass_mg=mass,
            column_mapping=mapping,
            cell_context=cell_context_of(measurement),
            parameters=parameters,
        )
    except AnalysisError as exc:
        return AnalysisJob.objects.create(
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
    fields = {**inputs, **_spec_fields(spec), "created_by": user}
    result = AnalysisResult.objects.filter(cache_key=spec.cache_key).first()
    if result is not None:
        return AnalysisJob.objects.create(**fields, **_reused_fields(result))
    try:
        with transaction.atomic():
            job = AnalysisJob.objects.create(**fields, progress_message=QUEUED_MESSAGE)
    except IntegrityError:  # a concurrent request queued the same analysis first
        return AnalysisJob.objects.get(**inputs, status__in=ACTIVE_STATUSES)
    transaction.on_commit(partial(job_send, job.pk), robust=True)
    return job


def _spec_inputs(spec: JobSpec) -> dict:
    """What decides a result's numbers, as stored on both the job and the result row."""
    return {
        "kind": spec.kind,
        "kind_version": spec.kind_version,
        "parser_version": spec.parser_version,
        "parameters": spec.parameters,
        "input_checksums": spec.input_checksums,
        "active_mass_mg": spec.active_mass_mg,
        "column_mapping": spec.column_mapping,
        "cell_context": spec.cell_context,
    }


def _spec_fields(spec: JobSpec) -> dict:
    return {**_spec_inputs(spec), "cache_key": spec.cache_key}


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


def jobs_create_for_measurement(*, measurement: Measurement, user=None) -> list[AnalysisJob]:
    """The automatic analyses of a measurement: every enabled definition that runs for its type,
    on every cycler file that has no job of that definition yet. Called on upload."""
    definitions = [
        d
        for d in AnalysisDefinition.objects.filter(enabled=True).order_by("id")
        if measurement.measurement_type in (d.auto_run_for or [])
    ]
    if not definitions:
        return []
    jobs = []
    for raw in cycling_files(measurement):
        done = set(
            AnalysisJob.objects.filter(measurement=measurement, raw_file=raw).values_list(
                "definition_id", flat=True
            )
        )
        for definition in definitions:
            if definition.pk not in done:
                jobs.append(
                    job_enqueue(
                        definition=definition, measurement=measurement, raw_file=raw, user=user
                    )
                )
    return jobs


def jobs_run_definition(
    *, definition: AnalysisDefinition, measurement: Measurement, user=None
) -> list[AnalysisJob]:
    """Run one definition (chosen on the measurement page) on every cycler file of it."""
    return [
        job_enqueue(definition=definition, measurement=measurement, raw_file=raw, user=user)
        for raw in cycling_files(measurement)
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
        mass = active_mass_of(measurement)
        for raw in cycling_files(measurement):
            key = job_spec(
                definition=definition,
                raw_file=raw,
                active_mass_mg=mass,
                column_mapping=column_mapping_of(measurement, raw),
                cell_context=cell_context_of(measurement),
            ).cache_key
            current = AnalysisJob.objects.filter(
                definition=definition, measurement=measurement, raw_file=raw, cache_key=key
            ).exclude(status__in=[JobStatus.FAILED, JobStatus.CANCELLED])
            if current.exists():
                report.up_to_date += 1
                continue
            job = job_enqueue(
                definition=definition, measurement=measurement, raw_file=raw, user=user
            )
            if job.reused:
                report.reused += 1
            else:
                report.queued += 1
    return report


def job_send(job_id: int) -> bool:
    """Send the job's Celery message; never raises. With the broker down the job stays queued
    with "waiting for the job broker" and jobs_recover sends it again later."""
    from characterization.tasks import analysis_job_run

    try:
        analysis_job_run.apply_async(args=[job_id], retry=True, retry_policy=SEND_RETRY_POLICY)
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


# --- running ----------------------------------------------------------------------------------


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
            f"{_title(job.kind)} of {job.raw_file.original_name} failed: it needs more memory "
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
            error=_stopped_message(settings.KILN_JOB_MAX_ATTEMPTS),
        )
        if failed:
            return "failed"
    return "skipped"


def _stopped_message(attempts: int) -> str:
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
        kind = _kind(job.kind)
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
            self._mine().update(**_spec_fields(spec))
        existing = AnalysisResult.objects.filter(cache_key=spec.cache_key).first()
        if existing is not None:
            return self.finish(existing, reused=True)
        if kind.needs_active_mass and job.active_mass_mg is None:
            raise JobDataError(_no_mass_message(job, kind))
        self.progress(5, f"reading {raw.original_name}")
        table, cached = normalised_table(raw, column_mapping=spec.column_mapping)
        source = "cached table" if cached else "parsed"
        self.progress(25, f"{len(table):,} rows ({source}); running {kind.title}")
        context = spec.analysis_context(lambda p, m: self.progress(25 + 0.65 * p, m, force=False))
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
    title = _title(job.kind)
    text = text.rstrip(".")
    return f"{title} of {raw.original_name} failed: {text}."


def _title(kind_key: str) -> str:
    try:
        return _kind(kind_key).title
    except AnalysisError:
        return kind_key


def _no_mass_message(job: AnalysisJob, kind: registry.AnalysisKind) -> str:
    subject = job.measurement.subject
    return (
        f"{kind.title} of {job.raw_file.original_name} failed: it needs the active mass of the "
        f"electrode, and {subject.code} ({subject.get_kind_display().lower()}) has none. "
        "Record the measurement on the coin cell built from weighed discs."
    )


# --- the normalised table and the stored result -------------------------------------------


def parquet_path(sha256: str, column_mapping: Mapping | None = None) -> Path:
    """MEDIA_ROOT/parquet/<sha256>.p<parser version>[.m<mapping hash>].parquet: a parser
    change rebuilds it, and a table read through another column mapping is another table."""
    storage.raw_path(sha256)  # validates the digest
    suffix = f".m{_mapping_hash(column_mapping)}" if column_mapping else ""
    return Path(settings.MEDIA_ROOT) / PARQUET_DIR / f"{sha256}.p{PARSER_VERSION}{suffix}.parquet"


def _mapping_hash(column_mapping: Mapping) -> str:
    canonical = json.dumps(column_mapping.get("mapping", {}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def normalised_table(
    raw: RawFile, *, column_mapping: Mapping | None = None
) -> tuple[pd.DataFrame, bool]:
    """(table, from cache): the Parquet cache of the file's normalised table, else the parser
    (and the cache is written, atomically, for the next analysis of the same content). With a
    column mapping snapshot the file is read through that mapping (read_mapped_file)."""
    cache = parquet_path(raw.sha256, column_mapping)
    cached = _read_cache(cache)
    if cached is not None:
        return cached, True
    # The analyses of one upload start together: one parses, the others wait and read its cache.
    with _exclusive(cache.with_name(f".{cache.name}.lock")):
        cached = _read_cache(cache)
        if cached is not None:
            return cached, True
        return _parse_to_cache(raw, cache, column_mapping), False


def _read_cache(cache: Path) -> pd.DataFrame | None:
    if not cache.exists():
        return None
    try:
        return pd.read_parquet(cache)
    except Exception as exc:  # a damaged cache is rebuilt, never trusted
        logger.warning("rebuilding damaged table cache %s: %s", cache, exc)
        cache.unlink(missing_ok=True)
        return None


def _exclusive(lock_path: Path):
    """An advisory lock between worker processes (flock on a file next to the cache, removed
    again when released: no lock file is left behind)."""
    return storage.lock_file(lock_path)


def _parse_to_cache(raw: RawFile, cache: Path, column_mapping: Mapping | None) -> pd.DataFrame:
    source = storage.raw_path(raw.sha256)
    if not source.exists():
        raise JobDataError(
            f"The stored content of {raw.original_name} (sha256 {raw.short_sha}…) is missing "
            "from the file store; ask the lab manager to restore it from the backup."
        )
    try:
        if column_mapping:
            mapping = _column_mapping(column_mapping)
            parsed = read_mapped_file(source, mapping, limits=unpack_limits())
            verdict = verdict_of_table(parsed.format, parsed.table, mapping=mapping.name)
        else:
            parsed = read_cycler_file(source, limits=unpack_limits())
            verdict = verdict_of_table(parsed.format, parsed.table)
    except NotCyclingFileError:
        raise  # a valid file of another kind: its inspection records what it is
    except ParseError as exc:
        raw_file_read_record(raw=raw, verdict=verdict_of_error(exc))
        raise
    table = parsed.table
    _write_atomically(cache, lambda path: table.to_parquet(path, index=False))
    raw_file_read_record(raw=raw, verdict=verdict)
    return table


def raw_file_read_record(*, raw: RawFile, verdict: FileVerdict) -> None:
    """Record what Kiln made of a file (a conditional UPDATE: no history row, no lock)."""
    with contextlib.suppress(*TRANSIENT_ERRORS):
        RawFile.objects.filter(pk=raw.pk).update(
            read_state=verdict.state,
            read_message=verdict.message[:2000],
            **({"detected_format": verdict.format} if verdict.format else {}),
        )


# --- inspecting every stored file -------------------------------------------------------------

_SETTLED = (ReadState.READ, ReadState.NOT_CYCLING, ReadState.DAMAGED)


def raw_file_inspect_send(raw_id: int) -> bool:
    """Send the inspection of a newly stored file to a worker; never raises (with the broker
    down the file stays "not read yet" and jobs_recover sends it later)."""
    from characterization.tasks import raw_file_inspect

    try:
        raw_file_inspect.apply_async(args=[raw_id], retry=True, retry_policy=SEND_RETRY_POLICY)
    except Exception as exc:  # a broker failure must not break the upload
        logger.warning("raw file %s: could not reach the job broker: %s", raw_id, exc)
        return False
    return True


def raw_file_inspect(*, raw_id: int) -> str:
    """Read a stored file once in a worker and record what it is (every file accounted for):
    a cycler file is parsed (its normalised table cached for the analyses), an impedance file
    read as such; anything else gets the reason it cannot be read. Files already settled are
    left alone, so a late inspection never overwrites what a job found."""
    raw = RawFile.objects.filter(pk=raw_id).first()
    if raw is None or raw.read_state in _SETTLED:
        return "skipped"
    source = storage.raw_path(raw.sha256)
    if not source.exists():
        return "missing"
    try:
        normalised_table(raw)
        return "read"
    except NotCyclingFileError as exc:
        other_kind = exc
    except ParseError:
        return "unreadable"  # normalised_table recorded why
    if other_kind.kind != "eis":  # a potential step, CV, ...: say what it is
        raw_file_read_record(raw=raw, verdict=verdict_of_error(other_kind))
        return "not cycling"
    try:
        parsed = read_eis_file(source, limits=unpack_limits())
    except ParseError:
        raw_file_read_record(raw=raw, verdict=verdict_of_error(other_kind))
        return "not cycling"
    raw_file_read_record(raw=raw, verdict=verdict_of_eis(parsed.format, parsed.table))
    return "not cycling"


def unpack_limits() -> UnpackLimits:
    """How far Kiln unpacks a zip-based upload (settings KILN_UNPACK_MAX_MB, _RATIO)."""
    return UnpackLimits(
        max_mb=settings.KILN_UNPACK_MAX_MB, max_ratio=settings.KILN_UNPACK_MAX_RATIO
    )


def _column_mapping(snapshot: Mapping) -> ColumnMapping:
    try:
        return ColumnMapping.from_dict(dict(snapshot["mapping"]), name=snapshot["name"])
    except (MappingError, KeyError, TypeError) as exc:
        raise JobDataError(
            f"The column mapping “{snapshot.get('name', '?')}” cannot read files: {exc}. "
            "Ask the lab manager to correct it in the admin, then re-run the job."
        ) from None


def _write_atomically(final: Path, write) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=final.suffix)
    os.close(fd)
    try:
        write(tmp_name)
        os.replace(tmp_name, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def result_store(spec: JobSpec, output: registry.AnalysisOutput) -> AnalysisResult:
    """The result for the spec's cache key: the stored one, or this output written once."""
    key = spec.cache_key
    existing = AnalysisResult.objects.filter(cache_key=key).first()
    if existing is not None:
        return existing
    artifacts = [_write_table(key, name, table) for name, table in output.tables.items()]
    defaults = {
        **_spec_inputs(spec),
        "summary": jsonable(output.summary),
        "figures": jsonable(output.figures),
        "artifacts": artifacts,
        "warnings": jsonable(output.warnings),
    }
    try:
        with transaction.atomic():
            result, _ = AnalysisResult.objects.get_or_create(cache_key=key, defaults=defaults)
    except IntegrityError:  # another run stored the same key at the same moment
        result = AnalysisResult.objects.get(cache_key=key)
    return result


def results_dir(cache_key: str) -> Path:
    return Path(settings.MEDIA_ROOT) / RESULTS_DIR / cache_key


def _write_table(cache_key: str, name: str, table: pd.DataFrame) -> dict:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name) or "table"
    final = results_dir(cache_key) / f"{safe}.csv"
    _write_atomically(final, lambda path: table.to_csv(path, index=False))
    digest = hashlib.sha256(final.read_bytes()).hexdigest()
    return {
        "name": name,
        "path": final.relative_to(Path(settings.MEDIA_ROOT)).as_posix(),
        "sha256": digest,
        "size": final.stat().st_size,
    }


def jsonable(value):
    """Plain JSON (PostgreSQL refuses NaN): numpy scalars to Python, NaN and inf to None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


# --- recovery ---------------------------------------------------------------------------------


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
    whose message it lost (job_delivery: no longer in its queue after KILN_JOB_LOST_AFTER_S),
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
    report.lost = job_delivery.jobs_resend_lost(now=now)
    report.resent += report.lost
    job_delivery.inspections_resend_lost(now=now)
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
            error=_stopped_message(job.attempts),
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
