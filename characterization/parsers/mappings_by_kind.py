"""Column mappings by table kind: the pure mapping that checks an instrument's saved mapping,
and the reader that turns a generic table into that kind's table through it. No Django.

    mapping_of(table_kind, data, name=...)   -> the kind's mapping (MappingError naming the key)
    stored_mapping(table_kind, data, name=...) -> its JSON as stored (normalised, no name)
    read_mapped_table(path, table_kind, mapping, limits=...) -> ParsedFile of that kind
    recognised_format(path, table_kind)      -> the format the kind's own readers see, or None

| table kind      | mapping                  | reader, format it records                   |
| cycling         | ColumnMapping            | mapped.read_mapped_file, "mapped"           |
| impedance       | ImpedanceColumnMapping   | impedance_mapped, "mapped_impedance"        |
| potential_steps | StepColumnMapping        | potential_steps_mapped, "mapped"            |
| thermal         | ThermalColumnMap         | thermal_csv, "thermal_csv"                  |
| ion_current     | MassSpecMapping          | mass_spec_hiden, "hiden_csv"                |
| diffraction     | DiffractionColumnMapping | diffraction_mapped, "mapped_diffraction"    |

A mapping's JSON never holds its name (the saved mapping's name is given apart), and every
kind's own mapping error is raised as mapped.MappingError, so a caller catches one type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from . import diffraction, mass_spec, potential_steps, thermal
from ._zip import DEFAULT_LIMITS, UnpackLimits
from .detect import detect_format
from .diffraction_mapped import (
    MAPPED_DIFFRACTION,
    DiffractionColumnMapping,
    read_mapped_diffraction,
)
from .errors import ParseError, file_label
from .impedance_mapped import ImpedanceColumnMapping, ImpedanceMappingError, read_mapped_impedance
from .impedance_rows import MAPPED_IMPEDANCE
from .impedance_text import recognise_impedance_format
from .mapped import MAPPED, ColumnMapping, MappingError, read_mapped_file
from .mass_spec_hiden import HIDEN_CSV, MassSpecMapping
from .material_readers import HEAD_BYTES, READER_VERSION
from .potential_steps_mapped import StepColumnMapping
from .reader import ParsedFile, guarded
from .schema import TABLE_KINDS, schema_of
from .thermal_csv import THERMAL_CSV, ThermalColumnMap, ThermalMappingError


@dataclass(frozen=True)
class MappedKind:
    """How one table kind's generic tables are read: its mapping class, how the mapping is
    built from stored JSON and a name, the reader, and the format the reader records."""

    mapping_class: type
    from_dict: Callable[[dict, str], Any]
    read: Callable[[Path, Any], tuple[pd.DataFrame, dict]] | None  # None: cycling
    format: str


def _thermal_from_dict(data: dict, name: str) -> ThermalColumnMap:
    """ThermalColumnMap keeps its name among its fields: it is given apart, as for the others."""
    if "name" in data:
        raise MappingError("unknown mapping keys: name")
    for f in fields(ThermalColumnMap):  # unit_key() would fail on a number without saying so
        if f.type == "str" and f.name in data and not isinstance(data[f.name], str):
            raise MappingError(f"{f.name} must be text")
    return ThermalColumnMap.from_dict({**data, "name": name})


KINDS: dict[str, MappedKind] = {
    "cycling": MappedKind(
        ColumnMapping, lambda d, n: ColumnMapping.from_dict(d, name=n), None, MAPPED
    ),
    "impedance": MappedKind(
        ImpedanceColumnMapping,
        lambda d, n: ImpedanceColumnMapping.from_dict(d, name=n),
        read_mapped_impedance,
        MAPPED_IMPEDANCE,
    ),
    "potential_steps": MappedKind(
        StepColumnMapping,
        lambda d, n: StepColumnMapping.from_dict(d, name=n),
        lambda p, m: potential_steps.read_potential_step_file(p, potential_steps.MAPPED, mapping=m),
        potential_steps.MAPPED,
    ),
    "thermal": MappedKind(
        ThermalColumnMap,
        _thermal_from_dict,
        lambda p, m: thermal.read_thermal_file(p, THERMAL_CSV, mapping=m),
        THERMAL_CSV,
    ),
    "ion_current": MappedKind(
        MassSpecMapping,
        lambda d, n: MassSpecMapping.from_dict(d, name=n),
        lambda p, m: mass_spec.read_mass_spec_file(p, HIDEN_CSV, mapping=m),
        HIDEN_CSV,
    ),
    "diffraction": MappedKind(
        DiffractionColumnMapping,
        lambda d, n: DiffractionColumnMapping.from_dict(d, name=n),
        read_mapped_diffraction,
        MAPPED_DIFFRACTION,
    ),
}
# The formats a read through a mapping records on a file (its detected_format afterwards).
MAPPED_FORMATS: frozenset[str] = frozenset(k.format for k in KINDS.values())
_MAPPING_ERRORS = (MappingError, ImpedanceMappingError, ThermalMappingError)


def mapped_kind(table_kind: str) -> MappedKind:
    try:
        return KINDS[table_kind]
    except KeyError:
        known = ", ".join(TABLE_KINDS)
        raise MappingError(f"table kind must be one of {known}, not {table_kind!r}") from None


def mapping_keys(table_kind: str) -> list[str]:
    """The JSON keys a mapping of the kind may hold (its help text)."""
    return [f.name for f in fields(mapped_kind(table_kind).mapping_class) if f.name != "name"]


def mapping_of(table_kind: str, data: object, *, name: str) -> Any:
    """The kind's mapping built from stored JSON; MappingError whose message names the key."""
    kind = mapped_kind(table_kind)
    if not isinstance(data, dict):
        raise MappingError("the mapping must be a JSON object")
    keys = {f.name: f for f in fields(kind.mapping_class) if f.name != "name"}
    unknown = sorted(set(data) - set(keys))
    if unknown:  # first: a mapping saved for another kind says so
        raise MappingError(f"unknown mapping keys: {', '.join(unknown)}")
    for key, f in keys.items():  # else a bare TypeError from the dataclass
        if key not in data and f.default is MISSING:
            raise MappingError(f"{key} is required")
    try:
        return kind.from_dict(data, name)
    except _MAPPING_ERRORS as exc:
        raise MappingError(str(exc)) from None
    except (TypeError, AttributeError) as exc:  # a value of the wrong JSON type
        raise MappingError(f"a value of the mapping has the wrong type ({exc})") from None


