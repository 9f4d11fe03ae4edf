"""Maccor text exports, in the variants Maccor's software writes (own reader, small column map).

A file holds some header lines ("Today's Date ...", or the MIMS-style "Name:", "Channel:",
"Procedure:" lines, or none), then a tab-separated column header naming a record column
("Rec#" or "Rec"), a cycle column ("Cyc#", "Cycle P"/"Cycle C") and a state column ("State"
or "Md"), optionally a units line, then the records. Decimal commas (European Windows
locales) and "Nd hh:mm:ss.f" times are read.

Rules (units: mA, V, mAh, mWh, s); cycles, direction and capacities are cycle_model's:
- The cycle column is kept as `instrument_cycle` (Maccor counts from 0).
- The state column is the step type (C charge, D discharge, R rest, anything else other).
- Current is passed as recorded: some templates write |I|, and the cycle model then takes
  the direction from the state.
- Amp-hr / Watt-hr (or "Cap. [Ah]" / "Ener. [Wh]") restart at every step: counters per step.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import _table
from ._text import CUT_LAST_LINE, find_column, read_table, require, scale, seconds, unit_of
from .cycle_model import Counter, Records, normalise
from .errors import ParseError, file_label

_NAMES = {
    "cycle": ("Cyc#", "Cycle C", "Cycle P", "Cycle", "Cycle Index"),
    "step": ("Step",),
    "time": (
        "Test (Sec)",
        "Test Time (sec)",
        "Test Time (s)",
        "TestTime",
        "Test Time",
        "TestTime(s)",
    ),
    "capacity": ("Amp-hr", "Capacity (AHr)", "Capacity (Ah)", "Cap. [Ah]", "Capacity(Ah)"),
    "energy": ("Watt-hr", "Energy (WHr)", "Energy (Wh)", "Ener. [Wh]"),
    "current": ("Amps", "Current (A)", "Current [A]", "Current(A)", "Current"),
    "voltage": ("Volts", "Voltage (V)", "Voltage [V]", "Voltage(V)", "Voltage"),
    "state": ("State", "MD", "Md"),
}
_STATES = {"C": _table.CHARGE, "D": _table.DISCHARGE, "R": _table.REST}
_DEFAULT_UNITS = {"capacity": "Ah", "energy": "Wh", "current": "A", "voltage": "V"}
_HEADER_SEARCH_LINES = 60
_NUMBER_START = re.compile(r"^\s*[-+]?\d")


def header_line(lines: list[str]) -> int | None:
    """Index of the column header among the first lines: a line naming "Rec#" and a cycle
    column, or "Rec", a cycle column and a state column (the MIMS-style variant)."""
    for index, line in enumerate(lines[:_HEADER_SEARCH_LINES]):
        cells = [c.strip() for c in re.split(r"[\t,]", line)]
        if not find_column(cells, _NAMES["cycle"]):
            continue
        if "Rec#" in cells or ("Rec" in cells and find_column(cells, _NAMES["state"])):
            return index
    return None


def read_maccor(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Normalised table and metadata for a Maccor text export."""
    path = Path(path)
    lines = path.read_bytes().decode("latin-1").splitlines()
    at = header_line(lines)
    if at is None:
        raise ParseError(
            f"{file_label(path)}: a Maccor export without a column header naming Rec#, Cyc# "
            "and State."
        )
    sep = "\t" if "\t" in lines[at] else ","
    header = [c.strip() for c in lines[at].split(sep)]
    cols = {key: find_column(header, names) for key, names in _NAMES.items()}
    needed = {k: require(v, k, path) for k, v in cols.items() if k != "energy"}
    body = _records_from(lines, at + 1)
    decimal = _decimal_mark(body, sep)
    raw = read_table("\n".join([lines[at], *body]), [c for c in cols.values() if c], sep, path)
    table = normalise(_records(raw, cols, needed, decimal, path))
    units = {k: unit_of(v, _DEFAULT_UNITS[k]) for k, v in cols.items() if k in _DEFAULT_UNITS and v}
    meta = {"source_library": "kiln", "units_seen": units, "header": lines[:at]}
    if decimal == ",":
        meta["decimal_mark"] = ","
    return table, meta


def _records_from(lines: list[str], first: int) -> list[str]:
    """The data lines: a units line or blank lines between the header and the first record
    (some variants write them) are skipped."""
    start = first
    while start < len(lines) and not _NUMBER_START.match(lines[start]):
        start += 1
    return lines[start:]


def _decimal_mark(body: list[str], sep: str) -> str:
    """',' when the records use decimal commas (tab-separated exports of European locales)."""
    if sep == ",":
        return "."
    sample = [cell for line in body[:50] for cell in line.split(sep)]
    commas = sum(bool(re.fullmatch(r"\s*[-+]?\d+,\d+\s*", c)) for c in sample)
    points = sum(bool(re.fullmatch(r"\s*[-+]?\d*\.\d+\s*", c)) for c in sample)
    return "," if commas > points else "."


def _records(
    raw: pd.DataFrame,
    cols: dict[str, str | None],
    needed: dict[str, str],
    decimal: str,
    path: Path,
) -> Records:
    def number(key: str) -> np.ndarray:
        return _numbers(raw[cols[key]], cols[key], decimal, path)

    state = raw[needed["state"]].str.strip().str.upper().to_numpy()
    kinds = pd.Series(state).map(_STATES).fillna(_table.OTHER).to_numpy(dtype=object)
    cycle = number("cycle").astype(np.int64)
    step = _table.run_ids(cycle, number("step"))
    energy = ()
    if cols["energy"]:
        energy = (Counter(number("energy") * scale(cols["energy"], "Wh", path), segments=step),)
    return Records(
        time_s=_time_s(raw[needed["time"]], needed["time"], decimal, path),
        voltage_v=number("voltage") * scale(needed["voltage"], "V", path),
        current_ma=number("current") * scale(needed["current"], "A", path),
        step=step,
        step_type=kinds,
        instrument_cycle=cycle,
        capacity=(
            Counter(number("capacity") * scale(needed["capacity"], "Ah", path), segments=step),
        ),
        energy=energy,
        notes={CUT_LAST_LINE: raw.attrs.get(CUT_LAST_LINE, False)},
    )


def _time_s(column: pd.Series, name: str, decimal: str, path: Path) -> np.ndarray:
    """Seconds, from plain numbers (in the header's unit: s, min or h) or Nd hh:mm:ss.f."""
    text = column.str.strip()
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    factor = {"min": 60.0, "h": 3600.0, "hr": 3600.0}.get(unit_of(name, "s").lower(), 1.0)
    plain = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    return np.where(plain, factor, 1.0) * seconds(text, path, name)


def _numbers(column: pd.Series, name: str, decimal: str, path: Path) -> np.ndarray:
    text = column.str.strip()
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce")
    if values.isna().any():
        raise ParseError(f"{file_label(path)}: non-numeric values in column '{name}'.")
    return values.to_numpy(dtype=float)
