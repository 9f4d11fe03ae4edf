"""Delimited text tables of the potential-step readers (Autolab exports, mapped tables).

Rules: the delimiter is the one of tab, semicolon and comma found most often in the header
line; the decimal mark is a comma when the delimiter is not a comma and the first data cells
look like "1,25"; text is UTF-16 (with its byte-order mark), UTF-8 or Latin-1 (see
potential_steps.decode); any line ending. Units are read from the header ("Time (s)",
"Current [mA]") or given by a mapping, and converted with the tables below.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label, read_nonempty_bytes
from .potential_steps import cut_last_line, decode

DELIMITERS = ("\t", ";", ",")
# Multiply a value in the unit by this to get s, V or A.
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}
POTENTIAL_UNITS = {"v": 1.0, "mv": 1e-3}
CURRENT_UNITS = {"a": 1.0, "ma": 1e-3, "ua": 1e-6, "\u00b5a": 1e-6, "\u03bca": 1e-6, "na": 1e-9}
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+(?:[eE][-+]?\d+)?\s*$")
_UNIT = re.compile(r"[(\[]\s*([^)\]]+?)\s*[)\]]\s*$")


def read_lines(path: Path) -> list[str]:
    """The file's lines (any line ending), blank trailing lines dropped."""
    raw = read_nonempty_bytes(path)
    lines = decode(raw).splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def split_header(line: str) -> tuple[list[str], str]:
    """The header's cells (quotes and spaces stripped) and the delimiter."""
    delimiter = max(DELIMITERS, key=line.count)
    cells = next(csv.reader([line], delimiter=delimiter))
    return [c.strip().strip('"').strip() for c in cells], delimiter


def unit_in(header: str) -> str | None:
    """The unit written at the end of a header cell: 'Time (s)' -> 's', 'I [mA]' -> 'mA'."""
    match = _UNIT.search(header)
    return match.group(1) if match else None


def factor(unit: str, table: dict[str, float], column: str, path: Path) -> float:
    value = table.get(unit.strip().lower().replace("\u03bc", "\u00b5"))
    if value is None:
        raise ParseError(
            f"{file_label(path)}: unexpected unit '{unit}' in column '{column}' (expected one "
            f"of {', '.join(table)})."
        )
    return value


def numeric_columns(
    lines: list[str],
    header_line: int,
    header: list[str],
    delimiter: str,
    wanted: dict[str, str],
    path: Path,
) -> dict[str, np.ndarray]:
    """quantity -> float values of the wanted columns (quantity -> header cell) of the data
    lines after `header_line`. Unparsable or empty cells become NaN (the caller names them);
    a last line with fewer fields than the header is a cut line (ParseError)."""
    data = [ln for ln in lines[header_line + 1 :] if ln.strip()]
    if not data:
        raise ParseError(f"{file_label(path)}: the table has a header but no data lines.")
    positions = {q: header.index(c) for q, c in wanted.items()}
    fields = max((i for i, c in enumerate(header) if c), default=0) + 1  # trailing "" ignored
    if len(next(csv.reader([data[-1]], delimiter=delimiter))) < fields:
        raise cut_last_line(path)
    decimal = _decimal(data[:50], delimiter)
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(data)),
            sep=delimiter,
            header=None,
            usecols=sorted(set(positions.values())),
            decimal=decimal,
            skip_blank_lines=False,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ParseError(f"{file_label(path)}: the data lines cannot be read ({exc}).") from exc
    out = {}
    for quantity, position in positions.items():
        column = frame[position]
        if column.dtype == object:  # a cell that is not a number: NaN, named by the caller
            text = column.astype(str).str.strip()
            if decimal == ",":
                text = text.str.replace(",", ".", regex=False)
            column = pd.to_numeric(text, errors="coerce")
        out[quantity] = column.to_numpy(dtype=float)
    return out


def _decimal(lines: list[str], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    cells = (cell for line in lines for cell in line.split(delimiter))
    return "," if any(_DECIMAL_COMMA.match(c) for c in cells) else "."
