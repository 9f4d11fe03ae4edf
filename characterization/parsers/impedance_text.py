"""Impedance (EIS) text exports: recognition from a file's head and one entry point.

    recognise_impedance_format(head) -> a format id of FORMATS, or None
    read_impedance_text(path, fmt="auto") -> (table, metadata)
    read_mapped_impedance(path, mapping)   -> the same, for any CSV through a column mapping

The table follows biologic.EIS_COLUMNS: time_s, freq_hz, z_real_ohm, z_imag_ohm (Im Z, negative
on a capacitive arc: every file's own convention is converted), cycle (1, 2, ... per spectrum).
Metadata: source_library "kiln", source_version None, format, format_name, units_seen (as the
file wrote them), encoding, decimal_separator, reading_notes ({"code", "message"} also kept in
table.attrs["kiln"]) and what each format's header tells. The shared rules (encodings, decimal
commas, damaged and cut lines, positive frequencies, finite Z) are impedance_rows'; each
format's layout is documented in its module:

| format id        | software / instrument                | module                    |
| zview_z60w       | Autolab FRA export in ZView's Z60W   | impedance_zview           |
| zplot_z          | ZPlot/ZView .z (ZPlotW, ZPLOT2 ASCII) | impedance_zview           |
| chi_txt          | CH Instruments A.C. Impedance         | impedance_chi             |
| versastudio_par  | VersaStudio .par                     | impedance_versastudio     |
| parstat_txt      | PARSTAT text export                  | impedance_parstat         |
| powersuite_txt   | PowerSuite text export               | impedance_parstat         |
| nova_ascii       | Autolab NOVA ASCII (";"-separated)    | impedance_nova            |
| relaxis_txt      | RelaxIS spectrum export              | impedance_relaxis         |
| mapped_impedance | any CSV, ImpedanceColumnMapping       | impedance_mapped          |

The readers are Kiln's own. impedance.py's impedance.preprocessing reads the same layouts
(the tests compare both on every file) but was not reused: it indexes fixed columns without
reading the header, drops rows without saying so (PARSTAT's zero-frequency rows; its plain CSV
reader turns a damaged cell into NaN), and ends on a damaged line with a bare ValueError or
AssertionError.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import (
    impedance_chi,
    impedance_nova,
    impedance_parstat,
    impedance_relaxis,
    impedance_versastudio,
    impedance_zview,
)
from .errors import ParseError, file_label
from .impedance_mapped import ImpedanceColumnMapping, ImpedanceMappingError, read_mapped_impedance
from .impedance_rows import (
    CHI_TXT,
    EIS_COLUMNS,
    FORMAT_NAMES,
    MAPPED_IMPEDANCE,
    NOVA_ASCII,
    PARSTAT_TXT,
    POWERSUITE_TXT,
    RELAXIS_TXT,
    VERSASTUDIO_PAR,
    ZPLOT_Z,
    ZVIEW_Z60W,
)

HEAD_BYTES = 8192

# First-line signatures first, then header lines anywhere in the head.
_RECOGNISERS: tuple[Callable[[bytes | str], str | None], ...] = (
    impedance_zview.recognise,
    impedance_relaxis.recognise,
    impedance_versastudio.recognise,
    impedance_parstat.recognise,
    impedance_chi.recognise,
    impedance_nova.recognise,
)

_READERS: dict[str, Callable[[Path, str], tuple[pd.DataFrame, dict]]] = {
    ZVIEW_Z60W: impedance_zview.read_zview,
    ZPLOT_Z: impedance_zview.read_zview,
    CHI_TXT: impedance_chi.read_chi,
    VERSASTUDIO_PAR: impedance_versastudio.read_versastudio,
    PARSTAT_TXT: impedance_parstat.read_parstat,
    POWERSUITE_TXT: impedance_parstat.read_parstat,
    NOVA_ASCII: impedance_nova.read_nova,
    RELAXIS_TXT: impedance_relaxis.read_relaxis,
}

FORMATS: tuple[str, ...] = tuple(_READERS)


def recognise_impedance_format(head: bytes | str) -> str | None:
    """The format id (one of FORMATS) of a file whose first ~8 KB are `head` (bytes, or text
    decoded as Latin-1 or UTF-8), or None for anything else (BioLogic, Gamry, cycler exports,
    unknown text). Each module's recognise() is the rule for its format."""
    for rule in _RECOGNISERS:
        found = rule(head)
        if found:
            return found
    return None


def read_impedance_text(path: str | Path, fmt: str = "auto") -> tuple[pd.DataFrame, dict]:
    """EIS table (EIS_COLUMNS) and metadata of an impedance text export; `fmt` one of FORMATS
    or "auto" (recognised from the content). Raises ParseError, starting with the file name,
    for unrecognised, empty, damaged or truncated files and for impossible values."""
    path = Path(path)
    if fmt == "auto":
        try:
            with path.open("rb") as fh:
                head = fh.read(HEAD_BYTES)
        except OSError as exc:
            raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
        if not head.strip():
            raise ParseError(f"{file_label(path)}: the file is empty.")
        fmt = recognise_impedance_format(head) or ""
        if not fmt:
            raise ParseError(
                f"{file_label(path)}: not an impedance text export Kiln reads "
                f"({', '.join(FORMAT_NAMES[f] for f in FORMATS)})."
            )
    if fmt not in _READERS:
        raise ParseError(f"{file_label(path)}: unknown impedance format '{fmt}'.")
    return _READERS[fmt](path, fmt)


__all__ = [
    "EIS_COLUMNS",
    "FORMATS",
    "FORMAT_NAMES",
    "MAPPED_IMPEDANCE",
    "ImpedanceColumnMapping",
    "ImpedanceMappingError",
    "read_impedance_text",
    "read_mapped_impedance",
    "recognise_impedance_format",
]
