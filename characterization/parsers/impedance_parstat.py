"""PARSTAT and PowerSuite impedance text exports (Princeton Applied Research / AMETEK): one
tab-separated column line, then one tab-separated point per line. Own reader; impedance.py's
readParstat splits on any whitespace (an empty cell shifts every later column silently) and
drops every zero-frequency row without saying so.

Rules, from public exports (ECSHackWeek/impedance.py data/exampleDataParstat.txt and
exampleDataPowersuite.txt):
- PARSTAT: columns "Name (unit)" in any order, among them "Frequency (Hz)", "Zre (ohms)",
  "Zim (ohms)" and usually "Elapsed Time (s)"; cells end with a trailing tab. Rows with
  frequency 0 and Zre = Zim = 0 are the DC records of the experiment's other actions (the
  example holds 764 before its sweep): they are left out and counted in a reading note, and
  each run of impedance rows between them is one spectrum (cycle 1, 2, ...). A zero
  frequency with a non-zero impedance is damage;
- PowerSuite: exactly the columns "Frequency", "Zre", "Zimg" (cells may start with a space),
  units not written (Hz and ohm, PowerSuite's only units);
- Zim/Zimg is Im Z (negative on a capacitive arc); a decimal comma is read where the export
  used one (cells are tab-separated).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError
from .impedance_rows import (
    PARSTAT_TXT,
    POWERSUITE_TXT,
    Block,
    TextFile,
    clean,
    cut_note,
    decode_head,
    detect_decimal,
    eis_table,
    frequency_scale,
    impedance_scale,
    load_text,
    metadata,
    note,
    read_block,
    require_unit,
    with_notes,
)

_PARSTAT_NEEDED = {"Frequency": "freq_hz", "Zre": "z_real_ohm", "Zim": "z_imag"}
_POWERSUITE = ["Frequency", "Zre", "Zimg"]


def recognise(head: bytes | str) -> str | None:
    """PARSTAT_TXT or POWERSUITE_TXT from the column line (the first non-blank line)."""
    lines = [ln for ln in decode_head(head)[:5] if ln.strip()]
    if not lines:
        return None
    names = _names(lines[0])
    if names == _POWERSUITE:
        return POWERSUITE_TXT
    bare = {_name_unit(n)[0] for n in names}
    return PARSTAT_TXT if set(_PARSTAT_NEEDED) <= bare and "\t" in lines[0] else None


def _names(line: str) -> list[str]:
    return [clean(c) for c in line.split("\t") if clean(c)]


def _name_unit(cell: str) -> tuple[str, str]:
    match = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", cell)
    return (match.group(1), match.group(2)) if match else (cell, "")


def read_parstat(path: str | Path, fmt: str = "auto") -> tuple[pd.DataFrame, dict]:
    """EIS table and metadata of a PARSTAT or PowerSuite export (see the module doc)."""
    text = load_text(path)
    at = next((i for i, ln in enumerate(text.lines) if ln.strip()), 0)
    found = recognise(text.lines[at])
    if found is None:
        raise ParseError(
            f"{text.name}: the first line is not a PARSTAT or PowerSuite column line "
            "(Frequency (Hz), Zre (ohms), Zim (ohms) / Frequency, Zre, Zimg)."
        )
    columns, scales, units = _columns(text, text.lines[at], found)
    cells = [c for ln in text.lines[at + 1 : at + 51] for c in ln.split("\t")]
    decimal = detect_decimal(cells, "\t")
    block = read_block(text, at + 1, len(text.lines), lambda ln: ln.split("\t"), columns, decimal)
    for key, factor in scales.items():
        block.values[key] = [v * factor for v in block.values[key]]
    spectra, dc_rows = _spectra(block)
    notes = cut_note([block])
    if dc_rows:
        notes.append(
            note(
                "dc_records_left_out",
                f"{dc_rows} record(s) with frequency 0 and no impedance (the DC records of the "
                "experiment's other actions) were left out.",
            )
        )
    table = eis_table(text, spectra)
    meta = metadata(
        found,
        text,
        units_seen=units,
        decimal=decimal,
        notes=notes,
        columns=_names(text.lines[at]),
        dc_records=dc_rows,
    )
    return with_notes(table, meta)


def _columns(
    text: TextFile, line: str, fmt: str
) -> tuple[dict[str, int], dict[str, float], dict[str, str | None]]:
    cells = [clean(c) for c in line.split("\t")]
    if fmt == POWERSUITE_TXT:
        columns = {"freq_hz": 0, "z_real_ohm": 1, "z_imag": 2}
        units = {"frequency": "Hz (not written)", "impedance": "ohm (not written)", "time": None}
        return columns, {}, units
    columns, scales = {}, {}
    units: dict[str, str | None] = {"time": None}
    for index, cell in enumerate(cells):
        name, unit = _name_unit(cell)
        key = _PARSTAT_NEEDED.get(name) or ("time_s" if name == "Elapsed Time" else None)
        if key is None or key in columns:
            continue
        columns[key] = index
        if key == "freq_hz":
            scales[key] = require_unit(frequency_scale(unit), unit, cell, text)
            units["frequency"] = unit
        elif key == "time_s":
            if unit != "s":
                raise ParseError(f"{text.name}: column '{cell}' is not in seconds.")
            units["time"] = "s"
        else:
            scales[key] = require_unit(impedance_scale(unit), unit, cell, text)
            units["impedance"] = unit
    return columns, scales, units


def _spectra(block: Block) -> tuple[list[Block], int]:
    """Runs of impedance rows between DC records (frequency 0, Re Z = Im Z = 0)."""
    freq = np.asarray(block.values["freq_hz"])
    z = np.abs(np.asarray(block.values["z_real_ohm"])) + np.abs(np.asarray(block.values["z_imag"]))
    dc = (freq == 0) & (z == 0)
    spectra, current = [], None
    for row in range(len(block)):
        if dc[row]:
            current = None
            continue
        if current is None:
            current = Block(values={key: [] for key in block.values})
            spectra.append(current)
        for key, values in block.values.items():
            current.values[key].append(values[row])
        current.line_numbers.append(block.line_numbers[row])
    return spectra, int(dc.sum())
