"""The front door for X-ray diffraction files: `read_diffraction_file(path)` recognises the
format from the file's content and returns the normalised table and its metadata.

Table (DIFFRACTION_COLUMNS), one row per point, scans one after another:
- two_theta_deg: 2θ in degrees, strictly ascending within a scan;
- intensity: as the instrument measured it, in metadata["intensity_unit"]: "counts" (per
  step), "cps" (counts per second) or "arbitrary" (a text export that does not say);
  attenuator/absorber factors applied (intensity = registered counts × factor);
- intensity_esd: the file's own esd (.xye), else Poisson for counts (module
  diffraction_scan), else NaN;
- scan: 0-based index of the pattern within the file (an in situ series, repeated scans or
  several ranges are several scans of one cell/sample).

Metadata: source_library ("kiln"), format, intensity_unit, units_seen, intensity_esd_source,
scan_count, points_per_scan, counting_time_s (per scan, s per step or None),
wavelength_ka1_a / wavelength_ka2_a / ka2_ka1_ratio / wavelength_kbeta_a (Å; None when the
file does not say; ratio 0 and Kα2 None when the file says the beam is Kα1 only), radiation,
anode, sample, instrument, start_time, scan_axis, reversed_scans, scans (per-scan details),
notes (what was ignored or decided), parser_version; and the format's own keys.

Formats (FORMATS) and how each is recognised from its first bytes (`recognise_diffraction`):
- panalytical_xrdml: XML whose root is <xrdMeasurements> (diffraction_xrdml);
- rigaku_ras: text starting "*RAS_DATA_START" (diffraction_rigaku);
- rigaku_rasx: a zip holding Data<i>/Profile<j>.txt (diffraction_rigaku);
- bruker_brml: a zip holding Experiment<i>/... XML members (diffraction_bruker);
- bruker_raw4: binary starting "RAW4.00" (diffraction_bruker);
- xy: text whose first data lines are 2-3 numbers with 2θ rising in equal steps (.xy, .xye,
  .csv, .dat exports; diffraction_xy).
Every damaged, truncated or unexpected file raises ParseError starting with the file name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ._zip import DEFAULT_LIMITS, UnpackLimits, damaged_message, open_archive
from .diffraction_bruker import RAW4_MAGIC, read_brml, read_raw4
from .diffraction_rigaku import read_ras, read_rasx
from .diffraction_scan import DIFFRACTION_COLUMNS, Scan, common_metadata, scans_frame
from .diffraction_xrdml import read_xrdml
from .diffraction_xy import looks_like_xy, read_xy
from .errors import ParseError, file_label
from .reader import guarded

PARSER_VERSION = "1"

XY = "xy"
RIGAKU_RAS = "rigaku_ras"
RIGAKU_RASX = "rigaku_rasx"
PANALYTICAL_XRDML = "panalytical_xrdml"
BRUKER_BRML = "bruker_brml"
BRUKER_RAW4 = "bruker_raw4"
FORMATS: tuple[str, ...] = (
    XY,
    RIGAKU_RAS,
    RIGAKU_RASX,
    PANALYTICAL_XRDML,
    BRUKER_BRML,
    BRUKER_RAW4,
)
FORMAT_NAMES: dict[str, str] = {
    XY: "a text pattern (.xy/.xye/.csv)",
    RIGAKU_RAS: "a Rigaku .ras file",
    RIGAKU_RASX: "a Rigaku .rasx file",
    PANALYTICAL_XRDML: "a PANalytical .xrdml file",
    BRUKER_BRML: "a Bruker .brml file",
    BRUKER_RAW4: "a Bruker RAW v4 file",
}
_HEAD_BYTES = 8192
_ZIP_MAGIC = b"PK\x03\x04"
_XRDML_ROOT = re.compile(r"<(?:\w+:)?xrdMeasurements\b")
_RASX_MEMBER = re.compile(r"^Data\d+/(?:Profile\d+\.txt|Mea?surementConditions\d+\.xml)$")
_BRML_MEMBER = re.compile(r"^(?:Experiment\d+/|experimentCollection\.xml$)")
_RASX_HEAD = re.compile(rb"Data\d+/(?:Profile\d+\.txt|Mea?surementConditions\d+\.xml)")
_BRML_HEAD = re.compile(rb"Experiment\d+/|experimentCollection\.xml")
_KNOWN = (
    "PANalytical .xrdml, Rigaku .ras/.rasx, Bruker .brml or RAW v4, or a text pattern "
    "(.xy/.xye/.csv with 2θ and intensity columns)"
)

_READERS: dict[str, Callable[[Path, UnpackLimits], tuple[list[Scan], dict]]] = {
    XY: lambda path, _limits: read_xy(path),
    RIGAKU_RAS: lambda path, _limits: read_ras(path),
    RIGAKU_RASX: read_rasx,
    PANALYTICAL_XRDML: lambda path, _limits: read_xrdml(path),
    BRUKER_BRML: read_brml,
    BRUKER_RAW4: lambda path, _limits: read_raw4(path),
}


def read_diffraction_file(
    path: str | Path, fmt: str = "auto", *, limits: UnpackLimits = DEFAULT_LIMITS
) -> tuple[pd.DataFrame, dict]:
    """(table, metadata) of a diffraction file (module doc). `fmt` is "auto" or one of
    FORMATS; zip-based files (.rasx, .brml) are checked against `limits` before anything is
    unpacked. Raises ParseError (naming the file) for anything unreadable."""
    path = Path(path)
    if fmt == "auto":
        fmt = detect_diffraction_format(path, limits=limits)
    elif fmt not in FORMATS:
        raise ParseError(f"{file_label(path)}: unknown format '{fmt}'; use one of {FORMATS}.")

    def read() -> tuple[pd.DataFrame, dict]:
        scans, own = _READERS[fmt](path, limits)
        table = scans_frame(scans, path)
        notes = own.pop("notes", [])
        meta = common_metadata(fmt, scans, own)
        meta["notes"] = notes + meta["notes"]
        return table, meta

    table, meta = guarded(path, FORMAT_NAMES[fmt], lambda: _zip_errors(path, read))
    if tuple(table.columns) != DIFFRACTION_COLUMNS:  # a reader bug, not the user's file
        raise AssertionError(f"reader for {fmt} returned columns {list(table.columns)}")
    meta["parser_version"] = PARSER_VERSION
    return table, meta


def _zip_errors(path: Path, read: Callable[[], tuple]) -> tuple:
    """_zip's damaged-archive sentence names cycler formats; say what a diffraction file is."""
    try:
        return read()
    except ParseError as exc:
        if str(exc) == damaged_message(path):
            raise ParseError(
                f"{file_label(path)}: a zip archive (as Rigaku .rasx and Bruker .brml files "
                "are) that is damaged or truncated; upload the complete file again."
            ) from exc
        raise


