"""Hiden-style and other delimited mass spectrometer tables, read through a column mapping the
user saves once per instrument (MassSpecMapping). Pure Python, no Django.

Hiden's MASsoft/QGA software exports CSV tables: some header lines (experiment name, start
date and time, scan settings), then a column row with a clock time, an elapsed time in ms and
one column per mass ("mass 32" ...), values in Torr by default or in A. No public Hiden export
was found to check this against, so the reader does not guess: the mapping names the time
column and its unit, each channel's column and m/z, and the signal unit.

Rules:
- the column row is `header_row` (0-based line) or, when None, the first line holding every
  mapped column name (so extra header lines of any length are skipped);
- delimiter: comma, semicolon or tab, whichever the column row holds most of; quotes around
  cells are removed; a decimal comma is read when the delimiter is not a comma;
- time units: s, ms, min, h (time_s = value x factor, kept as written: a column that starts at
  0 gives seconds from the file's start), or "clock" (h:mm:ss[.f] or "d h:mm:ss" times of
  day, made relative to the first row; a clock falling by more than 12 h passes midnight),
  or "datetime" (date and time, e.g. 06/04/2022 23:59:58: seconds from the first row, whose
  date-time becomes the start time, local and zone not recorded; day/month order as for
  QUADERA dates, mass_spec_common.date_order);
- signal units: A, mA, µA/uA, nA, pA, fA, converted to A. A partial pressure (Torr, mbar, Pa)
  is refused unless the mapping gives `a_per_pressure_unit`, the ion current in A that one
  unit of pressure stands for (the instrument's sensitivity); then signal = value x factor
  in A, and the metadata says it was converted;
- all channels share the time column; a missing value drops that point of that channel
  (counted); a cell that is not a number is damage (ParseError); the last line of a file cut
  while written (fewer cells than the column row, or no line break at the end) is dropped.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ._text import seconds
from .errors import ParseError, file_label
from .mapped import MappingError
from .mass_spec_common import (
    ION_CURRENT,
    TIME_UNITS,
    Channel,
    bad_cells,
    build_table,
    channel_metadata,
    date_order,
    decimal_comma_in,
    numbers,
    read_text,
    seconds_since,
    table_unit,
)

HIDEN_CSV = "hiden_csv"
_DELIMITERS = (",", ";", "\t")
_MASS_COLUMN = re.compile(r"^\s*\"?mass\s*\d+(?:\.\d+)?\"?\s*$", re.IGNORECASE)
SIGNAL_UNITS = ("A", "mA", "uA", "µA", "nA", "pA", "fA", "Torr", "mbar", "Pa")
_PRESSURES = ("Torr", "mbar", "Pa")


@dataclass(frozen=True)
class ChannelColumn:
    """One mapped channel: the file's column name, its m/z, and an optional label ("O2")."""

    column: str
    mz: float
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column.strip():
            raise MappingError("each channel needs its column name")
        if isinstance(self.mz, bool) or not isinstance(self.mz, (int, float)):
            raise MappingError(f"m/z of column '{self.column}' must be a number")
        if not (math.isfinite(self.mz) and 0 < self.mz < 1000):
            raise MappingError(f"m/z of column '{self.column}' must be between 0 and 1000")


@dataclass(frozen=True)
class MassSpecMapping:
    """Where a delimited mass spectrometer table keeps time and each channel, in which units."""

    name: str
    time_column: str
    channels: tuple[ChannelColumn, ...]
    time_unit: str = "s"
    signal_unit: str = "A"
    a_per_pressure_unit: float | None = None
    header_row: int | None = None

    def __post_init__(self) -> None:
        if not str(self.name).strip() or not str(self.time_column).strip():
            raise MappingError("name and time_column are required")
        if not self.channels:
            raise MappingError("map at least one channel column")
        if self.time_unit not in (*TIME_UNITS, "clock", "datetime"):
            raise MappingError(
                f"time_unit must be one of s, ms, min, h, clock, datetime, not {self.time_unit!r}"
            )
        if self.signal_unit not in SIGNAL_UNITS:
            raise MappingError(
                f"signal_unit must be one of {', '.join(SIGNAL_UNITS)}, not {self.signal_unit!r}"
            )
        factor = self.a_per_pressure_unit
        if factor is not None and (
            isinstance(factor, bool)
            or not isinstance(factor, (int, float))
            or not (math.isfinite(factor) and 0 < factor < 1e6)
        ):
            raise MappingError("a_per_pressure_unit must be a number > 0 (A per pressure unit)")
        if self.header_row is not None and (
            isinstance(self.header_row, bool)
            or not isinstance(self.header_row, int)
            or self.header_row < 0
        ):
            raise MappingError("header_row must be a whole number, 0 or more")
        columns = [c.column for c in self.channels]
        if len(set(columns)) != len(columns) or self.time_column in columns:
            raise MappingError("each column may be mapped once")

    @classmethod
    def from_dict(cls, data: dict, *, name: str) -> MassSpecMapping:
        """From stored JSON: {"time_column", "time_unit", "signal_unit", "a_per_pressure_unit",
        "header_row", "channels": [{"column", "mz", "label"}]}; unknown keys refused."""
        if not isinstance(data, dict):
            raise MappingError("the mapping must be a JSON object")
        known = {"time_column", "time_unit", "signal_unit", "a_per_pressure_unit", "header_row"}
        unknown = sorted(set(data) - known - {"channels"})
        if unknown:
            raise MappingError(f"unknown mapping keys: {', '.join(unknown)}")
        raw = data.get("channels")
        if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
            raise MappingError("channels must be a list of {column, mz, label}")
        try:
            channels = tuple(ChannelColumn(**c) for c in raw)
        except TypeError as exc:
            raise MappingError(f"a channel has unknown keys ({exc})") from exc
        values = {k: data[k] for k in known if k in data}
        return cls(name=name, channels=channels, **values)

    def to_dict(self) -> dict:
        data = {k: v for k, v in asdict(self).items() if k != "name"}
        data["channels"] = [asdict(c) for c in self.channels]
        return data


