"""The normalised thermal (DSC / STA) table every thermal reader returns, and its unit rules.

One row per recorded point, in record order. Columns (units in the names):

    time_s              float  seconds since the file's time origin
    temperature_c       float  sample temperature, °C (a file in K is converted: T − 273.15)
    heat_flow_mw        float  heat flow in mW, Kiln's convention: EXOTHERM POSITIVE. A file
                               that records exotherms negative ("Exotherm Down") is negated;
                               metadata["heat_flow_sign"] says what was done
    heat_flow_w_per_g   float  heat_flow_mw / sample mass (mW/mg = W/g); only when the file (or
                               the mapping) states the sample mass
    mass_change_mg      float  TG signal of an STA or TGA file, mg relative to its first value;
                               only when the file has one

Heat flow in a specific unit (W/g, mW/mg) is multiplied by the stated sample mass to give mW;
without a stated mass such a file cannot be read (ParseError). NaN heat flow is kept where the
file has it (a calibration outside its range); a file whose heat flow is NaN everywhere is a
ParseError. Warnings a reader wants shown with any result ({"code", "message", "severity"})
are in metadata["warnings"] and in table.attrs["kiln"]["warnings"], which the DSC analysis
carries into its result.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label

THERMAL_COLUMNS = (
    "time_s",
    "temperature_c",
    "heat_flow_mw",
    "heat_flow_w_per_g",
    "mass_change_mg",
)
REQUIRED_COLUMNS = THERMAL_COLUMNS[:3]
MIN_ROWS = 10
# seconds per unit
TIME_UNITS: dict[str, float] = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
}
# mW per unit (absolute heat flow)
ABSOLUTE_HEAT_FLOW_UNITS: dict[str, float] = {"mw": 1.0, "w": 1000.0, "uw": 1e-3}
# mW per (unit × mg of sample) (specific heat flow)
SPECIFIC_HEAT_FLOW_UNITS: dict[str, float] = {"w/g": 1.0, "mw/mg": 1.0, "mw/g": 1e-3}
# mg per unit (sample mass)
MASS_UNITS: dict[str, float] = {"mg": 1.0, "g": 1000.0, "ug": 1e-3}
EXOTHERM_DIRECTIONS = ("up", "down")
_MICRO = ("µ", "μ", "æ")  # æ: the micro sign of code page 437 read as Latin-1


def unit_key(unit: str) -> str:
    """A unit as a short lower-case key, whatever its spelling or encoding: "°C", "øC" (code
    page 437's degree sign read as Latin-1), "Â°C" (UTF-8 read as Latin-1), "deg C", "C" -> "c";
    "µW", "uW" -> "uw"; "W/g" -> "w/g"; "sec" -> "sec"."""
    text = unit.strip()
    for micro in _MICRO:
        text = text.replace(micro, "u")
    text = re.sub(r"[^A-Za-z/]", "", text).lower()
    return "c" if text in ("c", "degc", "celsius") else text


def temperature_to_c(values: np.ndarray, unit: str, path: Path, what: str) -> np.ndarray:
    key = unit_key(unit)
    if key == "c":
        return values
    if key == "k":
        return values - 273.15
    raise ParseError(
        f"{file_label(path)}: {what} is in '{unit}'; Kiln reads temperatures in °C or K."
    )


def seconds_per(unit: str, path: Path, what: str) -> float:
    factor = TIME_UNITS.get(unit_key(unit))
    if factor is None:
        raise ParseError(f"{file_label(path)}: {what} is in '{unit}'; Kiln reads s, min or h.")
    return factor


def heat_flow_to_mw(
    values: np.ndarray, unit: str, sample_mass_mg: float | None, path: Path, what: str
) -> np.ndarray:
    """Heat flow in mW from mW, W, µW, or W/g, mW/mg, mW/g times the sample mass."""
    key = unit_key(unit)
    if key in ABSOLUTE_HEAT_FLOW_UNITS:
        return values * ABSOLUTE_HEAT_FLOW_UNITS[key]
    if key in SPECIFIC_HEAT_FLOW_UNITS:
        if sample_mass_mg is None:
            raise ParseError(
                f"{file_label(path)}: {what} is in '{unit}' (per gram of sample) and the file "
                "states no sample mass, so it cannot be given in mW."
            )
        return values * SPECIFIC_HEAT_FLOW_UNITS[key] * sample_mass_mg
    raise ParseError(
        f"{file_label(path)}: {what} is in '{unit}'; Kiln reads heat flow in mW, W, µW, W/g "
        "or mW/mg."
    )


def mass_in_mg(value: float, unit: str, path: Path) -> float | None:
    """A stated sample mass in mg; None when it is 0 or absent (not stated)."""
    factor = MASS_UNITS.get(unit_key(unit) or "mg")
    if factor is None:
        raise ParseError(f"{file_label(path)}: the sample mass is in '{unit}'; expected mg or g.")
    if not np.isfinite(value) or value < 0:
        raise ParseError(f"{file_label(path)}: the stated sample mass ({value:g}) is not valid.")
    return value * factor if value > 0 else None


def warning(code: str, message: str, severity: str = "note") -> dict:
    return {"code": code, "message": message, "severity": severity}


def thermal_table(
    path: Path,
    *,
    time_s: np.ndarray,
    temperature_c: np.ndarray,
    heat_flow_mw: np.ndarray,
    sample_mass_mg: float | None,
    mass_change_mg: np.ndarray | None = None,
    warnings: list[dict] | None = None,
) -> pd.DataFrame:
    """The normalised table (THERMAL_COLUMNS that apply), checked: enough rows, time and
    temperature numbers everywhere, heat flow numbers somewhere."""
    name = file_label(path)
    if len(time_s) < MIN_ROWS:
        raise ParseError(
            f"{name}: holds {len(time_s)} data point(s); a thermal scan needs at least "
            f"{MIN_ROWS}. The file is truncated or empty."
        )
    if not np.isfinite(time_s).all() or not np.isfinite(temperature_c).all():
        raise ParseError(f"{name}: some time or temperature values are missing or not numbers.")
    if not np.isfinite(heat_flow_mw).any():
        raise ParseError(
            f"{name}: the heat flow is empty or not a number in every row; there is no DSC "
            "signal to analyse."
        )
    columns: dict[str, np.ndarray] = {
        "time_s": time_s,
        "temperature_c": temperature_c,
        "heat_flow_mw": heat_flow_mw,
    }
    if sample_mass_mg:
        columns["heat_flow_w_per_g"] = heat_flow_mw / sample_mass_mg
    if mass_change_mg is not None:
        first = mass_change_mg[np.isfinite(mass_change_mg)]
        columns["mass_change_mg"] = mass_change_mg - (first[0] if len(first) else 0.0)
    table = pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in columns.items()})
    table.attrs["kiln"] = {"warnings": list(warnings or [])}
    return table
