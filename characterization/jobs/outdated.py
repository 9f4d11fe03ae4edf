"""Analyses whose inputs Kiln would now give differently: outdated by a correction.

A job snapshots what decides its numbers when it is queued: the cell's active mass and, in its
cell context, the measurement's declared voltage window. When a disc mass or the conditions
are corrected, the newest job of each (measurement, analysis, file) that used the old value is
outdated; re-running it (enqueue.job_rerun) queues a job with today's inputs, which clears
it. A comparison, not a flag: nothing has to be kept in step with the cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from characterization.jobs.models import AnalysisJob, JobStatus
from characterization.jobs.spec import active_mass_of, cell_context_of
from characterization.models import Measurement
from lims.quantities import format_number


@dataclass(frozen=True)
class Outdated:
    job: AnalysisJob
    why: str  # "used an active mass of 6.4 mg; the cell's is now 6.24 mg"


def outdated_jobs(measurements: Iterable[Measurement]) -> list[Outdated]:
    """The newest live job per (measurement, definition, file) whose inputs are no longer the
    measurement's (cancelled and void jobs do not count)."""
    found = []
    for measurement in measurements:
        mass = active_mass_of(measurement)
        window = cell_context_of(measurement).get("voltage_window_v")
        for job in _newest_jobs(measurement):
            why = _why(job, mass, window)
            if why:
                found.append(Outdated(job, why))
    return found


def outdated_ids(measurements: Iterable[Measurement]) -> set[int]:
    return {item.job.pk for item in outdated_jobs(measurements)}


def _newest_jobs(measurement: Measurement) -> list[AnalysisJob]:
    rows = (
        AnalysisJob.objects.filter(measurement=measurement, voided_at__isnull=True)
        .exclude(status=JobStatus.CANCELLED)
        .select_related("definition", "raw_file", "measurement__sample")
        .defer("column_mapping", "parameters")
        .order_by("definition_id", "raw_file_id", "-created_at", "-id")
    )
    newest: dict[tuple[int, int], AnalysisJob] = {}
    for job in rows:
        newest.setdefault((job.definition_id, job.raw_file_id), job)
    return list(newest.values())


def _why(job: AnalysisJob, mass: float | None, window) -> str:
    if not _same(job.active_mass_mg, mass):
        used = _mg(job.active_mass_mg)
        return f"used an active mass of {used}; the cell's is now {_mg(mass)}"
    used_window = (job.cell_context or {}).get("voltage_window_v")
    if used_window != window:
        return f"used the voltage window {_window(used_window)}; it is now {_window(window)}"
    return ""


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _mg(value: float | None) -> str:
    return "none" if value is None else f"{format_number(value)} mg"


def _window(window) -> str:
    if not window:
        return "none"
    low, high = (("?" if v is None else format_number(v)) for v in window)
    return f"{low}–{high} V"
