"""Recognise a cycler file from its content (never from its extension).

Uploads arrive with whatever name the user's PC gave them, so every rule below looks at bytes:
binary formats by their signature, text exports by their header lines (decoded as Latin-1,
which never fails and keeps ASCII column names intact).

Detection runs in the upload's web request, so it reads a bounded amount of any file: the
first _HEAD_BYTES, and for a zip archive its directory (checked against the unpack caps, see
_zip.py) and at most _WORKBOOK_BYTES of an .xlsx's xl/workbook.xml. Whatever the bytes, it
returns a format or raises ParseError.
"""

from __future__ import annotations

import re
from pathlib import Path

from ._zip import DEFAULT_LIMITS, UnpackLimits, open_archive, read_member_head
from .arbin_xlsx import is_arbin_sheet_names
from .bdf import PARQUET_MAGIC, header_cells, is_bdf_header, parquet_columns
from .errors import NotCyclingFileError, ParseError, file_label
from .gamry import looks_like_gamry_dta, recognise_impedance_text
from .maccor import header_line as maccor_header_line

NEWARE_NDA = "neware_nda"
NEWARE_NDAX = "neware_ndax"
BIOLOGIC_MPR = "biologic_mpr"
BIOLOGIC_MPT = "biologic_mpt"
ARBIN_RES = "arbin_res"
ARBIN_XLSX = "arbin_xlsx"
MACCOR_TXT = "maccor_txt"
NEWARE_BTSDA_CSV = "neware_btsda_csv"
GAMRY_DTA = "gamry_dta"
BDF_CSV = "bdf_csv"
BDF_PARQUET = "bdf_parquet"

FORMATS: tuple[str, ...] = (
    NEWARE_NDA,
    NEWARE_NDAX,
    BIOLOGIC_MPR,
    BIOLOGIC_MPT,
    ARBIN_RES,
    ARBIN_XLSX,
    MACCOR_TXT,
    NEWARE_BTSDA_CSV,
    GAMRY_DTA,
    BDF_CSV,
    BDF_PARQUET,
)

# How each format is named in messages ("could not be read as a Neware .ndax file").
FORMAT_NAMES: dict[str, str] = {
    NEWARE_NDA: "a Neware .nda file",
    NEWARE_NDAX: "a Neware .ndax file",
    BIOLOGIC_MPR: "a BioLogic .mpr file",
    BIOLOGIC_MPT: "a BioLogic .mpt text export",
    ARBIN_RES: "an Arbin .res file",
    ARBIN_XLSX: "an Arbin .xlsx export",
    MACCOR_TXT: "a Maccor text export",
    NEWARE_BTSDA_CSV: "a Neware BTSDA .csv export",
    GAMRY_DTA: "a Gamry .DTA file",
    BDF_CSV: "a Battery Data Format (BDF) .csv file",
    BDF_PARQUET: "a Battery Data Format (BDF) .parquet file",
}

_HEAD_BYTES = 8192
# Sheet names come first in workbook.xml (a few KB even with hundreds of sheets); what follows
# (defined names, calculation settings) can be large and is never needed.
_WORKBOOK_BYTES = 256 * 1024
_JET_SIGNATURES = (b"\x00\x01\x00\x00Standard Jet DB", b"\x00\x01\x00\x00Standard ACE DB")
_MPT_MAGICS = (b"EC-Lab ASCII FILE", b"BT-Lab ASCII FILE")
_ZIP_MAGIC = b"PK\x03\x04"
_XLSX_WORKBOOK = "xl/workbook.xml"
_SHEET_NAME = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"")
_KNOWN = (
    "Neware .nda/.ndax, BioLogic .mpr/.mpt, Arbin .res or .xlsx, Maccor text export, "
    "Neware BTSDA .csv export or Battery Data Format (BDF) .csv/.parquet file (impedance: "
    "BioLogic .mpr/.mpt or Gamry .DTA)"
)


