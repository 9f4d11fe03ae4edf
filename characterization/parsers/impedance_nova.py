"""Autolab NOVA ASCII exports of impedance (FRA) data. Own reader (ixdat reads the same files
with pandas.read_csv(delimiter=";") and keeps every column as it is).

Rules, from NOVA 2.x exports as public readers and scripts describe them (ixdat
readers/autolab.py; several lab scripts reading "Index;Frequency (Hz);Z' (Ω);-Z'' (Ω);Z (Ω);
-Phase (°);Time (s)", some with decimal="," for European Windows settings):
- one column line, "Name (unit)" cells separated by ";" (NOVA's default; tab and comma are
  read too), then one point per line;
- Frequency (Hz) and Z' (Ω) are needed; the imaginary part is "-Z'' (Ω)" (-Im Z, NOVA's
  default, negated here) or "Z'' (Ω)" (Im Z as is); Time (s) is read when present. Units are
  taken from the header (Ω, mΩ, kΩ; Hz, kHz); Ω may arrive as "Ω" (U+2126), or as "Î©" (UTF-8
  bytes read as Latin-1); a "?" (an Ω lost to an 8-bit character set) is read as Ω and said;
- NOVA numbers its points in "Index"; when it restarts at 1 a new measurement begins (cycle
  2, 3, ...);
- the decimal mark follows the PC's settings: a decimal comma is read (cells are then
  ";"- or tab-separated).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .errors import ParseError
from .impedance_rows import (
    NOVA_ASCII,
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

_SEPARATORS = (";", "\t", ",")
_LOST_OHM = "?"


def recognise(head: bytes | str) -> str | None:
    """NOVA_ASCII when a line of the head is a NOVA impedance column line."""
    lines = decode_head(head)[:40]
    return NOVA_ASCII if any(_layout(ln) for ln in lines) else None


def _layout(line: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(separator, [(name, unit), ...]) when `line` is a NOVA impedance column line."""
    for separator in _SEPARATORS:
        cells = [_name_unit(clean(c)) for c in line.split(separator)]
        names = {name for name, _ in cells}
        has_imag = "-Z''" in names or "Z''" in names
        if len(cells) >= 3 and {"Frequency", "Z'"} <= names and has_imag:
            return separator, cells
    return None


def _name_unit(cell: str) -> tuple[str, str]:
    match = re.fullmatch(r"(.*?)\s*\(([^()]*)\)", cell)
    return (match.group(1), match.group(2)) if match else (cell, "")


def read_nova(path: str | Path, fmt: str = NOVA_ASCII) -> tuple[pd.DataFrame, dict]:
    """EIS table and metadata of a NOVA ASCII impedance export (see the module doc)."""
    text = load_text(path)
    found = next(((i, _layout(ln)) for i, ln in enumerate(text.lines[:40]) if _layout(ln)), None)
    if found is None:
        raise ParseError(
            f"{text.name}: no NOVA impedance column line (Frequency (Hz); Z' (Ω); -Z'' (Ω))."
        )
    at, (separator, cells) = found
    columns, scales, sign, notes = _columns(text, cells)
    sample = [c for ln in text.lines[at + 1 : at + 51] for c in ln.split(separator)]
    decimal = detect_decimal(sample, separator)
    block = read_block(
        text, at + 1, len(text.lines), lambda ln: ln.split(separator), columns, decimal
    )
    for key, factor in scales.items():
        block.values[key] = [v * factor for v in block.values[key]]
    spectra = _measurements(block)
    table = eis_table(text, spectra, imag_sign=sign)
    meta = metadata(
        fmt,
        text,
        units_seen={
            "frequency": cells[columns["freq_hz"]][1],
            "impedance": cells[columns["z_real_ohm"]][1],
            "time": "s" if "time_s" in columns else None,
        },
        decimal=decimal,
        notes=cut_note([block]) + notes,
        separator=separator,
        imaginary_column=" ".join(cells[columns["z_imag"]]),
    )
    return with_notes(table, meta)


def _columns(
    text: TextFile, cells: list[tuple[str, str]]
) -> tuple[dict[str, int], dict[str, float], float, list[dict]]:
    names = [name for name, _ in cells]
    imag = "-Z''" if "-Z''" in names else "Z''"
    columns = {"freq_hz": names.index("Frequency"), "z_real_ohm": names.index("Z'")}
    columns["z_imag"] = names.index(imag)
    if "Time" in names:
        columns["time_s"] = names.index("Time")
        if cells[columns["time_s"]][1] != "s":
            raise ParseError(f"{text.name}: the Time column is not in seconds.")
    if "Index" in names:
        columns["index"] = names.index("Index")
    scales, notes = {}, []
    for key in ("freq_hz", "z_real_ohm", "z_imag"):
        name, unit = cells[columns[key]]
        label = f"{name} ({unit})"
        if key == "freq_hz":
            scales[key] = require_unit(frequency_scale(unit), unit, label, text)
        elif unit == _LOST_OHM:
            scales[key] = 1.0
            notes = [
                note(
                    "unit_assumed",
                    "The impedance columns' unit is written '?' (an Ω lost to the export's "
                    "character set); it was read as Ω.",
                )
            ]
        else:
            scales[key] = require_unit(impedance_scale(unit), unit, label, text)
    return columns, scales, (-1.0 if imag == "-Z''" else 1.0), notes


def _measurements(block: Block) -> list[Block]:
    """The block split where NOVA's Index restarts (a new measurement)."""
    index = block.values.pop("index", None)
    if index is None:
        return [block]
    starts = [0] + [i for i in range(1, len(index)) if index[i] <= index[i - 1]]
    bounds = list(zip(starts, starts[1:] + [len(index)], strict=True))
    parts = []
    for begin, end in bounds:
        part = Block(values={k: v[begin:end] for k, v in block.values.items()})
        part.line_numbers = block.line_numbers[begin:end]
        parts.append(part)
    return parts
