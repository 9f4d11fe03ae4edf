"""Shared steps of the mass spectrometer readers: the ion-current table, text decoding, numbers,
units, m/z from channel names. Pure Python, no Django.

The table every mass-spec reader returns is LONG, one row per measured point of one channel,
because the instruments measure their channels one after the other (each channel has its own
time column: Pfeiffer MID, Zilien) and a wide table would have to interpolate:

    time_s    float     seconds from the file's start (its time zero: the header's start time
                        for Pfeiffer, Zilien's measurement start, a mapped file's first row)
    channel   category  the channel's name as the file gives it ("M32-O2", "Oxygen", "mass 32")
    mz        float     its m/z (NaN when neither the file nor its name tells; see mz_of_name)
    signal    float     the value in the channel's unit (next column)
    unit      category  "A" for ion currents (nA, pA, ... converted to A) or "mbar" for partial
                        pressures (Pa, Torr converted to mbar); no other unit enters the table

Rows are grouped by channel (in the file's channel order), each channel in time order.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label, read_nonempty_bytes

MS_COLUMNS: tuple[str, ...] = ("time_s", "channel", "mz", "signal", "unit")
ION_CURRENT, PARTIAL_PRESSURE = "A", "mbar"

# unit as written (lower case) -> (table unit, factor to it)
CURRENT_UNITS: dict[str, float] = {
    "a": 1.0,
    "ma": 1e-3,
    "ua": 1e-6,
    "µa": 1e-6,
    "\u03bca": 1e-6,
    "na": 1e-9,
    "fa": 1e-15,
}  # pA (picoampere) is told from Pa (pascal) by its case, in table_unit
PRESSURE_UNITS: dict[str, float] = {"mbar": 1.0, "bar": 1e3, "hpa": 1.0, "torr": 1.333224}
TIME_UNITS: dict[str, float] = {"s": 1.0, "ms": 1e-3, "min": 60.0, "h": 3600.0}
CONCENTRATION_UNITS = ("%", "ppm", "ppb", "vol%", "mol%")
MISSING_CELLS = frozenset({"", "---", "--", "-", "nan", "n/a", "na", "none", "null", "inf"})
_WINDOWS_NAN = re.compile(r"^[-+]?\d[.,]#(?:QNAN|SNAN|IND|INF)\d*$", re.IGNORECASE)
_LINE_END = re.compile(r"\r\n|\r|\n")


def table_unit(unit: str) -> tuple[str, float] | None:
    """("A", factor) or ("mbar", factor) for a unit as written in a header; None if neither.
    Case matters only between pA (picoampere) and Pa (pascal)."""
    text = unit.strip()
    if text == "pA":
        return ION_CURRENT, 1e-12
    if text in ("Pa", "pa"):
        return PARTIAL_PRESSURE, 0.01
    key = text.lower()
    if key in CURRENT_UNITS:
        return ION_CURRENT, CURRENT_UNITS[key]
    if key in PRESSURE_UNITS:
        return PARTIAL_PRESSURE, PRESSURE_UNITS[key]
    return None


def unit_in_brackets(header: str) -> str | None:
    """The unit of 'Ion Current [A]', 'M32-O2 [A]' or 'Time Relative [s]'; None without one."""
    match = re.search(r"\[([^\]]*)\]\s*$", header.strip())
    return match.group(1).strip() if match else None


def refuse_unit(path: Path, unit: str, column: str) -> ParseError:
    """The error for a signal unit that is neither an ion current nor a partial pressure."""
    name = file_label(path)
    if unit.strip().lower() in CONCENTRATION_UNITS:
        return ParseError(
            f"{name}: column '{column}' holds concentrations ({unit}), which cannot be turned "
            "into a gas evolution rate; export the ion current (A) or the partial pressure."
        )
    return ParseError(
        f"{name}: column '{column}' is in '{unit}', neither an ion current (A, nA, pA) nor a "
        "partial pressure (mbar, Pa, Torr); Kiln does not convert this unit."
    )


# --------------------------------------------------------------------------- text and numbers


@dataclass(frozen=True)
class Text:
    """A decoded file: its lines, the encoding used and whether its last line is complete."""

    lines: list[str]
    encoding: str
    ends_with_newline: bool


def read_text(path: Path) -> Text:
    """UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, else cp1252 (Windows exports:
    degree and micro signs); an empty or unreadable file is a ParseError."""
    raw = read_nonempty_bytes(path)
    if b"\x00" in raw[:4096]:
        raise ParseError(f"{file_label(path)}: a binary file, not a text export.")
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("cp1252", errors="replace"), "cp1252"
    stripped = text.rstrip(" \t")
    ends = stripped.endswith(("\n", "\r"))
    lines = _LINE_END.split(text)
    while lines and not lines[-1].strip():
        lines.pop()
    return Text(lines=lines, encoding=encoding, ends_with_newline=ends)


def read_cells(
    body: str, names: range, wanted: list[int], decimal_comma: bool, path: Path
) -> pd.DataFrame:
    """The wanted columns of tab-separated data lines: as floats when every cell is a number
    or a missing-value token (the C parser's fast path), else as text for numbers() to find
    the damaged cell."""
    options = {
        "sep": "\t",
        "header": None,
        "names": names,
        "usecols": wanted,
        "quoting": 3,
        "skip_blank_lines": False,
        "keep_default_na": False,
    }
    try:
        return pd.read_csv(
            io.StringIO(body),
            dtype=float,
            na_values=sorted(MISSING_CELLS | {"NaN", "NA", "N/A", "None", "NULL"}),
            decimal="," if decimal_comma else ".",
            **options,
        )
    except (ValueError, pd.errors.ParserError):
        pass  # a cell that is no number: read as text to say which
    try:
        return pd.read_csv(io.StringIO(body), dtype=str, **options)
    except (ValueError, pd.errors.ParserError) as exc:
        raise ParseError(f"{file_label(path)}: the data lines cannot be read ({exc}).") from exc


def numbers(cells: pd.Series, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray]:
    """Float values of cells and a mask of the cells that are missing (empty, '---', 'NaN',
    Windows '1.#QNAN', infinite); a cell that is neither a number nor missing is NaN and marked
    in neither, for the caller to report as damage (see bad_cells). The text of a cell is
    looked at only when it did not parse as a number (files hold millions of cells)."""
    if pd.api.types.is_float_dtype(cells):  # read_cells' fast path: every cell parsed
        values = cells.to_numpy(dtype=float, copy=True)
        missing = ~np.isfinite(values)
        values[missing] = np.nan
        return values, missing
    text = cells.fillna("").astype(str)
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, copy=True)
    missing = np.zeros(len(values), dtype=bool)
    odd = np.flatnonzero(np.isnan(values))
    if len(odd):
        rest = text.iloc[odd].str.strip()
        missing[odd] = (
            rest.str.lower().isin(MISSING_CELLS).to_numpy()
            | rest.str.match(_WINDOWS_NAN).to_numpy()
        )
    infinite = np.isinf(values)  # "inf", "1e999": no measured value
    missing |= infinite
    values[missing] = np.nan
    return values, missing


def bad_cells(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """Indices of cells that are neither numbers nor missing (damage)."""
    return np.flatnonzero(np.isnan(values) & ~missing)


def decimal_comma_in(lines: list[str], sep: str) -> bool:
    """True when the data cells use a decimal comma ("1,5E-11", "0,000"): only possible when
    the cells are not themselves comma-separated."""
    if sep == ",":
        return False
    pattern = re.compile(r"^\s*[-+]?\d+,\d+(?:[eE][-+]?\d+)?\s*$")
    return any(pattern.match(cell) for line in lines for cell in line.split(sep))


# --------------------------------------------------------------------------- m/z of a name

# Main ion (m/z) of gases a DEMS or TGA-MS channel is commonly named after, by name or formula
# (compared without case, spaces, hyphens or underscores). Names that share a main ion
# (N2/CO at 28) map to it; names that do not say one gas (e.g. "Hydrocarbons") are left out.
GAS_MAIN_ION: dict[str, float] = {
    "h2": 2,
    "hydrogen": 2,
    "he": 4,
    "helium": 4,
    "ch4": 16,
    "methane": 16,
    "nh3": 17,
    "ammonia": 17,
    "h2o": 18,
    "water": 18,
    "wasser": 18,
    "n2": 28,
    "nitrogen": 28,
    "stickstoff": 28,
    "co": 28,
    "carbonmonoxide": 28,
    "kohlenmonoxid": 28,
    "n2/co": 28,
    "nitrogen/carbonmonoxide": 28,
    "c2h4": 28,
    "ethylene": 28,
    "no": 30,
    "o2": 32,
    "oxygen": 32,
    "sauerstoff": 32,
    "h2s": 34,
    "hcl": 36,
    "ar": 40,
    "argon": 40,
    "co2": 44,
    "carbondioxide": 44,
    "kohlendioxid": 44,
    "n2o": 44,
    "no2": 46,
    "so2": 64,
    "pof3": 104,
    "hf": 20,
}
_MASS_NUMBER = re.compile(
    r"^(?:m\s*/\s*z|mass|masse|amu|m)?\s*[=:]?\s*(\d{1,3}(?:[.,]\d+)?)\s*(?:amu|u|da)?"
    r"(?:\s*[-_ ]\s*.*)?$",
    re.IGNORECASE,
)


def mz_of_name(name: str) -> tuple[float, str]:
    """(m/z, how it was found) for a channel name: a gas name or formula ("Oxygen", "CO2":
    its main ion, an assumption said in the second item), else a mass number ("32", "M32",
    "m/z 32", "Mass 32", "32 amu", "M32-O2"); (NaN, "unknown") otherwise."""
    key = re.sub(r"[\s\-_]", "", name.strip().lower())
    if key in GAS_MAIN_ION:
        return float(GAS_MAIN_ION[key]), f"main ion of the gas named '{name.strip()}' (assumed)"
    match = _MASS_NUMBER.match(name.strip())
    if match:
        return float(match.group(1).replace(",", ".")), "mass number in the channel name"
    return float("nan"), "unknown"


# --------------------------------------------------------------------------- the table


@dataclass
class Channel:
    """One channel's points before they go into the table."""

    name: str
    mz: float
    mz_source: str
    unit: str  # ION_CURRENT or PARTIAL_PRESSURE
    unit_as_written: str
    time_s: np.ndarray
    signal: np.ndarray
    missing_values: int = 0
    label: str = ""


def build_table(channels: list[Channel], path: Path) -> pd.DataFrame:
    """The long table (MS_COLUMNS) of `channels`; each must hold points, in time order."""
    names = [c.name for c in channels]
    if not channels:
        raise ParseError(f"{file_label(path)}: the file holds no mass spectrometer channel.")
    for channel in channels:
        if len(channel.time_s) == 0:
            raise ParseError(f"{file_label(path)}: channel '{channel.name}' holds no point.")
        backwards = np.flatnonzero(np.diff(channel.time_s) < 0)
        if len(backwards):
            raise ParseError(
                f"{file_label(path)}: time runs backwards in channel '{channel.name}' after "
                f"point {backwards[0] + 1} ({channel.time_s[backwards[0]]:g} s to "
                f"{channel.time_s[backwards[0] + 1]:g} s); the file is damaged or joined."
            )
    counts = [len(c.time_s) for c in channels]
    table = pd.DataFrame(
        {
            "time_s": np.concatenate([c.time_s for c in channels]).astype(float),
            "channel": pd.Categorical(np.repeat(names, counts), categories=names),
            "mz": np.repeat([c.mz for c in channels], counts).astype(float),
            "signal": np.concatenate([c.signal for c in channels]).astype(float),
            "unit": pd.Categorical(
                np.repeat([c.unit for c in channels], counts),
                categories=[ION_CURRENT, PARTIAL_PRESSURE],
            ),
        }
    )
    return table[list(MS_COLUMNS)]


def unique_names(names: list[str]) -> list[str]:
    """Names made unique by appending " (2)", " (3)", ... to repeats."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def channel_metadata(channels: list[Channel]) -> list[dict]:
    return [
        {
            "channel": c.name,
            "label": c.label or c.name,
            "mz": None if np.isnan(c.mz) else float(c.mz),
            "mz_source": c.mz_source,
            "unit": c.unit,
            "unit_as_written": c.unit_as_written,
            "points": int(len(c.time_s)),
            "missing_values": int(c.missing_values),
        }
        for c in channels
    ]


def apply_mz_overrides(channels: list[Channel], channel_mz: dict | None, path: Path) -> None:
    """Set the m/z of channels named in `channel_mz` ({channel name: m/z}); a name the file
    does not hold is a ParseError (the override was meant for another file)."""
    if not channel_mz:
        return
    by_name = {c.name: c for c in channels}
    for name, mz in channel_mz.items():
        if name not in by_name:
            raise ParseError(
                f"{file_label(path)}: no channel '{name}' to give m/z {mz} "
                f"(its channels: {', '.join(by_name)})."
            )
        try:
            value = float(mz)
        except (TypeError, ValueError):
            value = float("nan")
        if not (0 < value < 1000):
            raise ParseError(f"m/z for channel '{name}' must be between 0 and 1000, not {mz}.")
        by_name[name].mz, by_name[name].mz_source = value, "given by the user"


# --------------------------------------------------------------------------- dates

_DATE_TIME = re.compile(
    r"^\s*(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*([AaPp][Mm])?\s*$"
)


def date_fields(text: str) -> tuple[int, int, int] | None:
    """The three numbers of a date-time's date part, as written; None if not a date-time."""
    match = _DATE_TIME.match(text)
    return (int(match[1]), int(match[3]), int(match[4])) if match else None


def date_order(samples: list[str]) -> tuple[str, bool]:
    """("ymd" | "dmy" | "mdy", assumed) for the dates in `samples`: 4-digit first field is
    year-month-day; dots mean day.month.year; with '/' or '-' a first field above 12 means
    day first, a second field above 12 month first; when no date tells, day first is assumed
    (the QUADERA export of the shared example and most of Europe) and said."""
    first_big = second_big = False
    for text in samples:
        match = _DATE_TIME.match(text)
        if not match:
            continue
        if len(match[1]) == 4:
            return "ymd", False
        if match[2] == ".":
            return "dmy", False
        first_big |= int(match[1]) > 12
        second_big |= int(match[3]) > 12
    if first_big != second_big:
        return ("dmy" if first_big else "mdy"), False
    return "dmy", True


def parse_date_time(text: str, order: str) -> datetime | None:
    """A naive datetime from a date-time string in the given order (12-hour AM/PM read)."""
    match = _DATE_TIME.match(text)
    if not match:
        return None
    a, b, c = int(match[1]), int(match[3]), int(match[4])
    year, month, day = {"ymd": (a, b, c), "dmy": (c, b, a), "mdy": (c, a, b)}[order]
    if year < 100:
        year += 2000
    hour, minute = int(match[5]), int(match[6])
    second = int(match[7] or 0)
    micro = int((match[8] or "0")[:6].ljust(6, "0"))
    if match[9]:
        pm = match[9].lower() == "pm"
        hour = hour % 12 + (12 if pm else 0)
    try:
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None


def seconds_since(
    stamps: pd.Series, order: str, zero: datetime | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, datetime | None]:
    """Date-time cells as seconds since `zero` (None: the first readable one), vectorised:
    (seconds, missing mask, indices of cells that are not date-times, the zero used)."""
    text = stamps.fillna("").astype(str).str.strip()
    missing = (text == "").to_numpy()
    parts = text.str.extract(_DATE_TIME)
    a, b, c = (pd.to_numeric(parts[i], errors="coerce") for i in (0, 2, 3))
    year, month, day = {"ymd": (a, b, c), "dmy": (c, b, a), "mdy": (c, a, b)}[order]
    year = year.where(year >= 100, year + 2000)
    hour = pd.to_numeric(parts[4], errors="coerce")
    half = parts[8].str.lower()
    hour = hour.where(half.isna(), hour % 12 + np.where(half == "pm", 12, 0))
    clock = pd.DataFrame(
        {
            "year": year,
            "month": month,
            "day": day,
            "hour": hour,
            "minute": pd.to_numeric(parts[5], errors="coerce"),
            "second": pd.to_numeric(parts[6], errors="coerce").fillna(0),
        }
    )
    stamp = pd.to_datetime(clock, errors="coerce")
    fraction = pd.to_numeric("0." + parts[7].fillna("0"), errors="coerce").fillna(0.0)
    bad = np.flatnonzero(~missing & stamp.isna().to_numpy())
    good = stamp.notna().to_numpy()
    if zero is None and good.any():
        zero = (
            stamp[good].iloc[0] + pd.to_timedelta(fraction[good].iloc[0], unit="s")
        ).to_pydatetime()
    if zero is None:
        return np.full(len(text), np.nan), missing, bad, None
    seconds = (stamp - pd.Timestamp(zero)).dt.total_seconds() + fraction
    return seconds.to_numpy(dtype=float), missing, bad, zero


ORDER_NAMES = {"ymd": "year-month-day", "dmy": "day/month/year", "mdy": "month/day/year"}
