"""Downloads of results: a result table (the stored CSV, or a workbook with the warnings),
and the warnings of a job, a measurement's latest results or a cell's."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from characterization.jobs import queries, result_warnings
from characterization.jobs.measurement_views import measurement_or_404
from characterization.jobs.models import AnalysisJob
from characterization.jobs.views import job_or_404
from lims import tabular
from lims.models import Sample, SampleKind

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
def job_table_download(request: HttpRequest, pk: int, name: str, fmt: str) -> HttpResponse:
    """A result table as the stored CSV, or as an Excel workbook made from it with the
    result's plausibility warnings on a second sheet ("warnings")."""
    job = job_or_404(pk)
    path = queries.artifact_file(job.result, name) if job.result else None
    if path is None:
        raise Http404(f"job {pk} has no table {name}")
    stem = _stem(job, name)
    header, rows = _stored_table(path)
    if fmt == "csv":  # the stored table, streamed, every cell safe to open in a spreadsheet
        response = StreamingHttpResponse(
            tabular.csv_chunks(header, rows, bom=False), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    warning_header, warning_rows = result_warnings.warning_table([job])
    out = io.BytesIO()
    tabular.write_workbook(out, [(name, header, rows), ("warnings", warning_header, warning_rows)])
    return _attachment(out.getvalue(), f"{stem}.xlsx", XLSX_TYPE)


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
