"""Mass spectrometer files (DEMS, TGA-MS gas evolution): the front door.

    read_mass_spec_file(path, fmt="auto", *, mapping=None, channel_mz=None)
        -> (table, metadata)
    recognise_mass_spec(head_text) -> format key or None
    read_zilien_potentiostat(path) -> time_s, voltage_v, current_ma of a Zilien file

The table is long, one row per measured point of one channel (mass_spec_common.MS_COLUMNS):
time_s (seconds from the file's start), channel, mz, signal, unit ("A" for ion currents,
"mbar" for partial pressures). Long because each channel is measured at its own times.

metadata holds at least: format, source_library ("kiln": own readers), source_version,
measurement "mass_spec", channels (per channel: channel, label, mz, mz_source, unit,
unit_as_written, points, missing_values), units_seen, start_time (ISO 8601 or None: the
absolute time of time_s = 0), start_time_timezone ("UTC", "not recorded: the instrument PC's
local time", or None), start_time_source, decimal_separator, encoding, cut_last_line_dropped.

Formats (rules in each module's docstring):
- pfeiffer_quadera_asc: Pfeiffer Vacuum QUADERA ASCII export (mass_spec_pfeiffer);
- zilien_tsv: Spectro Inlets Zilien .tsv (mass_spec_zilien);
- hiden_csv: Hiden-style and other delimited tables read through a MassSpecMapping
  (mass_spec_hiden); recognised by their "mass N" columns, read only with a mapping.
Every failure is a ParseError starting with the file name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import ParseError, file_label
from .mass_spec_common import MS_COLUMNS
from .mass_spec_hiden import (
    HIDEN_CSV,
    ChannelColumn,
    MassSpecMapping,
    looks_like_hiden_csv,
    read_mapped_mass_spec,
)
from .mass_spec_pfeiffer import PFEIFFER_ASC, looks_like_pfeiffer_asc, read_pfeiffer_asc
from .mass_spec_zilien import EC_COLUMNS, ZILIEN_TSV, looks_like_zilien_tsv, read_zilien_tsv
from .mass_spec_zilien import read_zilien_potentiostat as _read_zilien_potentiostat
from .reader import guarded

MASS_SPEC_FORMATS: tuple[str, ...] = (PFEIFFER_ASC, ZILIEN_TSV, HIDEN_CSV)
MASS_SPEC_FORMAT_NAMES: dict[str, str] = {
    PFEIFFER_ASC: "a Pfeiffer QUADERA ASCII export",
    ZILIEN_TSV: "a Spectro Inlets Zilien .tsv file",
    HIDEN_CSV: "a Hiden-style mass spectrometer table",
}
_HEAD_BYTES = 8192


def recognise_mass_spec(head_text: str) -> str | None:
    """The mass-spec format of a file from its first ~8 KB decoded as Latin-1: one of
    MASS_SPEC_FORMATS, or None. Zilien first (its header is unmistakable), then QUADERA's
    "Time Relative [..]" column row, then a Hiden-style "mass N" table."""
    for fmt, looks_like in (
        (ZILIEN_TSV, looks_like_zilien_tsv),
        (PFEIFFER_ASC, looks_like_pfeiffer_asc),
        (HIDEN_CSV, looks_like_hiden_csv),
    ):
        if looks_like(head_text):
            return fmt
    return None


def detect_mass_spec_format(path: str | Path) -> str:
    """recognise_mass_spec on the file's head; ParseError when it is none of them."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if not head.strip():
        raise ParseError(f"{file_label(path)}: the file is empty.")
    fmt = recognise_mass_spec(head.decode("latin-1"))
    if fmt is None:
        raise ParseError(
            f"{file_label(path)}: not a mass spectrometer file Kiln reads (Pfeiffer QUADERA "
            ".asc export, Spectro Inlets Zilien .tsv, or a table with a saved mass "
            "spectrometer mapping)."
        )
    return fmt


def read_mass_spec_file(
    path: str | Path,
    fmt: str = "auto",
    *,
    mapping: MassSpecMapping | None = None,
    channel_mz: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The ion-current table (MS_COLUMNS) and metadata of a mass spectrometer file.

    fmt "auto" detects the format from the content; with a `mapping` the file is read through
    it whatever it looks like (fmt "auto" or "hiden_csv"). `channel_mz` ({channel: m/z})
    sets the m/z of channels whose name does not tell it (QUADERA names such as "Signal 3").
    Raises ParseError naming the file for anything it cannot read.
    """
    path = Path(path)
    if mapping is not None and fmt in ("auto", HIDEN_CSV):
        fmt = HIDEN_CSV
    elif fmt == "auto":
        fmt = detect_mass_spec_format(path)
    elif fmt not in MASS_SPEC_FORMATS:
        raise ParseError(
            f"{file_label(path)}: unknown mass spectrometer format '{fmt}'; use one of "
            f"{', '.join(MASS_SPEC_FORMATS)}."
        )
    name = MASS_SPEC_FORMAT_NAMES[fmt]
    if fmt == HIDEN_CSV:
        if mapping is None:
            raise ParseError(
                f"{file_label(path)}: looks like {name}; choose the mass spectrometer "
                "mapping saved for this instrument (time column, a column and m/z per "
                "channel, units) to read it."
            )
        table, meta = guarded(path, name, lambda: read_mapped_mass_spec(path, mapping))
    elif fmt == PFEIFFER_ASC:
        table, meta = guarded(path, name, lambda: read_pfeiffer_asc(path, channel_mz=channel_mz))
    else:
        table, meta = guarded(path, name, lambda: read_zilien_tsv(path, channel_mz=channel_mz))
    if tuple(table.columns) != MS_COLUMNS:  # a reader bug, not the user's file
        raise AssertionError(f"reader for {fmt} returned columns {list(table.columns)}")
    return table, meta


def read_zilien_potentiostat(path: str | Path) -> pd.DataFrame:
    """The potentiostat series a Zilien file carries (EC_COLUMNS: time_s, voltage_v,
    current_ma) on the same clock as its mass channels: pass it as the cycling table of
    analyse_gas_evolution with time_offset_s=0. ParseError when the file has none."""
    path = Path(path)
    name = MASS_SPEC_FORMAT_NAMES[ZILIEN_TSV]
    return guarded(path, name, lambda: _read_zilien_potentiostat(path))


__all__ = [
    "EC_COLUMNS",
    "HIDEN_CSV",
    "MASS_SPEC_FORMATS",
    "MASS_SPEC_FORMAT_NAMES",
    "MS_COLUMNS",
    "PFEIFFER_ASC",
    "ZILIEN_TSV",
    "ChannelColumn",
    "MassSpecMapping",
    "detect_mass_spec_format",
    "looks_like_hiden_csv",
    "looks_like_pfeiffer_asc",
    "looks_like_zilien_tsv",
    "read_mass_spec_file",
    "read_zilien_potentiostat",
    "recognise_mass_spec",
]
