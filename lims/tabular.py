"""Read and write simple tables as CSV, Excel (.xlsx) or Parquet, for exports and bulk imports
(no Django).

Rows are dicts keyed by the header; every value is text ("" for empty), so that a file Kiln
wrote reads back to exactly the same rows, whichever of the three formats it is.

Every table Kiln writes goes through here, so that no cell can run as a spreadsheet formula
(CSV injection): text beginning with = + - @, a tab or a carriage return is made inert. In a
CSV file such text gets a leading apostrophe (`'=HYPERLINK(...)`), which read_table takes off
again; in a workbook it is a string cell with Excel's "quote prefix" (what typing a leading '
gives), its text unchanged. Numbers stay numbers: -0.5 is not text, and "-0.5" is not altered.
Parquet runs nothing, so its text is written as it is; a column whose values are all numbers is
typed (int64, or float64 once any is a float), every other column is text written as the CSV
writes it (None is null, read back as "").
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

XLSX_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
PARQUET_GROUP_ROWS = 10_000  # rows per row group: each is sent as soon as it is written
EXACT_FLOAT_INT = 2**53  # larger integers are not exact as float64: such a column is text
INT64 = (-(2**63), 2**63)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"

# (sheet title, header, rows) of a workbook
Sheet = tuple[str, Sequence[str], Iterable[Sequence[object]]]


class TableError(ValueError):
    """The file is not a table Kiln can read; the message says why."""


# --- formula neutralisation --------------------------------------------------------------------


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet read `text` (or `text` without its leading apostrophes) as a formula?
    A number written as text ("-0.5", "+3", "-1e-05") is not."""
    body = text.lstrip(QUOTE)
    return bool(body) and body.startswith(FORMULA_STARTS) and not _is_number(body)


def neutralise(text: str) -> str:
    """`text` made inert for a CSV cell: a leading apostrophe when it looks like a formula.
    Text already starting with apostrophes gets one more, so `restore` is its exact inverse."""
    return QUOTE + text if is_formula_like(text) else text


def restore(text: str) -> str:
    """The text `neutralise` was given (the apostrophe it added taken off)."""
    return text[1:] if text.startswith(QUOTE) and is_formula_like(text[1:]) else text


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# --- writing ----------------------------------------------------------------------------------


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The table as CSV text, one line at a time (for streaming), every cell neutralised."""
    buffer = io.StringIO()
    # "\r\n" makes the writer quote a field holding a carriage return (with "\n" it does not,
    # and the file would not read back); each line still ends in "\n", like the stored tables.
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in _with_header(header, rows):
        writer.writerow([neutralise(_text(v)) for v in row])
        yield buffer.getvalue()[:-2] + "\n"
        buffer.seek(0)
        buffer.truncate()


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[object]], bom: bool = True
) -> Iterator[bytes]:
    """UTF-8 with a BOM (which makes Excel read UTF-8), in chunks of about 64 KiB."""
    pending, size = ["\ufeff" if bom else ""], 0
    for line in csv_lines(header, rows):
        pending.append(line)
        size += len(line)
        if size >= 65536:
            yield "".join(pending).encode("utf-8")
            pending, size = [], 0
    yield "".join(pending).encode("utf-8")


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    return b"".join(csv_chunks(header, rows))


def write_csv_to(out: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    for chunk in csv_chunks(header, rows):
        out.write(chunk)


def write_workbook(out: BinaryIO | str, sheets: Iterable[Sheet]) -> None:
    """An .xlsx of one or more sheets, written row by row (openpyxl's write-only mode keeps
    the rows on disk, not in memory)."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        for row in _with_header(header, rows):
            sheet.append([_cell(sheet, v) for v in row])
    book.save(out)


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], title: str) -> bytes:
    out = io.BytesIO()
    write_workbook(out, [(title, header, rows)])
    return out.getvalue()


