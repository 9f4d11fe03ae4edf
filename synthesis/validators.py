"""Field validators shared by models, forms and the admin (so all three refuse the same input)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from lims.validators import QuantityValidator
from synthesis.chemistry import ChemistryError, parse_formula

_CAS = re.compile(r"^(\d{2,7})-(\d{2})-(\d)$")


def validate_formula(value: str) -> None:
    """A formula the chemistry engine can weigh (hydrate dots, brackets, fractional counts)."""
    try:
        parse_formula(value)
    except ChemistryError as err:
        raise ValidationError(err.message, code="formula") from None


def normalise_formula(value: str) -> str:
    """The engine's spelling: '·' for every hydrate dot, ASCII digits."""
    return parse_formula(value).text


def cas_check_digit(body: str) -> int:
    """CAS check digit: Σ digit × position counted from the right (1-based), mod 10."""
    digits = body.replace("-", "")
    return sum(int(d) * i for i, d in enumerate(reversed(digits), start=1)) % 10


def validate_cas_number(value: str) -> None:
    """NNNNNNN-NN-N with a correct check digit (e.g. TEOS 78-10-4)."""
    match = _CAS.match(value.strip())
    if match is None:
        raise ValidationError(
            f"{value!r} is not a CAS number; write it as digits-NN-N, e.g. 78-10-4.", code="cas"
        )
    expected = cas_check_digit(match.group(1) + match.group(2))
    if expected != int(match.group(3)):
        raise ValidationError(
            f"{value} has a wrong check digit (expected {expected}); check for a typo.",
            code="cas",
        )


def validate_purity_percent(value: float | None) -> None:
    """Purity is a percentage of the weighed mass: 0 % < purity ≤ 100 %, and a value ≤ 1 is
    refused as a probable fraction (lims.quantities, 'purity_percent')."""
    QuantityValidator("purity_percent")(value)


def validate_density_g_per_ml(value: float | None) -> None:
    """0 < density ≤ 25 g/mL (osmium, the densest element, is 22.6 g/mL)."""
    QuantityValidator("density_g_per_ml")(value)


def validate_positive(value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValidationError(f"Must be greater than 0, got {value:g}.", code="positive")


def validate_not_negative(value: float | None) -> None:
    if value is not None and value < 0:
        raise ValidationError(f"Cannot be negative, got {value:g}.", code="negative")


def validate_wt_percent(value: float | None) -> None:
    """A coating wt%: 0 < wt% < 100 (0 is no coating, 100 would be all coating)."""
    QuantityValidator("coating_wt_percent")(value)
