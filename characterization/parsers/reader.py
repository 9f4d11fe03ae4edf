"""The front door: `read_cycler_file(path)` detects the format and returns a ParsedFile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import detect
from ._zip import DECODING_ERRORS
from .arbin_res import read_arbin_res
from .arbin_xlsx import read_arbin_xlsx
from .biologic import read_biologic, read_biologic_eis
from .errors import NotCyclingFileError, ParseError, file_label
from .maccor import read_maccor
from .neware_csv import read_neware_csv
from .neware_nda import read_neware_binary
from .schema import COLUMNS

# Bump when a rule changes what a table holds, so cached normalised tables are rebuilt.
PARSER_VERSION = "2"

# One rule for every format (cycle_model): the instrument's own index is kept apart.
CYCLE_RULE = (
    "Kiln's half cycles paired charge first (cathode); a leading discharge is cycle 0; the "
    "instrument's index kept as instrument_cycle"
)


@dataclass(frozen=True)
class ParsedFile:
    """A parsed measurement: `format` is one of detect.FORMATS ("mapped" for a generic table
    read through a column mapping, see mapped.py); `table` follows schema.COLUMNS
    for cycling files (biologic.EIS_COLUMNS for read_eis_file); `metadata` holds at least
    source_library ("kiln" for our own text readers), source_version, units_seen (quantity ->
    unit as the file stored it), parser_version and, for cycling files, cycle_rule."""

    format: str
    table: pd.DataFrame
    metadata: dict = field(default_factory=dict)


def read_cycler_file(path: str | Path, fmt: str = "auto") -> ParsedFile:
    """Parse a galvanostatic cycling file into the normalised table.

    Raises ParseError (a ValueError naming the file) for unknown, empty, truncated or damaged
    files, and its subclass NotCyclingFileError (with .kind "eis" or "potential_step") for a
    valid EIS or potential-step file: cycling analysis cannot use those, and read_eis_file
    reads the EIS ones.
    """
    path = Path(path)
    fmt = _resolve(path, fmt)
    table, meta = guarded(path, fmt, lambda: _READERS[fmt](path, fmt))
    if table.empty:
        raise ParseError(f"{file_label(path)}: the file holds no data records.")
    if tuple(table.columns) != COLUMNS:  # a parser bug, not the user's file
        raise AssertionError(f"parser for {fmt} returned columns {list(table.columns)}")
    meta.setdefault("source_version", None)
    meta["parser_version"] = PARSER_VERSION
    meta["cycle_rule"] = CYCLE_RULE
    return ParsedFile(format=fmt, table=table, metadata=meta)


def read_eis_file(path: str | Path, fmt: str = "auto") -> ParsedFile:
    """Parse a BioLogic PEIS/GEIS file (.mpr or .mpt) into biologic.EIS_COLUMNS:
    time_s, freq_hz, z_real_ohm, z_imag_ohm (Im Z, negative on a capacitive arc), cycle."""
    path = Path(path)
    fmt = _resolve(path, fmt)
    if fmt not in (detect.BIOLOGIC_MPR, detect.BIOLOGIC_MPT):
        raise ParseError(f"{file_label(path)}: a {fmt} file, not an impedance (EIS) file.")
    table, meta = guarded(path, fmt, lambda: read_biologic_eis(path, fmt))
    meta["parser_version"] = PARSER_VERSION
    return ParsedFile(format=fmt, table=table, metadata=meta)


def _resolve(path: Path, fmt: str) -> str:
    if fmt == "auto":
        return detect.detect_format(path)
    if fmt not in detect.FORMATS:
        raise ParseError(
            f"{file_label(path)}: unknown format '{fmt}'; use one of {detect.FORMATS}."
        )
    return fmt


def guarded(path: Path, fmt: str, read: Callable[[], tuple]) -> tuple:
    """Run a reader; anything but our own errors becomes a ParseError naming the file, so a
    job fails with a sentence instead of a library traceback (kept as __cause__ for logs):

    - MemoryError (the worker's KILN_WORKER_MEMORY_MB limit, see lims/celery.py): the file
      needs more memory than a worker may use;
    - decoding errors (_zip.DECODING_ERRORS: bad UTF-8, zlib/CRC, EOF, struct ...): damaged;
    - anything else a library raises: could not be read as `fmt`.

    Celery's soft time limit passes through: it is the job's clock, not the file's fault.
    `fmt` is one of detect.FORMATS or a description ("a table for mapping 'x'").
    """
    label, name = file_label(path), detect.FORMAT_NAMES.get(fmt, fmt)
    try:
        return read()
    except ParseError as exc:
        if not str(exc).startswith(label):  # inner helpers don't know the file
            exc.args = (f"{label}: {exc}",)
        raise
    except MemoryError as exc:
        raise ParseError(
            f"{label}: reading it needs more memory than a Kiln worker may use "
            "(KILN_WORKER_MEMORY_MB); split the test into shorter files, or ask the lab "
            "manager to raise the limit."
        ) from exc
    except DECODING_ERRORS as exc:
        raise ParseError(
            f"{label}: the file is damaged or truncated and cannot be read as {name} "
            f"({_detail(exc)}); upload the complete file again."
        ) from exc
    except Exception as exc:  # noqa: BLE001
        if any(cls.__name__ == "SoftTimeLimitExceeded" for cls in type(exc).__mro__):
            raise
        raise ParseError(
            f"{label}: could not be read as {name} ({_detail(exc)}); the file may be damaged, "
            "or written by a software version Kiln does not know."
        ) from exc


def _detail(exc: BaseException) -> str:
    """The exception's type and first line, short enough for a job's error message."""
    lines = str(exc).strip().splitlines()
    text = lines[0][:160] if lines else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# The format modules import their libraries (fastnda + polars, galvani, calamine) only when
# reading, so a worker parsing a Maccor file never loads them.
_READERS: dict[str, Callable[[Path, str], tuple[pd.DataFrame, dict]]] = {
    detect.NEWARE_NDA: read_neware_binary,
    detect.NEWARE_NDAX: read_neware_binary,
    detect.BIOLOGIC_MPR: read_biologic,
    detect.BIOLOGIC_MPT: read_biologic,
    detect.ARBIN_RES: lambda path, _fmt: read_arbin_res(path),
    detect.ARBIN_XLSX: lambda path, _fmt: read_arbin_xlsx(path),
    detect.MACCOR_TXT: lambda path, _fmt: read_maccor(path),
    detect.NEWARE_BTSDA_CSV: lambda path, _fmt: read_neware_csv(path),
}

__all__ = ["NotCyclingFileError", "ParsedFile", "read_cycler_file", "read_eis_file"]