def detect_format(path: str | Path, *, limits: UnpackLimits = DEFAULT_LIMITS) -> str:
    """Return one of FORMATS for the file at `path`, judged from its content.

    Raises ParseError (naming the file) for an empty, unreadable or unrecognised file, and for
    a zip archive that is damaged, unpacks beyond `limits` (settings KILN_UNPACK_MAX_MB and
    KILN_UNPACK_MAX_RATIO) or is neither a Neware .ndax nor an Arbin .xlsx.
    """
    path = Path(path)
    head = _read_head(path)
    binary = _binary_format(path, head, limits)
    if binary:
        return binary
    if looks_like_gamry_dta(head):
        return GAMRY_DTA
    text = _text_format(head.decode("latin-1"))
    if text:
        return text
    impedance = recognise_impedance_text(head.decode("latin-1"))
    if impedance:
        raise NotCyclingFileError(
            f"{file_label(path)}: {impedance}, an impedance (EIS) format that Kiln recognises "
            "but cannot read yet; it reads BioLogic .mpr/.mpt and Gamry .DTA impedance files.",
            kind="eis",
        )
    raise ParseError(
        f"{file_label(path)}: not a cycler file Kiln can read. Expected a {_KNOWN}; "
        f"the file starts with {head[:24]!r}."
    )


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError as exc:
        raise ParseError(f"{file_label(path)}: cannot be opened ({exc.strerror}).") from exc
    if not head:
        raise ParseError(f"{file_label(path)}: the file is empty.")
    return head


def _binary_format(path: Path, head: bytes, limits: UnpackLimits) -> str | None:
    if head.startswith(b"NEWARE"):
        return NEWARE_NDA
    if head.startswith(b"BIO-LOGIC MODULAR FILE"):
        return BIOLOGIC_MPR
    if head.startswith(_JET_SIGNATURES):
        return ARBIN_RES
    if head.startswith(_ZIP_MAGIC):
        return _zip_format(path, limits)
    if head.startswith(PARQUET_MAGIC):
        return _parquet_format(path)
    return None


def _parquet_format(path: Path) -> str:
    """A Parquet table is a cycler file when its columns are BDF's (read from its footer)."""
    if is_bdf_header(parquet_columns(path)):
        return BDF_PARQUET
    raise ParseError(
        f"{file_label(path)}: a Parquet table without the Battery Data Format columns "
        "(Test Time / s, Voltage / V, Current / A), not a cycler file."
    )


def _zip_format(path: Path, limits: UnpackLimits) -> str:
    """A .ndax is a zip archive holding data.ndc; an .xlsx workbook with Arbin's sheets
    (Global_Info, Channel_<n>_<part>) is an Arbin export; any other zip is not a cycler file
    (a generic .xlsx table is read through its instrument's column mapping instead).

    Only the directory and the head of xl/workbook.xml are read; open_archive turns a damaged
    archive, or one that unpacks beyond `limits`, into ParseError."""
    with open_archive(path, limits) as archive:
        members = archive.namelist()
        names = {Path(name).name for name in members}
        workbook = (
            read_member_head(archive, _XLSX_WORKBOOK, _WORKBOOK_BYTES)
            if _XLSX_WORKBOOK in members
            else None
        )
    if "data.ndc" in names:
        return NEWARE_NDAX
    if workbook is not None:
        sheets = [_xml_text(n) for n in _SHEET_NAME.findall(workbook)]
        if is_arbin_sheet_names(sheets):
            return ARBIN_XLSX
        raise ParseError(
            f"{file_label(path)}: an Excel workbook without Arbin's Global_Info or Channel "
            "sheets; a generic table is read with the column mapping saved for its instrument."
        )
    raise ParseError(
        f"{file_label(path)}: a zip archive without Neware data (no data.ndc inside), "
        f"not a cycler file. Expected a {_KNOWN}."
    )


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'")):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


def _text_format(text: str) -> str | None:
    lines = text.lstrip("\ufeff\u00ef\u00bb\u00bf").splitlines()[:40]
    if not lines:
        return None
    if lines[0].encode("latin-1").startswith(_MPT_MAGICS):
        return BIOLOGIC_MPT
    if _looks_like_maccor(lines):
        return MACCOR_TXT
    if _looks_like_btsda(lines[0]):
        return NEWARE_BTSDA_CSV
    if is_bdf_header(header_cells(lines[0])):  # "Test Time / s","Voltage / V",...
        return BDF_CSV
    return None


def _looks_like_maccor(lines: list[str]) -> bool:
    """Maccor exports start with a "Today's Date" line, or header lines of any kind (the
    MIMS-style "Name:", "Channel:" ...), then a column header naming the record, cycle and
    state columns (Rec# or Rec, Cyc# or Cycle P/C, State or Md): maccor.header_line."""
    return "Today's Date" in lines[0] or maccor_header_line(lines) is not None


def _looks_like_btsda(first_line: str) -> bool:
    """BTSDA record-layer exports name these columns in their first line."""
    columns = {c.strip().strip('"') for c in first_line.replace("\t", ",").split(",")}
    has_voltage = any(c.startswith("Voltage(") for c in columns)
    return {"Cycle Index", "Step Type"} <= columns and has_voltage
