"""Recipe step kinds and their typed parameters (pure Python, no Django).

A step's parameters are stored as JSON on ``RecipeStep.parameters``; this module is the one
place that says which parameters each kind takes, their types, units and ranges, so the
recipe form, the admin, the services and the printed sheet agree. ``validate_parameters``
returns clean values or raises ``StepParameterError`` naming the parameter at fault. Physical
quantities take their bounds from the one table of ``lims.quantities`` (``Param.bound``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lims import quantities

ParamType = Literal["float", "int", "text", "choice", "bool"]
ATMOSPHERES = ("air", "O2", "Ar", "N2", "vacuum")


class StepParameterError(ValueError):
    """A step parameter that is missing or invalid; ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Param:
    """One typed parameter: ``name`` carries its unit (``temperature_c``, ``duration_h``)."""

    name: str
    label: str
    type: ParamType = "float"
    unit: str = ""
    required: bool = True
    min_value: float | None = None  # inclusive
    max_value: float | None = None  # inclusive
    positive: bool = False  # strictly > 0
    choices: tuple[str, ...] = ()
    example: str = ""
    fmt: str = ""  # how the value reads on the sheet, e.g. "with {}" or "{} cycles"
    bound: str = ""  # a key of lims.quantities.BOUNDS; it replaces min/max/positive


@dataclass(frozen=True)
class StepKind:
    key: str
    label: str
    params: tuple[Param, ...]
    verb: str  # how the step reads on the bench sheet

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def _duration_h(required: bool = True) -> Param:
    return Param("duration_h", "Duration", unit="h", required=required, bound="duration_h")


def _duration_min(required: bool = True) -> Param:
    return Param("duration_min", "Duration", unit="min", required=required, bound="duration_min")


def _temperature_c(required: bool = True, bound: str = "temperature_c") -> Param:
    return Param("temperature_c", "Temperature", unit="°C", required=required, bound=bound)


def _rpm(required: bool = True) -> Param:
    return Param("rpm", "Speed", "int", "rpm", required=required, bound="rpm")


STEP_KINDS: dict[str, StepKind] = {
    kind.key: kind
    for kind in (
        StepKind(
            "disperse",
            "Disperse",
            (
                Param("medium", "Medium", "text", example="deionised water + ammonia water"),
                Param("volume_ml", "Volume", unit="mL", required=False, bound="reagent_volume_ml"),
            ),
            "Disperse in",
        ),
        StepKind("ultrasonicate", "Ultrasonicate", (_duration_min(),), "Ultrasonicate"),
        StepKind(
            "add_reagent",
            "Add reagent",
            (
                Param("reagent", "Reagent", "text", example="TEOS"),
                Param("mode", "How", "choice", required=False, choices=("dropwise", "at once")),
            ),
            "Add",
        ),
        StepKind("stir", "Stir", (_duration_h(), _rpm(), _temperature_c(required=False)), "Stir"),
        StepKind("centrifuge", "Centrifuge", (_rpm(), _duration_min()), "Centrifuge"),
        StepKind(
            "wash",
            "Wash",
            (
                Param("solvents", "Solvents", "text", example="deionised water, ethanol"),
                Param(
                    "cycles",
                    "Cycles",
                    "int",
                    required=False,
                    positive=True,
                    max_value=50,
                    fmt="{}×",
                ),
            ),
            "Wash with",
        ),
        StepKind(
            "dry",
            "Dry",
            (
                _temperature_c(bound="drying_temperature_c"),
                _duration_h(),
                Param("vacuum", "Under vacuum", "bool", required=False),
            ),
            "Dry",
        ),
        StepKind(
            "mix",
            "Mix",
            (
                Param(
                    "with_reagent",
                    "With",
                    "text",
                    required=False,
                    example="Na2CO3",
                    fmt="with {}",
                ),
                Param("method", "Method", "text", required=False, example="agate mortar"),
                _duration_min(required=False),
            ),
            "Mix",
        ),
        StepKind(
            "calcine",
            "Calcine",
            (
                _temperature_c(bound="calcination_temperature_c"),
                _duration_h(),
                Param("ramp_c_per_min", "Ramp", unit="°C/min", bound="ramp_c_per_min"),
                Param("atmosphere", "Atmosphere", "choice", choices=ATMOSPHERES),
            ),
            "Calcine",
        ),
        StepKind(
            "grind",
            "Grind",
            (Param("method", "Method", "text", required=False), _duration_min(required=False)),
            "Grind",
        ),
        StepKind("other", "Other", (Param("description", "What to do", "text"),), ""),
    )
}
STEP_CHOICES: list[tuple[str, str]] = [(k.key, k.label) for k in STEP_KINDS.values()]


