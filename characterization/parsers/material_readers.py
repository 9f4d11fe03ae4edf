"""The readers of the study's other table kinds as the front door (parsers.tables) calls them:
each returns a ParsedFile (format, table, metadata with parser_version and source_library) or
raises ParseError naming the file. Impedance files are BioLogic/Gamry (reader.read_eis_file)
or one of the text formats impedance_text recognises."""

from __future__ import annotations

from pathlib import Path

from . import diffraction, impedance_text, mass_spec, potential_steps, thermal
from .errors import ParseError, file_label
from .reader import ParsedFile, read_eis_file

READER_VERSION = "1"  # bump when a rule here changes what a table holds
# How a person names each format (the raw file's "read as ..." sentence).
FORMAT_NAMES: dict[str, str] = {
    **thermal.THERMAL_FORMAT_NAMES,
    **diffraction.FORMAT_NAMES,
    **potential_steps._FORMAT_NAMES,
    **mass_spec.MASS_SPEC_FORMAT_NAMES,
}
HEAD_BYTES = 8192


def _parsed(fmt: str, table, metadata: dict) -> ParsedFile:
    meta = dict(metadata)
    meta.setdefault("source_library", "kiln")
    meta.setdefault("source_version", None)
    meta["parser_version"] = f"{meta.get('parser_version', '1')}.{READER_VERSION}"
    fmt = meta.get("format", fmt)
    meta.setdefault("format_name", FORMAT_NAMES.get(fmt, fmt))
    return ParsedFile(format=meta.get("format", fmt), table=table, metadata=meta)


def _empty_check(path: Path, table) -> None:
    if table.empty:
        raise ParseError(f"{file_label(path)}: the file holds no data records.")


def read_impedance(path: str | Path, fmt: str = "auto", **options) -> ParsedFile:
    path = Path(path)
    text_fmt = fmt if fmt in impedance_text.FORMATS else None
    if fmt == "auto":
        with path.open("rb") as handle:
            text_fmt = impedance_text.recognise_impedance_format(handle.read(HEAD_BYTES))
    if text_fmt is None:
        return read_eis_file(path, fmt, **options)
    table, meta = impedance_text.read_impedance_text(path, text_fmt)
    _empty_check(path, table)
    return _parsed(text_fmt, table, meta)


def read_potential_steps(path: str | Path, fmt: str = "auto", **options) -> ParsedFile:
    options.pop("limits", None)  # text and EC-Lab files: nothing is unpacked
    table, meta = potential_steps.read_potential_step_file(path, fmt, **options)
    _empty_check(Path(path), table)
    return _parsed(fmt, table, meta)


def read_thermal(path: str | Path, fmt: str = "auto", **options) -> ParsedFile:
    options.pop("limits", None)  # NETZSCH archives are checked with the default limits
    table, meta = thermal.read_thermal_file(path, fmt, **options)
    _empty_check(Path(path), table)
    return _parsed(fmt, table, meta)


def read_ion_current(path: str | Path, fmt: str = "auto", **options) -> ParsedFile:
    options.pop("limits", None)  # text exports: nothing is unpacked
    table, meta = mass_spec.read_mass_spec_file(path, fmt, **options)
    _empty_check(Path(path), table)
    return _parsed(fmt, table, meta)


def read_diffraction(path: str | Path, fmt: str = "auto", **options) -> ParsedFile:
    table, meta = diffraction.read_diffraction_file(path, fmt, **options)
    _empty_check(Path(path), table)
    return _parsed(fmt, table, meta)


READERS = {
    "impedance": read_impedance,
    "potential_steps": read_potential_steps,
    "thermal": read_thermal,
    "ion_current": read_ion_current,
    "diffraction": read_diffraction,
}
