"""What Kiln made of a raw file, in one sentence: every uploaded file is accounted for.

States: "recognised" (the format is known from the file's first bytes; not read yet), "read"
(parsed: its format and size), "not_cycling" (a valid measurement of another kind, such as
impedance), "unrecognised" (not a format Kiln reads; a column mapping may read it) and
"damaged" (a known format that cannot be decoded: truncated, bit-flipped, a zip bomb).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._zip import DEFAULT_LIMITS, UnpackLimits
from .detect import FORMAT_NAMES, detect_format
from .errors import NotCyclingFileError, ParseError

RECOGNISED, READ, NOT_CYCLING, UNRECOGNISED, DAMAGED = (
    "recognised",
    "read",
    "not_cycling",
    "unrecognised",
    "damaged",
)
_DAMAGE_WORDS = ("damaged", "truncated", "cut short", "unpacks to", "empty", "more memory")


@dataclass(frozen=True)
class FileVerdict:
    state: str
    format: str  # one of detect.FORMATS, "mapped", or "" when not recognised
    message: str


def verdict_of_head(path: str | Path, *, limits: UnpackLimits = DEFAULT_LIMITS) -> FileVerdict:
    """The verdict from the file's first bytes only (format detection reads a bounded amount,
    and a zip archive's directory checked against `limits`): fit for a web request."""
    try:
        fmt = detect_format(path, limits=limits)
    except ParseError as exc:
        return verdict_of_error(exc)
    return FileVerdict(RECOGNISED, fmt, f"recognised as {_name(fmt)}; not read yet")


def verdict_of_table(fmt: str, table: pd.DataFrame, *, mapping: str = "") -> FileVerdict:
    """After parsing: "read as a Neware .ndax file, 18,700 rows, 320 half cycles; direction
    from the step type" (and how the current was recorded when it was not signed as usual)."""
    what = f"a table read through the column mapping “{mapping}”" if mapping else _name(fmt)
    halves = int(table["half_cycle"].max()) if "half_cycle" in table and len(table) else 0
    text = f"read as {what}, {len(table):,} rows, {halves:,} half cycles"
    direction = table.attrs.get("kiln", {}).get("direction", {})
    source = _SOURCES.get(direction.get("decided_by", ""))
    if source:
        text += f"; direction from {source}"
    current = direction.get("current", "")
    if current and not current.startswith("signed, charge positive"):
        text += f"; current recorded {current.split(';')[0]}"
    return FileVerdict(READ, fmt, text)


_SOURCES = {
    "step type": "the step types",
    "current sign": "the current's sign",
    "voltage trend": "the voltage trend",
    "voltage trend (sources disagree)": "the voltage trend (step types and current disagreed)",
    "neighbouring step": "the neighbouring steps",
}


def verdict_of_eis(fmt: str, table: pd.DataFrame) -> FileVerdict:
    return FileVerdict(NOT_CYCLING, fmt, f"read as {_name(fmt)}: impedance, {len(table):,} points")


def verdict_of_kind(fmt: str, table_kind: str, table: pd.DataFrame, name: str = "") -> FileVerdict:
    """A file read as another table kind than cycling (potential steps, thermal, ...); `name`
    is how a person calls its format (the reader's metadata format_name)."""
    what = table_kind.replace("_", " ")
    text = f"read as {name or _name(fmt)}: {what}, {len(table):,} rows"
    return FileVerdict(NOT_CYCLING, fmt, text)


def verdict_of_error(exc: ParseError) -> FileVerdict:
    """A reader's error as a verdict: another kind of measurement, damage, or a format Kiln
    does not read (the message already names the file and says why)."""
    text = str(exc)
    if isinstance(exc, NotCyclingFileError):
        return FileVerdict(NOT_CYCLING, "", _reason(text))
    if type(exc).__name__ == "DamagedFileError" or any(w in text for w in _DAMAGE_WORDS):
        return FileVerdict(DAMAGED, "", f"damaged: {_reason(text)}")
    return FileVerdict(UNRECOGNISED, "", f"not a format Kiln reads: {_reason(text)}")


def _reason(text: str) -> str:
    """The sentence without the file's name in front (the page shows the name beside it;
    a stored file's name is its SHA-256)."""
    head, sep, rest = text.partition(": ")
    return rest if sep and head.strip() and " " not in head.strip() else text


def _name(fmt: str) -> str:
    return FORMAT_NAMES.get(fmt, fmt)
