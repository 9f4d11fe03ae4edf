"""Arbin MITS Pro .xlsx exports, read with python-calamine.

An export holds a "Global_Info" sheet (test details) and the records of one channel in one or
more sheets named "Channel_<n>_<part>" (older versions: "Channel<n>_<part>"); a long test
continues over parts 1, 2, ... Columns carry their unit: Test_Time(s), Step_Index,
Cycle_Index, Current(A), Voltage(V), Charge_Capacity(Ah), Discharge_Capacity(Ah) and,
optionally, Data_Point, Charge_Energy(Wh), Discharge_Energy(Wh).

Rules (units: mA, V, mAh, mWh, s): the same as Arbin .res files (arbin_res.arbin_table):
Cycle_Index is kept as the instrument's cycle, capacity accumulates until it advances, and
direction comes from the current checked against the voltage. Rows are put in Data_Point
order when the column exists.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from ._text import find_column, scale, unit_of
from ._zip import DEFAULT_LIMITS, UnpackLimits, verify_archive
from .arbin_res import arbin_table
from .errors import ParseError, file_label

GLOBAL_SHEET = "Global_Info"
CHANNEL_SHEET = re.compile(r"^Channel_?(\d+)_(\d+)$", re.IGNORECASE)

# quantity -> (header names, the unit a header without one is taken to be in)
_NAMES: dict[str, tuple[tuple[str, ...], str]] = {
    "time": (("Test_Time(s)", "Test_Time", "Test Time (s)"), "s"),
    "step": (("Step_Index",), ""),
    "cycle": (("Cycle_Index",), ""),
    "current": (("Current(A)", "Current(mA)", "Current"), "A"),
    "voltage": (("Voltage(V)", "Voltage(mV)", "Voltage"), "V"),
    "charge": (("Charge_Capacity(Ah)", "Charge_Capacity(mAh)", "Charge_Capacity"), "Ah"),
    "discharge": (
        ("Discharge_Capacity(Ah)", "Discharge_Capacity(mAh)", "Discharge_Capacity"),
        "Ah",
    ),
    "charge_energy": (("Charge_Energy(Wh)", "Charge_Energy(mWh)", "Charge_Energy"), "Wh"),
    "discharge_energy": (
        ("Discharge_Energy(Wh)", "Discharge_Energy(mWh)", "Discharge_Energy"),
        "Wh",
    ),
    "data_point": (("Data_Point",), ""),
}
_OPTIONAL = ("charge_energy", "discharge_energy", "data_point")


def is_arbin_sheet_names(names: list[str]) -> bool:
    """An Arbin export has a Global_Info sheet or a Channel_<n>_<part> sheet."""
    return any(n == GLOBAL_SHEET or CHANNEL_SHEET.match(n) for n in names)


def read_arbin_xlsx(
    path: str | Path, *, limits: UnpackLimits = DEFAULT_LIMITS
) -> tuple[pd.DataFrame, dict]:
    """Normalised table and metadata for an Arbin .xlsx export (checked with
    _zip.verify_archive against `limits` before calamine unpacks it)."""
    from python_calamine import CalamineWorkbook

    path = Path(path)
    verify_archive(path, limits)
    workbook = CalamineWorkbook.from_path(str(path))
    sheets = _channel_sheets(path, workbook.sheet_names)
    parts = [_sheet_frame(path, name, workbook.get_sheet_by_name(name)) for name in sheets]
    raw = pd.concat([frame for frame, _ in parts], ignore_index=True)
    if "data_point" in raw:
        raw = raw.sort_values("data_point", kind="stable").reset_index(drop=True)
    table = arbin_table(
        time_s=raw["time"].to_numpy(),
        cycle_index=raw["cycle"].to_numpy(dtype=np.int64),
        step_index=raw["step"].to_numpy(dtype=np.int64),
        current_ma=raw["current"].to_numpy(),
        voltage_v=raw["voltage"].to_numpy(),
        charge_mah=raw["charge"].to_numpy(),
        discharge_mah=raw["discharge"].to_numpy(),
        charge_mwh=raw["charge_energy"].to_numpy() if "charge_energy" in raw else None,
        discharge_mwh=raw["discharge_energy"].to_numpy() if "discharge_energy" in raw else None,
    )
    return table, _metadata(parts[0][1], sheets)


def _channel_sheets(path: Path, names: list[str]) -> list[str]:
    """The channel's sheets in part order; several channels in one export are refused."""
    found = [(m, n) for n in names if (m := CHANNEL_SHEET.match(n))]
    if not found:
        raise ParseError(
            f"{file_label(path)}: an Arbin .xlsx export without a Channel_<n>_<part> sheet "
            f"(sheets: {', '.join(names)})."
        )
    channels = sorted({int(m.group(1)) for m, _ in found})
    if len(channels) > 1:
        raise ParseError(
            f"{file_label(path)}: holds channels {channels}; export one channel per file."
        )
    return [n for m, n in sorted(found, key=lambda item: int(item[0].group(2)))]


def _sheet_frame(path: Path, sheet: str, data) -> tuple[pd.DataFrame, dict[str, str]]:
    """One channel sheet as numbers in Kiln's units (a column per quantity found) and the
    unit each quantity had in the sheet."""
    rows = data.to_python(skip_empty_area=True)
    if not rows:
        raise ParseError(f"{file_label(path)}: sheet '{sheet}' is empty.")
    header = [str(c).strip() for c in rows[0]]
    body = pd.DataFrame(rows[1:], columns=header)
    out, units = {}, {}
    for key, (names, default_unit) in _NAMES.items():
        column = find_column(header, names)
        if column is None:
            if key in _OPTIONAL:
                continue
            raise ParseError(
                f"{file_label(path)}: sheet '{sheet}' has no column '{names[0]}', which an "
                "Arbin export needs."
            )
        unit = unit_of(column, default_unit)
        if default_unit in ("", "s"):  # counts, and time in seconds (the only unit Arbin uses)
            if unit != default_unit:
                raise ParseError(
                    f"{file_label(path)}: unexpected unit '{unit}' in column '{column}'."
                )
            factor = 1.0
        else:
            factor = scale(column, default_unit, path)
            units[key] = unit
        out[key] = _numbers(path, sheet, column, body[column]) * factor
    return pd.DataFrame(out), units


def _numbers(path: Path, sheet: str, column: str, values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values.replace("", np.nan), errors="coerce")
    if numbers.isna().any():
        row = int(numbers.isna().to_numpy().argmax()) + 2  # 1-based, after the header row
        raise ParseError(
            f"{file_label(path)}: sheet '{sheet}' has a missing or non-numeric value in column "
            f"'{column}' (row {row})."
        )
    return numbers.to_numpy(dtype=float)


def _metadata(units: dict[str, str], sheets: list[str]) -> dict:
    try:
        version = metadata.version("python-calamine")
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with Kiln
        version = None
    return {
        "source_library": "python-calamine",
        "source_version": version,
        "units_seen": {
            "current": units["current"],
            "voltage": units["voltage"],
            "capacity": units["charge"],
            **({"energy": units["charge_energy"]} if "charge_energy" in units else {}),
        },
        "sheets": sheets,
    }
