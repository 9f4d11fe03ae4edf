"""Column mapping for the instrument text exports (Maccor, Neware BTSDA CSV).

Exports differ by software version and by the user's export template, so each quantity is
looked up by a list of known header names; the unit is read from the header text.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label

# Multiply a value in the header's unit by this to get the normalised unit.
UNIT_SCALE: dict[str, float] = {
    "a": 1000.0,
    "ma": 1.0,
    "ua": 1e-3,
    "µa": 1e-3,
    "ah": 1000.0,
    "mah": 1.0,
    "wh": 1000.0,
    "mwh": 1.0,
    "v": 1.0,
    "mv": 1e-3,
}


def find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    """The first of `names` (case-insensitive, surrounding spaces ignored) among `columns`."""
    by_key = {c.strip().lower(): c for c in columns}
    return next((by_key[n.lower()] for n in names if n.lower() in by_key), None)


def unit_of(column: str, default: str) -> str:
    """The unit in a header such as 'Current(mA)', 'Cap. [Ah]' or 'Amp-hr' (-> default)."""
    match = re.search(r"[(\[]([^)\]]+)[)\]]\s*$", column)
    return match.group(1).strip() if match else default


def scale(column: str, default: str, path: Path) -> float:
    unit = unit_of(column, default)
    factor = UNIT_SCALE.get(unit.lower())
    if factor is None:
        raise ParseError(f"{file_label(path)}: unexpected unit '{unit}' in column '{column}'.")
    return factor


def read_table(text: str, columns: list[str], sep: str, path: Path) -> pd.DataFrame:
    """The named columns of a delimited export, numbers parsed; a last line cut short by an
    export still in progress is dropped, a gap anywhere else is damage."""
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, usecols=columns, dtype=str)
    except (ValueError, pd.errors.ParserError) as exc:
        raise ParseError(f"{file_label(path)}: the data lines cannot be read ({exc}).") from exc
    missing = frame.isna().any(axis=1).to_numpy()
    if len(frame) == 0 or missing[:-1].any():
        raise ParseError(f"{file_label(path)}: the data table is empty or has gaps.")
    out = frame.iloc[:-1] if missing[-1] else frame
    out.attrs[CUT_LAST_LINE] = bool(missing[-1])  # said in the result's warnings
    return out


_CLOCK = re.compile(r"^(?:(\d+)\s*[d-]\s*)?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)$")


def seconds(text: pd.Series, path: Path, name: str) -> np.ndarray:
    """Plain numbers, or [N d ]h:mm:ss[.f] clock times (hours may pass 24), as float seconds."""
    text = text.str.strip()
    plain = pd.to_numeric(text, errors="coerce")
    parts = text.str.extract(_CLOCK).astype(float)
    clock = parts[0].fillna(0) * 86400 + parts[1] * 3600 + parts[2] * 60 + parts[3]
    values = plain.fillna(clock)
    if values.isna().any():
        raise ParseError(f"{file_label(path)}: unreadable times in column '{name}'.")
    return values.to_numpy(dtype=float)


CUT_LAST_LINE = "cut_last_line"


def require(column: str | None, what: str, path: Path) -> str:
    if column is None:
        raise ParseError(f"{file_label(path)}: no {what} column found in the export header.")
    return column
