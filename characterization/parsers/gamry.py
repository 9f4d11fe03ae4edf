"""Gamry Framework .DTA files (the "EXPLAIN" text format), and recognition of the impedance
text exports of other software that Kiln cannot read yet. Own reader; pure Python, no Django.

DTA rules, checked on real files (ECSHackWeek/impedance.py data/exampleDataGamry.DTA and
exampleDataGamryABORT.DTA; bcliang/gamry-parser tests/*.dta; vyrjana/pyimpspec tests/data.dta,
a decimal-comma export):
- line 1 is "EXPLAIN", line 2 "TAG<TAB><technique>" (EISPOT, EISGALV, CV, CHRONOA, ...);
- header lines are KEY<TAB>TYPE<TAB>value<TAB>...<TAB>label (TYPE QUANT, IQUANT, POTEN, LABEL,
  TOGGLE, SELECTOR, TWOPARAM, PSTAT, NOTES); a NOTES line is followed by n lines starting
  with a tab. Header lines also follow the tables (EXPERIMENTABORTED, PSTATMODEL, ...);
- a table is KEY<TAB>TABLE[<TAB>count], a column line and a units line (both starting with a
  tab), then one tab-led line per point; the first line not starting with a tab ends it;
- impedance is the ZCURVE table: Pt, Time (s), Freq (Hz), Zreal (ohm), Zimag (ohm, Im Z:
  negative on a capacitive arc), Zsig, Zmod, Zphz, Idc, Vdc, IERange. Each ZCURVE table is one
  curve, numbered 1, 2, ... in `cycle` (no public file with more than one was found). With
  drift correction on, ZCURVE also holds ZrealDrCor/ZimagDrCor; the measured Zreal/Zimag are
  read all the same, and metadata["drift_corrected_columns"] says the others exist;
- numbers follow the Windows locale: "1.5E+001" or "1,5E+001". Cells are tab-separated, so a
  comma in a cell can only be a decimal comma. "1.#QNAN"/"-1.#IND" (Windows NaN) read as NaN;
- Windows line ends; bytes are cp1252/Latin-1 (the units row holds a degree sign, 0xB0);
  UTF-8 is accepted too;
- DATE/TIME are the PC's local date and time in its short-date format (4/23/2018 in the US).

A file copied while the experiment ran may end in the middle of a table line: that last line is
dropped. An unreadable line anywhere else in the impedance table is damage (ParseError).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, NoReturn

import pandas as pd

from .errors import NotCyclingFileError, ParseError, file_label, read_nonempty_bytes
from .schema import IMPEDANCE_COLUMNS

_HEAD_BYTES = 8192
_LINE_END = re.compile(r"\r\n|\r|\n")
_WINDOWS_NAN = re.compile(r"[-+]?\d\.#(?:QNAN|SNAN|IND)\d*")
_WINDOWS_INF = re.compile(r"([-+]?)\d\.#INF\d*")
_ZCURVE_COLUMNS = {"Time": "s", "Freq": "Hz", "Zreal": "ohm", "Zimag": "ohm"}
_OHM_SPELLINGS = {"ohm", "ohms", "\u03c9"}


class GamryTechnique(NamedTuple):
    """What a DTA file holds: Gamry's `tag`, Kiln's measurement `kind` and a chemist's `label`.

    kind is one of "eis", "potential_step", "current_step", "voltammetry", "open_circuit",
    "cycling" or "other" (a tag Kiln does not know)."""

    tag: str
    kind: str
    label: str


# Tags seen in public DTA files and readers (gamry-parser techniques.py, Gamry Framework
# scripts, hybrid-drt's DTA writer). GALVEIS is what hybrid-drt writes for galvanostatic EIS.
_TECHNIQUES: dict[str, tuple[str, str]] = {
    "EISPOT": ("eis", "potentiostatic impedance (EIS)"),
    "EISGALV": ("eis", "galvanostatic impedance (EIS)"),
    "GALVEIS": ("eis", "galvanostatic impedance (EIS)"),
    "CHRONOA": ("potential_step", "chronoamperometry"),
    "CHRONOP": ("current_step", "chronopotentiometry"),
    "CV": ("voltammetry", "cyclic voltammetry"),
    "RCV": ("voltammetry", "cyclic voltammetry"),
    "LSV": ("voltammetry", "linear sweep voltammetry"),
    "POLDYN": ("voltammetry", "potentiodynamic polarisation"),
    "POTENTIODYNAMIC": ("voltammetry", "potentiodynamic polarisation"),
    "SQUARE_WAVE": ("voltammetry", "square-wave voltammetry"),
    "CORPOT": ("open_circuit", "open-circuit potential"),
    "PWR800_CHARGE": ("cycling", "battery charge step (PWR800)"),
    "PWR800_DISCHARGE": ("cycling", "battery discharge step (PWR800)"),
    "PWR800_CYCLICCHARGEDISCHARGE": ("cycling", "cyclic charge-discharge summary (PWR800)"),
}


class NotImpedanceFileError(ParseError):
    """A valid Gamry .DTA file of another technique: it holds no impedance (ZCURVE) table.

    `tag` is Gamry's TAG ("CHRONOA"), `technique` a chemist's name ("chronoamperometry") and
    `kind` Kiln's measurement kind (see GamryTechnique), so the measurement page can say "a
    Gamry chronoamperometry file, not impedance" and a caller can route the file elsewhere.
    """

    def __init__(self, message: str, *, tag: str, technique: str, kind: str) -> None:
        super().__init__(message)
        self.tag = tag
        self.technique = technique
        self.kind = kind


class _Table(NamedTuple):
    name: str
    columns: list[str]
    units: list[str]
    rows: list[list[str]]
    first_line: int  # 1-based line number of the first data row, for messages
    ends_file: bool  # nothing but blank lines follow, so a cut can have happened inside it


# ---------------------------------------------------------------- recognition (head only)


def looks_like_gamry_dta(head: bytes) -> bool:
    """True when the first bytes are a Gamry Framework file: "EXPLAIN" then "TAG<TAB>..."
    (a UTF-8 byte-order mark and blank lines before TAG are tolerated)."""
    return _starts_like_dta(head.decode("latin-1").splitlines()[:8])


def _starts_like_dta(lines: list[str]) -> bool:
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return False
    first = lines[0].lstrip("\ufeff\u00ef\u00bb\u00bf").strip()
    return len(lines) >= 2 and first == "EXPLAIN" and lines[1].startswith("TAG\t")


def gamry_technique(head: bytes) -> GamryTechnique:
    """The technique named by the TAG line of a DTA head (kind "other" for unknown tags)."""
    lines = head.removeprefix(b"\xef\xbb\xbf").splitlines()[:8]
    tag_line = next((ln for ln in lines if ln.startswith(b"TAG\t")), b"TAG\t")
    tag = tag_line.split(b"\t")[1].strip().decode("latin-1")
    return technique_of(tag)


def technique_of(tag: str) -> GamryTechnique:
    kind, label = _TECHNIQUES.get(tag.upper(), ("other", f"{tag or 'unnamed'} experiment"))
    return GamryTechnique(tag=tag, kind=kind, label=label)


# ---------------------------------------------------------------- reading


def read_gamry_dta(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """EIS table (schema.IMPEDANCE_COLUMNS) and metadata of a Gamry impedance .DTA file.

    z_imag_ohm is Gamry's Zimag as is (Im Z, negative on a capacitive arc); time_s is Gamry's
    Time column (s since the impedance scan started); cycle numbers the ZCURVE tables from 1.
    Raises NotImpedanceFileError (a ParseError) for a DTA of another technique and ParseError,
    starting with the file name, for a damaged, truncated or unexpected file.
    """
    path = Path(path)
    lines = _read_lines(path)
    if not _starts_like_dta(lines[:8]):
        raise ParseError(f"{file_label(path)}: not a Gamry .DTA file (no EXPLAIN/TAG header).")
    header, notes, tables = _parse(lines)
    technique = technique_of(header.get("TAG", ""))
    curves = [t for t in tables if t.name.upper().startswith("ZCURVE")]
    if not curves:
        raise _no_impedance_error(path, technique)
    frames, cut = [], False
    for number, table in enumerate(curves, start=1):
        frame, dropped = _zcurve_frame(table, number, path)
        frames.append(frame)
        cut = cut or dropped
    table = pd.concat(frames, ignore_index=True)
    meta = _metadata(header, notes, technique, len(curves))
    meta["decimal_separator"] = _decimal_separator(curves)
    meta["cut_last_line_dropped"] = cut
    meta["drift_corrected_columns"] = any("ZrealDrCor" in t.columns for t in curves)
    return table, meta


def refuse_gamry_as_cycling(path: str | Path, fmt: str = "gamry_dta") -> NoReturn:
    """For read_cycler_file: a Gamry DTA is never a cycler file Kiln reads. Raises
    NotCyclingFileError (kind "eis" or "potential_step") when the file can go elsewhere,
    ParseError naming the technique otherwise."""
    path = Path(path)
    with path.open("rb") as fh:
        technique = gamry_technique(fh.read(_HEAD_BYTES))
    what = f"a Gamry {technique.label} file (TAG {technique.tag})"
    if technique.kind in ("eis", "potential_step"):
        raise NotCyclingFileError(
            f"{file_label(path)}: {what}, not a cycling file; it holds no charge/discharge cycles.",
            kind=technique.kind,
        )
    raise ParseError(
        f"{file_label(path)}: {what}; Kiln reads Gamry impedance (EIS) files only, "
        "not Gamry cycling, voltammetry or other techniques."
    )


def _read_lines(path: Path) -> list[str]:
    """Decoded lines: UTF-8 when the bytes are valid UTF-8, else cp1252 (Gamry on Windows)."""
    raw = read_nonempty_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return _LINE_END.split(text)


def _parse(lines: list[str]) -> tuple[dict[str, str], list[str], list[_Table]]:
    """Header values (KEY -> first value field, TAG -> its technique), notes, tables."""
    header: dict[str, str] = {}
    notes: list[str] = []
    tables: list[_Table] = []
    i = 1
    while i < len(lines):
        fields = lines[i].split("\t")
        if len(fields) >= 2 and fields[1] == "TABLE":
            table, i = _read_table(fields[0], lines, i)
            tables.append(table)
            continue
        if fields[0] and len(fields) >= 2:
            header[fields[0]] = fields[1] if fields[0] == "TAG" else _field(fields, 2)
        if len(fields) >= 3 and fields[1] == "NOTES" and fields[2].strip().isdigit():
            count = int(fields[2])
            notes = [ln.strip() for ln in lines[i + 1 : i + 1 + count] if ln.strip()]
            i += count
        i += 1
    return header, notes, tables


def _field(fields: list[str], index: int) -> str:
    return fields[index].strip() if len(fields) > index else ""


def _read_table(name: str, lines: list[str], at: int) -> tuple[_Table, int]:
    """The table whose KEY<TAB>TABLE line is lines[at], and the index of the line after it."""

    def tab_led(index: int) -> bool:
        return index < len(lines) and lines[index].startswith("\t")

    def in_table(index: int) -> bool:  # a blank line with data after it is a gap, kept
        return tab_led(index) or (index < len(lines) and not lines[index] and tab_led(index + 1))

    columns = _cells(lines[at + 1]) if tab_led(at + 1) else []
    units = _cells(lines[at + 2]) if columns and tab_led(at + 2) else []
    start = at + 1 + bool(columns) + bool(units)  # the first data row
    end = start
    while in_table(end):
        end += 1
    while columns and columns[-1] == "":  # trailing tabs on the column line
        columns.pop()
    rows = [_cells(line) for line in lines[start:end]]
    ends_file = not any(line.strip() for line in lines[end:])
    return _Table(name, columns, units, rows, start + 1, ends_file), end


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("\t")[1:]]


def _no_impedance_error(path: Path, technique: GamryTechnique) -> ParseError:
    name = file_label(path)
    if technique.kind == "eis":
        return ParseError(
            f"{name}: a Gamry {technique.label} file without its impedance table (ZCURVE); "
            "the measurement stopped before the first frequency or the file is truncated."
        )
    return NotImpedanceFileError(
        f"{name}: a Gamry {technique.label} file (TAG {technique.tag}), not an impedance "
        "(EIS) measurement; it holds no impedance table.",
        tag=technique.tag,
        technique=technique.label,
        kind=technique.kind,
    )


def _zcurve_frame(table: _Table, cycle: int, path: Path) -> tuple[pd.DataFrame, bool]:
    """EIS columns of one ZCURVE table; True when a cut last line was dropped."""
    index = _zcurve_indices(table, path)
    rows, dropped = _complete_rows(table, index, path)
    values = {key: [_number(row[i]) for row in rows] for key, i in index.items()}
    frame = pd.DataFrame(
        {
            "time_s": pd.Series(values["Time"], dtype=float),
            "freq_hz": pd.Series(values["Freq"], dtype=float),
            "z_real_ohm": pd.Series(values["Zreal"], dtype=float),
            "z_imag_ohm": pd.Series(values["Zimag"], dtype=float),
            "cycle": pd.Series([cycle] * len(rows), dtype="int64"),
        }
    )
    return frame[list(IMPEDANCE_COLUMNS)], dropped


def _zcurve_indices(table: _Table, path: Path) -> dict[str, int]:
    """Column positions of Time, Freq, Zreal, Zimag, after checking their units."""
    name = file_label(path)
    if not table.rows and table.ends_file:
        raise ParseError(
            f"{name}: the file ends before the first measured point of the impedance table; "
            "it is truncated (copied while the measurement was running?)."
        )
    if not table.columns or not table.units:
        raise ParseError(f"{name}: the impedance table ({table.name}) has no column or unit line.")
    missing = [c for c in _ZCURVE_COLUMNS if c not in table.columns]
    if missing:
        raise ParseError(
            f"{name}: the impedance table ({table.name}) has no {', '.join(missing)} column."
        )
    index = {c: table.columns.index(c) for c in _ZCURVE_COLUMNS}
    for column, expected in _ZCURVE_COLUMNS.items():
        unit = table.units[index[column]] if index[column] < len(table.units) else ""
        if not _same_unit(unit, expected):
            raise ParseError(
                f"{name}: column {column} is in '{unit}', expected {expected}; "
                "Kiln does not convert this unit."
            )
    return index


def _same_unit(unit: str, expected: str) -> bool:
    if expected == "ohm":
        return unit.lower() in _OHM_SPELLINGS
    return unit == expected


def _complete_rows(
    table: _Table, index: dict[str, int], path: Path
) -> tuple[list[list[str]], bool]:
    """Rows with every cell present and the needed ones numeric. An incomplete last line is
    dropped when nothing follows the table (a file cut while written); anywhere else it is
    damage."""
    width = len(table.columns)
    bad = [n for n, row in enumerate(table.rows) if not _complete(row, width, index)]
    rows, dropped = table.rows, False
    if bad and bad[-1] == len(rows) - 1 and table.ends_file:
        rows, dropped, bad = rows[:-1], True, bad[:-1]
    if bad:
        raise ParseError(
            f"{file_label(path)}: the impedance table is damaged: line "
            f"{table.first_line + bad[0]} cannot be read as a measured point."
        )
    if not rows:
        raise ParseError(f"{file_label(path)}: the impedance table holds no measured point.")
    return rows, dropped


def _complete(row: list[str], width: int, index: dict[str, int]) -> bool:
    if len(row) < width or not all(row[:width]):
        return False
    return all(_number(row[i]) is not None for i in index.values())


def _number(cell: str) -> float | None:
    """A DTA number, decimal point or comma; Windows NaN/infinity spellings included."""
    text = cell.strip().replace(",", ".")
    try:
        return float(text)
    except ValueError:
        pass
    if _WINDOWS_NAN.fullmatch(text):
        return float("nan")
    infinity = _WINDOWS_INF.fullmatch(text)
    if infinity:
        return float(f"{infinity.group(1)}inf")
    return None


def _decimal_separator(curves: list[_Table]) -> str:
    return "," if any("," in cell for t in curves for row in t.rows for cell in row) else "."


# ---------------------------------------------------------------- metadata


def _metadata(
    header: dict[str, str], notes: list[str], technique: GamryTechnique, n_curves: int
) -> dict:
    date, time = header.get("DATE", ""), header.get("TIME", "")
    start, date_order = _start_time_local(date, time)
    return {
        "source_library": "kiln",
        "source_version": None,
        "measurement": "eis",
        "technique": technique.label,
        "gamry_tag": technique.tag,
        "title": header.get("TITLE"),
        "units_seen": {"time": "s", "frequency": "Hz", "impedance": "ohm"},
        "start_date": date or None,
        "start_time": time or None,
        "start_time_local": start,
        "date_order": date_order,
        "area_cm2": _header_number(header, "AREA"),
        "instrument": header.get("PSTAT"),
        "instrument_serial": header.get("PSTATSERIALNO"),
        "framework_version": header.get("FRAMEWORKVERSION"),
        "open_circuit_v": _header_number(header, "EOC"),
        "aborted": header.get("EXPERIMENTABORTED", "F").upper().startswith("T"),
        "curves": n_curves,
        "notes": "\n".join(notes),
        "header": dict(header),
    }


def _header_number(header: dict[str, str], key: str) -> float | None:
    return _number(header[key]) if key in header else None


def _start_time_local(date: str, time: str) -> tuple[str | None, str | None]:
    """ISO local start time and the date order used. Gamry writes the PC's short date:
    y-m-d is taken as is, d.m.y with dots as day first; with / or - a field above 12 tells
    day from month, otherwise month/day/year (Gamry's US default) is assumed and said so."""
    match = re.fullmatch(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})", date.strip())
    clock = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?", time.strip())
    if not match or not clock:
        return None, None
    a, sep, b, c = int(match[1]), match[2], int(match[3]), int(match[4])
    if len(match[1]) == 4:
        (year, month, day), order = (a, b, c), "year-month-day"
    elif sep == "." or a > 12:
        (year, month, day), order = (c, b, a), "day/month/year"
    else:
        (year, month, day) = (c, a, b)
        order = "month/day/year" if b > 12 else "month/day/year (assumed; day and month <= 12)"
    try:
        stamp = datetime(year, month, day, int(clock[1]), int(clock[2]), int(clock[3] or 0))
    except ValueError:
        return None, None
    return stamp.isoformat(), order


