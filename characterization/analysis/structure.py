"""Layered (R-3m, α-NaFeO2-type) geometry from Rietveld results (DOMAIN.md section 3).

The oxygen z on 6c (0, 0, z) depends on the origin setting:

* transition metal at 3a (0, 0, 0), Li at 3b (0, 0, 1/2): z_ox ≈ 0.258. Along c the oxygen
  layers sit at ±z + n/3, so the TM at z = 1/3 lies between O at z and 2/3 − z:
  S(MO2) = (2/3 − 2z)·c = 2(1/3 − z)·c, and the Li at 1/2 lies between O at 2/3 − z and
  1/3 + z: I(LiO2) = (2z − 1/3)·c = c/3 − S(MO2).
* Li at the origin: every atom moves by 1/2 along c, so z_Li = 1/2 − z_TM (≈ 0.242; O at
  ±z are the same set of sites). The same expression 2(1/3 − z)·c now gives the Li layer, and
  S(MO2) = c/3 − 2(1/3 − z)·c = (2z − 1/3)·c.

Both settings therefore give identical slabs for one structure. The hexagonal cell volume is
V = (√3/2)·a²·c.

Bond lengths: O at (0, 0, z_TM) has three TM neighbours at (2/3, 1/3, 1/3) and three Li at
(1/3, 2/3, 1/6), each a/√3 away in the plane, so
TM–O = √(a²/3 + ((1/3 − z_TM)·c)²) and Li–O = √(a²/3 + ((z_TM − 1/6)·c)²); with Li at the
origin z_TM = 1/2 − z, which swaps the roles of the two expressions in z.

Refined numbers are read with their estimated standard deviations: ``2.8589(1)`` is
2.8589 ± 0.0001, ``14.2561(12)`` is 14.2561 ± 0.0012. The entered V is compared with
(√3/2)·a²·c within k = 3 combined standard deviations,
σ = √(σ_V,calc² + σ_V,entered²) with σ_V,calc / V = √((2σ_a/a)² + (σ_c/c)²); a number typed
without an esd counts half a unit of its last digit as its σ (2.86 -> 0.005).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from characterization.analysis._checks import number, positive
from characterization.analysis.errors import AnalysisError

Origin = Literal["transition_metal", "lithium"]
ORIGINS: tuple[str, ...] = ("transition_metal", "lithium")

#: z_ox = 1/4 makes the TM slab and the Li interslab equally thick (both c/6); real layered
#: oxides have z_ox > 1/4 with the TM at the origin and z_ox < 1/4 with Li at the origin.
Z_SETTING_BOUNDARY = 0.25
#: the entered V may differ from (√3/2)·a²·c by this many combined standard deviations
VOLUME_CHECK_K = 3.0
#: relative floor of σ so float noise in a computed V never raises a warning
_FLOAT_NOISE = 1e-9
_NUMBER = re.compile(
    r"^(?P<sign>[+-]?)(?P<int>\d*)(?:[.,](?P<frac>\d*))?"
    r"(?:\((?P<esd>\d+)\))?(?:[eE](?P<exp>[+-]?\d+))?$"
)
_PLUS_MINUS = re.compile(r"\s*(?:±|\+/-|\+-)\s*")


@dataclass(frozen=True)
class Reading:
    """A refined number as typed: its value, its esd when given (2.8589(1) -> 0.0001) and the
    rounding of its last typed digit (half a unit: 2.86 -> 0.005)."""

    value: float
    esd: float | None = None
    rounding: float = 0.0

    @property
    def sigma(self) -> float:
        """The esd, else the rounding of the typed digits."""
        return self.esd if self.esd is not None else self.rounding

    def __str__(self) -> str:
        return format_with_esd(self.value, self.esd)


def format_with_esd(value: float, esd: float | None) -> str:
    """2.8589 and 0.0001 -> '2.8589(1)'; 14.2561 and 0.0012 -> '14.2561(12)'; no esd -> '2.86'.

    The esd is written in units of the last digit: the fewest decimals that make it whole.
    """
    if not esd or esd <= 0 or not math.isfinite(esd):
        return f"{value:.10g}"
    for decimals in range(12):
        digits = esd * 10**decimals
        if 1 <= round(digits) <= 999 and abs(digits - round(digits)) < 1e-6 * digits:
            return f"{value:.{decimals}f}({round(digits)})"
    decimals = max(0, 1 - math.floor(math.log10(esd)))  # many digits: two significant
    return f"{value:.{decimals}f}({round(esd * 10**decimals)})"


def parse_reading(text: str, *, field: str, label: str) -> Reading:
    """'2.8589(1)', '100.911(3)', '2.8589 ± 0.0001', '2.86' or '1.2e-3' -> Reading."""
    cleaned = text.strip().replace("−", "-")
    parts = _PLUS_MINUS.split(cleaned)
    if len(parts) == 2:
        base = parse_reading(parts[0], field=field, label=label)
        esd = parse_reading(parts[1], field=field, label=f"the esd of {label}").value
        if base.esd is not None or not esd > 0:
            raise AnalysisError(field, f"{label}: give one esd greater than 0, got {text!r}")
        return Reading(base.value, esd, base.rounding)
    match = _NUMBER.match(cleaned)
    if match is None or not (match["int"] or match["frac"]):
        raise AnalysisError(
            field, f"{label} must be a number such as 2.8589 or 2.8589(1), got {text!r}"
        )
    exponent = int(match["exp"] or 0)
    unit = 10.0 ** (exponent - len(match["frac"] or ""))
    value = float(f"{match['sign']}{match['int'] or 0}.{match['frac'] or 0}e{exponent}")
    if match["esd"] is not None and int(match["esd"]) == 0:
        raise AnalysisError(field, f"{label}: an esd of (0) says nothing; leave it out")
    esd = int(match["esd"]) * unit if match["esd"] is not None else None
    return Reading(value, esd, 0.5 * unit)


def reading_of(value: object, *, field: str, label: str) -> Reading:
    """A Reading from a Reading, a typed text, or a number (whose shortest decimal form, as
    Python writes it, stands for the typed digits: 2.86 -> rounding 0.005)."""
    if isinstance(value, Reading):
        number(value.value, field=field, label=label)
        return value
    if isinstance(value, str):
        return parse_reading(value, field=field, label=label)
    result = number(value, field=field, label=label)
    text = str(int(result)) if isinstance(value, int) else repr(result)
    return parse_reading(text, field=field, label=label)


def z_oxygen_other_setting(z_oxygen: float) -> float:
    """The same oxygen position in the other origin setting: z' = 1/2 − z."""
    return 0.5 - z_oxygen


