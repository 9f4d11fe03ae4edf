"""ZView/ZPlot impedance files (Scribner): the "Data File" layout (Autolab FRA's Z60W export,
ZPlotW .z) and ZPLOT2 ASCII. Own reader; impedance.py's readAutolab/readZPlot read the same
layouts but index fixed columns without checking the header and stop on the first odd line.

Rules, from public files (ECSHackWeek/impedance.py data/exampleDataAutolab.txt,
exampleDataZPlot.z, exampleDataZPlot_noComments.z) and public Z60W writers:
- "Data File" layout: line 1 '"Z60W Data File: Version 1.1"' or '"ZPlotW Data File: ..."'
  (quotes optional), free header lines (quoted strings, date, comments), a sweep descriptor
  line of comma-separated numbers ("0,2,0,1,0.1,10000"), a line holding the announced number
  of points, an optional column line, then the points;
- ZPLOT2 ASCII: "Key: value" header lines, "Data Points: N", the column line, then
  "End Comments" and the points;
- the columns are ZView's, in this order: Freq(Hz), Ampl, Bias, Time(Sec), Z'(a), Z''(b), GD,
  Err, Range; a column line naming others is refused. Z' and Z'' are in ohm, Z'' is Im Z
  (negative on a capacitive arc), Time(Sec) is s (all 0 in Autolab exports: not recorded);
- cells are separated by tabs, commas (with or without spaces) or spaces; with tabs or
  spaces a decimal comma is read;
- fewer or more points than announced is said in the reading notes (a sweep stopped early).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .errors import ParseError
from .impedance_rows import (
    ZPLOT_Z,
    ZVIEW_Z60W,
    TextFile,
    clean,
    cut_note,
    decode_head,
    detect_decimal,
    eis_table,
    load_text,
    metadata,
    note,
    read_block,
    with_notes,
)

_ORDER = ("Freq(Hz)", "Ampl", "Bias", "Time(Sec)", "Z'(a)", "Z''(b)")
_COLUMNS = {"freq_hz": 0, "time_s": 3, "z_real_ohm": 4, "z_imag": 5}
_DESCRIPTOR = re.compile(r"^\s*[-+\d.eE]+(\s*,\s*[-+\d.eE]+){3,}\s*$")


def recognise(head: bytes | str) -> str | None:
    """ZVIEW_Z60W or ZPLOT_Z from the first line of a file's head; None otherwise."""
    lines = [ln for ln in decode_head(head)[:4] if ln.strip()]
    first = clean(lines[0]) if lines else ""
    if first.startswith("Z60W Data File"):
        return ZVIEW_Z60W
    if first == "ZPLOT2 ASCII" or first.startswith("ZPlotW Data File"):
        return ZPLOT_Z
    return None


def read_zview(path: str | Path, fmt: str = "auto") -> tuple[pd.DataFrame, dict]:
    """EIS table and metadata of a Z60W / ZPlotW / ZPLOT2 file (see the module doc)."""
    text = load_text(path)
    found = recognise("\n".join(text.lines[:4]))
    if found is None:
        raise ParseError(f"{text.name}: not a ZView/ZPlot file (no Z60W/ZPlot first line).")
    zplot2 = clean(text.lines[0]) == "ZPLOT2 ASCII"
    start, announced, column_line = _zplot2_layout(text) if zplot2 else _data_file_layout(text)
    if column_line is not None:
        _check_columns(text, column_line)
    first = next((ln for ln in text.lines[start:] if ln.strip()), "")
    separator = "\t" if "\t" in first else "," if "," in first else " "
    cells = [c for ln in text.lines[start : start + 50] for c in _split(ln)]
    decimal = detect_decimal(cells, separator)
    block = read_block(text, start, len(text.lines), _split, _COLUMNS, decimal)
    time = block.values["time_s"]
    recorded = any(t != 0 for t in time)
    if not recorded:
        block.values.pop("time_s")
    table = eis_table(text, [block])
    notes = cut_note([block])
    if announced is not None and announced != len(block):
        notes.append(
            note(
                "points_not_as_announced",
                f"The header announces {announced} points and the file holds {len(block)}: the "
                "sweep was stopped early, edited, or the file is incomplete.",
            )
        )
    meta = metadata(
        found,
        text,
        units_seen={"frequency": "Hz", "impedance": "ohm", "time": "s" if recorded else None},
        decimal=decimal,
        notes=notes,
        title=clean(text.lines[0]),
        points_announced=announced,
    )
    return with_notes(table, meta)


def _split(line: str) -> list[str]:
    line = line.strip()
    if "\t" in line:
        return line.split("\t")
    return re.split(r"\s*,\s*", line) if "," in line else line.split()


def _data_file_layout(text: TextFile) -> tuple[int, int | None, str | None]:
    """Index of the first point, the announced count and the column line (or None)."""
    for index in range(1, len(text.lines) - 1):
        count = clean(text.lines[index + 1])
        if _DESCRIPTOR.match(clean(text.lines[index])) and count.isdigit():
            start = index + 2
            line = text.lines[start] if start < len(text.lines) else ""
            if "Freq" in line:
                return start + 1, int(count), line
            return start, int(count), None
    raise ParseError(
        f"{text.name}: a ZView data file without its sweep descriptor and point count lines; "
        "it is truncated or not a ZView file."
    )


def _zplot2_layout(text: TextFile) -> tuple[int, int | None, str | None]:
    end = next((i for i, ln in enumerate(text.lines) if clean(ln) == "End Comments"), None)
    if end is None:
        raise ParseError(f"{text.name}: a ZPLOT2 file without its 'End Comments' line.")
    announced = None
    for line in text.lines[:end]:
        key, _, value = clean(line).partition(":")
        if key == "Data Points" and value.strip().isdigit():
            announced = int(value)
    columns = next((ln for ln in reversed(text.lines[:end]) if "Freq" in ln), None)
    return end + 1, announced, columns


def _check_columns(text: TextFile, line: str) -> None:
    compact = re.sub(r"[\s\"]", "", line)
    if not compact.startswith("".join(_ORDER)):
        raise ParseError(
            f"{text.name}: unexpected column line '{clean(line)}'; ZView files list "
            f"{', '.join(_ORDER)} first."
        )
