"""CH Instruments "A.C. Impedance" text exports (CHI 600/700/1100 series software). Own
reader; impedance.py's readCHInstruments assumes one blank line after the column line and
stops with a bare ValueError on any odd line.

Rules, from public exports (ECSHackWeek/impedance.py data/exampleDataCHInstruments.txt, a
CHI660E file, and other CHI660E exports of the same layout):
- header: a date line, "A.C. Impedance", "Key: value" and "Key = value" lines (File,
  Instrument Model, Init E (V), High/Low Frequency (Hz), Amplitude (V), Quiet Time (sec));
- a column line "Freq/Hz, Z'/ohm, Z"/ohm, Z/ohm, Phase/deg" (name/unit, comma-separated; Z''
  may be written with two apostrophes, a leading '-' means -Im Z), blank lines, then one
  comma-separated point per line, decimal point and e-notation;
- Z" is Im Z, negative on a capacitive arc; the file has no time column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import ParseError
from .impedance_rows import (
    CHI_TXT,
    TextFile,
    clean,
    cut_note,
    decode_head,
    eis_table,
    frequency_scale,
    impedance_scale,
    load_text,
    metadata,
    read_block,
    require_unit,
    with_notes,
)

_TECHNIQUE = "A.C. Impedance"


def recognise(head: bytes | str) -> str | None:
    """CHI_TXT when the head has the "A.C. Impedance" technique line or CHI's column line."""
    lines = decode_head(head)[:80]
    if any(ln.strip() == _TECHNIQUE for ln in lines[:6]) or any(
        _is_column_line(ln) for ln in lines
    ):
        return CHI_TXT
    return None


def _is_column_line(line: str) -> bool:
    return line.replace(" ", "").startswith("Freq/Hz,Z'/")


def read_chi(path: str | Path, fmt: str = CHI_TXT) -> tuple[pd.DataFrame, dict]:
    """EIS table and metadata of a CHI A.C. impedance export (see the module doc)."""
    text = load_text(path)
    at = next((i for i, ln in enumerate(text.lines) if _is_column_line(ln)), None)
    if at is None:
        raise ParseError(
            f"{text.name}: no impedance column line ('Freq/Hz, Z'/ohm, Z\"/ohm, ...'); "
            "not a CH Instruments A.C. impedance export, or a technique Kiln does not read."
        )
    columns, scales, sign = _columns(text, text.lines[at])
    block = read_block(text, at + 1, len(text.lines), _split, columns, ".")
    for key, factor in scales.items():
        block.values[key] = [v * factor for v in block.values[key]]
    table = eis_table(text, [block], imag_sign=sign)
    header = _header(text.lines[:at])
    meta = metadata(
        fmt,
        text,
        units_seen={"frequency": "Hz", "impedance": "ohm", "time": None},
        notes=cut_note([block]),
        instrument=header.get("Instrument Model"),
        start_date=clean(text.lines[0]) or None,
        header=header,
    )
    return with_notes(table, meta)


def _split(line: str) -> list[str]:
    return line.split(",")


def _columns(text: TextFile, line: str) -> tuple[dict[str, int], dict[str, float], float]:
    """Cell index per quantity, unit factors to Hz/ohm, and the sign turning the file's
    imaginary column into Im Z."""
    columns: dict[str, int] = {}
    scales: dict[str, float] = {}
    sign = 1.0
    for index, cell in enumerate(_split(line)):
        name, _, unit = clean(cell).partition("/")
        bare = name.lstrip("-").replace("''", '"')
        key = {"Freq": "freq_hz", "Z'": "z_real_ohm", 'Z"': "z_imag"}.get(bare)
        if key is None or key in columns:
            continue
        columns[key] = index
        if key == "freq_hz":
            scales[key] = require_unit(frequency_scale(unit), unit, clean(cell), text)
        else:
            scales[key] = require_unit(impedance_scale(unit), unit, clean(cell), text)
        if key == "z_imag" and name.startswith("-"):
            sign = -1.0
    missing = {"freq_hz", "z_real_ohm", "z_imag"} - set(columns)
    if missing:
        raise ParseError(f"{text.name}: the column line '{clean(line)}' has no Z' or Z\" column.")
    return columns, scales, sign


def _header(lines: list[str]) -> dict[str, str]:
    """ "Key: value" and "Key = value" lines (not the date line, whose time has colons)."""
    header = {}
    for line in lines:
        for mark in (": ", " = "):
            key, found, value = (line + " ").partition(mark)
            if found and key.strip():
                header[key.strip()] = value.strip()
                break
    return header
