"""Every list's download, answered in one place: the rows a list page shows under its current
filters (all of them, not one page) as CSV, Excel or Parquet, written by lims.tabular (so no
cell runs as a spreadsheet formula) with the right content type and file name.

A list view builds its header and rows (an iterator: rows are read from the database as the file
is written) and returns `table_response(fmt, ...)`; its URL is `export_path(...)`, and its
template shows the links with `{% downloads "namespace:name" %}` (lims.templatetags.
kiln_downloads, rendering templates/_downloads.html). An unknown format is a 404.
"""

from __future__ import annotations

import datetime
import io
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils import timezone

from lims import tabular

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# format -> (link label, content type), in the order the links are shown
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("CSV", "text/csv"),  # UTF-8, with a BOM (Excel reads it as UTF-8 then)
    "xlsx": ("Excel", XLSX_TYPE),
    "parquet": ("Parquet", "application/vnd.apache.parquet"),
}
CHUNK_ROWS = 1000  # rows fetched from the database at a time


def fmt_or_404(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Http404(f"no download format {fmt!r}; one of {', '.join(FORMATS)}")
    return fmt


def table_response(
    fmt: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    stem: str,
    title: str = "",
    more_sheets: Sequence[tabular.Sheet] = (),
    stream: bool = True,
    bom: bool = True,
) -> HttpResponse:
    """The table as `<stem>.<fmt>`: CSV and Parquet streamed while the rows are read (or in one
    piece with stream=False); Excel written to a temporary file (openpyxl's write-only mode),
    then sent from it, with `more_sheets` after the table's own (titled `title` or the stem)."""
    fmt_or_404(fmt)
    filename = f"{safe_stem(stem)}.{fmt}"
    content_type = FORMATS[fmt][1]
    if fmt == "xlsx":
        sheets = [(title or stem, header, rows), *more_sheets]
        if not stream:
            out = io.BytesIO()
            tabular.write_workbook(out, sheets)
            return _attach(HttpResponse(out.getvalue(), content_type=content_type), filename)
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
        tabular.write_workbook(spool, sheets)
        spool.seek(0)
        return FileResponse(spool, content_type=content_type, as_attachment=True, filename=filename)
    if fmt == "csv":
        chunks: Iterator[bytes] = tabular.csv_chunks(header, rows, bom=bom)
    else:
        chunks = tabular.parquet_chunks(header, rows)
    if stream:
        return _attach(StreamingHttpResponse(chunks, content_type=content_type), filename)
    return _attach(HttpResponse(b"".join(chunks), content_type=content_type), filename)


def _attach(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def safe_stem(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "kiln"


def stamped(name: str) -> str:
    """`kiln-<name>-<local date and minute>`, the stem of a list's download."""
    return f"kiln-{name}-{timezone.localtime():%Y%m%d-%H%M}"


def export_path(prefix: str, view: Callable, name: str) -> URLPattern:
    """The URL `<prefix>export.<fmt>` of a list's download (any fmt reaches the view, which
    answers an unknown one with 404)."""
    return path(f"{prefix}export.<str:fmt>", view, name=name)


def every_row(queryset: QuerySet, make_row: Callable[[object], Sequence[object]]) -> Iterator:
    """The rows of the whole queryset (a list page's slice or page taken off), read
    CHUNK_ROWS at a time rather than all at once."""
    if queryset.query.is_sliced:
        queryset = queryset._chain()
        queryset.query.clear_limits()
    for record in queryset.iterator(chunk_size=CHUNK_ROWS):
        yield [_excel_exact(v) for v in make_row(record)]


def _excel_exact(data: object) -> object:
    """A float to the 15 significant digits Excel keeps, so that the CSV, the workbook and the
    Parquet file hold the same number (208.32899999999998 is 208.329 in all three)."""
    if isinstance(data, float) and math.isfinite(data):
        return float(f"{data:.15g}")
    return data


def value(data: object) -> object:
    """A cell as the downloads write it: numbers stay numbers (a Decimal becomes a float),
    dates and times are ISO text (local time, to the second), None stays empty."""
    if isinstance(data, Decimal):
        return float(data)
    if isinstance(data, datetime.datetime):
        return timezone.localtime(data).strftime("%Y-%m-%d %H:%M:%S") if data else ""
    if isinstance(data, datetime.date):
        return data.isoformat()
    return data


def username(user) -> str:
    return user.get_username() if user is not None else ""
