"""Generic CSV/XLSX tables read through a column mapping the user saves once per instrument.

A ColumnMapping names the file's columns for time, voltage, current and capacity (and,
optionally, cycle, step and energy), their units, the sign convention of the current and when
the instrument restarts its capacity count. read_mapped_file turns such a file into the
normalised table (schema.COLUMNS, units s, mA, V, mAh, mWh), with the same rules as the
instrument readers:

- current_ma = value x (1000 for A, 1 for mA), negated when the mapping says the file counts
  charge negative; the cycle model still checks the sign against the voltage trend (and reads
  files that record |I|), so a wrong sign setting cannot swap charge and discharge;
- time_s = value x (1, 60, 3600 for s, min, h);
- steps: the step column's changes; without one, changes of current sign (cycle_model);
- the cycle column, when mapped, is kept as `instrument_cycle`; cycles, direction and
  capacities follow the one cycle model of every reader (cycle_model), so a table without a
  cycle column gives the same cycles as with one;
- capacity (and energy) counters, |value| x (1000 for Ah/Wh):
  restart "step": a counter per step (Neware/Maccor rule);
  restart "cycle": a counter per cycle-column value (Arbin rule);
  restart "never": a counter over the whole file (net or throughput), taken step by step.

CSV delimiter (comma, semicolon or tab) and decimal mark ("." or ",") are detected from the
file; `header_row` is the 0-based line (CSV) or row (XLSX, first sheet) holding the names.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import _table
from ._text import CUT_LAST_LINE, read_table
from ._zip import DEFAULT_LIMITS, UnpackLimits, verify_archive
from .cycle_model import Counter, Records, normalise
from .errors import ParseError, file_label
from .mapping_record import MappingError, StoredMapping
from .reader import CYCLE_RULE, PARSER_VERSION, ParsedFile, guarded

MAPPED = "mapped"
TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}
CURRENT_UNITS = {"A": 1000.0, "mA": 1.0}
CAPACITY_UNITS = {"Ah": 1000.0, "mAh": 1.0}
ENERGY_UNITS = {"Wh": 1000.0, "mWh": 1.0}
CHARGE_SIGNS = ("positive", "negative")
RESTARTS = ("step", "cycle", "never")
_DELIMITERS = (",", ";", "\t")
_ZIP_MAGIC = b"PK\x03\x04"
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+(?:[eE][-+]?\d+)?\s*$")


@dataclass(frozen=True)
class ColumnMapping(StoredMapping):
    """Where a generic table keeps each quantity, and in which unit.

    Capacity is either `charge_capacity_column` + `discharge_capacity_column` or one
    `capacity_column` (its direction then comes from the current), in `capacity_unit`;
    `capacity_restarts` is "step", "cycle" (needs `cycle_column`) or "never".
    """

    name: str
    time_column: str
    voltage_column: str
    current_column: str
    time_unit: str = "s"
    current_unit: str = "A"
    charge_current: str = "positive"
    cycle_column: str = ""
    step_column: str = ""
    charge_capacity_column: str = ""
    discharge_capacity_column: str = ""
    capacity_column: str = ""
    capacity_unit: str = "Ah"
    capacity_restarts: str = "step"
    charge_energy_column: str = ""
    discharge_energy_column: str = ""
    energy_unit: str = "Wh"
    header_row: int = 0

    def __post_init__(self) -> None:
        self._check_text()
        self._check_choices(
            (
                ("time_unit", tuple(TIME_UNITS)),
                ("current_unit", tuple(CURRENT_UNITS)),
                ("charge_current", CHARGE_SIGNS),
                ("capacity_unit", tuple(CAPACITY_UNITS)),
                ("capacity_restarts", RESTARTS),
                ("energy_unit", tuple(ENERGY_UNITS)),
            )
        )
        self._check_required(("name", "time_column", "voltage_column", "current_column"))
        separate = bool(self.charge_capacity_column) and bool(self.discharge_capacity_column)
        if separate == bool(self.capacity_column) or (
            not separate and (self.charge_capacity_column or self.discharge_capacity_column)
        ):
            raise MappingError(
                "give either both charge_capacity_column and discharge_capacity_column, "
                "or capacity_column alone"
            )
        if bool(self.charge_energy_column) != bool(self.discharge_energy_column):
            raise MappingError("give both energy columns or neither")
        if self.capacity_restarts == "cycle" and not self.cycle_column:
            raise MappingError("capacity_restarts 'cycle' needs the cycle_column")
        if self.capacity_restarts == "step" and not self.step_column:
            raise MappingError(
                "capacity_restarts 'step' needs the step_column (CC and CV steps of one "
                "direction cannot be told apart from the current sign alone)"
            )
        self._check_header_row()

    def columns(self) -> dict[str, str]:
        """Quantity -> column name, for the columns this mapping uses."""
        keys = (
            "time_column",
            "voltage_column",
            "current_column",
            "cycle_column",
            "step_column",
            "charge_capacity_column",
            "discharge_capacity_column",
            "capacity_column",
            "charge_energy_column",
            "discharge_energy_column",
        )
        return {k.removesuffix("_column"): getattr(self, k) for k in keys if getattr(self, k)}


def read_mapped_file(
    path: str | Path, mapping: ColumnMapping, *, limits: UnpackLimits = DEFAULT_LIMITS
) -> ParsedFile:
    """The normalised table (ParsedFile with format "mapped") of a CSV or XLSX file read
    through `mapping`; metadata["mapping"] is the mapping's name.

    A file without one of the mapped columns raises ParseError "the file has no column 'X'
    named in mapping 'Y'" (a file of the wrong format for the chosen mapping); empty, damaged
    or non-numeric files raise ParseError naming the file.
    """
    path = Path(path)
    table, meta = guarded(
        path, f"a table for mapping '{mapping.name}'", lambda: _read(path, mapping, limits)
    )
    meta["parser_version"] = PARSER_VERSION
    meta["cycle_rule"] = CYCLE_RULE
    return ParsedFile(format=MAPPED, table=table, metadata=meta)


def _read(path: Path, mapping: ColumnMapping, limits: UnpackLimits) -> tuple[pd.DataFrame, dict]:
    raw, layout = _load(path, mapping, limits)
    if raw.empty:
        raise ParseError(f"{file_label(path)}: the file holds no data records.")
    table = _normalise(raw, mapping, layout["decimal"], path)
    meta = {
        "source_library": "kiln",
        "source_version": None,
        "mapping": mapping.name,
        "units_seen": {
            "time": mapping.time_unit,
            "current": mapping.current_unit,
            "voltage": "V",
            "capacity": mapping.capacity_unit,
        },
        **layout,
    }
    return table, meta


# --- reading the columns ------------------------------------------------------------------


def _load(
    path: Path, mapping: ColumnMapping, limits: UnpackLimits = DEFAULT_LIMITS
) -> tuple[pd.DataFrame, dict]:
    """The mapped columns as text (CSV) or cells (XLSX), renamed to their quantities."""
    try:
        with path.open("rb") as fh:
            is_xlsx = fh.read(4) == _ZIP_MAGIC
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    wanted = mapping.columns()
    if is_xlsx:
        header, body = _xlsx_rows(path, mapping.header_row, limits)
        layout = {"container": "xlsx", "delimiter": None, "decimal": "."}
    else:
        header, text, layout = _csv_lines(path, mapping.header_row)
    by_name = _match_columns(header, wanted, mapping, path)
    if is_xlsx:
        frame = pd.DataFrame(body, columns=header)[list(by_name.values())]
        frame = frame.loc[~(frame == "").all(axis=1)]
    else:
        frame = read_table(text, list(by_name.values()), layout["delimiter"], path)
    return frame.rename(columns={c: q for q, c in by_name.items()}), layout


def _match_columns(
    header: list[str], wanted: dict[str, str], mapping: ColumnMapping, path: Path
) -> dict[str, str]:
    """Quantity -> the file's header name (exact, else ignoring case and spaces)."""
    by_key = {h.strip().lower(): h for h in header}
    found = {}
    for quantity, column in wanted.items():
        match = column if column in header else by_key.get(column.strip().lower())
        if match is None:
            raise ParseError(
                f"{file_label(path)}: the file has no column '{column}' named in mapping "
                f"'{mapping.name}' (its columns: {', '.join(h for h in header if h)})."
            )
        found[quantity] = match
    return found