# ---------------------------------------------------------------- other impedance exports

_NOVA_NEEDED = ("Frequency (Hz)", "Z' (", "-Z'' (")


def recognise_impedance_text(head_text: str) -> str | None:
    """A human label, with its article ("a CH Instruments A.C. impedance text export"), for
    an impedance text export Kiln recognises but does not read, from its first ~8 KB decoded
    as Latin-1; None for anything else (Gamry DTA, BioLogic, cycler exports, unknown text).
    Signatures, each seen in a public example:
    - Z60W: first line '"Z60W Data File: Version ..."' (ZView format, Autolab FRA export);
    - ZPlot/ZView .z: first line "ZPLOT2 ASCII" or '"ZPlotW Data File: Version ..."';
    - CH Instruments: a line "A.C. Impedance" or a column line "Freq/Hz, Z'/ohm, ...";
    - RelaxIS: first line "RelaxIS <version> ... export";
    - VersaStudio .par: first line "<Application>" and a Potentiostatic/Galvanostatic EIS
      action or a segment Definition with "Frequency(Hz)" and "Z Real";
    - PARSTAT: a tab-separated first line with "Frequency (Hz)", "Zre (ohms)", "Zim (ohms)";
    - PowerSuite: a first line of exactly "Frequency", "Zre", "Zimg" (tab-separated);
    - Autolab NOVA ASCII: a ";"-separated column line with "Frequency (Hz)", "Z' (...)" and
      "-Z'' (...)" (any unit spelling: Ω, its UTF-8 bytes read as Latin-1, ohm).
    """
    lines = head_text.lstrip("\ufeff\u00ef\u00bb\u00bf").splitlines()[:60]
    if not lines:
        return None
    for rule in (_zview_family, _chi, _relaxis, _versastudio, _parstat_family, _nova):
        label = rule(lines)
        if label:
            return label
    return None


