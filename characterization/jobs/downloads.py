"""Downloads of results: a result table (the stored CSV, Parquet, or a workbook with the
warnings), the job list, and the warnings of a job, a measurement's latest results or a cell's."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from characterization.jobs import queries, result_warnings
from characterization.jobs.forms import JobFilterForm
from characterization.jobs.measurement_views import measurement_or_404
from characterization.jobs.models import AnalysisJob
from characterization.jobs.views import job_or_404
from lims import downloads, tabular
from lims.downloads import value
from lims.models import Sample, SampleKind

INTEGER = re.compile(r"-?[0-9]+")
JOB_COLUMNS = (
    "job", "status", "analysis", "kind", "kind_version", "sample", "sample_kind", "measurement",
    "file", "sha256", "progress_percent", "progress_message", "queued_at", "finished_at",
    "worker", "voided_at", "void_reason",
)  # fmt: skip


@require_GET
def job_table_download(request: HttpRequest, pk: int, name: str, fmt: str) -> HttpResponse:
    """A result table as the stored CSV (streamed, no BOM), as Parquet (numbers typed), or as
    an Excel workbook made from it with the result's plausibility warnings on a second sheet
    ("warnings")."""
    downloads.fmt_or_404(fmt)
    job = job_or_404(pk)
    path = queries.artifact_file(job.result, name) if job.result else None
    if path is None:
        raise Http404(f"job {pk} has no table {name}")
    header, rows = _stored_table(path)
    more = []
    if fmt == "xlsx":
        more = [("warnings", *result_warnings.warning_table([job]))]
    elif fmt == "parquet":
        rows = (_typed(row) for row in rows)
    return downloads.table_response(
        fmt, header, rows, stem=_stem(job, name), title=name, more_sheets=more, bom=False,
        stream=fmt != "xlsx",
    )  # fmt: skip


def _typed(row: list[str]) -> list[object]:
    """A stored row (text) with its numbers as numbers, for typed Parquet columns: only where
    the number reads back as exactly the stored text ("3.0" stays text, and so its column)."""
    return [_number(v) for v in row]


def _number(text: str) -> object:
    if text == "":
        return None
    try:
        number = int(text) if INTEGER.fullmatch(text) else float(text)
    except ValueError:
        return text
    return number if tabular.cell_text(number) == text else text


@require_GET
def jobs_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The job list as filtered on its page (status, search, void): every matching row."""
    downloads.fmt_or_404(fmt)
    filters = JobFilterForm(request.GET or None).filters()
    rows = downloads.every_row(queries.jobs_matching(filters), _job_row)
    stem = downloads.stamped("jobs")
    return downloads.table_response(fmt, JOB_COLUMNS, rows, stem=stem, title="jobs")


def _job_row(job: AnalysisJob) -> list[object]:
    m, raw = job.measurement, job.raw_file
    return [
        job.pk, job.status, job.definition.name, job.kind, job.kind_version, m.subject.code,
        m.subject.kind, m.sample.code, raw.original_name, raw.sha256, job.progress_percent,
        job.progress_message, value(job.enqueued_at), value(job.finished_at), job.worker,
        value(job.voided_at or m.voided_at), job.void_reason or m.void_reason,
    ]  # fmt: skip


def _stored_table(path) -> tuple[list[str], Iterator[list[str]]]:
    """The header of a stored result table and its rows, read as they are consumed."""

    def rows() -> Iterator[list[str]]:
        with path.open(encoding="utf-8", newline="") as source:
            reader = csv.reader(source)
            next(reader, None)
            yield from reader

    with path.open(encoding="utf-8", newline="") as source:
        header = next(csv.reader(source), [])
    return header, rows()


@require_GET
def job_warnings_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The result's plausibility warnings as CSV (one row per warning; cycles space-separated)."""
    job = job_or_404(pk)
    if job.result is None:
        raise Http404(f"job {pk} has no result")
    header, rows = result_warnings.warning_table([job])
    return _attachment(tabular.write_csv(header, rows), f"{_stem(job, 'warnings')}.csv")


def _stem(job: AnalysisJob, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{job.measurement.sample.code}_{job.kind}_{name}")


def _attachment(content: bytes, filename: str, content_type: str = "text/csv") -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def measurement_warnings_download(request: HttpRequest, code: str) -> HttpResponse:
    """The warnings of the measurement's latest results as CSV."""
    measurement = measurement_or_404(code)
    done = queries.latest_results_of_measurement(measurement)
    header, rows = result_warnings.warning_table(done)
    return _attachment(tabular.write_csv(header, rows), f"{code}_warnings.csv")


@require_GET
def cell_warnings_download(request: HttpRequest, code: str) -> HttpResponse:
    """The warnings of the latest results of the cell's measurements as CSV."""
    cell = Sample.objects.filter(code=code, kind=SampleKind.CELL).first()
    if cell is None:
        raise Http404(f"no cell {code}")
    header, rows = result_warnings.warning_table(result_warnings.latest_results_of_cell(cell))
    return _attachment(tabular.write_csv(header, rows), f"{code}_warnings.csv")
