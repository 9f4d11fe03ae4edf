"""Physical bounds on every quantity a chemist types in: one row per quantity (no Django).

Forms, services, the sample import, the API and the admin check a typed number against the
same row, so they refuse the same input with the same sentence, naming the field, the problem,
the number and its unit: "disc diameter must be between 1 and 100 mm, got 1,000,000 mm".
Every bound carries the reason a chemist would accept (``why``); the database CheckConstraints
repeat the fixed numbers. ``lims.validators`` adapts the table to Django and DRF.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class QuantityError(ValueError):
    """A typed number outside its physical bounds; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field: [self.message]}


def format_number(value: float) -> str:
    """1000000 -> '1,000,000', 2000 -> '2000', 0.99 -> '0.99', 1e308 -> '1e+308'.

    Thousands are grouped from five digits on, as in print (SI leaves 4-digit numbers whole).
    """
    if value == 0:
        return "0"
    if not math.isfinite(value) or not 1e-4 <= abs(value) < 1e9:
        return f"{value:.4g}"
    return f"{value:,.10g}" if abs(value) >= 10_000 else f"{value:.10g}"


@dataclass(frozen=True)
class Bound:
    """The allowed range of one quantity in its unit, and why."""

    label: str
    unit: str
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    why: str = ""
    #: a value in (0, 1] is probably a fraction typed into a percent field (purity)
    fraction_hint: bool = False
    #: what to check when a value is above the maximum (usually the unit)
    above_hint: str = ""

    def with_unit(self, value: float) -> str:
        return f"{format_number(value)} {self.unit}".rstrip()

    def range_text(self) -> str:
        """'between 1 and 100 mm', 'greater than 0 % and at most 100 %', 'at least -273.15 °C'."""
        low, high = self.min, self.max
        if low is not None and high is not None and self.min_inclusive and self.max_inclusive:
            return f"between {format_number(low)} and {self.with_unit(high)}"
        parts = []
        if low is not None:
            word = "at least" if self.min_inclusive else "greater than"
            parts.append(f"{word} {self.with_unit(low)}")
        if high is not None:
            word = "at most" if self.max_inclusive else "less than"
            parts.append(f"{word} {self.with_unit(high)}")
        return " and ".join(parts)

    def contains(self, value: float) -> bool:
        low, high = self.min, self.max
        above = low is None or value > low or (value == low and self.min_inclusive)
        below = high is None or value < high or (value == high and self.max_inclusive)
        return above and below

    def problem(self, value: object, *, label: str | None = None) -> str | None:
        """The sentence refusing ``value``, or None when it is within bounds."""
        label = label or self.label
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{label} must be a number, got {value!r}"
        if not math.isfinite(value):
            return f"{label} must be a finite number, got {value}"
        if self.fraction_hint and 0 < value <= 1:
            return (
                f"{format_number(value)} looks like a fraction: {label} is in percent, "
                f"enter {format_number(value * 100)}"
            )
        if self.contains(value):
            return None
        too_big = self.above_hint and self.max is not None and value > self.max
        hint = f"; {self.above_hint}" if too_big else ""
        return f"{label} must be {self.range_text()}, got {self.with_unit(value)}{hint}"


_ABSOLUTE_ZERO_C = -273.15
_FURNACE_MAX_C = 2000.0
_SLIP = "is a unit slip"

