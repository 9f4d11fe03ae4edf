"""VersaStudio .par files (Princeton Applied Research / AMETEK VersaSTAT): impedance segments.
Own reader; impedance.py's readVersaStudio takes Segment1 only and reads fixed cell positions
(9, 14, 15) without looking at the segment's column definition.

Rules, from a public file (ECSHackWeek/impedance.py data/exampleDataVersaStudio.par,
VersaStudio 2.52, VersaSTAT4):
- an INI-like file of tagged sections: <Application> (Name=VersaStudio, Version=...),
  <Instrument> (Type, SN), <Experiment>, <ActionN> (one per step of the experiment; an
  impedance action has Name=Potentiostatic EIS or Galvanostatic EIS), <SegmentN> with the
  data, then <GraphN> display settings;
- a segment holds Type=, Version=, a "Definition=" line naming its comma-separated columns
  (Segment #, Point #, E(V), I(A), Elapsed Time(s), ..., Frequency(Hz), ..., Z Real, Z Imag,
  ...) and one comma-separated point per line up to </SegmentN>;
- Z Real and Z Imag are in ohm, Z Imag is Im Z (negative on a capacitive arc); Elapsed
  Time(s) is s. Each segment with Frequency(Hz), Z Real and Z Imag is one spectrum (cycle 1,
  2, ... in file order); segments of other techniques are ignored;
- UTF-8 (user comments may be in any language); decimal point.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .errors import ParseError
from .impedance_rows import (
    VERSASTUDIO_PAR,
    TextFile,
    clean,
    cut_note,
    decode_head,
    eis_table,
    load_text,
    metadata,
    note,
    read_block,
    with_notes,
)

_WANTED = {"Frequency(Hz)": "freq_hz", "Z Real": "z_real_ohm", "Z Imag": "z_imag"}
_TIME = "Elapsed Time(s)"
_OPEN = re.compile(r"^<(Segment\d+)>$")


def recognise(head: bytes | str) -> str | None:
    """VERSASTUDIO_PAR for an <Application> file with an EIS action or impedance segment."""
    lines = [ln.strip() for ln in decode_head(head)]
    if not lines or lines[0] != "<Application>":
        return None
    eis_action = any(ln.startswith("Name=") and ln.endswith(" EIS") for ln in lines)
    segment = any(ln.startswith("Definition=") and _is_impedance(ln) for ln in lines)
    return VERSASTUDIO_PAR if eis_action or segment else None


def _is_impedance(definition: str) -> bool:
    return set(_WANTED) <= set(_definition(definition))


def _definition(line: str) -> list[str]:
    return [clean(c) for c in line.partition("=")[2].split(",")]


def read_versastudio(path: str | Path, fmt: str = VERSASTUDIO_PAR) -> tuple[pd.DataFrame, dict]:
    """EIS table and metadata of a VersaStudio .par file (see the module doc)."""
    text = load_text(path)
    if not text.lines or text.lines[0].strip() != "<Application>":
        raise ParseError(f"{text.name}: not a VersaStudio .par file (no <Application> line).")
    blocks, names, unclosed = [], [], []
    for tag, start, stop in _segments(text):
        definition = next(
            (i for i in range(start, stop) if text.lines[i].startswith("Definition=")), None
        )
        if definition is None or not _is_impedance(text.lines[definition]):
            continue
        columns = _columns(_definition(text.lines[definition]))
        blocks.append(read_block(text, definition + 1, stop, _split, columns, "."))
        names.append(tag)
        if stop == len(text.lines):
            unclosed.append(tag)
    if not blocks:
        raise ParseError(
            f"{text.name}: a VersaStudio file without an impedance segment (no segment defines "
            "Frequency(Hz), Z Real and Z Imag); it holds another technique."
        )
    table = eis_table(text, blocks)
    notes = cut_note(blocks)
    if unclosed:
        notes.append(
            note(
                "file_truncated",
                f"The file ends inside {unclosed[0]} (no closing tag): it was copied while "
                "the measurement was running, or cut; the points up to the end were read.",
            )
        )
    sections = _sections(text, ("Application", "Instrument", "Experiment"))
    meta = metadata(
        fmt,
        text,
        units_seen={"frequency": "Hz", "impedance": "ohm", "time": "s"},
        notes=notes,
        segments=names,
        software_version=sections["Application"].get("Version"),
        instrument=sections["Instrument"].get("Type"),
        instrument_serial=sections["Instrument"].get("SN"),
        start_date=sections["Experiment"].get("DateAcquired"),
        start_time=sections["Experiment"].get("TimeAcquired"),
    )
    return with_notes(table, meta)


def _split(line: str) -> list[str]:
    return line.split(",")


def _segments(text: TextFile) -> list[tuple[str, int, int]]:
    """(tag, first line inside, index of the closing line or end of file) per segment."""
    found = []
    for index, line in enumerate(text.lines):
        match = _OPEN.match(line.strip())
        if match:
            closing = f"</{match.group(1)}>"
            stop = next(
                (i for i in range(index + 1, len(text.lines)) if text.lines[i].strip() == closing),
                len(text.lines),
            )
            found.append((match.group(1), index + 1, stop))
    return found


def _columns(names: list[str]) -> dict[str, int]:
    columns = {key: names.index(name) for name, key in _WANTED.items()}
    if _TIME in names:
        columns["time_s"] = names.index(_TIME)
    return columns


def _sections(text: TextFile, tags: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Key=value pairs of the first section with each tag."""
    out: dict[str, dict[str, str]] = {tag: {} for tag in tags}
    current = None
    for line in text.lines:
        stripped = line.strip()
        if stripped.startswith("</"):
            current = None
        elif stripped.startswith("<") and stripped.endswith(">"):
            tag = stripped[1:-1]
            current = tag if tag in out and not out[tag] else None
        elif current and "=" in stripped:
            key, _, value = stripped.partition("=")
            out[current].setdefault(key, value)
    return out