def parquet_chunks(
    header: Sequence[str], rows: Iterable[Sequence[object]], group_rows: int = PARQUET_GROUP_ROWS
) -> Iterator[bytes]:
    """The table as a Parquet file in pieces (one per row group, then the footer), for
    streaming. The rows are read once, into columns: a column's type needs all its values."""
    columns: list[list[object]] = [[] for _ in header]
    for row in rows:
        for column, value in zip(columns, _padded(row, len(header)), strict=True):
            column.append(value)
    table = pa.Table.from_arrays([_arrow_column(c) for c in columns], names=list(header))
    sink = _Sink()
    writer = pq.ParquetWriter(sink, table.schema)
    for batch in table.to_batches(max_chunksize=max(group_rows, 1)):
        writer.write_batch(batch)
        yield sink.drain()
    writer.close()
    yield sink.drain()


def write_parquet(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    return b"".join(parquet_chunks(header, rows))


def write_parquet_to(
    out: BinaryIO, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    for chunk in parquet_chunks(header, rows):
        out.write(chunk)


def _padded(row: Sequence[object], width: int) -> list[object]:
    values = list(row)[:width]
    return values + [None] * (width - len(values))


def _arrow_column(values: list[object]) -> pa.Array:
    """int64 when every value given is an int, float64 when they are ints and floats (ints
    exact as floats), else text as the CSV has it; None (and "" in a number column) is null."""
    present = [v for v in values if v is not None and not (isinstance(v, str) and v == "")]
    if present and all(_is_int(v) for v in present):
        return pa.array([v if _is_int(v) else None for v in values], type=pa.int64())
    if present and all(_is_float_like(v) for v in present):
        return pa.array([float(v) if _is_float_like(v) else None for v in values], pa.float64())
    return pa.array([None if v is None else _text(v) for v in values], type=pa.string())


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and INT64[0] <= value < INT64[1]


def _is_float_like(value: object) -> bool:
    if isinstance(value, float):
        return True
    return _is_int(value) and abs(value) <= EXACT_FLOAT_INT


class _Sink:
    """A write-only file for pyarrow that hands over what was written so far (`drain`), while
    `tell` keeps counting from the start of the file (Parquet's offsets need it)."""

    closed = False

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data) -> int:
        data = bytes(data)
        self._parts.append(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _with_header(header: Sequence[str], rows: Iterable[Sequence[object]]):
    yield header
    yield from rows


def _cell(sheet, value: object) -> object:
    """Numbers stay numbers in Excel (a chemist plots them); everything else is text, never a
    formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return value
    text = _text(value)
    if not is_formula_like(text):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl reads a leading "=" as a formula
    cell.quotePrefix = True
    return cell


def cell_text(value: object) -> str:
    """A value as the CSV writer puts it in a cell (before neutralising): "" for None, an
    integral float without ".0" (as Excel shows it), anything else as str()."""
    return _text(value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- reading ----------------------------------------------------------------------------------


def read_table(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number as a person sees it, row) pairs; the header is line 1."""
    if not data.strip():
        raise TableError("the file is empty")
    if data.startswith(XLSX_MAGIC):
        rows = _xlsx_rows(data)
    elif data.startswith(PARQUET_MAGIC):
        rows = _parquet_rows(data)
    else:
        rows = _csv_rows(data)
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


def count_rows(data: bytes) -> int:
    """About how many rows `data` holds, without reading it into a table (cheap, for deciding
    whether to read it in the request or on the worker)."""
    if data.startswith(XLSX_MAGIC):
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
            rows = sheet.max_row or sum(1 for _ in sheet.iter_rows(values_only=True))
            return max(rows - 1, 0)
        except Exception:  # a damaged file: the reader says what is wrong with it
            return 0
    if data.startswith(PARQUET_MAGIC):
        try:
            return pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
        except Exception:  # a damaged file: the reader says what is wrong with it
            return 0
    return max(data.count(b"\n") - 1, 0)


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        return [[restore(v) for v in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise TableError(f"not a readable CSV file ({exc})") from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        return [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TableError(f"not a readable Excel file ({type(exc).__name__})") from None


def _parquet_rows(data: bytes) -> list[list[str]]:
    """The header and rows of a Parquet file as text, each value as the CSV writer gives it."""
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise TableError(f"not a readable Parquet file ({type(exc).__name__})") from None
    columns = [column.to_pylist() for column in table.columns]
    rows = [[_text(v) for v in row] for row in zip(*columns, strict=True)]
    return [list(table.column_names), *rows]
