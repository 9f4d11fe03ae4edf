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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from characterization.analysis._checks import number, positive
from characterization.analysis.errors import AnalysisError

Origin = Literal["transition_metal", "lithium"]
ORIGINS: tuple[str, ...] = ("transition_metal", "lithium")

#: z_ox = 1/4 makes the TM slab and the Li interslab equally thick (both c/6); real layered
#: oxides have z_ox > 1/4 with the TM at the origin and z_ox < 1/4 with Li at the origin.
Z_SETTING_BOUNDARY = 0.25
#: relative difference between the entered and the computed cell volume that raises a warning
VOLUME_TOLERANCE_FRACTION = 0.001


def z_oxygen_other_setting(z_oxygen: float) -> float:
    """The same oxygen position in the other origin setting: z' = 1/2 − z."""
    return 0.5 - z_oxygen


def hexagonal_cell_volume_angstrom3(*, a_angstrom: float, c_angstrom: float) -> float:
    """V = (√3/2)·a²·c for a hexagonal cell (Å³)."""
    return math.sqrt(3.0) / 2.0 * a_angstrom**2 * c_angstrom


@dataclass(frozen=True)
class LayeredMetrics:
    """TM slab, Li interslab and cell volume, with warnings about suspicious inputs."""

    slab_thickness_angstrom: float
    interslab_spacing_angstrom: float
    cell_volume_angstrom3: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "slab_thickness_angstrom": self.slab_thickness_angstrom,
            "interslab_spacing_angstrom": self.interslab_spacing_angstrom,
            "cell_volume_angstrom3": self.cell_volume_angstrom3,
            "warnings": list(self.warnings),
        }


def layered_metrics(
    *,
    a_angstrom: float,
    c_angstrom: float,
    z_oxygen: float,
    origin: Origin,
    volume_angstrom3: float | None = None,
) -> LayeredMetrics:
    """Slab thickness S(MO2), interslab spacing I(LiO2) and cell volume of an R-3m layered oxide.

    z_TM = z_oxygen (origin="transition_metal") or 1/2 − z_oxygen (origin="lithium");
    S(MO2) = 2(1/3 − z_TM)·c;  I(LiO2) = c/3 − S(MO2);  V = (√3/2)·a²·c.
    Warnings: z_oxygen < 0.25 with the TM at the origin or > 0.25 with Li at the origin (the
    setting was probably swapped); TM slab thicker than the Li interslab; entered V differing
    from the computed V by more than 0.1 %.
    """
    a = positive(a_angstrom, field="a_angstrom", label="lattice parameter a", unit="Å")
    c = positive(c_angstrom, field="c_angstrom", label="lattice parameter c", unit="Å")
    z = number(z_oxygen, field="z_oxygen", label="oxygen z")
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
    warnings = _setting_warnings(z, origin, slab, interslab)
    warnings += _volume_warnings(volume_angstrom3, volume)
    return LayeredMetrics(slab, interslab, volume, warnings)


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


def _volume_warnings(entered: float | None, computed: float) -> list[str]:
    """Warn when the entered V differs from (√3/2)·a²·c by more than 0.1 %."""
    if entered is None:
        return []
    volume = positive(entered, field="volume_angstrom3", label="cell volume", unit="Å³")
    if abs(volume - computed) <= VOLUME_TOLERANCE_FRACTION * computed:
        return []
    percent = 100.0 * (volume - computed) / computed
    return [
        f"entered cell volume {volume:.2f} Å³ differs from (√3/2)·a²·c = {computed:.2f} Å³ "
        f"by {percent:+.2f} % (tolerance ±{100 * VOLUME_TOLERANCE_FRACTION:g} %)"
    ]
