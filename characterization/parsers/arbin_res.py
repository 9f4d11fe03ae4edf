"""Arbin .res files: an MS Access (Jet) database read with Debian's mdbtools (mdb-export).

Rules (units: mA, V, mAh, mWh, s); cycles, direction and capacities are cycle_model's:
- The table of records is Channel_Normal_Table; Arbin stores A, Ah and Wh, converted here.
- Arbin's Cycle_Index is kept as `instrument_cycle`.
- Charge_Capacity / Discharge_Capacity (and the energies) accumulate until Cycle_Index
  advances: counters that restart per instrument cycle.
- Arbin stores no step type in this table: direction comes from the current's sign, checked
  against the voltage trend; `step` counts changes of Step_Index, the schedule's step number.
- mdb-export does not return rows in record order: rows are sorted by Data_Point.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from . import _table
from .cycle_model import Counter, Records, normalise
from .errors import MissingToolError, ParseError, file_label

_TABLE = "Channel_Normal_Table"
_TIMEOUT_S = 120
_JET3_PAGE, _JET4_PAGE = 2048, 4096


def read_arbin_res(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Normalised table and metadata for an Arbin .res file."""
    path = Path(path)
    _check_whole_pages(path)
    raw = _export(path, _TABLE)
    if raw["Test_ID"].nunique() > 1:
        raise ParseError(f"{file_label(path)}: holds several Arbin tests; export one per file.")
    raw = raw.sort_values("Data_Point", kind="stable").reset_index(drop=True)
    table = _normalise(raw)
    return table, _metadata(path)


def _normalise(raw: pd.DataFrame) -> pd.DataFrame:
    """Channel_Normal_Table stores A, Ah and Wh in unit-less columns."""
    return arbin_table(
        time_s=raw["Test_Time"].to_numpy(dtype=float),
        cycle_index=raw["Cycle_Index"].to_numpy(),
        step_index=raw["Step_Index"].to_numpy(),
        current_ma=raw["Current"].to_numpy(dtype=float) * 1000.0,
        voltage_v=raw["Voltage"].to_numpy(dtype=float),
        charge_mah=raw["Charge_Capacity"].to_numpy(dtype=float) * 1000.0,
        discharge_mah=raw["Discharge_Capacity"].to_numpy(dtype=float) * 1000.0,
        charge_mwh=raw["Charge_Energy"].to_numpy(dtype=float) * 1000.0,
        discharge_mwh=raw["Discharge_Energy"].to_numpy(dtype=float) * 1000.0,
    )


def arbin_table(
    *,
    time_s: np.ndarray,
    cycle_index: np.ndarray,
    step_index: np.ndarray,
    current_ma: np.ndarray,
    voltage_v: np.ndarray,
    charge_mah: np.ndarray,
    discharge_mah: np.ndarray,
    charge_mwh: np.ndarray | None,
    discharge_mwh: np.ndarray | None,
) -> pd.DataFrame:
    """The normalised table from Arbin's channel columns, already in mA, V, mAh, mWh, s and
    in record order; shared by the .res and the .xlsx readers (rules in the module doc)."""
    cycle = np.asarray(cycle_index)
    energy = ()
    if charge_mwh is not None and discharge_mwh is not None:
        energy = (Counter(charge_mwh, segments=cycle), Counter(discharge_mwh, segments=cycle))
    return normalise(
        Records(
            time_s=time_s,
            voltage_v=voltage_v,
            current_ma=current_ma,
            step=_table.run_ids(cycle, step_index),
            instrument_cycle=cycle,
            capacity=(Counter(charge_mah, segments=cycle), Counter(discharge_mah, segments=cycle)),
            energy=energy,
        )
    )


def _check_whole_pages(path: Path) -> None:
    """A Jet database is a whole number of pages; anything else was cut short in transfer
    (mdb-export may still print the rows it reached and exit 0)."""
    with path.open("rb") as fh:
        head = fh.read(0x15)
    page = _JET3_PAGE if len(head) > 0x14 and head[0x14] == 0 else _JET4_PAGE
    size = path.stat().st_size
    if size == 0 or size % page:
        raise ParseError(
            f"{file_label(path)}: an Arbin .res database that is truncated ({size} bytes, not "
            f"a whole number of {page}-byte pages); upload the complete file again."
        )


def _export(path: Path, table: str) -> pd.DataFrame:
    """One table as a DataFrame via `mdb-export` (CSV, C locale for '.' decimals)."""
    tool = shutil.which("mdb-export")
    if tool is None:
        raise MissingToolError(
            f"{file_label(path)}: reading Arbin .res files needs mdbtools (mdb-export), which "
            "is not installed on this server (Debian: apt-get install mdbtools)."
        )
    env = {**os.environ, "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [tool, str(path), table], capture_output=True, env=env, timeout=_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise ParseError(f"{file_label(path)}: mdb-export did not finish reading it.") from exc
    if done.returncode or done.stderr.strip() or not done.stdout.strip():
        detail = done.stderr.decode("latin-1").strip().splitlines()[:1] or ["no rows"]
        raise ParseError(
            f"{file_label(path)}: an Arbin .res database whose {table} cannot be read; it may "
            f"be damaged or truncated (mdb-export: {detail[0]})."
        )
    return pd.read_csv(io.BytesIO(done.stdout), encoding="latin-1")


def _metadata(path: Path) -> dict:
    meta: dict = {
        "source_library": "mdbtools",
        "source_version": _mdbtools_version(),
        "units_seen": {"current": "A", "voltage": "V", "capacity": "Ah", "energy": "Wh"},
    }
    try:
        info = _export(path, "Global_Table").iloc[0]
    except (ParseError, IndexError):
        return meta  # the data table read fine; missing test details are not fatal
    meta["test_name"] = str(info.get("Test_Name", ""))
    meta["schedule_file"] = str(info.get("Schedule_File_Name", ""))
    start = info.get("Start_DateTime")
    if isinstance(start, (int, float, np.floating)) and not np.isnan(start):
        # OLE automation date: days since 1899-12-30, instrument local time.
        stamp = pd.Timestamp("1899-12-30") + pd.to_timedelta(start, "D")
        meta["start_time_local"] = stamp.round("s").isoformat()
    return meta


def _mdbtools_version() -> str:
    try:
        out = subprocess.run(["mdb-export", "--version"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.decode("latin-1").strip().removeprefix("mdbtools v") or "unknown"
