"""Electrode disc and slurry arithmetic (DOMAIN.md section 2).

Disc: area A = π (d/2)² with d in cm; active mass m = (disc mass − bare foil disc mass) × active
fraction; areal loading = m / A; current at rate x: I = x × (1C specific current) × m in g, with
the lab's 1C = 250 mA g⁻¹ of active material.

Slurry: active : carbon black : binder = ratio by mass (80 : 10 : 10 by default); solid content
is solids / (solids + solvent) by mass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from characterization.analysis._checks import non_negative, number, positive
from characterization.analysis.errors import AnalysisError

LAB_ONE_C_MA_PER_G = 250.0
PROTOCOL_C_RATES: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)


def c_rate_label(rate: float) -> str:
    """Format a C-rate without trailing zeros: 0.05 -> "0.05", 1.0 -> "1", 10 -> "10"."""
    text = f"{float(rate):.10f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True)
class DiscMetrics:
    """Area, active mass, areal loading and the current for each C-rate of one disc."""

    disc_area_cm2: float
    active_mass_mg: float
    areal_loading_mg_per_cm2: float
    current_ma: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        return {
            "disc_area_cm2": self.disc_area_cm2,
            "active_mass_mg": self.active_mass_mg,
            "areal_loading_mg_per_cm2": self.areal_loading_mg_per_cm2,
            "current_ma": dict(self.current_ma),
        }


def disc_metrics(
    *,
    disc_diameter_mm: float,
    disc_mass_mg: float,
    foil_disc_mass_mg: float,
    active_fraction: float,
    one_c_ma_per_g: float = LAB_ONE_C_MA_PER_G,
    c_rates: Sequence[float] = PROTOCOL_C_RATES,
) -> DiscMetrics:
    """Disc metrics from the punched disc, its bare foil disc and the active fraction.

    area_cm2 = π (disc_diameter_mm / 20)²;
    active_mass_mg = (disc_mass_mg − foil_disc_mass_mg) × active_fraction;
    loading_mg_per_cm2 = active_mass_mg / area_cm2;
    current_ma[x] = x × one_c_ma_per_g × active_mass_mg / 1000.
    """
    diameter_mm = positive(
        disc_diameter_mm, field="disc_diameter_mm", label="disc diameter", unit="mm"
    )
    disc_mg = positive(disc_mass_mg, field="disc_mass_mg", label="disc mass", unit="mg")
    foil_mg = positive(
        foil_disc_mass_mg, field="foil_disc_mass_mg", label="bare foil disc mass", unit="mg"
    )
    fraction = number(active_fraction, field="active_fraction", label="active fraction")
    if not 0 < fraction <= 1:
        raise AnalysisError(
            "active_fraction", f"active fraction must be in (0, 1], got {fraction:g}"
        )
    one_c = positive(one_c_ma_per_g, field="one_c_ma_per_g", label="1C current", unit="mA/g")
    if disc_mg <= foil_mg:
        raise AnalysisError(
            "disc_mass_mg",
            f"disc mass ({disc_mg:g} mg) must be greater than the bare foil disc mass "
            f"({foil_mg:g} mg): the disc carries no coating",
        )
    area_cm2 = math.pi * (diameter_mm / 20.0) ** 2
    active_mg = (disc_mg - foil_mg) * fraction
    return DiscMetrics(
        disc_area_cm2=area_cm2,
        active_mass_mg=active_mg,
        areal_loading_mg_per_cm2=active_mg / area_cm2,
        current_ma=_currents_ma(c_rates, one_c_ma_per_g=one_c, active_mass_mg=active_mg),
    )


def _currents_ma(
    c_rates: Sequence[float], *, one_c_ma_per_g: float, active_mass_mg: float
) -> dict[str, float]:
    """I = x × one_c_ma_per_g × active mass in g, keyed by the rate label."""
    rates = _as_list(c_rates, field="c_rates", message="C-rates must be a list of numbers")
    currents: dict[str, float] = {}
    for index, raw in enumerate(rates):
        rate = positive(raw, field=f"c_rates[{index}]", label="C-rate")
        label = c_rate_label(rate)
        if label in currents:
            raise AnalysisError(f"c_rates[{index}]", f"C-rate {label} is listed twice")
        currents[label] = rate * one_c_ma_per_g * active_mass_mg / 1000.0
    return currents


@dataclass(frozen=True)
class SlurryQuantities:
    """Masses (g) to weigh for a slurry built around a given mass of active material."""

    active_mass_g: float
    carbon_mass_g: float
    binder_mass_g: float
    solids_mass_g: float
    solvent_mass_g: float

    def to_dict(self) -> dict[str, float]:
        return {
            "active_mass_g": self.active_mass_g,
            "carbon_mass_g": self.carbon_mass_g,
            "binder_mass_g": self.binder_mass_g,
            "solids_mass_g": self.solids_mass_g,
            "solvent_mass_g": self.solvent_mass_g,
        }


def slurry_quantities(
    *,
    active_mass_g: float,
    ratio: Sequence[float] = (80, 10, 10),
    solid_content_percent: float,
) -> SlurryQuantities:
    """Carbon, binder and solvent (NMP) masses for ``active_mass_g`` of active material.

    ratio = (active, carbon, binder) in mass % summing to 100;
    solids_g = active_mass_g × 100 / ratio[0]; carbon_g = solids_g × ratio[1] / 100;
    binder_g = solids_g × ratio[2] / 100;
    solvent_g = solids_g × (100 − solid_content_percent) / solid_content_percent.
    """
    active_g = positive(
        active_mass_g, field="active_mass_g", label="active material mass", unit="g"
    )
    parts = _slurry_ratio(ratio)
    solid_pct = number(solid_content_percent, field="solid_content_percent", label="solid content")
    if not 0 < solid_pct < 100:
        raise AnalysisError(
            "solid_content_percent", f"solid content must be between 0 and 100 %, got {solid_pct:g}"
        )
    solids_g = active_g * 100.0 / parts[0]
    return SlurryQuantities(
        active_mass_g=active_g,
        carbon_mass_g=solids_g * parts[1] / 100.0,
        binder_mass_g=solids_g * parts[2] / 100.0,
        solids_mass_g=solids_g,
        solvent_mass_g=solids_g * (100.0 - solid_pct) / solid_pct,
    )


def _slurry_ratio(ratio: Sequence[float]) -> tuple[float, float, float]:
    """Check an (active, carbon, binder) mass ratio in % that sums to 100 (±0.01)."""
    message = "ratio must give three parts: active, carbon, binder"
    values = _as_list(ratio, field="ratio", message=message)
    if len(values) != 3:
        raise AnalysisError("ratio", message)
    names = ("active material", "carbon", "binder")
    parts = tuple(
        non_negative(part, field="ratio", label=f"{name} part of the ratio")
        for part, name in zip(values, names, strict=True)
    )
    if parts[0] <= 0:
        raise AnalysisError("ratio", "active material part of the ratio must be > 0")
    total = sum(parts)
    if abs(total - 100.0) > 0.01:
        raise AnalysisError("ratio", f"ratio parts must sum to 100, they sum to {total:g}")
    return parts  # type: ignore[return-value]


def _as_list(values: object, *, field: str, message: str) -> list[object]:
    """A list from any sequence or array of numbers (not a string or a mapping)."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise AnalysisError(field, message)
    return list(values)