BOUNDS: dict[str, Bound] = {
    # --- electrodes and coin cells ------------------------------------------------------------
    "disc_diameter_mm": Bound(
        "disc diameter", "mm", 1, 100,
        why="coin-cell discs are punched at 8–19 mm; under 1 mm or over 10 cm " + _SLIP,
    ),
    "disc_mass_mg": Bound(
        "disc mass", "mg", 0, 1000, min_inclusive=False,
        why="a punched disc weighs a few to tens of mg; over 1 g is grams typed as mg",
        above_hint="check the unit (milligrams)",
    ),
    "foil_disc_mass_mg": Bound(
        "bare foil disc mass", "mg", 0, 1000, min_inclusive=False,
        why="a bare foil disc weighs a few mg; over 1 g is grams typed as mg",
        above_hint="check the unit (milligrams)",
    ),
    "active_fraction": Bound(
        "active fraction", "", 0, 1, min_inclusive=False,
        why="a fraction of the coating mass: 0.8 for 80 %",
    ),
    "one_c_ma_per_g": Bound(
        "1C specific current", "mA/g", 0, 4000, min_inclusive=False,
        why="1C in mA/g is the specific capacity; none exceeds lithium metal's 3860 mAh/g",
    ),
    "c_rate": Bound(
        "C-rate", "C", 0, 100, min_inclusive=False,
        why="100C is a 36 s charge; faster is not a galvanostatic test",
    ),
    "current_ma": Bound(
        "current", "mA", -1000, 1000,
        why="a coin cell carries µA to tens of mA; 1 A is amperes typed as mA",
    ),
    "cell_voltage_v": Bound(
        "cell voltage", "V", -5, 10,
        why="no lithium cell leaves −5…10 V; electrolytes decompose above about 6 V",
    ),
    "electrolyte_volume_ul": Bound(
        "electrolyte volume", "µL", 0, 1000, min_inclusive=False,
        why="a coin cell takes 20–150 µL; a dry cell is no cell and 1 mL overflows the can",
    ),
    "glovebox_o2_ppm": Bound(
        "glove-box O2", "ppm", 0, 1000,
        why="an argon box runs below 1 ppm; above 0.1 % it is not inert, so the reading "
        + _SLIP,
    ),
    "glovebox_h2o_ppm": Bound(
        "glove-box H2O", "ppm", 0, 1000,
        why="an argon box runs below 1 ppm; above 0.1 % it is not inert, so the reading "
        + _SLIP,
    ),
    "slurry_active_mass_g": Bound(
        "active material used", "g", 0, 1000, min_inclusive=False,
        why="a lab slurry takes grams of powder; a kilogram is a pilot line",
    ),
    "ratio_percent": Bound(
        "slurry part", "mass %", 0, 100, why="a part of a mass ratio that sums to 100 %"
    ),
    "solid_content_percent": Bound(
        "solid content", "mass %", 0, 100, min_inclusive=False, max_inclusive=False,
        why="a slurry is neither pure solvent nor pure solid",
    ),
    "casting_thickness_um": Bound(
        "casting thickness", "µm", 0, 5000, min_inclusive=False,
        why="blade gaps are 50–500 µm; 5 mm is not an electrode",
    ),
    "collector_thickness_um": Bound(
        "collector thickness", "µm", 0, 1000, min_inclusive=False,
        why="current-collector foils are 10–20 µm; 1 mm is a plate",
    ),
    "particle_d50_um": Bound(
        "particle size D50", "µm", 0, 200, min_inclusive=False,
        why="cathode powders are 0.1–30 µm; 200 µm is a sieve fraction, not a powder",
    ),
    "drying_temperature_c": Bound(
        "drying temperature", "°C", -100, 500,
        why="from freeze-drying (about −80 °C) to a drying oven; hotter is calcination",
    ),
    "duration_h": Bound(
        "duration", "h", 0, 1000, min_inclusive=False,
        why="a step takes time, and 1000 h (six weeks) is longer than any lab step",
    ),
    "duration_min": Bound(
        "duration", "min", 0, 60_000, min_inclusive=False,
        why="a step takes time, and 60,000 min (six weeks) is longer than any lab step",
    ),
    # --- measurements -------------------------------------------------------------------------
    "temperature_c": Bound(
        "temperature", "°C", _ABSOLUTE_ZERO_C, _FURNACE_MAX_C,
        why="nothing is colder than absolute zero; 2000 °C is beyond any lab furnace",
    ),
    "sample_mass_mg": Bound(
        "sample mass", "mg", 0, 1000, min_inclusive=False,
        why="a DSC or TGA pan holds 1–50 mg; a gram does not fit in one",
    ),
    # --- synthesis ----------------------------------------------------------------------------
    "purity_percent": Bound(
        "purity", "%", 0, 100, min_inclusive=False, fraction_hint=True,
        why="an assay is a percentage of the weighed mass; 0.99 is a fraction in a % field",
    ),
    "density_g_per_ml": Bound(
        "density", "g/mL", 0, 25, min_inclusive=False,
        why="osmium, the densest element, is 22.6 g/mL",
    ),
    "batch_mass_g": Bound(
        "batch mass", "g", 0, 10_000, min_inclusive=False,
        why="no bench batch is larger than 10 kg; more is milligrams typed as grams",
        above_hint="check the unit (grams) or split it into a series",
    ),
    "coating_wt_percent": Bound(
        "coating", "wt%", 0, 100, min_inclusive=False, max_inclusive=False,
        why="0 wt% is no coating and 100 wt% is all coating",
    ),
    "calcination_temperature_c": Bound(
        "calcination temperature", "°C", 100, _FURNACE_MAX_C,
        why="calcination fires above 100 °C (below, it is drying); 2000 °C is beyond any lab "
        "furnace",
    ),
    "ramp_c_per_min": Bound(
        "ramp", "°C/min", 0, 100, min_inclusive=False,
        why="furnaces ramp at 1–20 °C/min; 100 °C/min is a flash anneal",
    ),
    "rpm": Bound(
        "speed", "rpm", 0, 100_000, min_inclusive=False,
        why="stirrers and centrifuges run up to tens of thousands of rpm",
    ),
    "reagent_mass_g": Bound(
        "mass", "g", 0, 100_000, min_inclusive=False,
        why="no reagent of a batch of at most 10 kg weighs 100 kg",
    ),
    "reagent_volume_ml": Bound(
        "volume", "mL", 0, 100_000, min_inclusive=False,
        why="no liquid of a batch of at most 10 kg fills 100 L",
    ),
    "lot_amount_g": Bound(
        "amount", "g", 0, 100_000, why="a lab bottle or drum holds at most 100 kg"
    ),
    "lot_amount_ml": Bound(
        "amount", "mL", 0, 100_000, why="a lab bottle or drum holds at most 100 L"
    ),
    "yield_mass_g": Bound(
        "yield", "g", 0, 10_000, min_inclusive=False,
        why="a batch is at most 10 kg; the batch's own theoretical yield is checked too",
    ),
    "powder_amount_g": Bound(
        "powder amount", "g", 0, 10_000,
        why="a powder on the shelf is at most a 10 kg batch; more is milligrams typed as grams",
    ),
    "stock_correction_g": Bound(
        "stock correction", "g", -10_000, 10_000,
        why="a correction moves a powder's stock by at most a whole 10 kg batch",
    ),
    "tolerance_percent": Bound(
        "deviation tolerance", "%", 0, 100, min_inclusive=False,
        why="a weighing within ±100 % of the plan is no check at all",
    ),
    "excess_percent": Bound(
        "excess", "%", 0, 100, why="more than doubling an element is another recipe, not excess"
    ),
    # --- refinements --------------------------------------------------------------------------
    "lattice_a_angstrom": Bound(
        "lattice parameter a", "Å", 1, 50,
        why="no refined cell edge is shorter than a bond (1 Å) or longer than 50 Å in an oxide",
    ),
    "lattice_c_angstrom": Bound(
        "lattice parameter c", "Å", 1, 50,
        why="no refined cell edge is shorter than a bond (1 Å) or longer than 50 Å in an oxide",
    ),
    "cell_volume_angstrom3": Bound(
        "cell volume", "Å³", 0, 125_000, min_inclusive=False,
        why="(50 Å)³ holds any cell whose edges pass the lattice bounds",
    ),
    "z_oxygen": Bound(
        "oxygen z", "", 0, 0.5, min_inclusive=False, max_inclusive=False,
        why="the 6c oxygen of R-3m lies strictly between 0 and 1/2",
    ),
    "rwp_percent": Bound("Rwp", "%", 0, 100, why="a weighted residual is a percentage"),
    "occupancy": Bound("occupancy", "", 0, 1, why="a site is empty (0) to full (1)"),
}  # fmt: skip


