"""Any impedance CSV read through a column mapping the user saves once per instrument/export.

An ImpedanceColumnMapping names the file's frequency, Re Z and imaginary columns, their units
(frequency Hz, kHz or MHz; impedance Ω, mΩ or kΩ) and what the imaginary column holds:
"-Im" (-Im Z, positive on a capacitive arc, as most plotting exports write it) or "Im" (Im Z,
negative on the arc). read_mapped_impedance turns the file into the EIS table with the rules
of every impedance reader (impedance_rows): values × unit factor, the imaginary column negated
for "-Im"; delimiter (comma, semicolon or tab) and decimal mark detected from the file; a
cell that is not a number is damage; `header_row` is the 0-based line holding the names.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import ParseError
from .impedance_rows import (
    MAPPED_IMPEDANCE,
    clean,
    cut_note,
    detect_decimal,
    eis_table,
    load_text,
    metadata,
    read_block,
    with_notes,
)
from .mapping_record import StoredMapping

FREQUENCY_UNITS = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6}
IMPEDANCE_UNITS = {"Ω": 1.0, "ohm": 1.0, "mΩ": 1e-3, "mohm": 1e-3, "kΩ": 1e3, "kohm": 1e3}
IMAG_SIGNS = {"-Im": -1.0, "Im": 1.0}
TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}
_DELIMITERS = (",", ";", "\t")


class ImpedanceMappingError(ValueError):
    """The mapping itself is incomplete or inconsistent (not a problem of a file)."""


@dataclass(frozen=True)
class ImpedanceColumnMapping(StoredMapping):
    """Where a generic impedance table keeps each quantity, and in which unit."""

    error = ImpedanceMappingError

    name: str
    frequency_column: str
    z_real_column: str
    z_imag_column: str
    frequency_unit: str = "Hz"
    z_real_unit: str = "Ω"
    z_imag_unit: str = "Ω"
    z_imag_sign: str = "-Im"
    time_column: str = ""
    time_unit: str = "s"
    header_row: int = 0

    def __post_init__(self) -> None:
        self._check_text()
        self._check_choices(
            (
                ("frequency_unit", FREQUENCY_UNITS),
                ("z_real_unit", IMPEDANCE_UNITS),
                ("z_imag_unit", IMPEDANCE_UNITS),
                ("z_imag_sign", IMAG_SIGNS),
                ("time_unit", TIME_UNITS),
            )
        )
        self._check_required(("name", "frequency_column", "z_real_column", "z_imag_column"))
        self._check_distinct_columns()
        self._check_header_row()

    def columns(self) -> dict[str, str]:
        """Quantity key -> the file's column name, for the columns this mapping uses."""
        out = {
            "freq_hz": self.frequency_column,
            "z_real_ohm": self.z_real_column,
            "z_imag": self.z_imag_column,
        }
        if self.time_column.strip():
            out["time_s"] = self.time_column
        return out

    def scales(self) -> dict[str, float]:
        return {
            "freq_hz": FREQUENCY_UNITS[self.frequency_unit],
            "z_real_ohm": IMPEDANCE_UNITS[self.z_real_unit],
            "z_imag": IMPEDANCE_UNITS[self.z_imag_unit],
            "time_s": TIME_UNITS[self.time_unit],
        }


def read_mapped_impedance(
    path: str | Path, mapping: ImpedanceColumnMapping
) -> tuple[pd.DataFrame, dict]:
    """EIS table and metadata of a CSV read through `mapping`. A file without a mapped column
    raises ParseError "the file has no column 'X' named in mapping 'Y'"; empty, damaged or
    non-numeric files raise ParseError naming the file and line."""
    text = load_text(path)
    if mapping.header_row >= len(text.lines):
        raise ParseError(
            f"{text.name}: has {len(text.lines)} lines, no header at line {mapping.header_row + 1}."
        )
    first = text.lines[mapping.header_row]
    delimiter = max(_DELIMITERS, key=first.count)

    def split(line: str) -> list[str]:
        return next(csv.reader([line], delimiter=delimiter), [])

    header = [clean(h) for h in split(first)]
    columns = {
        key: _find(header, name, mapping, text.name) for key, name in mapping.columns().items()
    }
    start = mapping.header_row + 1
    sample = [c for ln in text.lines[start : start + 50] for c in split(ln)]
    decimal = detect_decimal(sample, None)
    block = read_block(text, start, len(text.lines), split, columns, decimal)
    for key, factor in mapping.scales().items():
        if key in block.values:
            block.values[key] = [v * factor for v in block.values[key]]
    table = eis_table(text, [block], imag_sign=IMAG_SIGNS[mapping.z_imag_sign])
    meta = metadata(
        MAPPED_IMPEDANCE,
        text,
        units_seen={
            "frequency": mapping.frequency_unit,
            "impedance": mapping.z_real_unit,
            "time": mapping.time_unit if "time_s" in columns else None,
        },
        decimal=decimal,
        notes=cut_note([block]),
        mapping=mapping.name,
        delimiter=delimiter,
        imaginary_column_holds=mapping.z_imag_sign,
    )
    return with_notes(table, meta)


def _find(header: list[str], column: str, mapping: ImpedanceColumnMapping, name: str) -> int:
    """Index of `column` in the header (exact, else ignoring case and surrounding spaces)."""
    if column in header:
        return header.index(column)
    folded = [h.lower() for h in header]
    if clean(column).lower() in folded:
        return folded.index(clean(column).lower())
    raise ParseError(
        f"{name}: the file has no column '{column}' named in mapping '{mapping.name}' "
        f"(its columns: {', '.join(h for h in header if h)})."
    )