def stored_mapping(table_kind: str, data: object, *, name: str) -> dict:
    """The mapping's JSON as stored: checked, with every key and its default, no name."""
    mapping = mapping_of(table_kind, data, name=name)
    return {k: v for k, v in mapping.to_dict().items() if k != "name"}


def recognised_format(
    path: str | Path, table_kind: str, *, limits: UnpackLimits = DEFAULT_LIMITS
) -> str | None:
    """The format the kind's own readers recognise the file as, from its first bytes; None
    for a generic table (read through a mapping). A Hiden-style table counts as generic: it
    is read only through a mapping. Reads a bounded amount, as upload detection does."""
    path = Path(path)
    try:
        if table_kind == "thermal":
            return thermal.looks_like(path)
        if table_kind == "potential_steps":
            return potential_steps.detect_potential_step_format(path)
        if table_kind == "diffraction":
            return diffraction.detect_diffraction_format(path, limits=limits)
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        if table_kind == "ion_current":
            found = mass_spec.recognise_mass_spec(head.decode("latin-1"))
            return None if found == HIDEN_CSV else found
        try:
            return detect_format(path, limits=limits)  # cycler files, BioLogic and Gamry EIS
        except ParseError:
            if table_kind != "impedance":
                return None
        return recognise_impedance_format(head)
    except (ParseError, OSError):
        return None


def read_mapped_table(
    path: str | Path, table_kind: str, mapping: Any, *, limits: UnpackLimits = DEFAULT_LIMITS
) -> ParsedFile:
    """The file read through `mapping` (built by mapping_of for `table_kind`) as a table of
    that kind; ParseError naming the file (a missing mapped column, damage, no data)."""
    path = Path(path)
    kind = mapped_kind(table_kind)
    if kind.read is None:
        return read_mapped_file(path, mapping, limits=limits)
    schema = schema_of(table_kind)
    name = f"a {schema.title} table for mapping '{mapping.name}'"
    table, meta = guarded(path, name, lambda: kind.read(path, mapping))
    if table.empty:
        raise ParseError(f"{file_label(path)}: the file holds no data records.")
    columns = tuple(table.columns)
    if (columns if schema.exact else columns[: len(schema.columns)]) != schema.columns:
        raise AssertionError(f"the mapped {table_kind} reader returned {list(columns)}")  # a bug
    meta = {
        **meta,
        "format": kind.format,
        "mapping": mapping.name,
        "format_name": f"a generic table through the column mapping “{mapping.name}”",
        "parser_version": f"{meta.get('parser_version', '1')}.{READER_VERSION}",
    }
    meta.setdefault("source_library", "kiln")
    meta.setdefault("source_version", None)
    return ParsedFile(format=kind.format, table=table, metadata=meta)
