"""Generic CSV/text exports of a DSC or STA read through a column mapping saved per instrument.

A ThermalColumnMap names the columns for temperature and heat flow (and time, TG), their
units, the file's exotherm direction and, when the file does not have it, the sample mass.
Rules:
- time_s = value × (1, 60, 3600 for s, min, h). A file without a time column needs
  `heating_rate_k_per_min`: time is then derived as the temperature travelled / rate
  (a constant-rate scan assumed, said in a warning);
- temperature °C or K; heat flow mW, W, µW (written "uW"), or W/g, mW/mg, mW/g times the
  mapping's sample mass;
- exotherm "up": the file records exotherms positive (kept); "down": negated to Kiln's
  exotherm-positive convention;
- delimiter (tab, ";" or ","), decimal mark and header row are found from the file: the header
  is `header_row` (0-based line) or else the first of the first 200 lines whose cells include
  the mapped temperature and heat-flow names (case and surrounding spaces ignored). One line of
  units right after the header (no number in any mapped column) is skipped;
- bytes UTF-8 (with or without BOM), else cp1252/Latin-1; LF or CRLF.
A last line cut short is dropped (warning); any other row whose mapped cells are not numbers is
damage (ParseError naming the line).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label, read_nonempty_bytes
from .thermal_table import (
    ABSOLUTE_HEAT_FLOW_UNITS,
    EXOTHERM_DIRECTIONS,
    SPECIFIC_HEAT_FLOW_UNITS,
    TIME_UNITS,
    heat_flow_to_mw,
    seconds_per,
    temperature_to_c,
    thermal_table,
    unit_key,
    warning,
)

THERMAL_CSV = "thermal_csv"
TEMPERATURE_UNITS = ("c", "k")  # as unit_key gives them: °C, C, degC, K
MAX_SAMPLE_MASS_MG = 1000.0
MAX_RATE_K_PER_MIN = 1000.0
_HEADER_SEARCH_LINES = 200
_DELIMITERS = ("\t", ";", ",")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")


class ThermalMappingError(ValueError):
    """The mapping itself is incomplete or inconsistent (not a problem of a file)."""


@dataclass(frozen=True)
class ThermalColumnMap:
    """Where a generic thermal export keeps each quantity, in which unit and sign."""

    temperature_column: str
    heat_flow_column: str
    time_column: str = ""
    time_unit: str = "s"
    temperature_unit: str = "C"
    heat_flow_unit: str = "mW"
    exotherm: str = "up"
    sample_mass_mg: float | None = None
    heating_rate_k_per_min: float | None = None
    mass_column: str = ""  # TG signal in mg
    header_row: int | None = None
    name: str = ""

    def __post_init__(self) -> None:
        for label in ("temperature_column", "heat_flow_column"):
            if not isinstance(getattr(self, label), str) or not getattr(self, label).strip():
                raise ThermalMappingError(f"{label} is required")
        _one_of("time_unit", unit_key(self.time_unit), tuple(TIME_UNITS))
        _one_of("temperature_unit", unit_key(self.temperature_unit), TEMPERATURE_UNITS)
        heat_units = (*ABSOLUTE_HEAT_FLOW_UNITS, *SPECIFIC_HEAT_FLOW_UNITS)
        _one_of("heat_flow_unit", unit_key(self.heat_flow_unit), heat_units)
        _one_of("exotherm", self.exotherm, EXOTHERM_DIRECTIONS)
        _bounded("sample_mass_mg", self.sample_mass_mg, MAX_SAMPLE_MASS_MG)
        _bounded("heating_rate_k_per_min", self.heating_rate_k_per_min, MAX_RATE_K_PER_MIN)
        if bool(self.time_column) == (self.heating_rate_k_per_min is not None):
            raise ThermalMappingError(
                "give either time_column or heating_rate_k_per_min (for a file without time)"
            )
        if unit_key(self.heat_flow_unit) in SPECIFIC_HEAT_FLOW_UNITS and not self.sample_mass_mg:
            raise ThermalMappingError(
                f"heat flow in {self.heat_flow_unit} needs sample_mass_mg to be given in mW"
            )
        if self.header_row is not None and (
            isinstance(self.header_row, bool)
            or not isinstance(self.header_row, int)
            or self.header_row < 0
        ):
            raise ThermalMappingError("header_row must be a whole number ≥ 0 (or empty)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ThermalColumnMap:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ThermalMappingError(f"unknown mapping keys: {', '.join(unknown)}")
        return cls(**data)

    def columns(self) -> dict[str, str]:
        wanted = {"temperature": self.temperature_column, "heat_flow": self.heat_flow_column}
        if self.time_column:
            wanted["time"] = self.time_column
        if self.mass_column:
            wanted["mass"] = self.mass_column
        return wanted


def _one_of(label: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ThermalMappingError(f"{label} must be one of {', '.join(allowed)}, not {value!r}")


def _bounded(label: str, value: float | None, maximum: float) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ThermalMappingError(f"{label} must be a number")
    if not 0 < value <= maximum:
        raise ThermalMappingError(f"{label} must be > 0 and ≤ {maximum:g}")


def read_thermal_csv(path: str | Path, mapping: ThermalColumnMap) -> tuple[pd.DataFrame, dict]:
    """The thermal table and metadata of a delimited text export read through `mapping`."""
    path = Path(path)
    lines, encoding = _lines(path)
    row, delimiter, header = _find_header(lines, mapping, path)
    index = _match(header, mapping, path)
    start = row + 1
    if start < len(lines) and _is_units_line(lines[start], delimiter, index):
        start += 1
    cells, decimal, cut = _numbers(lines, start, delimiter, index, path)
    temperature = temperature_to_c(
        cells["temperature"], mapping.temperature_unit, path, f"'{mapping.temperature_column}'"
    )
    warnings = []
    if "time" in cells:
        time_s = cells["time"] * seconds_per(mapping.time_unit, path, f"'{mapping.time_column}'")
    else:
        travelled = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(temperature)))])
        time_s = travelled / mapping.heating_rate_k_per_min * 60.0
        warnings.append(
            warning(
                "time_derived",
                f"The file has no time column; time was derived from the temperature at the "
                f"mapping's constant {mapping.heating_rate_k_per_min:g} K/min.",
            )
        )
    if cut:
        warnings.append(
            warning("file_truncated", "The file's last line was cut off and was left out.")
        )
    sign = -1.0 if mapping.exotherm == "down" else 1.0
    heat_flow = sign * heat_flow_to_mw(
        cells["heat_flow"],
        mapping.heat_flow_unit,
        mapping.sample_mass_mg,
        path,
        f"'{mapping.heat_flow_column}'",
    )
    table = thermal_table(
        path,
        time_s=time_s,
        temperature_c=temperature,
        heat_flow_mw=heat_flow,
        sample_mass_mg=mapping.sample_mass_mg,
        mass_change_mg=cells.get("mass"),
        warnings=warnings,
    )
    meta = {
        "source_library": "kiln",
        "source_version": None,
        "format": THERMAL_CSV,
        "measurement": "dsc",
        "mapping": mapping.name or None,
        "instrument": None,
        "sample_mass_mg": mapping.sample_mass_mg,
        "exotherm_direction_declared": mapping.exotherm,
        "exotherm_direction_used": mapping.exotherm,
        "heat_flow_sign": (
            "negated: the mapping says the file records exotherms negative"
            if sign < 0
            else "as in the file: the mapping says it records exotherms positive"
        ),
        "units_seen": {
            "time": mapping.time_unit if mapping.time_column else None,
            "temperature": mapping.temperature_unit,
            "heat_flow": mapping.heat_flow_unit,
        },
        "encoding": encoding,
        "header_line": row + 1,
        "delimiter": {"\t": "tab"}.get(delimiter, delimiter),
        "decimal_separator": decimal,
        "cut_last_line_dropped": cut,
        "warnings": warnings,
    }
    return table, meta


def _lines(path: Path) -> tuple[list[str], str]:
    raw = read_nonempty_bytes(path)
    try:
        return raw.decode("utf-8-sig").splitlines(), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace").splitlines(), "cp1252"


def _split(line: str, delimiter: str) -> list[str]:
    return [c.strip() for c in next(csv.reader([line], delimiter=delimiter), [])]


def _find_header(
    lines: list[str], mapping: ThermalColumnMap, path: Path
) -> tuple[int, str, list[str]]:
    wanted = {mapping.temperature_column.strip().lower(), mapping.heat_flow_column.strip().lower()}
    rows = (
        [mapping.header_row]
        if mapping.header_row is not None
        else range(min(len(lines), _HEADER_SEARCH_LINES))
    )
    for row in rows:
        if row >= len(lines):
            break
        for delimiter in _DELIMITERS:
            cells = _split(lines[row], delimiter)
            if wanted <= {c.lower() for c in cells}:
                return row, delimiter, cells
    where = (
        f"line {mapping.header_row + 1}"
        if mapping.header_row is not None
        else f"the first {_HEADER_SEARCH_LINES} lines"
    )
    raise ParseError(
        f"{file_label(path)}: no header with the columns '{mapping.temperature_column}' and "
        f"'{mapping.heat_flow_column}' in {where}; the file does not fit the mapping"
        f"{' ' + repr(mapping.name) if mapping.name else ''}."
    )


def _match(header: list[str], mapping: ThermalColumnMap, path: Path) -> dict[str, int]:
    """Quantity -> position: the exact name first, else ignoring case ("t" and "T" differ)."""
    exact = {c: i for i, c in reversed(list(enumerate(header)))}
    by_key = {c.lower(): i for i, c in reversed(list(enumerate(header)))}
    index = {}
    for quantity, column in mapping.columns().items():
        position = exact.get(column.strip(), by_key.get(column.strip().lower()))
        if position is None:
            raise ParseError(
                f"{file_label(path)}: the file has no column '{column}' named in the mapping "
                f"(its columns: {', '.join(c for c in header if c)})."
            )
        index[quantity] = position
    return index


def _is_units_line(line: str, delimiter: str, index: dict[str, int]) -> bool:
    cells = _split(line, delimiter)
    values = [cells[i] if i < len(cells) else "" for i in index.values()]
    return bool(line.strip()) and not any(_number(v.replace(",", ".")) for v in values)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(
    lines: list[str], start: int, delimiter: str, index: dict[str, int], path: Path
) -> tuple[dict[str, np.ndarray], str, bool]:
    numbered = [(n + 1, ln) for n, ln in enumerate(lines[start:], start=start) if ln.strip()]
    if not numbered:
        raise ParseError(f"{file_label(path)}: the file holds no data rows after its header.")
    rows = [_split(line, delimiter) for _, line in numbered]
    sample = [r[i] for r in rows[:50] for i in index.values() if i < len(r)]
    comma = delimiter != "," and any(_DECIMAL_COMMA.match(c) for c in sample)
    values = np.full((len(rows), len(index)), np.nan)
    bad = []
    for k, cells in enumerate(rows):
        try:
            picked = [cells[i] for i in index.values()]
            values[k] = [float(c.replace(",", ".") if comma else c) for c in picked]
        except (IndexError, ValueError):
            bad.append(k)
    cut = bool(bad) and bad[-1] == len(rows) - 1
    if cut:
        bad.pop()
        values = values[:-1]
    if bad:
        number, line = numbered[bad[0]]
        raise ParseError(
            f"{file_label(path)}: line {number} has no number in a mapped column "
            f"('{line.strip()[:60]}'); the file is damaged or the mapping does not fit."
        )
    return {q: values[:, k] for k, q in enumerate(index)}, "," if comma else ".", cut
