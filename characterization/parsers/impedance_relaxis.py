"""RelaxIS (rhd instruments) spectrum exports. Own reader; no library reads them.

Rules, from a public export (jdhuang-csm/hybrid-drt tutorials/data/
PEIS_LPSCl_IonBlocking_-25C_RelaxIS.txt, RelaxIS 3.0):
- line 1 "RelaxIS <version> Spectrum export", line 2 "Date: <date time>";
- a tab-separated column line "Data: Frequency", "Data: Z'", "Data: Z''", "Data: |Z|",
  "Data: Theta (Z)" (columns of a fitted model, "Fit: ..." or others, are not read);
- each spectrum starts with its own line of parameters ("DC=-0.08, TM=33.7, J=-5E-6, FV2=1",
  "Model: ...", "(WE/RE Spectrum) <source file>"), then one tab-separated point per line,
  ascending in frequency; several spectra in one export are cycles 1, 2, ...;
- units are not written: Hz and ohm (RelaxIS's only units); Z'' is Im Z (negative on a
  capacitive arc), "Data: -Z''" is read as -Im Z; a decimal comma is read where used.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .errors import ParseError
from .impedance_rows import (
    RELAXIS_TXT,
    TextFile,
    clean,
    cut_note,
    decode_head,
    detect_decimal,
    eis_table,
    load_text,
    metadata,
    read_block,
    to_number,
    with_notes,
)

_FIRST = re.compile(r"RelaxIS\s+\S+.*\bexport\b", re.IGNORECASE)
_COLUMNS = {"Data: Frequency": "freq_hz", "Data: Z'": "z_real_ohm"}
_IMAG = {"Data: Z''": 1.0, "Data: -Z''": -1.0}


def recognise(head: bytes | str) -> str | None:
    lines = [ln for ln in decode_head(head)[:3] if ln.strip()]
    return RELAXIS_TXT if lines and _FIRST.match(lines[0].strip()) else None


def read_relaxis(path: str | Path, fmt: str = RELAXIS_TXT) -> tuple[pd.DataFrame, dict]:
    """EIS table and metadata of a RelaxIS spectrum export (see the module doc)."""
    text = load_text(path)
    if recognise(text.lines[0] if text.lines else "") is None:
        raise ParseError(f"{text.name}: not a RelaxIS export (no 'RelaxIS ... export' line).")
    at = next((i for i, ln in enumerate(text.lines[:20]) if ln.startswith("Data: ")), None)
    if at is None:
        raise ParseError(f"{text.name}: a RelaxIS export without its 'Data: ...' column line.")
    columns, sign = _columns(text, text.lines[at])
    cells = [c for ln in text.lines[at + 1 : at + 51] for c in ln.split("\t")]
    decimal = detect_decimal(cells, "\t")
    blocks, spectra = [], []
    for header, start, stop in _spectrum_ranges(text, at + 1, decimal):
        blocks.append(read_block(text, start, stop, _split, columns, decimal))
        spectra.append([clean(c) for c in header.split("\t") if clean(c)] if header else [])
    table = eis_table(text, blocks, imag_sign=sign)
    meta = metadata(
        fmt,
        text,
        units_seen={
            "frequency": "Hz (not written)",
            "impedance": "ohm (not written)",
            "time": None,
        },
        decimal=decimal,
        notes=cut_note(blocks),
        software=clean(text.lines[0]),
        export_date=clean(text.lines[1]).removeprefix("Date:").strip() or None,
        spectra=spectra,
    )
    return with_notes(table, meta)


def _split(line: str) -> list[str]:
    return line.split("\t")


def _columns(text: TextFile, line: str) -> tuple[dict[str, int], float]:
    names = [clean(c) for c in _split(line)]
    columns = {key: names.index(name) for name, key in _COLUMNS.items() if name in names}
    imag = next((name for name in _IMAG if name in names), None)
    if len(columns) < 2 or imag is None:
        raise ParseError(
            f"{text.name}: the column line has no Data: Frequency, Data: Z' and Data: Z'' "
            f"columns (found: {', '.join(n for n in names if n)})."
        )
    columns["z_imag"] = names.index(imag)
    return columns, _IMAG[imag]


def _spectrum_ranges(text: TextFile, start: int, decimal: str) -> list[tuple[str, int, int]]:
    """(parameter line or "", first line, end) per spectrum. A line is a spectrum's parameter
    line when its first cell is not a number and it holds "=" or "Model:"."""
    ranges: list[tuple[str, int, int]] = []
    header, begin = "", start
    for index in range(start, len(text.lines)):
        line = text.lines[index]
        first = line.split("\t")[0]
        if to_number(first, decimal) is None and ("=" in line or "Model:" in line):
            if index > begin:
                ranges.append((header, begin, index))
            header, begin = line, index + 1
    ranges.append((header, begin, len(text.lines)))
    return ranges