def _zview_family(lines: list[str]) -> str | None:
    first = lines[0].strip().strip('"')
    if first.startswith("Z60W Data File"):
        return "an Autolab/ZView Z60W impedance export"
    if first == "ZPLOT2 ASCII" or first.startswith("ZPlotW Data File"):
        return "a ZPlot/ZView .z impedance file"
    return None


def _chi(lines: list[str]) -> str | None:
    if any(ln.strip() == "A.C. Impedance" or ln.startswith("Freq/Hz, Z'/ohm") for ln in lines):
        return "a CH Instruments A.C. impedance text export"
    return None


def _relaxis(lines: list[str]) -> str | None:
    if re.match(r"RelaxIS\s+\S+.*\bexport\b", lines[0].strip(), re.IGNORECASE):
        return "a RelaxIS spectrum export"
    return None


def _versastudio(lines: list[str]) -> str | None:
    if lines[0].strip() != "<Application>":
        return None
    eis_action = any(
        ln.strip() in ("Name=Potentiostatic EIS", "Name=Galvanostatic EIS") for ln in lines
    )
    eis_segment = any(
        ln.startswith("Definition=") and "Frequency(Hz)" in ln and "Z Real" in ln for ln in lines
    )
    return "a VersaStudio .par impedance file" if eis_action or eis_segment else None


def _parstat_family(lines: list[str]) -> str | None:
    columns = [c.strip() for c in lines[0].split("\t") if c.strip()]
    if {"Frequency (Hz)", "Zre (ohms)", "Zim (ohms)"} <= set(columns):
        return "a PARSTAT impedance text export"
    if columns == ["Frequency", "Zre", "Zimg"]:
        return "a PowerSuite impedance text export"
    return None


def _nova(lines: list[str]) -> str | None:
    for line in lines[:40]:
        fields = [f.strip().strip('"') for f in line.split(";")]
        if len(fields) >= 3 and all(any(f.startswith(n) for f in fields) for n in _NOVA_NEEDED):
            return "an Autolab NOVA ASCII impedance export"
    return None


__all__ = [
    "GamryTechnique",
    "NotImpedanceFileError",
    "gamry_technique",
    "looks_like_gamry_dta",
    "read_gamry_dta",
    "recognise_impedance_text",
    "refuse_gamry_as_cycling",
    "technique_of",
]
