"""Thermal analysis files (DSC, STA): recognise the format and read it into the normalised
thermal table (thermal_table.THERMAL_COLUMNS: time_s, temperature_c, heat_flow_mw with
EXOTHERM POSITIVE, optionally heat_flow_w_per_g and mass_change_mg). Pure Python, no Django.

Formats (each module's docstring gives its rules):
    ta_universal_text  TA Instruments Universal Analysis text export   thermal_ta (Kiln)
    netzsch_ngb        NETZSCH Proteus .ngb-ss3 / .ngb-ds3 (STA, DSC)   thermal_netzsch (pyngb)
    thermal_csv        any delimited export, through a ThermalColumnMap thermal_csv (Kiln)

Metadata keys every reader gives: source_library, source_version, format, measurement,
instrument, sample_mass_mg (None when the file does not state it), exotherm_direction_declared
("up", "down" or None: not declared), exotherm_direction_used, heat_flow_sign (a sentence),
units_seen, warnings (list of {"code", "message", "severity"}, also in table.attrs["kiln"]).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import ParseError, file_label
from .reader import guarded
from .thermal_csv import THERMAL_CSV, ThermalColumnMap, ThermalMappingError, read_thermal_csv
from .thermal_netzsch import NETZSCH_NGB, looks_like_ngb, read_netzsch_ngb
from .thermal_ta import TA_UNIVERSAL_TEXT, read_ta_universal_text, recognise_ta_text
from .thermal_table import THERMAL_COLUMNS

THERMAL_FORMATS: tuple[str, ...] = (TA_UNIVERSAL_TEXT, NETZSCH_NGB, THERMAL_CSV)
THERMAL_FORMAT_NAMES: dict[str, str] = {
    TA_UNIVERSAL_TEXT: "a TA Instruments Universal Analysis text export",
    NETZSCH_NGB: "a NETZSCH .ngb measurement file",
    THERMAL_CSV: "a thermal CSV export read through a column mapping",
}
_HEAD_BYTES = 8192


def recognise(head_text: str) -> str | None:
    """The thermal text format of a file's first ~8 KB decoded as Latin-1 (TA_UNIVERSAL_TEXT),
    or None. Binary NETZSCH files are recognised by looks_like(path)."""
    return recognise_ta_text(head_text)


def looks_like(path: str | Path) -> str | None:
    """NETZSCH_NGB for a zip holding NETZSCH's streams, TA_UNIVERSAL_TEXT for a Universal
    Analysis export, None otherwise (a CSV needs a mapping and is never guessed)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        return NETZSCH_NGB if looks_like_ngb(path) else None
    return recognise(head.decode("latin-1"))


def read_thermal_file(
    path: str | Path, fmt: str = "auto", *, mapping: ThermalColumnMap | None = None
) -> tuple[pd.DataFrame, dict]:
    """(table, metadata) of a thermal file; fmt one of THERMAL_FORMATS or "auto" (looks_like,
    then the mapping's CSV reading when a mapping is given). Raises ParseError starting with
    the file name for an unrecognised, unreadable, truncated or damaged file."""
    path = Path(path)
    if fmt == "auto":
        fmt = looks_like(path) or (THERMAL_CSV if mapping is not None else "")
        if not fmt:
            raise ParseError(
                f"{file_label(path)}: not a thermal file Kiln recognises (TA Instruments "
                "Universal Analysis text export, NETZSCH .ngb-ss3/.ngb-ds3); for another "
                "export, choose a thermal column mapping."
            )
    if fmt not in THERMAL_FORMATS:
        raise ValueError(f"unknown thermal format {fmt!r}; one of {', '.join(THERMAL_FORMATS)}")
    if fmt == THERMAL_CSV and mapping is None:
        raise ParseError(f"{file_label(path)}: reading a thermal CSV needs a column mapping.")
    readers = {
        TA_UNIVERSAL_TEXT: lambda: read_ta_universal_text(path),
        NETZSCH_NGB: lambda: read_netzsch_ngb(path),
        THERMAL_CSV: lambda: read_thermal_csv(path, mapping),
    }
    table, meta = guarded(path, THERMAL_FORMAT_NAMES[fmt], readers[fmt])
    return table, meta


__all__ = [
    "NETZSCH_NGB",
    "TA_UNIVERSAL_TEXT",
    "THERMAL_COLUMNS",
    "THERMAL_CSV",
    "THERMAL_FORMATS",
    "THERMAL_FORMAT_NAMES",
    "ThermalColumnMap",
    "ThermalMappingError",
    "looks_like",
    "read_thermal_file",
    "recognise",
]
