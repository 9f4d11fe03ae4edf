"""Rules shared by Kiln's impedance (EIS) text readers (impedance_<format>.py modules).

Every reader returns the EIS table of biologic.EIS_COLUMNS: time_s, freq_hz, z_real_ohm,
z_imag_ohm (Im Z: negative on a capacitive arc, whatever the file's own convention), cycle
(1, 2, ... per spectrum in the file), and a metadata dict. The rules, the same for all:
- bytes: UTF-8 (a byte-order mark allowed) when valid, else cp1252 (Windows), else Latin-1;
  UTF-16 with its byte-order mark (Windows "Unicode text"); line ends CRLF, CR or LF;
- numbers: a decimal point, or a decimal comma where the format's cells are not
  comma-separated; a cell holding both marks, or the other mark, is damage;
- units are read from the header where the format writes them (Hz, kHz, MHz, mHz; Ω, mΩ, kΩ,
  MΩ, spelled ohm/Ohm/Ω): a unit Kiln does not know is refused, never guessed;
- a data line that cannot be read is damage (ParseError naming the line), except the file's
  last line when the file does not end with a line break (copied while the instrument was
  still writing): that line is dropped and said in metadata["reading_notes"];
- frequencies must be finite and > 0, Re Z and Im Z finite; a spectrum must hold at least
  two different frequencies (a file whose frequencies are all equal is not a sweep).
Reading notes ({"code", "message"}) are kept in metadata["reading_notes"] and in
table.attrs["kiln"]["reading_notes"], where analysis.impedance picks them up as warnings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label, read_nonempty_bytes

EIS_COLUMNS: tuple[str, ...] = ("time_s", "freq_hz", "z_real_ohm", "z_imag_ohm", "cycle")
_LINE_END = re.compile(r"\r\n|\r|\n")
_OHM = ("ohm", "ohms", "Ohm", "Ohms", "OHM", "\u03a9", "\u2126", "\u00ce\u00a9")
_PREFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6}
FREQUENCY_UNITS: dict[str, float] = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "mHz": 1e-3}
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf|infinity)", re.I)

# Format ids (impedance_text.read_impedance_text) and their names in messages.
ZVIEW_Z60W = "zview_z60w"
ZPLOT_Z = "zplot_z"
CHI_TXT = "chi_txt"
VERSASTUDIO_PAR = "versastudio_par"
PARSTAT_TXT = "parstat_txt"
POWERSUITE_TXT = "powersuite_txt"
NOVA_ASCII = "nova_ascii"
RELAXIS_TXT = "relaxis_txt"
MAPPED_IMPEDANCE = "mapped_impedance"
FORMAT_NAMES: dict[str, str] = {
    ZVIEW_Z60W: "an Autolab/ZView Z60W impedance export",
    ZPLOT_Z: "a ZPlot/ZView .z impedance file",
    CHI_TXT: "a CH Instruments A.C. impedance text export",
    VERSASTUDIO_PAR: "a VersaStudio .par impedance file",
    PARSTAT_TXT: "a PARSTAT impedance text export",
    POWERSUITE_TXT: "a PowerSuite impedance text export",
    NOVA_ASCII: "an Autolab NOVA ASCII impedance export",
    RELAXIS_TXT: "a RelaxIS spectrum export",
    MAPPED_IMPEDANCE: "an impedance table read through a column mapping",
}


@dataclass(frozen=True)
class TextFile:
    """A decoded text file: its lines (no line ends) and whether the last one was finished."""

    path: Path
    lines: list[str]
    encoding: str
    ends_with_newline: bool

    @property
    def name(self) -> str:
        return file_label(self.path)

    def last_content_index(self) -> int:
        """0-based index of the last line that is not blank (-1 for none)."""
        for index in range(len(self.lines) - 1, -1, -1):
            if self.lines[index].strip():
                return index
        return -1


@dataclass
class Block:
    """The numbers of one spectrum: quantity -> values, with the 1-based line of each row."""

    values: dict[str, list[float]] = field(default_factory=dict)
    line_numbers: list[int] = field(default_factory=list)
    cut_last_line: bool = False

    def __len__(self) -> int:
        return len(self.line_numbers)


def load_text(path: str | Path) -> TextFile:
    path = Path(path)
    raw = read_nonempty_bytes(path)
    utf16 = raw.startswith((b"\xff\xfe", b"\xfe\xff"))  # Windows "Unicode text"
    if not utf16 and b"\x00" in raw[:4096]:
        raise ParseError(f"{file_label(path)}: a binary file, not an impedance text export.")
    for encoding in ("utf-16", "latin-1") if utf16 else ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    lines = _LINE_END.split(text)
    ends = text.endswith(("\n", "\r"))
    if ends:
        lines = lines[:-1]
    return TextFile(path, lines, encoding.removesuffix("-sig"), ends)


def decode_head(head: bytes | str) -> list[str]:
    """The head of a file as lines, for recognise(): bytes are read as UTF-8 when valid,
    else Latin-1 (which never fails); a byte-order mark is removed."""
    if isinstance(head, bytes):
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            head = head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
        else:
            try:
                head = head.decode("utf-8")
            except UnicodeDecodeError:
                head = head.decode("latin-1")
    head = head.lstrip("\ufeff").removeprefix("\u00ef\u00bb\u00bf")
    return head.splitlines()


def clean(cell: str) -> str:
    """A header cell without quotes and surrounding or doubled spaces."""
    return re.sub(r"\s+", " ", cell.strip().strip('"').strip())


def impedance_scale(unit: str) -> float | None:
    """Factor to ohm for 'Ω', 'mOhm', 'kΩ', ...; None for a unit that is not a resistance."""
    unit = unit.strip()
    for spelling in _OHM:
        if unit.endswith(spelling) and unit[: -len(spelling)] in _PREFIX:
            return _PREFIX[unit[: -len(spelling)]]
    return None


def frequency_scale(unit: str) -> float | None:
    """Factor to Hz for 'Hz', 'kHz', 'MHz', 'mHz' (case matters: mHz is millihertz)."""
    return FREQUENCY_UNITS.get(unit.strip())


def require_unit(scale: float | None, unit: str, column: str, text: TextFile) -> float:
    if scale is None:
        raise ParseError(
            f"{text.name}: column '{column}' is in '{unit}', a unit Kiln does not read here "
            "(frequency: Hz, kHz, MHz, mHz; impedance: Ω, mΩ, kΩ, MΩ)."
        )
    return scale


def detect_decimal(cells: list[str], separator: str | None) -> str:
    """',' when the cells use a decimal comma, else '.'. Cells split naively on "," cannot
    hold one; `separator` None means the cells come from a quote-aware (csv) split."""
    if separator == ",":
        return "."
    return "," if any(_DECIMAL_COMMA.match(c) for c in cells) else "."


def to_number(cell: str, decimal: str) -> float | None:
    """The cell as a float; None when it is not a number in this file's decimal mark."""
    text = cell.strip().strip('"')
    other = "." if decimal == "," else ","
    if not text or other in text:
        return None
    if decimal == ",":
        text = text.replace(",", ".")
    return float(text) if _NUMBER.fullmatch(text) else None