def looks_like_hiden_csv(head_text: str) -> bool:
    """True for a delimited table whose column row names a time and one or more "mass N"
    columns (Hiden's export naming), or whose head mentions Hiden. A guess for the upload
    page: reading needs a MassSpecMapping."""
    lines = head_text.lstrip("\ufeff").splitlines()[:60]
    if any("hiden" in line.lower() for line in lines[:20]):
        return True
    for line in lines:
        delimiter = max(_DELIMITERS, key=line.count)
        cells = [c.strip().strip('"').lower() for c in line.split(delimiter)]
        masses = sum(bool(_MASS_COLUMN.match(c)) for c in cells)
        if masses and any(c.startswith("time") or c == "ms" for c in cells):
            return True
    return False


def read_mapped_mass_spec(path: str | Path, mapping: MassSpecMapping) -> tuple[pd.DataFrame, dict]:
    """The ion-current table (mass_spec_common.MS_COLUMNS) and metadata of a delimited table
    read through `mapping`."""
    path = Path(path)
    if mapping.signal_unit in _PRESSURES and mapping.a_per_pressure_unit is None:
        raise ParseError(
            f"{file_label(path)}: mapping '{mapping.name}' reads partial pressures in "
            f"{mapping.signal_unit}; Kiln needs ion currents, so give the mapping's "
            f"a_per_pressure_unit (A per {mapping.signal_unit}, the instrument's sensitivity) "
            "or export the ion current."
        )
    text = read_text(path)
    at = _header_row(text.lines, mapping, path)
    delimiter = max(_DELIMITERS, key=text.lines[at].count)
    header = [c.strip() for c in next(csv.reader([text.lines[at]], delimiter=delimiter))]
    index = _column_index(header, mapping, path)
    body = text.lines[at + 1 :]
    if not body:
        raise ParseError(f"{file_label(path)}: the file ends after its column line; no data.")
    cells = _cells(body, header, delimiter, path)
    comma = decimal_comma_in(body[:20], delimiter)
    cut = _cut(body, header, delimiter, text.ends_with_newline)
    if cut:
        cells = cells.iloc[:-1]
    time_s, t_missing, zero = _times(cells[index[mapping.time_column]], mapping, comma, at, path)
    factor = _signal_factor(mapping)
    channels = []
    for mapped in mapping.channels:
        values, missing = numbers(cells[index[mapped.column]], comma)
        _check(values, missing, mapped.column, at + 2, path)
        keep = ~(missing | t_missing)
        channels.append(
            Channel(
                name=mapped.column,
                mz=float(mapped.mz),
                mz_source=f"mapping '{mapping.name}'",
                unit=ION_CURRENT,
                unit_as_written=mapping.signal_unit,
                time_s=time_s[keep],
                signal=values[keep] * factor,
                missing_values=int((~keep).sum()),
                label=mapped.label,
            )
        )
    table = build_table(channels, path)
    meta = {
        "format": HIDEN_CSV,
        "source_library": "kiln",
        "source_version": None,
        "measurement": "mass_spec",
        "mapping": mapping.name,
        "channels": channel_metadata(channels),
        "units_seen": {"time": mapping.time_unit, "signal": [mapping.signal_unit]},
        "pressure_converted_with_a_per_unit": (
            mapping.a_per_pressure_unit if mapping.signal_unit in _PRESSURES else None
        ),
        "start_time": zero.isoformat() if zero else None,
        "start_time_timezone": "not recorded: the instrument PC's local time" if zero else None,
        "start_time_source": f"first row of column '{mapping.time_column}'" if zero else None,
        "delimiter": delimiter,
        "decimal_separator": "," if comma else ".",
        "encoding": text.encoding,
        "cut_last_line_dropped": cut,
    }
    return table, meta


