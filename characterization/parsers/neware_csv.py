"""Neware BTSDA record-layer CSV exports (columns "Cycle Index", "Step Type", "Current(A)",
"Chg. Cap.(Ah)" ...). Own reader with a small column map; units are read from the headers.

Rules (units: mA, V, mAh, mWh, s); cycles, direction and capacities are cycle_model's:
- BTSDA's "Cycle Index" is kept as `instrument_cycle`.
- "Chg. Cap." / "DChg. Cap." (or one "Capacity" column) restart at every step: counters per step.
- Time is "Cumulative Time" / "Total Time" as [d-]h:mm:ss (hours may pass 24) or seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import _table
from ._text import CUT_LAST_LINE, find_column, read_table, require, scale, seconds, unit_of
from .cycle_model import Counter, Records, normalise
from .errors import ParseError, file_label
from .neware_nda import neware_step_kind

_NAMES = {
    "cycle": ("Cycle Index", "Cycle ID"),
    "step": ("Step Index", "Step ID", "Step Number"),
    "step_type": ("Step Type", "Step Name"),
    "time": ("Cumulative Time", "Total Time", "Test Time"),
    "current": ("Current(A)", "Current(mA)", "Current(uA)", "Current(µA)"),
    "voltage": ("Voltage(V)", "Voltage(mV)"),
    "charge": ("Chg. Cap.(Ah)", "Chg. Cap.(mAh)"),
    "discharge": ("DChg. Cap.(Ah)", "DChg. Cap.(mAh)"),
    "capacity": ("Capacity(Ah)", "Capacity(mAh)"),
    "charge_energy": ("Chg. Energy(Wh)", "Chg. Energy(mWh)"),
    "discharge_energy": ("DChg. Energy(Wh)", "DChg. Energy(mWh)"),
}
_REQUIRED = ("cycle", "step", "step_type", "time", "current", "voltage")


def read_neware_csv(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Normalised table and metadata for a Neware BTSDA CSV export."""
    path = Path(path)
    text = path.read_bytes().decode("latin-1").lstrip("\u00ef\u00bb\u00bf")
    first = text.split("\n", 1)[0]
    sep = "\t" if first.count("\t") > first.count(",") else ","
    header = [c.strip().strip('"') for c in first.split(sep)]
    cols = {key: find_column(header, names) for key, names in _NAMES.items()}
    for key in _REQUIRED:
        require(cols[key], key.replace("_", " "), path)
    if not (cols["charge"] and cols["discharge"]) and not cols["capacity"]:
        raise ParseError(f"{file_label(path)}: no capacity columns found in the export header.")
    raw = read_table(text, [c for c in cols.values() if c], sep, path)
    quantities = {"current": "current", "voltage": "voltage", "charge": "capacity"}
    quantities["charge_energy"] = "energy"
    units = {q: unit_of(cols[k], "") for k, q in quantities.items() if cols[k]}
    return _normalise(raw, cols, path), {"source_library": "kiln", "units_seen": units}


def _normalise(raw: pd.DataFrame, cols: dict[str, str | None], path: Path) -> pd.DataFrame:
    cycle = _numbers(raw, cols["cycle"], path).astype(np.int64)
    step = _table.run_ids(cycle, _numbers(raw, cols["step"], path))
    names = raw[cols["step_type"]].str.strip()
    kinds = names.map({n: neware_step_kind(n) for n in names.unique()}).to_numpy(dtype=object)
    capacity = [k for k in ("charge", "discharge") if cols[k]] or ["capacity"]
    energy = [k for k in ("charge_energy", "discharge_energy") if cols[k]]
    return normalise(
        Records(
            time_s=seconds(raw[cols["time"]], path, cols["time"]),
            voltage_v=_scaled(raw, cols["voltage"], path),
            current_ma=_scaled(raw, cols["current"], path),
            step=step,
            step_type=kinds,
            instrument_cycle=cycle,
            capacity=tuple(Counter(_scaled(raw, cols[k], path), segments=step) for k in capacity),
            energy=tuple(Counter(_scaled(raw, cols[k], path), segments=step) for k in energy),
            notes={CUT_LAST_LINE: raw.attrs.get(CUT_LAST_LINE, False)},
        )
    )


def _scaled(raw: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    return _numbers(raw, column, path) * scale(column, "", path)


def _numbers(raw: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
    if values.isna().any():
        raise ParseError(f"{file_label(path)}: non-numeric values in column '{column}'.")
    return values.to_numpy(dtype=float)