def read_block(
    text: TextFile,
    start: int,
    stop: int,
    split: Callable[[str], list[str]],
    columns: dict[str, int],
    decimal: str,
) -> Block:
    """The numbers in `columns` (quantity -> cell index) of lines[start:stop] (blank lines
    skipped). A line that cannot be read raises ParseError naming it, unless it is the file's
    unfinished last line (no line break after it), which is dropped (Block.cut_last_line).
    A line with more cells than the first (two lines run together) is damage too. The last
    line also counts as cut when it reads but has fewer cells than the line before, or
    its last cell is shorter than that cell in every earlier line (a number cut short)."""
    block = Block(values={key: [] for key in columns})
    last = text.last_content_index()
    width = max(columns.values()) + 1
    earlier: list[list[str]] = []
    for index in range(start, min(stop, len(text.lines))):
        line = text.lines[index]
        if not line.strip():
            continue
        cells = split(line)
        problem = _row_problem(cells, columns, width, decimal)
        if not problem and earlier and _filled(cells) > _filled(earlier[0]):
            problem = (
                f"it has {_filled(cells)} cells where the first line has {_filled(earlier[0])}"
            )
        unfinished = index == last and not text.ends_with_newline
        if unfinished and (problem or _cut_short(cells, earlier)):
            block.cut_last_line = True
            break
        if problem:
            raise damaged(text, index, problem)
        earlier.append(cells)
        for key, at in columns.items():
            block.values[key].append(to_number(cells[at], decimal))  # type: ignore[arg-type]
        block.line_numbers.append(index + 1)
    return block


def _filled(cells: list[str]) -> int:
    """The number of cells up to the last non-empty one."""
    count = len(cells)
    while count and not cells[count - 1].strip():
        count -= 1
    return count


def _cut_short(cells: list[str], earlier: list[list[str]]) -> bool:
    """A last line with fewer cells than the line before, or whose last cell is shorter than
    that cell in every earlier line of the same width (at least 3 of them)."""
    if not earlier:
        return False
    if len(cells) < len(earlier[-1]):
        return True
    same = [row[len(cells) - 1].strip() for row in earlier if len(row) == len(cells)]
    return len(same) >= 3 and len(cells[-1].strip()) < min(len(c) for c in same)


