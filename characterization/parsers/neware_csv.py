"""Neware BTSDA record-layer CSV exports (columns "Cycle Index", "Step Type", "Current(A)",
"Chg. Cap.(Ah)" ...). Own reader with a small column map; units are read from the headers.

Rules (units: mA, V, mAh, mWh, s):
- Cycle labels are BTSDA's "Cycle Index" (the instrument's count, from 1), passed through.
  (Binary .nda/.ndax files get NewareNDA's charge-first count instead; see neware_nda.)
- "Chg. Cap." / "DChg. Cap." (or "Capacity" with the step type) restart at every step, so a
  cycle's charge is the SUM of its charge steps' maxima, built cumulative within the cycle.
- Time is "Cumulative Time" / "Total Time" as [d-]h:mm:ss (hours may pass 24) or seconds.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import _table
from ._text import find_column, read_table, require, scale, unit_of
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
_CLOCK = re.compile(r"^(?:(\d+)[d-]\s*)?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)$")


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
    charge, discharge = (
        _running(raw, cols, kinds, "charge", path),
        _running(raw, cols, kinds, "discharge", path),
    )
    energies = [
        None
        if cols[k] is None
        else _table.cumulative_in_cycle(cycle, step, _scaled(raw, cols[k], path))
        for k in ("charge_energy", "discharge_energy")
    ]
    return _table.build_table(
        time_s=_seconds(raw[cols["time"]], path),
        cycle=cycle,
        step=step,
        step_type=kinds,
        current_ma=_scaled(raw, cols["current"], path),
        voltage_v=_scaled(raw, cols["voltage"], path),
        charge_mah=_table.cumulative_in_cycle(cycle, step, charge),
        discharge_mah=_table.cumulative_in_cycle(cycle, step, discharge),
        charge_mwh=energies[0],
        discharge_mwh=energies[1],
    )


def _running(
    raw: pd.DataFrame, cols: dict[str, str | None], kinds: np.ndarray, key: str, path: Path
) -> np.ndarray:
    """Per-step capacity of one direction (mAh): its own column, else |Capacity| on its rows."""
    if cols[key]:
        return _scaled(raw, cols[key], path)
    kind = _table.CHARGE if key == "charge" else _table.DISCHARGE
    return np.where(kinds == kind, np.abs(_scaled(raw, cols["capacity"], path)), 0.0)


def _scaled(raw: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    return _numbers(raw, column, path) * scale(column, "", path)


def _numbers(raw: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
    if values.isna().any():
        raise ParseError(f"{file_label(path)}: non-numeric values in column '{column}'.")
    return values.to_numpy(dtype=float)


def _seconds(column: pd.Series, path: Path) -> np.ndarray:
    """[d-]h:mm:ss[.f] or plain seconds -> seconds."""
    text = column.str.strip()
    plain = pd.to_numeric(text, errors="coerce")
    parts = text.str.extract(_CLOCK).astype(float)
    clock = parts[0].fillna(0) * 86400 + parts[1] * 3600 + parts[2] * 60 + parts[3]
    seconds = plain.fillna(clock)
    if seconds.isna().any():
        raise ParseError(f"{file_label(path)}: unreadable times in column '{column.name}'.")
    return seconds.to_numpy(dtype=float)
