"""Generic potential-step tables (CSV/TSV/semicolon text or .xlsx, first sheet) read through a
StepColumnMapping the user saves once per instrument.

- time_s = value x (1, 60, 3600 for s, min, h); potential_v = value x (1, 0.001 for V, mV);
  current_a = value x (1, 1e-3, 1e-6 for A, mA, µA), negated when the mapping says the
  instrument counts oxidation current negative (so current_a is > 0 for oxidation);
- steps: the step column's changes when mapped; else changes of the set-potential column when
  mapped; else jumps of the measured potential (potential_steps.split_levels);
- columns are matched by name, exactly, else ignoring case and surrounding spaces;
  `header_row` is the 0-based line (text) or row (xlsx) holding the names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._zip import DEFAULT_LIMITS, verify_archive
from .errors import ParseError, file_label
from .mapping_record import StoredMapping
from .potential_steps import MAPPED, changes, finish, ids_from_boundaries
from .potential_steps_text import numeric_columns, read_lines, split_header

TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}
POTENTIAL_UNITS = {"V": 1.0, "mV": 1e-3}
CURRENT_UNITS = {"A": 1.0, "mA": 1e-3, "\u00b5A": 1e-6, "uA": 1e-6}
OXIDATION_SIGNS = ("positive", "negative")
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class StepColumnMapping(StoredMapping):
    """Where a generic table keeps time, potential and current (and optionally the step
    number and the set potential), and in which units."""

    name: str
    time_column: str
    potential_column: str
    current_column: str
    time_unit: str = "s"
    potential_unit: str = "V"
    current_unit: str = "A"
    oxidation_current: str = "positive"
    step_column: str = ""
    set_potential_column: str = ""
    header_row: int = 0

    def __post_init__(self) -> None:
        self._check_text()
        self._check_choices(
            (
                ("time_unit", tuple(TIME_UNITS)),
                ("potential_unit", tuple(POTENTIAL_UNITS)),
                ("current_unit", tuple(CURRENT_UNITS)),
                ("oxidation_current", OXIDATION_SIGNS),
            )
        )
        self._check_required(("name", "time_column", "potential_column", "current_column"))
        self._check_header_row(most=1000)

    def columns(self) -> dict[str, str]:
        """quantity -> column name, for the columns this mapping uses."""
        names = {
            "time": self.time_column,
            "potential": self.potential_column,
            "current": self.current_column,
            "step": self.step_column,
            "set_potential": self.set_potential_column,
        }
        return {q: c for q, c in names.items() if c}


def read(
    path: Path, mapping: StepColumnMapping, *, min_step_mv: float
) -> tuple[pd.DataFrame, dict]:
    if not isinstance(mapping, StepColumnMapping):
        raise ParseError(f"{file_label(path)}: the column mapping is not a StepColumnMapping.")
    values, layout = _load(path, mapping)
    sign = 1.0 if mapping.oxidation_current == "positive" else -1.0
    volts = POTENTIAL_UNITS[mapping.potential_unit]
    step = None
    if "step" in values:
        step_values = values["step"]
        if not np.isfinite(step_values).all():
            raise ParseError(f"{file_label(path)}: the step column has empty or non-numeric cells.")
        step = ids_from_boundaries(changes(step_values))
    set_v = values["set_potential"] * volts if "set_potential" in values else None
    meta = {
        "format": MAPPED,
        "source_library": "kiln",
        "source_version": None,
        "technique": f"table read through mapping '{mapping.name}'",
        "start_time_local": None,
        "mapping": mapping.name,
        "units_seen": {
            "time": mapping.time_unit,
            "potential": mapping.potential_unit,
            "current": mapping.current_unit,
        },
        **layout,
    }
    return finish(
        path,
        time_s=values["time"] * TIME_UNITS[mapping.time_unit],
        potential_v=values["potential"] * volts,
        current_a=values["current"] * CURRENT_UNITS[mapping.current_unit] * sign,
        set_potential_v=set_v,
        step=step,
        step_rule=f"changes of the step column '{mapping.step_column}'",
        min_step_mv=min_step_mv,
        meta=meta,
    )


def _load(path: Path, mapping: StepColumnMapping) -> tuple[dict[str, np.ndarray], dict]:
    try:
        with path.open("rb") as fh:
            is_xlsx = fh.read(4) == _ZIP_MAGIC
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if is_xlsx:
        header, rows = _xlsx_rows(path, mapping.header_row)
        found = _match(header, mapping, path)
        frame = pd.DataFrame(rows, columns=header) if rows else pd.DataFrame(columns=header)
        frame = frame.loc[~(frame.astype(str) == "").all(axis=1)]
        if frame.empty:
            raise ParseError(f"{file_label(path)}: the sheet has a header but no data rows.")
        values = {
            q: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
            for q, c in found.items()
        }
        return values, {"container": "xlsx", "delimiter": None}
    lines = read_lines(path)
    if mapping.header_row >= len(lines):
        raise ParseError(
            f"{file_label(path)}: has {len(lines)} lines, no header at line "
            f"{mapping.header_row + 1}."
        )
    header, delimiter = split_header(lines[mapping.header_row])
    found = _match(header, mapping, path)
    values = numeric_columns(lines, mapping.header_row, header, delimiter, found, path)
    return values, {"container": "text", "delimiter": delimiter}


def _match(header: list[str], mapping: StepColumnMapping, path: Path) -> dict[str, str]:
    """quantity -> the file's header cell (exact, else ignoring case and spaces)."""
    by_key = {h.strip().lower(): h for h in header}
    found = {}
    for quantity, column in mapping.columns().items():
        match = column if column in header else by_key.get(column.strip().lower())
        if match is None:
            raise ParseError(
                f"{file_label(path)}: the file has no column '{column}' named in mapping "
                f"'{mapping.name}' (its columns: {', '.join(h for h in header if h)})."
            )
        found[quantity] = match
    return found


def _xlsx_rows(path: Path, header_row: int) -> tuple[list[str], list[list]]:
    from python_calamine import CalamineWorkbook

    verify_archive(path, DEFAULT_LIMITS)  # sizes and CRCs before calamine unpacks the sheet
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    if header_row >= len(rows):
        raise ParseError(
            f"{file_label(path)}: its first sheet has {len(rows)} rows, no header at row "
            f"{header_row + 1}."
        )
    return [str(h).strip() for h in rows[header_row]], rows[header_row + 1 :]