def step_kind(key: str) -> StepKind:
    try:
        return STEP_KINDS[key]
    except KeyError:
        known = ", ".join(STEP_KINDS)
        raise StepParameterError(
            "kind", f"Unknown step kind {key!r}; use one of {known}."
        ) from None


def validate_parameters(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Clean parameters of a step of ``kind``: types checked, units implied by the names.

    Missing optional parameters and empty strings are dropped; unknown names are errors so a
    typo (``temp_c``) never silently disappears.
    """
    spec = step_kind(kind)
    if not isinstance(raw, Mapping):
        raise StepParameterError("parameters", "Step parameters must be a mapping of names.")
    unknown = sorted(set(raw) - {p.name for p in spec.params})
    if unknown:
        allowed = ", ".join(p.name for p in spec.params)
        raise StepParameterError(
            unknown[0], f"{spec.label} has no parameter {unknown[0]!r}; it takes {allowed}."
        )
    clean: dict[str, Any] = {}
    for param in spec.params:
        value = clean_parameter(spec, param, raw.get(param.name))
        if value is not None:
            clean[param.name] = value
    return clean


def clean_parameter(spec: StepKind, param: Param, value: Any) -> Any:
    """One parameter's clean value (None when an optional one is left out)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if param.required:
            raise StepParameterError(param.name, f"{spec.label} needs {_label(param)}.")
        return None
    return _coerce(spec, param, value)


def describe(kind: str, parameters: Mapping[str, Any]) -> str:
    """One line for the bench: 'Calcine 750 °C, 12 h, 5 °C/min, air'."""
    spec = STEP_KINDS.get(kind)
    if spec is None:
        return kind
    parts = []
    for param in spec.params:
        if param.name not in parameters:
            continue
        value = parameters[param.name]
        if param.type == "bool":
            if value:
                parts.append(param.label.lower())
            continue
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(param.fmt.format(text) if param.fmt else f"{text} {param.unit}".strip())
    head = spec.verb or ""
    body = ", ".join(parts)
    return f"{head} {body}".strip() if head else body


def _label(param: Param) -> str:
    unit = f" ({param.unit})" if param.unit else ""
    return f"{param.label.lower()}{unit}"


def _coerce(spec: StepKind, param: Param, value: Any) -> Any:
    what = f"{spec.label} {_label(param)}"
    if param.type == "text":
        return str(value).strip()
    if param.type == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "yes", "1", "on"):
            return True
        if str(value).lower() in ("false", "no", "0", "off"):
            return False
        raise StepParameterError(param.name, f"{what} must be yes or no, got {value!r}.")
    if param.type == "choice":
        if value not in param.choices:
            raise StepParameterError(
                param.name, f"{what} must be one of {', '.join(param.choices)}, got {value!r}."
            )
        return value
    number = _number(param, value, what)
    if param.bound:
        message = quantities.problem(
            param.bound, number, label=f"{spec.label} {param.label.lower()}"
        )
        if message is not None:
            raise StepParameterError(param.name, message)
        return number
    if param.positive and number <= 0:
        raise StepParameterError(param.name, f"{what} must be greater than 0, got {number:g}.")
    if param.min_value is not None and number < param.min_value:
        raise StepParameterError(
            param.name, f"{what} must be at least {param.min_value:g}, got {number:g}."
        )
    if param.max_value is not None and number > param.max_value:
        raise StepParameterError(
            param.name, f"{what} must be at most {param.max_value:g}, got {number:g}."
        )
    return number


def _number(param: Param, value: Any, what: str) -> float | int:
    if isinstance(value, bool):
        raise StepParameterError(param.name, f"{what} must be a number, got {value!r}.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise StepParameterError(param.name, f"{what} must be a number, got {value!r}.") from None
    if not math.isfinite(number):
        raise StepParameterError(param.name, f"{what} must be a finite number.")
    if param.type == "int":
        if number != int(number):
            raise StepParameterError(param.name, f"{what} must be a whole number, got {value!r}.")
        return int(number)
    return number