def _csv_lines(path: Path, header_row: int) -> tuple[list[str], str, dict]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.splitlines()
    if header_row >= len(lines):
        raise ParseError(
            f"{file_label(path)}: has {len(lines)} lines, no header at line {header_row + 1}."
        )
    first = lines[header_row]
    delimiter = max(_DELIMITERS, key=first.count)
    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    sample = [
        cell for line in lines[header_row + 1 : header_row + 51] for cell in line.split(delimiter)
    ]
    decimal = "," if delimiter != "," and any(_DECIMAL_COMMA.match(c) for c in sample) else "."
    layout = {"container": "csv", "delimiter": delimiter, "decimal": decimal}
    return header, "\n".join(lines[header_row:]), layout


def _xlsx_rows(
    path: Path, header_row: int, limits: UnpackLimits = DEFAULT_LIMITS
) -> tuple[list[str], list[list]]:
    from python_calamine import CalamineWorkbook

    verify_archive(path, limits)  # sizes and CRCs before calamine unpacks the sheet
    workbook = CalamineWorkbook.from_path(str(path))
    rows = workbook.get_sheet_by_index(0).to_python()
    if header_row >= len(rows):
        raise ParseError(
            f"{file_label(path)}: its first sheet has {len(rows)} rows, no header at row "
            f"{header_row + 1}."
        )
    return [str(h).strip() for h in rows[header_row]], rows[header_row + 1 :]


