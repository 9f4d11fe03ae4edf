"""The front door: `read_cycler_file(path)` detects the format and returns a ParsedFile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import detect
from ._zip import DECODING_ERRORS, DEFAULT_LIMITS, UnpackLimits
from .arbin_res import read_arbin_res
from .arbin_xlsx import read_arbin_xlsx
from .bdf import read_bdf
from .biologic import read_biologic, read_biologic_eis
from .errors import NotCyclingFileError, ParseError, file_label
from .gamry import read_gamry_dta, refuse_gamry_as_cycling
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
    read through a column mapping, see mapped.py); `table` follows the schema of its table
    kind (schema.SCHEMAS: COLUMNS for cycling files, IMPEDANCE_COLUMNS for read_eis_file ...);
    `metadata` holds at least source_library ("kiln" for our own text readers), source_version,
    units_seen (quantity -> unit as the file stored it), parser_version and, for cycling files,
    cycle_rule; a reader adds what its analyses need (a DSC file's sample mass ...)."""

    format: str
    table: pd.DataFrame
    metadata: dict = field(default_factory=dict)


def read_cycler_file(
    path: str | Path, fmt: str = "auto", *, limits: UnpackLimits = DEFAULT_LIMITS
) -> ParsedFile:
    """Parse a galvanostatic cycling file into the normalised table.

    Raises ParseError (a ValueError naming the file) for unknown, empty, truncated or damaged
    files, and its subclass NotCyclingFileError (with .kind "eis" or "potential_step") for a
    valid EIS or potential-step file: cycling analysis cannot use those, and read_eis_file
    reads the EIS ones. Zip-based files are checked against `limits` (sizes, ratio, CRCs)
    before anything unpacks them.
    """
    path = Path(path)
    fmt = _resolve(path, fmt, limits)
    table, meta = guarded(path, fmt, lambda: _READERS[fmt](path, fmt, limits))
    if table.empty:
        raise ParseError(f"{file_label(path)}: the file holds no data records.")
    if tuple(table.columns) != COLUMNS:  # a parser bug, not the user's file
        raise AssertionError(f"parser for {fmt} returned columns {list(table.columns)}")
    meta.setdefault("source_version", None)
    meta["parser_version"] = PARSER_VERSION
    meta["cycle_rule"] = CYCLE_RULE
    return ParsedFile(format=fmt, table=table, metadata=meta)


def read_eis_file(
    path: str | Path, fmt: str = "auto", *, limits: UnpackLimits = DEFAULT_LIMITS
) -> ParsedFile:
    """Parse a BioLogic PEIS/GEIS file (.mpr or .mpt) or a Gamry .DTA EIS file into
    schema.IMPEDANCE_COLUMNS: time_s, freq_hz, z_real_ohm, z_imag_ohm (Im Z, negative on a
    capacitive arc), cycle. A Gamry file of another technique raises
    gamry.NotImpedanceFileError (a ParseError naming the technique)."""
    path = Path(path)
    fmt = _resolve(path, fmt, limits)
    if fmt not in _EIS_READERS:
        raise ParseError(f"{file_label(path)}: a {fmt} file, not an impedance (EIS) file.")
    table, meta = guarded(path, fmt, lambda: _EIS_READERS[fmt](path, fmt))
    meta["parser_version"] = PARSER_VERSION
    return ParsedFile(format=fmt, table=table, metadata=meta)


def _resolve(path: Path, fmt: str, limits: UnpackLimits = DEFAULT_LIMITS) -> str:
    if fmt == "auto":
        return detect.detect_format(path, limits=limits)
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
_READERS: dict[str, Callable[[Path, str, UnpackLimits], tuple[pd.DataFrame, dict]]] = {
    detect.NEWARE_NDA: lambda path, fmt, limits: read_neware_binary(path, fmt, limits=limits),
    detect.NEWARE_NDAX: lambda path, fmt, limits: read_neware_binary(path, fmt, limits=limits),
    detect.BIOLOGIC_MPR: lambda path, fmt, _limits: read_biologic(path, fmt),
    detect.BIOLOGIC_MPT: lambda path, fmt, _limits: read_biologic(path, fmt),
    detect.ARBIN_RES: lambda path, _fmt, _limits: read_arbin_res(path),
    detect.ARBIN_XLSX: lambda path, _fmt, limits: read_arbin_xlsx(path, limits=limits),
    detect.MACCOR_TXT: lambda path, _fmt, _limits: read_maccor(path),
    detect.NEWARE_BTSDA_CSV: lambda path, _fmt, _limits: read_neware_csv(path),
    detect.BDF_CSV: lambda path, _fmt, _limits: read_bdf(path),
    detect.BDF_PARQUET: lambda path, _fmt, _limits: read_bdf(path),
    # a Gamry file is impedance or another potentiostat technique, never cycling: it says which
    detect.GAMRY_DTA: lambda path, fmt, _limits: refuse_gamry_as_cycling(path, fmt),
}
_EIS_READERS: dict[str, Callable[[Path, str], tuple[pd.DataFrame, dict]]] = {
    detect.BIOLOGIC_MPR: read_biologic_eis,
    detect.BIOLOGIC_MPT: read_biologic_eis,
    detect.GAMRY_DTA: lambda path, _fmt: read_gamry_dta(path),
}

__all__ = ["NotCyclingFileError", "ParsedFile", "read_cycler_file", "read_eis_file"]
