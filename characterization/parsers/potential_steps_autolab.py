"""Metrohm Autolab NOVA ASCII exports of chronoamperometry / potential steps.

NOVA writes one header line of column names with units, then one line per point; the user
chooses the delimiter (tab, semicolon or comma) and Windows' decimal mark. Columns (NOVA 1.x
and 2.x): "Time (s)" and/or "Corrected time (s)", "WE(1).Current (A)", "WE(1).Potential (V)",
"Index", and in staircase methods "Potential applied (V)". Rules:
- the header is the first of the first 40 lines naming a WE(n).Current column (lines before
  it, e.g. a title, are skipped); units are read from the header (s/ms/min/h, V/mV,
  A/mA/µA/nA);
- time is "Time (s)", else "Corrected time (s)"; current and potential are those of the
  lowest-numbered working electrode; set potential "Potential applied (V)" when exported;
- steps: changes of "Potential applied" when exported, else jumps of the measured potential
  (potential_steps.split_levels);
- NOVA follows IUPAC: anodic (oxidation) current > 0; kept as is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .errors import ParseError, file_label
from .potential_steps import AUTOLAB_TXT, finish
from .potential_steps_text import (
    CURRENT_UNITS,
    POTENTIAL_UNITS,
    TIME_UNITS,
    factor,
    numeric_columns,
    read_lines,
    split_header,
    unit_in,
)

_HEADER_SEARCH_LINES = 40
_CURRENT = re.compile(r"^WE\((\d+)\)\.Current\s*[(\[]", re.IGNORECASE)
_POTENTIAL = re.compile(r"^WE\((\d+)\)\.Potential\s*[(\[]", re.IGNORECASE)
_TIME = re.compile(r"^(corrected\s+)?time\s*[(\[]", re.IGNORECASE)
_APPLIED = re.compile(r"^potential\s+applied\s*[(\[]", re.IGNORECASE)


def recognise_autolab(head_text: str) -> str | None:
    """ "autolab_txt" when one of the first lines is a NOVA header (a WE(n).Current column)."""
    lines = head_text.lstrip("\ufeff").splitlines()[:_HEADER_SEARCH_LINES]
    return AUTOLAB_TXT if _header_index(lines) is not None else None


def read(path: Path, *, min_step_mv: float) -> tuple[pd.DataFrame, dict]:
    label = file_label(path)
    lines = read_lines(path)
    at = _header_index(lines[:_HEADER_SEARCH_LINES])
    if at is None:
        raise ParseError(f"{label}: no Autolab NOVA header (a WE(1).Current column) found.")
    header, delimiter = split_header(lines[at])
    columns = _columns(header, label)
    values = numeric_columns(lines, at, header, delimiter, columns, path)
    units = {q: unit_in(c) or "" for q, c in columns.items()}
    scales = {
        "time": factor(units["time"], TIME_UNITS, columns["time"], path),
        "potential": factor(units["potential"], POTENTIAL_UNITS, columns["potential"], path),
        "current": factor(units["current"], CURRENT_UNITS, columns["current"], path),
    }
    set_v = None
    if "set_potential" in columns:
        unit = units["set_potential"]
        set_v = values["set_potential"] * factor(
            unit, POTENTIAL_UNITS, columns["set_potential"], path
        )
    meta = {
        "format": AUTOLAB_TXT,
        "source_library": "kiln",
        "source_version": None,
        "technique": "Autolab NOVA export (chronoamperometry / potential steps)",
        "start_time_local": None,
        "units_seen": {q: units[q] for q in ("time", "potential", "current")},
        "columns_used": columns,
        "header_line": at + 1,
        "delimiter": delimiter,
    }
    return finish(
        path,
        time_s=values["time"] * scales["time"],
        potential_v=values["potential"] * scales["potential"],
        current_a=values["current"] * scales["current"],
        set_potential_v=set_v,
        step=None,
        step_rule="",
        min_step_mv=min_step_mv,
        meta=meta,
    )


def _header_index(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        cells, _ = split_header(line)
        if any(_CURRENT.match(c) for c in cells):
            return i
    return None


def _columns(header: list[str], label: str) -> dict[str, str]:
    """quantity -> header cell: time, current, potential (same electrode), set_potential."""
    currents = sorted((int(m.group(1)), c) for c in header if (m := _CURRENT.match(c)))
    electrode, current = currents[0]
    potential = next(
        (c for c in header if (m := _POTENTIAL.match(c)) and int(m.group(1)) == electrode), None
    )
    times = [c for c in header if _TIME.match(c)]
    plain = [c for c in times if not c.lower().startswith("corrected")]
    if potential is None or not times:
        missing = f"a WE({electrode}).Potential" if potential is None else "a Time (s)"
        raise ParseError(f"{label}: an Autolab export without {missing} column.")
    columns = {"time": (plain or times)[0], "potential": potential, "current": current}
    applied = next((c for c in header if _APPLIED.match(c)), None)
    if applied:
        columns["set_potential"] = applied
    return columns
