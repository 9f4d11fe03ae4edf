"""Record chrome of the cell, measurement and job pages: their audit trails (the record's own
rows with those of the rows that belong to it) and the analyses a correction left outdated.

    {% cell_trail cell as history %}  {% measurement_trail measurement as history %}
    {% job_trail job as history %}    {% outdated_analyses subject as outdated %}
"""

from __future__ import annotations

from django import template

from characterization.jobs import outdated
from characterization.models import Measurement, RawFile, RefinementResult
from lims.audit import AuditRow, audit_rows, history_rows, merged

register = template.Library()


def _changes(rows: list[AuditRow]) -> list[AuditRow]:
    """Rows of a record created together with the page's own: only its later changes."""
    return [row for row in rows if row.action != "created"]


@register.simple_tag
def cell_trail(cell) -> list[AuditRow]:
    sample = history_rows(cell.sample.history.all(), label=lambda v: "sample")
    return merged(audit_rows(cell), _changes(sample))


@register.simple_tag
def measurement_trail(measurement: Measurement) -> list[AuditRow]:
    sample = history_rows(measurement.sample.history.all(), label=lambda v: "sample")
    refinements = history_rows(
        RefinementResult.history.filter(measurement_id=measurement.pk),
        label=lambda v: f"refinement {v.phase}",
    )
    files = history_rows(
        RawFile.history.filter(id__in=measurement.files.values("raw_file_id")),
        label=lambda v: f"file {v.original_name}",
    )
    return merged(audit_rows(measurement), _changes(sample), refinements, _changes(files))


@register.simple_tag
def job_trail(job) -> list[AuditRow]:
    if job.result_id is None:
        return audit_rows(job)
    result = history_rows(job.result.history.all(), label=lambda v: "result")
    return merged(audit_rows(job), _changes(result))


@register.simple_tag
def outdated_analyses(subject) -> list[outdated.Outdated]:
    """The outdated analyses of a measurement, or of every live measurement of a cell sample."""
    if isinstance(subject, Measurement):
        return outdated.outdated_jobs([subject])
    measurements = Measurement.objects.filter(subject=subject, voided_at__isnull=True)
    return outdated.outdated_jobs(measurements.select_related("sample"))


@register.simple_tag
def void_files(measurement: Measurement) -> list:
    """The measurement's void raw files (their links), kept and listed apart."""
    return list(
        measurement.files.select_related("raw_file__voided_by").filter(
            raw_file__voided_at__isnull=False
        )
    )
