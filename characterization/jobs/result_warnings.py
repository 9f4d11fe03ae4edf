"""The plausibility warnings of results, as pages and exports show them: flags (the numbers may
be wrong) before notes, a warning the analyses of one file share listed once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.urls import reverse

from characterization.analysis.plausibility import SEVERITY, cycle_list
from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.jobs.queries import IN_USE, jobs
from characterization.models import RawFile
from lims.models import Sample


@dataclass(frozen=True)
class Source:
    """Where a warning was found (the cell page lists the warnings of several results)."""

    label: str
    url: str


@dataclass(frozen=True)
class WarningRow:
    code: str
    message: str
    cycles: tuple[int, ...]
    severity: str  # "flag": the numbers may be wrong; "note": right, but something left out
    sources: tuple[Source, ...] = ()  # the results it was found in (the cell page)
    origin: str = ""  # the file (and measurement) those results read

    @property
    def is_flag(self) -> bool:
        return self.severity == "flag"

    @property
    def cycles_text(self) -> str:
        return cycle_list(self.cycles)

    @property
    def all_cycles(self) -> str:
        return ", ".join(map(str, self.cycles))


@dataclass(frozen=True)
class Warnings:
    """A result's warnings for the _warnings.html partial: flags first, then notes."""

    flags: list[WarningRow] = field(default_factory=list)
    notes: list[WarningRow] = field(default_factory=list)

    def __iter__(self):
        return iter([*self.flags, *self.notes])

    def __len__(self) -> int:
        return len(self.flags) + len(self.notes)


def warning_row(data: Mapping, sources: tuple[Source, ...] = (), origin: str = "") -> WarningRow:
    code = str(data.get("code", ""))
    severity = data.get("severity") or SEVERITY.get(code, "flag")  # unknown: may be wrong
    return WarningRow(
        code=code,
        message=str(data.get("message", "")),
        cycles=tuple(int(c) for c in data.get("cycles") or ()),
        severity="flag" if severity == "flag" else "note",
        sources=sources,
        origin=origin,
    )


def warnings_of(rows: Iterable[WarningRow]) -> Warnings:
    rows = list(rows)
    return Warnings(flags=[w for w in rows if w.is_flag], notes=[w for w in rows if not w.is_flag])


def result_warnings(job: AnalysisJob) -> Warnings:
    """The stored warnings of the job's result (none without a result)."""
    if job.result is None:
        return Warnings()
    return warnings_of(warning_row(w) for w in job.result.warnings or [])


@dataclass(frozen=True)
class FileResults:
    """The latest results of one raw file: the warnings all of them carry (the analyses of a
    file read the same cycles, so they share most) once, and each result's own beside it."""

    raw_file: RawFile
    shared: Warnings
    results: list[dict]  # {"job", "warnings" (its own), ...} in the order given


def results_by_file(done: list[AnalysisJob]) -> list[FileResults]:
    by_file: dict[int, list[AnalysisJob]] = {}
    for job in done:
        by_file.setdefault(job.raw_file_id, []).append(job)
    grouped = []
    for jobs_ in by_file.values():
        per_job = [(job, list(result_warnings(job))) for job in jobs_]
        keys = [{(w.code, w.message) for w in rows} for _, rows in per_job]
        common = set.intersection(*keys) if len(per_job) > 1 else set()
        shared = [w for w in per_job[0][1] if (w.code, w.message) in common]
        results = [
            {
                "job": job,
                "warnings": warnings_of(w for w in rows if (w.code, w.message) not in common),
                "flag_count": sum(1 for w in rows if w.is_flag),
            }
            for job, rows in per_job
        ]
        grouped.append(FileResults(jobs_[0].raw_file, warnings_of(shared), results))
    return grouped


def latest_results_of_cell(cell_sample: Sample) -> list[AnalysisJob]:
    """The newest succeeded job per (measurement, definition, file) of the cell's
    measurements (for their warnings: figures and summary deferred)."""
    seen, latest = set(), []
    rows = (
        jobs()
        .defer("result__figures", "result__summary")
        .filter(IN_USE, measurement__subject=cell_sample, status=JobStatus.SUCCEEDED)
        .order_by("measurement_id", "raw_file_id", "definition__name", "-finished_at", "-id")
    )
    for job in rows:
        key = (job.measurement_id, job.definition_id, job.raw_file_id)
        if key not in seen:
            seen.add(key)
            latest.append(job)
    return latest


def cell_warnings(cell_sample: Sample) -> Warnings:
    """The warnings of the latest results of a cell's measurements, flags first. A warning the
    analyses of one file share (each reads the same cycles) is listed once, with every result
    it came from."""
    found: dict[tuple, tuple[dict, str, list[Source]]] = {}
    for job in latest_results_of_cell(cell_sample):
        origin = f"{job.raw_file.original_name} of {job.measurement.sample.code}"
        source = Source(job.definition.name, reverse("jobs:detail", args=[job.pk]))
        for data in job.result.warnings or []:
            key = (job.measurement_id, job.raw_file_id, data.get("code"), data.get("message"))
            found.setdefault(key, (data, origin, []))[2].append(source)
    return warnings_of(
        warning_row(data, tuple(sources), origin) for data, origin, sources in found.values()
    )


def warning_table(jobs_: Iterable[AnalysisJob]) -> tuple[list[str], list[list[object]]]:
    """Header and rows of a warnings export: one row per warning of each job's result."""
    header = [
        "measurement",
        "file",
        "file_sha256",
        "analysis",
        "job",
        "severity",
        "code",
        "message",
        "cycles",
    ]
    rows = []
    for job in jobs_:
        for w in result_warnings(job):
            rows.append(
                [
                    job.measurement.sample.code,
                    job.raw_file.original_name,
                    job.raw_file.sha256,
                    job.kind,
                    job.pk,
                    w.severity,
                    w.code,
                    w.message,
                    " ".join(map(str, w.cycles)),
                ]
            )
    return header, rows