def _row_problem(cells: list[str], columns: dict[str, int], width: int, decimal: str) -> str:
    if len(cells) < width:
        return f"it has {len(cells)} cells, {width} are needed"
    for key, at in columns.items():
        if to_number(cells[at], decimal) is None:
            return f"'{cells[at].strip()[:24]}' ({key}) is not a number"
    return ""


def damaged(text: TextFile, index: int, problem: str) -> ParseError:
    line = text.lines[index].strip()
    shown = line if len(line) <= 60 else line[:57] + "..."
    return ParseError(
        f"{text.name}: line {index + 1} cannot be read as a measured point ({problem}): "
        f"'{shown}'. The file is damaged or not in the format its header says."
    )


def eis_table(text: TextFile, spectra: list[Block], *, imag_sign: float = 1.0) -> pd.DataFrame:
    """The EIS table of `spectra` (each a Block with freq_hz, z_real_ohm, z_imag and
    optionally time_s, already in Hz/Ω); `imag_sign` -1 turns a file's -Im Z into Im Z.
    Raises ParseError for no points, non-positive or non-finite frequencies, non-finite Z and
    spectra whose frequencies are all equal."""
    spectra = [s for s in spectra if len(s)]
    if not spectra:
        raise ParseError(f"{text.name}: the impedance table holds no measured point.")
    frames = []
    for number, block in enumerate(spectra, start=1):
        frame = pd.DataFrame(
            {
                "time_s": block.values.get("time_s", [np.nan] * len(block)),
                "freq_hz": block.values["freq_hz"],
                "z_real_ohm": block.values["z_real_ohm"],
                "z_imag_ohm": np.asarray(block.values["z_imag"], dtype=float) * imag_sign,
                "cycle": number,
            }
        ).astype({"time_s": float, "freq_hz": float, "z_real_ohm": float, "z_imag_ohm": float})
        _check_spectrum(text, frame, block.line_numbers, number, len(spectra))
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)[list(EIS_COLUMNS)]
    table["cycle"] = table["cycle"].astype("int64")
    return table


def _check_spectrum(
    text: TextFile, frame: pd.DataFrame, lines: list[int], number: int, count: int
) -> None:
    freq = frame["freq_hz"].to_numpy()
    bad = np.flatnonzero(~np.isfinite(freq) | (freq <= 0))
    if len(bad):
        raise ParseError(
            f"{text.name}: line {lines[bad[0]]}: the frequency {freq[bad[0]]:g} Hz is not a "
            "positive number; an impedance spectrum has only positive frequencies."
        )
    z = frame[["z_real_ohm", "z_imag_ohm"]].to_numpy()
    bad = np.flatnonzero(~np.isfinite(z).all(axis=1))
    if len(bad):
        raise ParseError(
            f"{text.name}: line {lines[bad[0]]}: the impedance is not a finite number "
            f"(Re Z {z[bad[0], 0]:g}, Im Z {z[bad[0], 1]:g}); the instrument recorded no valid "
            "value at that frequency. Remove the point in the instrument software and export "
            "again."
        )
    if np.unique(freq).size < 2:
        which = f"spectrum {number}" if count > 1 else "the file"
        raise ParseError(
            f"{text.name}: every point of {which} is at {freq[0]:g} Hz ({len(freq)} point(s)); "
            "an impedance spectrum needs a sweep over several frequencies."
        )


def with_notes(table: pd.DataFrame, meta: dict) -> tuple[pd.DataFrame, dict]:
    """Attach the reading notes to the table (attrs) as well as the metadata."""
    table.attrs["kiln"] = {"reading_notes": list(meta.get("reading_notes", []))}
    return table, meta


def metadata(
    fmt: str,
    text: TextFile,
    *,
    units_seen: dict[str, str | None],
    decimal: str = ".",
    notes: list[dict] | None = None,
    **extra: object,
) -> dict:
    return {
        "source_library": "kiln",
        "source_version": None,
        "measurement": "eis",
        "format": fmt,
        "format_name": FORMAT_NAMES[fmt],
        "units_seen": units_seen,
        "encoding": text.encoding,
        "decimal_separator": decimal,
        "reading_notes": list(notes or []),
        **extra,
    }


def cut_note(blocks: list[Block]) -> list[dict]:
    if not any(b.cut_last_line for b in blocks):
        return []
    return [
        {
            "code": "file_truncated",
            "message": "The file's last line was cut off in the middle of a point (a copy taken "
            "while the instrument was still writing) and was left out.",
        }
    ]


def note(code: str, message: str) -> dict:
    return {"code": code, "message": message}