def bound(key: str) -> Bound:
    try:
        return BOUNDS[key]
    except KeyError:
        raise KeyError(f"no bound for {key!r}; add a row to lims.quantities.BOUNDS") from None


def problem(key: str, value: object, *, label: str | None = None) -> str | None:
    """Why ``value`` is refused as quantity ``key``, or None."""
    return bound(key).problem(value, label=label)


def check(key: str, value: object, *, field: str | None = None, label: str | None = None):
    """``value`` as a float, or QuantityError on ``field`` (default: the key)."""
    message = problem(key, value, label=label)
    if message is not None:
        raise QuantityError(field or key, message)
    return float(value)  # type: ignore[arg-type]


Check = tuple[str, str, object] | tuple[str, str, object, str]


def problems(checks: Iterable[Check]) -> dict[str, str]:
    """{field: message} for each (field, key, value[, label]) out of bounds; None is skipped."""
    found: dict[str, str] = {}
    for field, key, value, *label in checks:
        if value is None:
            continue
        message = problem(key, value, label=label[0] if label else None)
        if message is not None:
            found.setdefault(field, message)
    return found


def window_problems(
    low: object, high: object, *, fields: tuple[str, str] = ("voltage_min_v", "voltage_max_v")
) -> dict[str, str]:
    """Both ends of a voltage window within bounds, and the upper above the lower."""
    found = problems(
        [
            (fields[0], "cell_voltage_v", low, "lower voltage"),
            (fields[1], "cell_voltage_v", high, "upper voltage"),
        ]
    )
    if found or low is None or high is None:
        return found
    low_v, high_v = float(low), float(high)  # type: ignore[arg-type]
    if high_v <= low_v:
        found[fields[1]] = (
            "the upper voltage must be above the lower one, got "
            f"{format_number(low_v)} V to {format_number(high_v)} V"
        )
    return found


