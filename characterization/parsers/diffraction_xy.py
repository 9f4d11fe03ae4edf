"""Plain-text patterns: .xy, .xye, .dat, .txt and .csv exports of any diffractometer software.

Rules (the format has no standard, so each is a choice stated here):
- bytes: UTF-8 (a byte-order mark is dropped), else cp1252/Latin-1; any line ending;
- comment lines start with #, !, ;, %, ', // or * and are skipped; so are text lines before
  the first data line (a title, "Angle Intensity", "2Theta,Counts"): the last of them that
  splits into as many fields as the data is the column header;
- separator: tab, semicolon, comma or runs of spaces, read from the first data line. A comma
  is a decimal comma when the separator is not a comma (tab, ';', spaces: "18,66  1234");
- columns, with a header: 2θ is the column named 2theta/2θ/two_theta/angle/pos/x (else the
  first); esd the one named esd/err/error/sigma/sd/uncertainty/dy; columns named
  background/bkg/calc/fit/diff/residual/time/temperature/d/q are ignored; every other
  numeric column is an intensity, and several intensity columns are several scans (an in
  situ series exported side by side, in column order);
- columns, without a header: 2θ, intensity, then an esd when the file is .xye or the third
  column looks like one (positive, median ratio to √intensity between 0.3 and 3); other
  columns are ignored and said so in metadata["notes"];
- intensity unit: "cps" when the header says cps or counts/s, "counts" when it says counts,
  else "arbitrary" (no esd invented);
- a data line that does not read as numbers, or has too few fields, is damage (ParseError
  with its line number); only a last line cut short is dropped (metadata "cut_last_line").
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .diffraction_scan import Scan
from .errors import ParseError, file_label

_COMMENT = ("#", "!", ";", "%", "'", "//", "*")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")
_ANGLE_NAMES = ("2theta", "2θ", "two_theta", "twotheta", "2-theta", "angle", "pos", "x", "2th")
_ESD_NAMES = ("esd", "err", "error", "sigma", "sd", "uncertainty", "dy", "e", "stdev")
_IGNORED = ("background", "bkg", "bkgd", "calc", "fit", "diff", "residual", "time",
            "temperature", "temp", "d", "q", "dspacing", "d-spacing")  # fmt: skip
_MAX_LINES = 2_000_000


def read_xy(path: Path) -> tuple[list[Scan], dict]:
    """Scans and format metadata of a text pattern (module doc)."""
    lines = _lines(path)
    start, header = _data_start(lines, path)
    sep = _separator(lines[start])
    rows, cut = _rows(lines, start, sep, path)
    width = len(rows[0])
    names = _header_names(header, sep, width)
    table = np.array(rows, dtype=float)
    scans, notes = _columns(table, names, path, header)
    meta = {"columns": names, "separator": _SEP_NAMES.get(sep, sep), "cut_last_line": cut}
    meta["notes"] = notes
    meta["decimal_separator"] = "," if _decimal_comma(lines[start], sep) else "."
    return scans, meta


_SEP_NAMES = {"\t": "tab", None: "spaces", ",": "comma", ";": "semicolon"}


def _lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if b"\x00" in raw[:4096]:
        raise ParseError(f"{file_label(path)}: a binary file, not a text pattern (.xy/.csv).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    lines = text.splitlines()
    if len(lines) > _MAX_LINES:
        raise ParseError(f"{file_label(path)}: {len(lines)} lines; too many for one pattern.")
    return lines


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith(_COMMENT)


def _fields(line: str, sep: str | None) -> list[str]:
    parts = line.strip().split(sep) if sep else line.split()
    return [p.strip().strip('"') for p in parts]


def _separator(line: str) -> str | None:
    """Tab or ';' when present; ',' when the comma-split fields are numbers and the
    space-split ones are not ("18.66,1234", "18.66, 1234"); else runs of spaces."""
    for sep in ("\t", ";"):
        if sep in line:
            return sep
    if "," in line:
        by_comma = [p.strip() for p in line.strip().split(",")]
        by_space = line.split()
        numbers = all(_NUMBER.match(p) for p in by_comma)
        if numbers and not all(_NUMBER.match(p) for p in by_space):
            return ","
        if not numbers and len(by_space) == 1:
            return ","  # a header such as "2Theta,Counts"
    return None


def _decimal_comma(line: str, sep: str | None) -> bool:
    return sep != "," and "," in line


def _numeric(fields: list[str]) -> bool:
    return len(fields) >= 2 and all(_NUMBER.match(f) for f in fields if f != "")


def _data_start(lines: list[str], path: Path) -> tuple[int, str | None]:
    """Index of the first data line, and the last non-comment text line before it."""
    header = None
    for index, line in enumerate(lines):
        if not line.strip() or _is_comment(line):
            continue
        sep = _separator(line)
        if _numeric([f for f in _fields(line, sep) if f]):
            return index, header
        header = line
    raise ParseError(f"{file_label(path)}: no line of numbers (2θ and intensity) found.")


def _to_float(text: str, sep: str | None) -> float:
    return float(text.replace(",", ".") if sep != "," else text)


def _rows(lines: list[str], start: int, sep: str | None, path: Path) -> tuple[list, bool]:
    rows: list[list[float]] = []
    width, cut = None, False
    body = [(n, ln) for n, ln in enumerate(lines[start:], start + 1)]
    while body and not body[-1][1].strip():
        body.pop()
    for position, (number, line) in enumerate(body):
        if not line.strip() or _is_comment(line):
            continue
        fields = [f for f in _fields(line, sep) if f != ""]
        width = width or len(fields)
        last = position == len(body) - 1
        try:
            if len(fields) < width:
                raise ValueError
            rows.append([_to_float(f, sep) for f in fields[:width]])
        except ValueError:
            if last and rows:
                cut = True
                continue
            raise ParseError(
                f"{file_label(path)}: line {number} ('{line.strip()[:40]}') cannot be read as "
                f"{width} numbers like the data lines before it."
            ) from None
    return rows, cut


def _header_names(header: str | None, sep: str | None, width: int) -> list[str]:
    if header is None or _is_comment(header):
        return []
    names = _fields(header, sep) if sep else header.split()
    return names if len(names) == width else []


def _kind(name: str) -> str:
    key = re.sub(r"[\s(\[].*$", "", name.strip().lower()) or name.strip().lower()
    if key in _ANGLE_NAMES or "2theta" in key.replace(" ", "") or "2θ" in key:
        return "angle"
    if key in _ESD_NAMES or key.startswith(("esd", "err", "sigma", "uncert")):
        return "esd"
    if key in _IGNORED or key.startswith(("background", "bkg", "calc", "diff")):
        return "ignored"
    return "intensity"


def _unit(texts: list[str]) -> str:
    joined = " ".join(texts).lower()
    if re.search(r"\bcps\b|counts?\s*/\s*s|counts? per second|\bc/s\b", joined):
        return "cps"
    if re.search(r"\bcounts?\b|\bcts\b", joined):
        return "counts"
    return "arbitrary"


def _columns(
    table: np.ndarray, names: list[str], path: Path, header: str | None
) -> tuple[list[Scan], list[str]]:
    if not names:
        return _unnamed_columns(table, path, header)
    kinds = [_kind(n) for n in names]
    angle = kinds.index("angle") if "angle" in kinds else 0
    kinds[angle] = "angle"
    esd_cols = [i for i, k in enumerate(kinds) if k == "esd"]
    intensity_cols = [i for i, k in enumerate(kinds) if k == "intensity"]
    if not intensity_cols:
        raise ParseError(f"{file_label(path)}: no intensity column among {', '.join(names)}.")
    unit = _unit([names[i] for i in intensity_cols])
    esd_for = {}
    if esd_cols and len(esd_cols) == len(intensity_cols):
        esd_for = dict(zip(intensity_cols, esd_cols, strict=True))
    notes = [f"column '{names[i]}' ignored" for i, k in enumerate(kinds) if k == "ignored"]
    if esd_cols and not esd_for:
        notes.append("esd columns ignored: their number differs from the intensity columns")
    scans = [
        Scan(
            two_theta_deg=table[:, angle],
            intensity=table[:, col],
            unit=unit,
            esd=table[:, esd_for[col]] if col in esd_for else None,
            label=f"column '{names[col]}'",
            info={"column": names[col]},
        )
        for col in intensity_cols
    ]
    return scans, notes


def _unnamed_columns(
    table: np.ndarray, path: Path, header: str | None
) -> tuple[list[Scan], list[str]]:
    x, y = table[:, 0], table[:, 1]
    esd, notes = None, []
    if table.shape[1] >= 3:
        third = table[:, 2]
        if path.suffix.lower() == ".xye" or _looks_like_esd(y, third):
            esd = third
        else:
            notes.append("third column ignored: it does not look like an esd of the intensity")
    if table.shape[1] > 3:
        notes.append(f"columns 4-{table.shape[1]} ignored")
    unit = _unit([header]) if header else "arbitrary"
    return [Scan(two_theta_deg=x, intensity=y, unit=unit, esd=esd, info={})], notes


def _looks_like_esd(y: np.ndarray, third: np.ndarray) -> bool:
    positive = (third > 0).all() and (y > 0).any()
    if not positive:
        return False
    ratio = third[y > 0] / np.sqrt(y[y > 0])
    return bool(0.3 <= float(np.median(ratio)) <= 3.0)


def looks_like_xy(head_text: str) -> bool:
    """True when a text head holds at least 5 lines of numbers whose first column starts within
    0-180 and rises in equal steps (±5 %) of at most 0.5° over its first lines: a 2θ scan.
    More than 3 columns (an in situ series side by side) need a header naming the first one
    as 2θ/angle. Cycler and impedance exports (time or frequency first, more columns, no 2θ
    header) do not pass."""
    values: list[float] = []
    header = None
    for line in head_text.splitlines()[:400]:
        if not line.strip() or _is_comment(line):
            continue
        sep = _separator(line)
        fields = [f for f in _fields(line, sep) if f]
        if not _numeric(fields):
            if values:
                break
            header = (line, sep)
            continue
        if len(fields) > 3 and not _angle_header(header):
            return False
        values.append(_to_float(fields[0], sep))
        if len(values) > 20:
            break
    if len(values) < 5:
        return False
    steps = np.diff(np.asarray(values[:5]))
    mean = float(steps.mean())
    return bool(
        0 < mean <= 0.5 and (np.abs(steps - mean) <= 0.05 * mean).all() and 0 <= values[0] < 180
    )


def _angle_header(header: tuple[str, str | None] | None) -> bool:
    if header is None:
        return False
    line, sep = header
    names = _fields(line, sep) if sep else line.split()
    return bool(names) and _kind(names[0]) == "angle"
