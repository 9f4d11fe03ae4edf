"""Maccor text exports (tab-separated; header lines such as "Today's Date ..." then a column
header starting "Rec#"). Own reader with a small column map.

Rules (units: mA, V, mAh, mWh, s):
- Cycle labels are Maccor's cycle column (Cyc#), the instrument's count, which starts at 0.
- Maccor's Amp-hr and Watt-hr restart at every step and are unsigned; the direction is in the
  State column (C charge, D discharge, R rest, anything else other). A cycle's charge is the
  SUM of its charge steps' maxima, built as a cumulative-within-cycle column.
- Current is signed from State (+ for C, - for D) since some templates export |Amps|.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import _table
from ._text import find_column, read_table, require, scale, unit_of
from .errors import ParseError, file_label

_NAMES = {
    "cycle": ("Cyc#", "Cycle", "Cycle C", "Cycle P"),
    "step": ("Step",),
    "time": ("Test (Sec)", "Test Time (sec)", "Test Time (s)", "TestTime"),
    "capacity": ("Amp-hr", "Capacity (AHr)", "Capacity (Ah)", "Cap. [Ah]"),
    "energy": ("Watt-hr", "Energy (WHr)", "Energy (Wh)", "Ener. [Wh]"),
    "current": ("Amps", "Current (A)", "Current [A]", "Current"),
    "voltage": ("Volts", "Voltage (V)", "Voltage [V]", "Voltage"),
    "state": ("State", "MD", "Md"),
}
_STATES = {"C": _table.CHARGE, "D": _table.DISCHARGE, "R": _table.REST}
_DEFAULT_UNITS = {"capacity": "Ah", "energy": "Wh", "current": "A", "voltage": "V"}


def read_maccor(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Normalised table and metadata for a Maccor text export."""
    path = Path(path)
    lines = path.read_bytes().decode("latin-1").splitlines()
    at = next((i for i, ln in enumerate(lines[:50]) if ln.startswith("Rec#")), None)
    if at is None:
        raise ParseError(f"{file_label(path)}: a Maccor export without a 'Rec#' column header.")
    sep = "\t" if "\t" in lines[at] else ","
    header = [c.strip() for c in lines[at].split(sep)]
    cols = {key: find_column(header, names) for key, names in _NAMES.items()}
    needed = {k: require(v, k, path) for k, v in cols.items() if k != "energy"}
    used = [c for c in cols.values() if c is not None]
    raw = read_table("\n".join(lines[at:]), used, sep, path)
    table = _normalise(raw, cols, needed, path)
    units = {k: unit_of(v, _DEFAULT_UNITS[k]) for k, v in cols.items() if k in _DEFAULT_UNITS and v}
    return table, {"source_library": "kiln", "units_seen": units, "header": lines[:at]}


def _normalise(
    raw: pd.DataFrame, cols: dict[str, str | None], needed: dict[str, str], path: Path
) -> pd.DataFrame:
    num = {k: _numbers(raw[c], c, path) for k, c in needed.items() if k != "state"}
    state = raw[needed["state"]].str.strip().str.upper().to_numpy()
    kinds = pd.Series(state).map(_STATES).fillna(_table.OTHER).to_numpy(dtype=object)
    cycle = num["cycle"].astype(np.int64)
    step = _table.run_ids(cycle, num["step"])
    sign = np.where(kinds == _table.DISCHARGE, -1.0, 1.0)
    current = np.where(kinds == _table.REST, num["current"], sign * np.abs(num["current"]))
    capacity = num["capacity"] * scale(needed["capacity"], "Ah", path)
    energy_mwh: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
    if cols["energy"]:
        column = cols["energy"]
        energy = _numbers(raw[column], column, path) * scale(column, "Wh", path)
        energy_mwh = tuple(
            _per_cycle(cycle, step, kinds, kind, energy)
            for kind in (_table.CHARGE, _table.DISCHARGE)
        )
    return _table.build_table(
        time_s=num["time"],
        cycle=cycle,
        step=step,
        step_type=kinds,
        current_ma=current * scale(needed["current"], "A", path),
        voltage_v=num["voltage"] * scale(needed["voltage"], "V", path),
        charge_mah=_per_cycle(cycle, step, kinds, _table.CHARGE, capacity),
        discharge_mah=_per_cycle(cycle, step, kinds, _table.DISCHARGE, capacity),
        charge_mwh=energy_mwh[0],
        discharge_mwh=energy_mwh[1],
    )


def _per_cycle(
    cycle: np.ndarray, step: np.ndarray, kinds: np.ndarray, kind: str, per_step: np.ndarray
) -> np.ndarray:
    running = np.where(kinds == kind, np.abs(per_step), 0.0)
    return _table.cumulative_in_cycle(cycle, step, running)


def _numbers(column: pd.Series, name: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(column.str.strip(), errors="coerce")
    if values.isna().any():
        raise ParseError(f"{file_label(path)}: non-numeric values in column '{name}'.")
    return values.to_numpy(dtype=float)