def hexagonal_cell_volume_angstrom3(*, a_angstrom: float, c_angstrom: float) -> float:
    """V = (√3/2)·a²·c for a hexagonal cell (Å³)."""
    return math.sqrt(3.0) / 2.0 * a_angstrom**2 * c_angstrom


def bond_lengths_angstrom(
    *, a_angstrom: float, c_angstrom: float, z_oxygen: float, origin: Origin
) -> tuple[float, float]:
    """(TM–O, Li–O) in Å: z_TM = z (TM at the origin) or 1/2 − z (Li at the origin);
    TM–O = √(a²/3 + ((1/3 − z_TM)·c)²), Li–O = √(a²/3 + ((z_TM − 1/6)·c)²)."""
    z_tm = z_oxygen if origin == "transition_metal" else z_oxygen_other_setting(z_oxygen)
    in_plane = a_angstrom**2 / 3.0
    tm_o = math.sqrt(in_plane + ((1.0 / 3.0 - z_tm) * c_angstrom) ** 2)
    li_o = math.sqrt(in_plane + ((z_tm - 1.0 / 6.0) * c_angstrom) ** 2)
    return tm_o, li_o


def volume_sigma_angstrom3(*, a: Reading, c: Reading, volume_angstrom3: float) -> float:
    """σ_V = V·√((2σ_a/a)² + (σ_c/c)²) for V = (√3/2)·a²·c."""
    return volume_angstrom3 * math.hypot(2.0 * a.sigma / a.value, c.sigma / c.value)


@dataclass(frozen=True)
class LayeredMetrics:
    """TM slab, Li interslab, cell volume and bond lengths, with warnings about suspicious
    inputs. ``to_dict`` gives the contract keys of POST /api/v1/structure/layered-metrics."""

    slab_thickness_angstrom: float
    interslab_spacing_angstrom: float
    cell_volume_angstrom3: float
    tm_o_bond_angstrom: float = math.nan
    li_o_bond_angstrom: float = math.nan
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "slab_thickness_angstrom": self.slab_thickness_angstrom,
            "interslab_spacing_angstrom": self.interslab_spacing_angstrom,
            "cell_volume_angstrom3": self.cell_volume_angstrom3,
            "warnings": list(self.warnings),
        }


#: a refined number as given: a float, or text with an esd ('2.8589(1)'), or a Reading
RefinedNumber = float | int | str | Reading


