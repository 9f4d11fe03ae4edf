"""The bounds table (lims.quantities) as Django and DRF validators, and as service errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.deconstruct import deconstructible

from lims import quantities


@deconstructible
class QuantityValidator:
    """A field validator for quantity ``key`` (model fields, form fields, serializer fields).

    ``None`` passes: whether a value is required is the field's business.
    """

    def __init__(self, key: str, label: str | None = None) -> None:
        quantities.bound(key)  # fail at import time on a typo, not at the first save
        self.key = key
        self.label = label

    def __call__(self, value) -> None:
        if value is None:
            return
        message = quantities.problem(self.key, value, label=self.label)
        if message is not None:
            raise ValidationError(message, code="bounds")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuantityValidator) and (self.key, self.label) == (
            other.key,
            other.label,
        )

    def __hash__(self) -> int:
        return hash((self.key, self.label))


def bounded(key: str, label: str | None = None) -> QuantityValidator:
    """A validator of quantity ``key``, its messages naming ``label`` (default: the table's)."""
    return QuantityValidator(key) if label is None else QuantityValidator(key, label)


def validate_conditions(value) -> None:
    """Model validator of Measurement.conditions: the known conditions within bounds."""
    if isinstance(value, Mapping):
        found = quantities.condition_problems(value)
        if found:
            raise ValidationError(list(found.values()), code="bounds")


def validate_drying_steps(value) -> None:
    """Model validator of Electrode.drying_steps: each step's temperature and time in bounds."""
    if not isinstance(value, list):
        raise ValidationError("drying steps are a list of {temperature_c, duration_h, vacuum}")
    checks = []
    for index, step in enumerate(value):
        if isinstance(step, Mapping):
            which = f"drying step {index + 1}"
            checks += [
                (
                    f"{index}t",
                    "drying_temperature_c",
                    step.get("temperature_c"),
                    f"{which}: the temperature",
                ),
                (f"{index}h", "duration_h", step.get("duration_h"), f"{which}: the time"),
            ]
    found = quantities.problems(checks)
    if found:
        raise ValidationError(list(found.values()), code="bounds")


def raise_problems(checks: Iterable[quantities.Check]) -> None:
    """ValidationError keyed by field for every (field, key, value[, label]) out of bounds."""
    found = quantities.problems(checks)
    if found:
        raise ValidationError({field: [message] for field, message in found.items()})


def check_form_fields(form, checks: Iterable[quantities.Check]) -> None:
    """Add the bound problems of a form's cleaned values to its fields."""
    for field, message in quantities.problems(checks).items():
        form.add_error(field if field in form.fields else None, message)


def bound_q(field: str, key: str, *, null: bool = True) -> Q:
    """A CheckConstraint condition holding ``field`` within the bounds of ``key``."""
    b = quantities.bound(key)
    condition = Q()
    if b.min is not None:
        condition &= Q(**{f"{field}__{'gte' if b.min_inclusive else 'gt'}": b.min})
    if b.max is not None:
        condition &= Q(**{f"{field}__{'lte' if b.max_inclusive else 'lt'}": b.max})
    return Q(**{f"{field}__isnull": True}) | condition if null else condition
