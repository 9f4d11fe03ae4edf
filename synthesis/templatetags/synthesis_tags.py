"""Template filters: quantities as a chemist reads them (mg and µL below 1 g / 1 mL, 4
significant digits) and form widgets marked invalid for Pico."""

from __future__ import annotations

from django import template

register = template.Library()

SIGNIFICANT = 4


def sig(value: float, digits: int = SIGNIFICANT, *, zeros: bool = True) -> str:
    """4 significant digits without exponent for bench-sized numbers (0.01746 → '0.01746')."""
    if value == 0:
        return "0"
    # '#' keeps trailing zeros on quantities: 1.500 g says 'weigh to the milligram'.
    text = f"{value:#.{digits}g}" if zeros else f"{value:.{digits}g}"
    if "e" in text:
        exponent = int(text.split("e")[1])
        decimals = max(0, digits - 1 - exponent)
        text = f"{value:.{decimals}f}"
    return text.rstrip(".")


def _scaled(value, units: tuple[tuple[float, str], ...]) -> str:
    if value is None or value == "":
        return "—"
    value = float(value)
    for factor, unit in units:
        if abs(value) >= factor or factor == units[-1][0]:
            return f"{sig(value / factor)} {unit}"
    return ""  # unreachable


@register.filter
def mass(value_g) -> str:
    """1.234 g, 17.42 mg, 850.0 µg."""
    return _scaled(value_g, ((1.0, "g"), (1e-3, "mg"), (1e-6, "µg")))


@register.filter
def volume(value_ml) -> str:
    """50.00 mL, 18.67 µL."""
    return _scaled(value_ml, ((1.0, "mL"), (1e-3, "µL")))


@register.filter
def amount(value_mol) -> str:
    """0.1234 mol, 81.93 µmol."""
    return _scaled(value_mol, ((1.0, "mol"), (1e-3, "mmol"), (1e-6, "µmol"), (1e-9, "nmol")))


@register.filter
def quantity(value, unit: str) -> str:
    """A value in g or mL, scaled: used where the unit is data (lots, weighing lists)."""
    return volume(value) if unit == "mL" else mass(value)


@register.filter
def molar(value) -> str:
    return "—" if value is None else f"{float(value):.2f} g/mol"


@register.filter
def num(value, digits: int = SIGNIFICANT) -> str:
    return "—" if value is None or value == "" else sig(float(value), int(digits), zeros=False)


@register.filter
def signed_percent(value) -> str:
    return "—" if value is None else f"{float(value):+.1f} %"


@register.filter
def widget(bound_field):
    """The field's widget, marked aria-invalid when it has errors (Pico colours it)."""
    attrs = {"aria-label": bound_field.label}
    if bound_field.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{bound_field.auto_id}-error"
    return bound_field.as_widget(attrs=attrs)


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