def _header_row(lines: list[str], mapping: MassSpecMapping, path: Path) -> int:
    wanted = [mapping.time_column, *(c.column for c in mapping.channels)]
    if mapping.header_row is not None:
        if mapping.header_row >= len(lines):
            raise ParseError(
                f"{file_label(path)}: has {len(lines)} lines, no column row at line "
                f"{mapping.header_row + 1} (mapping '{mapping.name}')."
            )
        return mapping.header_row
    for number, line in enumerate(lines[:200]):
        delimiter = max(_DELIMITERS, key=line.count)
        cells = {c.strip().strip('"').lower() for c in line.split(delimiter)}
        if all(w.strip().lower() in cells for w in wanted):
            return number
    raise ParseError(
        f"{file_label(path)}: no line in its first 200 names all the columns of mapping "
        f"'{mapping.name}' ({', '.join(wanted)})."
    )


def _column_index(header: list[str], mapping: MassSpecMapping, path: Path) -> dict[str, int]:
    by_key = {h.strip().lower(): i for i, h in enumerate(header)}
    index = {}
    for column in (mapping.time_column, *(c.column for c in mapping.channels)):
        position = by_key.get(column.strip().lower())
        if position is None:
            raise ParseError(
                f"{file_label(path)}: the file has no column '{column}' named in mapping "
                f"'{mapping.name}' (its columns: {', '.join(h for h in header if h)})."
            )
        index[column] = position
    return index


def _cells(body: list[str], header: list[str], delimiter: str, path: Path) -> pd.DataFrame:
    widest = max(len(header), *(line.count(delimiter) + 1 for line in body[-3:]))
    try:
        return pd.read_csv(
            io.StringIO("\n".join(body)),
            sep=delimiter,
            header=None,
            names=range(widest),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ParseError(f"{file_label(path)}: the data lines cannot be read ({exc}).") from exc


def _cut(body: list[str], header: list[str], delimiter: str, ends_with_newline: bool) -> bool:
    """True when the last line holds fewer cells than the column row, or the file does not
    end with a line break (its last cell may stop inside a number)."""
    return len(body[-1].split(delimiter)) < len(header) or not ends_with_newline


def _times(cells, mapping, comma, at, path) -> tuple[np.ndarray, np.ndarray, datetime | None]:
    """time_s, missing mask and, for date-times, the absolute time of time_s = 0."""
    if mapping.time_unit in TIME_UNITS:
        values, missing = numbers(cells, comma)
        _check(values, missing, mapping.time_column, at + 2, path)
        return values * TIME_UNITS[mapping.time_unit], missing, None
    text = cells.fillna("").astype(str).str.strip().str.strip('"')
    if mapping.time_unit == "datetime":
        present = text[text != ""]
        samples = [present.iloc[i] for i in (0, len(present) // 2, -1)] if len(present) else []
        order, _ = date_order(samples)
        seconds_, missing, bad, zero = seconds_since(text, order, None)
        if len(bad):
            raise ParseError(
                f"{file_label(path)}: line {at + 2 + int(bad[0])}: '{text.iloc[bad[0]]}' in "
                f"column '{mapping.time_column}' is not a date and time."
            )
        return seconds_, missing, zero
    missing = (text == "").to_numpy()
    clock = np.full(len(text), np.nan)
    if missing.all():
        return clock, missing, None
    present = seconds(text[~missing], path, mapping.time_column)
    present = present + np.cumsum(np.r_[0.0, np.diff(present) < -43200.0]) * 86400.0
    clock[~missing] = present - present[0]
    return clock, missing, None


def _signal_factor(mapping: MassSpecMapping) -> float:
    if mapping.signal_unit in _PRESSURES:
        return float(mapping.a_per_pressure_unit)  # type: ignore[arg-type]
    unit = table_unit(mapping.signal_unit)
    assert unit is not None and unit[0] == ION_CURRENT
    return unit[1]


def _check(values, missing, column, first_line, path) -> None:
    bad = bad_cells(values, missing)
    if len(bad):
        raise ParseError(
            f"{file_label(path)}: line {first_line + int(bad[0])}: a value of column "
            f"'{column}' is not a number; the file is damaged."
        )