#: measurement conditions Kiln knows: key -> the form field its errors go to
CONDITION_FIELDS = {
    "temperature_c": "temperature_c",
    "voltage_window_v": "voltage_max_v",
    "c_rates": "c_rates",
    "current_ma": "current_ma",
    "sample_mass_mg": "sample_mass_mg",
}


def condition_problems(conditions: Mapping[str, object]) -> dict[str, str]:
    """Bounds of the known measurement conditions (temperature, voltage window, C-rates,
    current, sample mass); other keys are free text and pass."""
    found: dict[str, str] = {}
    if "temperature_c" in conditions:
        found |= problems([("temperature_c", "temperature_c", conditions["temperature_c"])])
    if "current_ma" in conditions:
        found |= problems([("current_ma", "current_ma", conditions["current_ma"])])
    if "sample_mass_mg" in conditions:
        found |= problems([("sample_mass_mg", "sample_mass_mg", conditions["sample_mass_mg"])])
    window = conditions.get("voltage_window_v")
    if window is not None:
        if not isinstance(window, list | tuple) or len(window) != 2:
            found["voltage_max_v"] = "the voltage window is two numbers, lower and upper (V)"
        else:
            found |= window_problems(*window)
    rates = conditions.get("c_rates")
    if rates is not None:
        if not isinstance(rates, list | tuple):
            found["c_rates"] = "the C-rates are a list of numbers, e.g. 0.05, 0.1, 0.2"
        else:
            found |= problems(("c_rates", "c_rate", rate) for rate in rates)
    return found
