"""A stored result table (the CSV artefact under MEDIA_ROOT/results/<cache key>/) as an API
download: CSV, Excel or Parquet, never read whole into memory; and the ETags of result
downloads.

CSV streams the stored rows through lims.tabular's safe writer, as the job page's download
does. Excel is written row by row (openpyxl's write-only mode) with numbers as numbers and the
result's warnings on a second sheet, as on the page. Parquet is converted batch by batch
(pyarrow's streaming CSV reader); both go through a temporary file that spills to disk."""

from __future__ import annotations

import csv
import hashlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.http import FileResponse, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.utils.http import parse_etags

from characterization.jobs.models import AnalysisResult
from characterization.jobs.result_warnings import warning_row, warnings_of
from lims import tabular

FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
# Bump when what a format's bytes hold changes (a new ETag for every download of it).
ENCODING_VERSION = "1"
SPOOL_BYTES = 8 * 1024 * 1024  # a temporary file stays in memory up to this size
BLOCK_BYTES = 4 * 1024 * 1024  # the CSV read per Parquet batch
CACHE_CONTROL = "private, no-cache"  # the caller's own data; ask again (cheap: 304)
NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
INTEGER = re.compile(r"-?(?:0|[1-9]\d{0,17})")


# --- ETags ------------------------------------------------------------------------------------


def etag_of(result: AnalysisResult, *parts: object) -> str:
    """A strong ETag: the result's identity (cache key, whether it is void) and what the
    response holds (e.g. table name, format and the table's SHA-256)."""
    void = result.voided_at.isoformat() if result.voided_at else ""
    text = "\x1f".join(map(str, (ENCODING_VERSION, result.cache_key, void, *parts)))
    return f'"{hashlib.sha256(text.encode()).hexdigest()}"'


def not_modified(request, etag: str) -> HttpResponse | None:
    """A 304 when If-None-Match names `etag` (weak comparison, as RFC 9110 asks), else None."""
    header = request.headers.get("If-None-Match", "")
    if not header:
        return None
    tags = {tag.removeprefix("W/") for tag in parse_etags(header)}
    if "*" in tags or etag in tags:
        return with_cache_headers(HttpResponseNotModified(), etag)
    return None


def with_cache_headers(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


# --- the stored table -------------------------------------------------------------------------


def stored_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """The header of a stored result table and its rows, read as they are consumed."""
    with path.open(encoding="utf-8", newline="") as source:
        header = next(csv.reader(source), [])

    def rows() -> Iterator[list[str]]:
        with path.open(encoding="utf-8", newline="") as source:
            reader = csv.reader(source)
            next(reader, None)
            yield from reader

    return header, rows()


def table_response(result: AnalysisResult, path: Path, name: str, fmt: str, stem: str):
    """The table in `fmt` (csv, xlsx or parquet) as an attachment named `stem`.`fmt`."""
    if fmt == "csv":
        header, rows = stored_rows(path)
        response = StreamingHttpResponse(
            tabular.csv_chunks(header, rows, bom=False), content_type=FORMATS["csv"]
        )
    else:
        out = _xlsx(result, path, name) if fmt == "xlsx" else _parquet(path)
        response = FileResponse(out, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


def _typed(text: str) -> object:
    """A stored cell as Excel should hold it: numbers as numbers, True/False as booleans."""
    if INTEGER.fullmatch(text):
        return int(text)
    if NUMBER.fullmatch(text):
        return float(text)
    return {"True": True, "False": False}.get(text, text)


def _xlsx(result: AnalysisResult, path: Path, name: str) -> IO[bytes]:
    header, rows = stored_rows(path)
    typed = ([_typed(v) for v in row] for row in rows)
    warnings = warnings_of(warning_row(w) for w in result.warnings or [])
    warning_rows = ([w.severity, w.code, w.message, " ".join(map(str, w.cycles))] for w in warnings)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the response closes it)
    tabular.write_workbook(
        out,
        [(name, header, typed), ("warnings", ["severity", "code", "message", "cycles"],
                                 warning_rows)],
    )  # fmt: skip
    out.seek(0)
    return out


def _parquet(path: Path) -> IO[bytes]:
    """The stored CSV as Parquet, batch by batch; a column whose type changes after the first
    batch (an integer column with a decimal far down) makes it read the table whole instead.
    Empty cells are nulls, and a column with no value at all is float64, as pandas reads the
    CSV."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (the response closes it)
    try:
        _write_parquet_batches(path, out)
    except pa.ArrowInvalid:
        out.seek(0)
        out.truncate()
        table = pacsv.read_csv(path, convert_options=_convert_options())
        pq.write_table(table.cast(_without_null_types(table.schema)), out)
    out.seek(0)
    return out


def _without_null_types(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_type(pa.float64()) if pa.types.is_null(f.type) else f for f in schema])


def _open_csv(path: Path, column_types: dict | None = None) -> pacsv.CSVStreamingReader:
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
        convert_options=_convert_options(column_types),
    )


def _convert_options(column_types: dict | None = None) -> pacsv.ConvertOptions:
    # an empty cell is a missing value in text columns too (pandas wrote None as "")
    return pacsv.ConvertOptions(column_types=column_types or {}, strings_can_be_null=True)


def _write_parquet_batches(path: Path, out: IO[bytes]) -> None:
    reader = _open_csv(path)
    empty = {f.name: pa.float64() for f in reader.schema if pa.types.is_null(f.type)}
    if empty:  # empty in the first batch: read again as numbers (text further down: ArrowInvalid)
        reader = _open_csv(path, empty)
    with pq.ParquetWriter(out, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