def _numbers(raw: pd.DataFrame, quantity: str, decimal: str, path: Path) -> np.ndarray:
    values = raw[quantity]
    if values.dtype == object:
        values = values.astype(str).str.strip()
        if decimal == ",":
            values = values.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        raise ParseError(
            f"{file_label(path)}: missing or non-numeric values in the {quantity} column."
        )
    return numbers.to_numpy(dtype=float)


# --- normalising --------------------------------------------------------------------------


def _normalise(raw: pd.DataFrame, mapping: ColumnMapping, decimal: str, path: Path) -> pd.DataFrame:
    num = {q: _numbers(raw, q, decimal, path) for q in mapping.columns()}
    sign = 1.0 if mapping.charge_current == "positive" else -1.0
    step = _table.run_ids(num["step"]) if "step" in num else None
    cycle = num["cycle"].astype(np.int64) if "cycle" in num else None
    segments = {"step": step, "cycle": cycle, "never": None}[mapping.capacity_restarts]
    kind = "net" if mapping.capacity_restarts == "never" else "restarts"
    counters = {}
    for what, units in (("capacity", CAPACITY_UNITS), ("energy", ENERGY_UNITS)):
        factor = units[getattr(mapping, f"{what}_unit")]
        columns = [k for k in (f"charge_{what}", f"discharge_{what}", what) if k in num]
        counters[what] = tuple(Counter(num[k] * factor, kind, segments) for k in columns)
    return normalise(
        Records(
            time_s=num["time"] * TIME_UNITS[mapping.time_unit],
            voltage_v=num["voltage"],
            current_ma=num["current"] * CURRENT_UNITS[mapping.current_unit] * sign,
            step=step,
            instrument_cycle=cycle,
            capacity=counters["capacity"],
            energy=counters["energy"],
            notes={CUT_LAST_LINE: raw.attrs.get(CUT_LAST_LINE, False)},
        )
    )
