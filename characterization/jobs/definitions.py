"""What an analysis definition may hold, and which definitions a measurement's type starts.

A measurement's type decides the table its files give (TABLE_KIND_OF_TYPE: a cycling or rate
test gives cycling tables, an EIS measurement impedance tables, ...); a definition runs
automatically on a measurement when its type is in the definition's auto_run_for and the
definition's analysis reads that table kind. Types with no table kind (XAS, images, ...) start
no analysis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError

from characterization.analysis import registry
from characterization.analysis.errors import AnalysisError
from characterization.models import MeasurementType

TABLE_KIND_OF_TYPE: dict[str, str] = {
    MeasurementType.CYCLING: "cycling",
    MeasurementType.RATE_TEST: "cycling",
    MeasurementType.EIS: "impedance",
    MeasurementType.PITT: "potential_steps",
    MeasurementType.DEMS: "ion_current",
    MeasurementType.DSC: "thermal",
    MeasurementType.XRD: "diffraction",
    MeasurementType.IN_SITU_XRD: "diffraction",
}


def table_kind_of(measurement_type: str) -> str | None:
    """The table kind a measurement of this type gives (None: no analysis reads its files)."""
    return TABLE_KIND_OF_TYPE.get(measurement_type)


def kind_of(key: str) -> registry.AnalysisKind:
    """The registered analysis kind, or AnalysisError("kind", ...) naming the known ones."""
    return registry.get_kind(key)


def title_of(key: str) -> str:
    """The analysis' title, its key when this code no longer knows it."""
    try:
        return kind_of(key).title
    except AnalysisError:
        return key


def starts_on(definition, measurement_type: str) -> bool:
    """Does an upload to a measurement of this type start the (enabled) definition? A
    definition whose analysis this code does not know starts (its job fails saying why)."""
    if measurement_type not in (definition.auto_run_for or []):
        return False
    try:
        return kind_of(definition.kind).table_kind == table_kind_of(measurement_type)
    except AnalysisError:
        return True


def definition_clean(
    *, kind: str, parameters: Mapping | None, auto_run_for: Iterable[str] | None
) -> tuple[dict, list[str]]:
    """Cleaned (parameters, auto_run_for) of a definition, or ValidationError by field."""
    try:
        analysis = kind_of(kind)
    except AnalysisError as exc:
        raise ValidationError({"kind": [exc.message]}) from None
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ValidationError({"parameters": ["give the parameters as a JSON object"]})
    try:
        cleaned = analysis.clean_parameters(parameters)
    except AnalysisError as exc:
        raise ValidationError({"parameters": [exc.message]}) from None
    types = list(auto_run_for or [])
    unknown = [t for t in types if t not in MeasurementType.values]
    if unknown:
        known = ", ".join(MeasurementType.values)
        raise ValidationError(
            {"auto_run_for": [f"unknown measurement type {unknown[0]!r}; known: {known}"]}
        )
    other = [t for t in types if table_kind_of(t) != analysis.table_kind]
    if other:
        raise ValidationError({"auto_run_for": [_other_table_message(analysis, other[0])]})
    return cleaned, sorted(set(types), key=types.index)


def _other_table_message(analysis: registry.AnalysisKind, measurement_type: str) -> str:
    label = MeasurementType(measurement_type).label
    gives = table_kind_of(measurement_type)
    table = f"{gives.replace('_', ' ')} tables" if gives else "no table an analysis reads"
    reads = analysis.table_kind.replace("_", " ")
    return f"{analysis.title} reads {reads} tables; {label} measurements give {table}"
