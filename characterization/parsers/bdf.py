"""Battery Data Format (BDF, Battery Data Alliance): Kiln's cycling table written as BDF
columns, and BDF files (.csv, .parquet) read as a cycler format.

Where the rules come from (read 2026; cite these when they change):
- battery-data-alliance/battery-data-format, README.md "Defining the BDF for Cycler Time-Series
  Data": required Test Time / s, Voltage / V, Current / A; a header row of preferred labels
  ("Quantity / unit"); units fixed; files named *.bdf.csv / *.bdf.parquet.
- battery-data-alliance/battery-data-format-ontology, docs/pages/specification.rst (ontology
  1.0.0, 2026-05-14): each term's label, notation and definition. Charging Capacity / Ah is
  (1/3600)·∫max(I, 0)dt and Discharging Capacity / Ah (1/3600)·∫max(-I, 0)dt, both counted from
  the start of the test, never reset, held through rests: so current is POSITIVE ON CHARGE, as
  Kiln's current_ma, and only the units change. Cycle Count is the instrument's index, "never
  renumbered"; Step Count a running step counter; Step Type a free label.
- batterydf 0.1.0 (PyPI, `import bdf`), bdf/normalize/spec.py: the same labels and REQUIRED.

BDF defines no per-cycle quantities: the per-cycle table keeps Kiln's names (units in them).
Reading: a BDF file goes through cycle_model.normalise like every cycler file; capacities come
from its charging/discharging counters, else Net Capacity, else the integrated current.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .cycle_model import NO_CYCLE, Counter, Records, normalise
from .cycles import cycle_table
from .errors import ParseError, file_label
from .schema import STEP_TYPES


@dataclass(frozen=True)
class Quantity:
    """A BDF column: its preferred label, its machine-readable name, and the units Kiln reads
    for it (unit -> factor to the label's unit; BDF itself writes only the label's)."""

    label: str
    notation: str
    units: dict[str, float]

    @property
    def base(self) -> str:
        return self.label.split(" / ")[0]


_S = {"s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}
_A = {"A": 1.0, "mA": 1e-3, "uA": 1e-6, "µA": 1e-6}
_AH, _WH, _COUNT = {"Ah": 1.0, "mAh": 1e-3}, {"Wh": 1.0, "mWh": 1e-3}, {"1": 1.0}
QUANTITIES: dict[str, Quantity] = {
    "time": Quantity("Test Time / s", "test_time_second", _S),
    "voltage": Quantity("Voltage / V", "voltage_volt", {"V": 1.0, "mV": 1e-3}),
    "current": Quantity("Current / A", "current_ampere", _A),
    "cycle": Quantity("Cycle Count / 1", "cycle_count", _COUNT),
    "step": Quantity("Step Count / 1", "step_count", _COUNT),
    "step_type": Quantity("Step Type", "step_type", {}),
    "charge": Quantity("Charging Capacity / Ah", "charging_capacity_ah", _AH),
    "discharge": Quantity("Discharging Capacity / Ah", "discharging_capacity_ah", _AH),
    "net": Quantity("Net Capacity / Ah", "net_capacity_ah", _AH),
    "charge_energy": Quantity("Charging Energy / Wh", "charging_energy_wh", _WH),
    "discharge_energy": Quantity("Discharging Energy / Wh", "discharging_energy_wh", _WH),
}
REQUIRED: tuple[str, ...] = ("time", "voltage", "current")
REQUIRED_LABELS: tuple[str, ...] = tuple(QUANTITIES[k].label for k in REQUIRED)
_BY_NAME = {q.base.lower(): k for k, q in QUANTITIES.items()}
_BY_NAME |= {q.notation: k for k, q in QUANTITIES.items()}
_LABEL = re.compile(r"^(.+?)\s*/\s*(\S.*)$")
_KILN_CAPACITIES = (  # Kiln column, BDF key, factor to the BDF unit
    ("charge_capacity_mah", "charge", 1e-3),
    ("discharge_capacity_mah", "discharge", 1e-3),
    ("charge_energy_mwh", "charge_energy", 1e-3),
    ("discharge_energy_mwh", "discharge_energy", 1e-3),
)
PARQUET_MAGIC = b"PAR1"
_MAX_FOOTER_BYTES = 8 * 1024 * 1024  # detection reads a Parquet footer only up to this size


# --- Kiln -> BDF ----------------------------------------------------------------------------


def to_bdf(table: pd.DataFrame) -> pd.DataFrame:
    """The cycling table (schema.COLUMNS) as BDF columns: s, V, A (mA / 1000, sign kept: > 0
    charging in both), Cycle Count (the instrument's index; left out when the file recorded
    none), Step Count, Step Type (Kiln's charge/discharge/rest/other), capacities in Ah and
    energies in Wh counted from the start of the test (energies left out when the file has
    none)."""
    out = pd.DataFrame(
        {
            QUANTITIES["time"].label: table["time_s"].to_numpy(dtype=float),
            QUANTITIES["voltage"].label: table["voltage_v"].to_numpy(dtype=float),
            QUANTITIES["current"].label: table["current_ma"].to_numpy(dtype=float) * 1e-3,
        }
    )
    cycles = table["instrument_cycle"].to_numpy(dtype=np.int64)
    if len(cycles) and (cycles != NO_CYCLE).all():
        out[QUANTITIES["cycle"].label] = cycles
    out[QUANTITIES["step"].label] = table["step"].to_numpy(dtype=np.int64)
    out[QUANTITIES["step_type"].label] = table["step_type"].astype(str).to_numpy()
    half = table["half_cycle"].to_numpy()
    for column, key, factor in _KILN_CAPACITIES:
        if table[column].notna().any():
            out[QUANTITIES[key].label] = since_test_start(half, table[column]) * factor
    return out


def since_test_start(half_cycle: np.ndarray, per_half_cycle: pd.Series) -> np.ndarray:
    """Kiln counts a half cycle's charge from 0 on its own rows (0 on the others); BDF counts
    from the start of the test and holds the value through rests and the other direction:
    the peaks of all earlier half cycles plus the running maximum within this one."""
    q = np.nan_to_num(np.asarray(per_half_cycle, dtype=float))
    if not len(q):
        return q
    opens = np.r_[True, half_cycle[1:] != half_cycle[:-1]]
    block = np.cumsum(opens) - 1
    peak = np.maximum.reduceat(q, np.flatnonzero(opens))
    running = pd.Series(q).groupby(block).cummax().to_numpy()
    return (np.cumsum(peak) - peak)[block] + running


def cycles_for_export(
    table: pd.DataFrame,
    *,
    electrode: str = "cathode",
    voltage_window_v: tuple[float | None, float | None] | None = None,
) -> pd.DataFrame:
    """The per-cycle table (parsers.cycles.cycle_table) as it is exported beside the BDF time
    series: BDF defines no per-cycle quantities, so Kiln's columns (mAh, mWh, mA, V)."""
    out = cycle_table(table, electrode=electrode, voltage_window_v=voltage_window_v)
    out.attrs = {}  # FileEnd is not data, and Parquet would refuse it
    return out


# --- BDF -> Kiln ----------------------------------------------------------------------------


def quantity_key(column: object) -> str | None:
    """The QUANTITIES key a header names ("Current / mA", "current_ampere"), unit unchecked."""
    text = str(column).strip()
    match = _LABEL.match(text)
    return _BY_NAME.get((match.group(1) if match else text).strip().lower())


def bdf_columns(columns) -> dict[str, tuple[str, float]]:
    """key -> (column, factor to the BDF unit) for the BDF columns Kiln reads (the first of
    each); other columns are ignored. ParseError for a known quantity in a unit Kiln does not
    know ("Current / furlong")."""
    found: dict[str, tuple[str, float]] = {}
    for column in columns:
        key = quantity_key(column)
        if key is None or key in found:
            continue
        quantity, match = QUANTITIES[key], _LABEL.match(str(column).strip())
        unit = match.group(2).strip() if match and quantity.units else None
        factor = 1.0 if unit is None else quantity.units.get(unit)
        if factor is None:
            known = ", ".join(quantity.units)
            raise ParseError(
                f"column '{column}': '{unit}' is not a unit of {quantity.base.lower()} "
                f"(BDF writes {quantity.label}; Kiln also reads {known})."
            )
        found[key] = (str(column), factor)
    return found


def is_bdf_header(columns) -> bool:
    """A header naming at least two BDF quantities, one of them required."""
    keys = {quantity_key(c) for c in columns} - {None}
    return len(keys) >= 2 and bool(keys & set(REQUIRED))


def from_bdf(frame: pd.DataFrame) -> pd.DataFrame:
    """The cycling table (schema.COLUMNS) of a BDF table, through cycle_model.normalise.

    ParseError naming a missing required column (Test Time / s, Voltage / V, Current / A), a
    unit Kiln does not know, or empty or non-numeric values in a required column."""
    cols = bdf_columns(frame.columns)
    missing = [QUANTITIES[k].label for k in REQUIRED if k not in cols]
    if missing:
        names = " and ".join(f"'{m}'" for m in missing)
        raise ParseError(f"a BDF table needs the column {names}, which the file does not have.")
    if frame.empty:
        raise ParseError("the file holds no data records.")
    time_s, volts, amps = (_required(frame, cols[k]) for k in REQUIRED)
    current_ma = amps * 1e3
    step, cycle = _optional(frame, cols.get("step")), _optional(frame, cols.get("cycle"))
    return normalise(
        Records(
            time_s=time_s,
            voltage_v=volts,
            current_ma=current_ma,
            capacity=_capacity(frame, cols, time_s, current_ma),
            energy=_pair(frame, cols, "charge_energy", "discharge_energy"),
            step=None if step is None else step.astype(np.int64),
            step_type=_step_types(frame, cols.get("step_type")),
            instrument_cycle=None if cycle is None else cycle.astype(np.int64),
        )
    )


def _required(frame: pd.DataFrame, column: tuple[str, float]) -> np.ndarray:
    name, factor = column
    values = pd.to_numeric(frame[name], errors="coerce")
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
        raise ParseError(f"empty or non-numeric value in column '{name}' (data row {row}).")
    return values.to_numpy(dtype=float) * factor


def _optional(frame: pd.DataFrame, column: tuple[str, float] | None) -> np.ndarray | None:
    """An optional column in its BDF unit (a gap holds the value before it); None when the
    file has no such column or it is empty."""
    if column is None:
        return None
    values = pd.to_numeric(frame[column[0]], errors="coerce")
    if values.isna().all():
        return None
    return values.ffill().fillna(0.0).to_numpy(dtype=float) * column[1]


def _pair(frame, cols, first: str, second: str) -> tuple[Counter, ...]:
    """Charging and discharging counters (Ah or Wh -> mAh or mWh), counted from the test's
    start (BDF) or restarting (older exports: the cycle model chains over the restarts)."""
    values = [_optional(frame, cols.get(key)) for key in (first, second)]
    if any(v is None for v in values):
        return ()
    return tuple(Counter(v * 1e3) for v in values)


def _capacity(frame, cols, time_s: np.ndarray, current_ma: np.ndarray) -> tuple[Counter, ...]:
    pair = _pair(frame, cols, "charge", "discharge")
    if pair:
        return pair
    net = _optional(frame, cols.get("net"))
    if net is not None:
        return (Counter(net * 1e3, kind="net"),)
    dt_s = np.diff(time_s, prepend=time_s[0])  # no counter: Q = ∫|I|dt, one record at a time
    return (Counter(np.abs(current_ma) * np.maximum(dt_s, 0.0) / 3600.0, kind="increments"),)


def step_kind(name: object) -> str:
    """charge / discharge / rest / other for a step label (Kiln's own, CC_DCH, CCCV_CHG, REST,
    OCV ...)."""
    text = str(name).strip().lower()
    if text in STEP_TYPES:
        return text
    if "dch" in text or "dis" in text:
        return "discharge"
    if "chg" in text or "charge" in text:
        return "charge"
    if text in ("rest", "ocv", "pause", "wait") or text.startswith("rest"):
        return "rest"
    return "other"


def _step_types(frame: pd.DataFrame, column: tuple[str, float] | None) -> np.ndarray | None:
    if column is None or frame[column[0]].isna().all():
        return None
    names = frame[column[0]].fillna("")
    kinds = {name: step_kind(name) for name in names.unique()}
    return names.map(kinds).to_numpy(dtype=object)


# --- files ----------------------------------------------------------------------------------


def header_cells(line: str) -> list[str]:
    """The cells of a CSV header line (quotes removed)."""
    return [c.strip() for c in next(csv.reader([line]), [])]


def parquet_columns(path: str | Path) -> list[str]:
    """Column names of a Parquet file, from its footer only (refused past _MAX_FOOTER_BYTES:
    detection runs in the upload's request)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            fh.seek(-8, os.SEEK_END)
            tail = fh.read(8)
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: a damaged Parquet file (no footer).") from exc
    size = int.from_bytes(tail[:4], "little")
    if tail[4:] != PARQUET_MAGIC or size > _MAX_FOOTER_BYTES:
        raise ParseError(f"{file_label(path)}: a damaged Parquet file (its footer is unreadable).")
    import pyarrow.parquet as pq

    try:
        return [str(name) for name in pq.read_schema(path).names]
    except Exception as exc:  # noqa: BLE001  (pyarrow's errors: damaged metadata)
        raise ParseError(f"{file_label(path)}: a damaged Parquet file ({exc}).") from exc


def read_bdf(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Normalised table and metadata of a BDF .csv or .parquet file (judged from the content)."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(4)
    if not head.strip():
        raise ParseError(f"{file_label(path)}: the file is empty.")
    if head == PARQUET_MAGIC:
        wanted = [c for c in parquet_columns(path) if quantity_key(c)]
        frame = pd.read_parquet(path, columns=wanted)
    else:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            wanted = [c for c in header_cells(fh.readline()) if quantity_key(c)]
        frame = pd.read_csv(path, usecols=wanted, encoding="utf-8-sig", low_memory=False)
    units = {}
    for key, (name, _factor) in bdf_columns(frame.columns).items():
        match = _LABEL.match(name)
        units[key] = match.group(2) if match else QUANTITIES[key].label.partition(" / ")[2]
    return from_bdf(frame), {"source_library": "kiln", "units_seen": units}
