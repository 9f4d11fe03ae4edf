"""Read and write simple tables as CSV or Excel (.xlsx), for exports and bulk imports (no Django).

Rows are dicts keyed by the header; every value is text ("" for empty), so that a file Kiln
wrote reads back to exactly the same rows.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence

from openpyxl import Workbook, load_workbook

XLSX_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """The file is not a table Kiln can read; the message says why."""


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_text(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(header))
    for row in rows:
        sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_table(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number as a person sees it, row) pairs; the header is line 1."""
    if not data.strip():
        raise TableError("the file is empty")
    rows = _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data)
    if not rows or not any(rows[0]):
        raise TableError("the first line must name the columns")
    header = [h.strip().lower() for h in rows[0]]
    table = []
    for number, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        values = list(values) + [""] * (len(header) - len(values))
        table.append((number, {h: v.strip() for h, v in zip(header, values, strict=False) if h}))
    return table


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise TableError(f"not a readable CSV file ({exc})") from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TableError(f"not a readable Excel file ({type(exc).__name__})") from None
    return [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def _cell(value: object) -> object:
    """Numbers stay numbers in Excel (a chemist plots them); everything else is text."""
    if isinstance(value, bool) or value is None:
        return _text(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value
    return _text(value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
