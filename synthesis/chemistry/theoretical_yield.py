"""Theoretical yield of a batch from what was weighed: the limiting reagent sets it.

A precursor j weighed at m_j (g) with assay p_j (%) and molar mass M_j holds
n_j = m_j × (p_j / 100) / M_j mol. One mole of product needs ν_j mol of it (the element
balance of the plan, excess not counted), so it allows n_j / ν_j mol of product; the smallest
of these belongs to the limiting reagent:

* synthesis:  m_max = min_j (n_j / ν_j) × M_product
* coating:    m_max = m_substrate + min_j (n_j / ν_j) × M_coating  (the substrate is carried
  through unchanged; the coating precursors limit how much coating can form)

ν_j comes from the frozen plan: ν_j = n_j,planned / (n_target × (1 + excess_j / 100)), so a
batch weighed exactly as planned gives back the planned product mass, and an excess (5 % Li)
is supply that never limits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import InputError

#: relative float noise under which two reagents limit equally (the first listed is named)
_TIE_RTOL = 1e-9


def grams(mass_g: float) -> str:
    """Three significant figures, trailing zeros kept: 2.0198 -> '2.02', 1.5 -> '1.50'."""
    if mass_g <= 0 or not math.isfinite(mass_g):
        return f"{mass_g:g} g"
    decimals = max(0, 2 - math.floor(math.log10(mass_g)))
    return f"{mass_g:.{decimals}f} g"


def mol_per_mol_product(
    *, planned_amount_mol: float, planned_product_mol: float, excess_percent: float = 0.0
) -> float:
    """ν_j = n_j,planned / (n_product × (1 + excess_j / 100))."""
    if planned_product_mol <= 0 or planned_amount_mol <= 0:
        raise InputError("plan", "The frozen plan has no positive amounts to scale from.")
    return planned_amount_mol / (planned_product_mol * (1 + excess_percent / 100))


@dataclass(frozen=True)
class Supply:
    """One precursor as it went into the batch."""

    name: str
    mass_g: float
    purity_percent: float
    molar_mass_g_per_mol: float
    mol_per_mol_product: float

    @property
    def amount_mol(self) -> float:
        """n = m × (p / 100) / M."""
        return self.mass_g * self.purity_percent / 100 / self.molar_mass_g_per_mol

    @property
    def product_mol(self) -> float:
        """Moles of product this precursor allows: n / ν."""
        return self.amount_mol / self.mol_per_mol_product


@dataclass(frozen=True)
class TheoreticalYield:
    """The most product the weighed reagents can give, and the reagent that limits it."""

    mass_g: float
    product: str
    limiting: Supply | None
    substrate_name: str = ""
    substrate_mass_g: float | None = None

    def source(self) -> str:
        """'from 1.62 g of MnCO3 (limiting)' or 'from 1.50 g of LMNO and 0.0428 g of TEOS
        (limiting the Na2SiO3 coating)'."""
        limiting = self.limiting
        if self.substrate_mass_g is None:
            return f"from {grams(limiting.mass_g)} of {limiting.name} (limiting)"
        text = f"from {grams(self.substrate_mass_g)} of {self.substrate_name}"
        if limiting is None:
            return text
        return (
            f"{text} and {grams(limiting.mass_g)} of {limiting.name} "
            f"(limiting the {self.product} coating)"
        )


def _limiting(supplies: Sequence[Supply]) -> Supply:
    """The supply allowing the least product; ties (float noise) go to the first listed."""
    if not supplies:
        raise InputError("precursors", "There are no precursors to take a yield from.")
    best = supplies[0]
    for supply in supplies[1:]:
        if supply.product_mol < best.product_mol * (1 - _TIE_RTOL):
            best = supply
    return best


def synthesis_theoretical_yield(
    *, product_formula: str, product_molar_mass_g_per_mol: float, supplies: Sequence[Supply]
) -> TheoreticalYield:
    """m_max = min_j (n_j / ν_j) × M_product."""
    limiting = _limiting(supplies)
    mass = limiting.product_mol * product_molar_mass_g_per_mol
    return TheoreticalYield(mass, product_formula, limiting)


def coating_theoretical_yield(
    *,
    substrate_name: str,
    substrate_mass_g: float,
    coating_formula: str,
    coating_molar_mass_g_per_mol: float,
    supplies: Sequence[Supply],
) -> TheoreticalYield:
    """m_max = m_substrate + min_j (n_j / ν_j) × M_coating."""
    limiting = _limiting(supplies) if supplies else None
    coating_g = limiting.product_mol * coating_molar_mass_g_per_mol if limiting else 0.0
    return TheoreticalYield(
        substrate_mass_g + coating_g, coating_formula, limiting, substrate_name, substrate_mass_g
    )


def check_yield(yield_mass_g: float, theoretical: TheoreticalYield) -> None:
    """Refuse a yield above the theoretical yield (beyond float rounding), with the numbers."""
    if yield_mass_g > theoretical.mass_g * (1 + _TIE_RTOL):
        raise InputError(
            "yield_mass_g",
            f"{yield_mass_g:g} g is above the theoretical yield of "
            f"{grams(theoretical.mass_g)} {theoretical.source()}",
        )