def detect_diffraction_format(path: str | Path, *, limits: UnpackLimits = DEFAULT_LIMITS) -> str:
    """One of FORMATS for the file at `path`, judged from its content (never its name);
    ParseError for an empty, unreadable or unrecognised file."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if not head.strip():
        raise ParseError(f"{file_label(path)}: the file is empty.")
    if head.startswith(_ZIP_MAGIC):
        with open_archive(path, limits) as archive:
            fmt = recognise_diffraction_archive(archive.namelist())
    else:
        fmt = recognise_diffraction(head)
    if fmt is None:
        raise ParseError(f"{file_label(path)}: not a diffraction file Kiln reads ({_KNOWN}).")
    return fmt


def recognise_diffraction(head: bytes) -> str | None:
    """The format of a file from its first ~8 KB, or None. A zip head ("PK") is judged by
    the member names it shows (the first local headers); detect_diffraction_format opens the
    archive's directory instead, which is certain."""
    if head.startswith(RAW4_MAGIC):
        return BRUKER_RAW4
    if head.startswith(_ZIP_MAGIC):
        if _RASX_HEAD.search(head):
            return RIGAKU_RASX
        return BRUKER_BRML if _BRML_HEAD.search(head) else None
    text = head.decode("latin-1").lstrip("\ufeff\u00ef\u00bb\u00bf \t\r\n")
    return recognise_diffraction_text(text)


def recognise_diffraction_text(head_text: str) -> str | None:
    """A text head (decoded as Latin-1): .ras, .xrdml or a plain 2θ/intensity table."""
    text = head_text.lstrip("\ufeff\u00ef\u00bb\u00bf \t\r\n")
    if text.startswith("*RAS_DATA_START") or text.startswith("*RAS_HEADER_START"):
        return RIGAKU_RAS
    if text.startswith("<") and _XRDML_ROOT.search(text[:4096]):
        return PANALYTICAL_XRDML
    if looks_like_xy(text):
        return XY
    return None


def recognise_diffraction_archive(names: list[str]) -> str | None:
    """rigaku_rasx or bruker_brml from a zip's member names, else None."""
    if any(_RASX_MEMBER.match(n) for n in names):
        return RIGAKU_RASX
    if any(_BRML_MEMBER.match(n) for n in names):
        return BRUKER_BRML
    return None


__all__ = [
    "DIFFRACTION_COLUMNS",
    "FORMATS",
    "FORMAT_NAMES",
    "detect_diffraction_format",
    "read_diffraction_file",
    "recognise_diffraction",
    "recognise_diffraction_archive",
    "recognise_diffraction_text",
]