def layered_metrics(
    *,
    a_angstrom: RefinedNumber,
    c_angstrom: RefinedNumber,
    z_oxygen: RefinedNumber,
    origin: Origin,
    volume_angstrom3: RefinedNumber | None = None,
) -> LayeredMetrics:
    """Slab thickness S(MO2), interslab spacing I(LiO2), cell volume and TM–O / Li–O bond
    lengths of an R-3m layered oxide; numbers may carry esds ('2.8589(1)', see Reading).

    z_TM = z_oxygen (origin="transition_metal") or 1/2 − z_oxygen (origin="lithium");
    S(MO2) = 2(1/3 − z_TM)·c;  I(LiO2) = c/3 − S(MO2);  V = (√3/2)·a²·c.
    Warnings: z_oxygen < 0.25 with the TM at the origin or > 0.25 with Li at the origin (the
    setting was probably swapped); TM slab thicker than the Li interslab; entered V differing
    from the computed V by more than 3 combined standard deviations.
    """
    a_read = reading_of(a_angstrom, field="a_angstrom", label="lattice parameter a")
    c_read = reading_of(c_angstrom, field="c_angstrom", label="lattice parameter c")
    a = positive(a_read.value, field="a_angstrom", label="lattice parameter a", unit="Å")
    c = positive(c_read.value, field="c_angstrom", label="lattice parameter c", unit="Å")
    z = reading_of(z_oxygen, field="z_oxygen", label="oxygen z").value
    if not 0 < z < 0.5:
        raise AnalysisError("z_oxygen", f"oxygen z must be between 0 and 0.5, got {z:g}")
    if origin not in ORIGINS:
        raise AnalysisError(
            "origin", "origin must be 'transition_metal' (TM at 3a) or 'lithium' (Li at 3a)"
        )
    z_tm = z if origin == "transition_metal" else z_oxygen_other_setting(z)
    slab = 2.0 * (1.0 / 3.0 - z_tm) * c
    interslab = c / 3.0 - slab
    if slab <= 0 or interslab <= 0:
        raise AnalysisError(
            "z_oxygen",
            f"oxygen z = {z:g} does not describe a layered oxide in this setting: it gives a "
            "slab of zero or negative thickness (expected about 0.26 with the transition "
            "metal at the origin, about 0.24 with lithium at the origin)",
        )
    volume = hexagonal_cell_volume_angstrom3(a_angstrom=a, c_angstrom=c)
    tm_o, li_o = bond_lengths_angstrom(a_angstrom=a, c_angstrom=c, z_oxygen=z, origin=origin)
    warnings = _setting_warnings(z, origin, slab, interslab)
    if volume_angstrom3 is not None:
        entered = reading_of(volume_angstrom3, field="volume_angstrom3", label="cell volume")
        warnings += _volume_warnings(entered, volume, a_read, c_read)
    return LayeredMetrics(
        slab_thickness_angstrom=slab,
        interslab_spacing_angstrom=interslab,
        cell_volume_angstrom3=volume,
        tm_o_bond_angstrom=tm_o,
        li_o_bond_angstrom=li_o,
        warnings=warnings,
    )


def _setting_warnings(z: float, origin: str, slab: float, interslab: float) -> list[str]:
    """Warn when z_ox does not fit the chosen origin, and when the TM slab is the thicker one."""
    warnings: list[str] = []
    if origin == "transition_metal" and z < Z_SETTING_BOUNDARY:
        warnings.append(
            f"oxygen z = {z:g} is below 0.25, which is typical of the setting with lithium at "
            "the origin, but the transition metal was chosen as origin; check the setting"
        )
    if origin == "lithium" and z > Z_SETTING_BOUNDARY:
        warnings.append(
            f"oxygen z = {z:g} is above 0.25, which is typical of the setting with the "
            "transition metal at the origin, but lithium was chosen as origin; check the setting"
        )
    if slab > interslab:
        warnings.append(
            f"TM slab ({slab:.3f} Å) is thicker than the Li interslab ({interslab:.3f} Å): "
            "a red flag for a swapped origin setting or a wrong oxygen z"
        )
    return warnings


def _volume_warnings(entered: Reading, computed: float, a: Reading, c: Reading) -> list[str]:
    """Warn when |V entered − (√3/2)·a²·c| > k·σ, σ = √(σ_V,calc² + σ_V,entered²), k = 3."""
    volume = positive(entered.value, field="volume_angstrom3", label="cell volume", unit="Å³")
    sigma_calc = volume_sigma_angstrom3(a=a, c=c, volume_angstrom3=computed)
    sigma = max(math.hypot(sigma_calc, entered.sigma), _FLOAT_NOISE * computed)
    difference = volume - computed
    if abs(difference) <= VOLUME_CHECK_K * sigma:
        return []
    given = [r.esd is not None for r in (a, c, entered)]
    source = (
        "the esds"
        if all(given)
        else "the rounding of the typed digits"
        if not any(given)
        else "the esds and the rounding of the typed digits"
    )
    return [
        f"entered cell volume {volume:.4f} Å³ differs from (√3/2)·a²·c = {computed:.4f} Å³ "
        f"by {difference:+.4f} Å³ ({100.0 * difference / computed:+.3f} %), more than "
        f"{VOLUME_CHECK_K:g}σ = {VOLUME_CHECK_K * sigma:.4f} Å³ (σ from {source}): "
        "check for a transposed or mistyped number"
    ]
