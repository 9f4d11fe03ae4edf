"""Surface-coating amounts: coating mass from a wt% on a substrate, then its precursors.

With w = coating_wt_percent / 100 and m_s the substrate mass:

* basis "substrate" (the study's "Na2SiO3/LMNO = 1 wt%"): m_c = w × m_s
* basis "total" (coating/(substrate + coating) = w):        m_c = w × m_s / (1 − w)

The coating amount n_c = m_c / M_c is then planned from the precursors exactly like any target
(see ``stoichiometry``): e.g. Na2SiO3 from TEOS + Na2CO3 gives n(TEOS) = n_c and
n(Na2CO3) = n_c, each corrected for purity and excess, and TEOS also gets a volume.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .errors import InputError
from .formula import parse_formula
from .stoichiometry import (
    DEFAULT_VOLATILE_ELEMENTS,
    ElementBalance,
    Plan,
    PrecursorQuantity,
    PrecursorSpec,
    SubstanceAmount,
    finite_number,
    plan_for_target,
    positive_number,
)

Basis = Literal["substrate", "total"]
BASES: tuple[str, ...] = ("substrate", "total")


@dataclass(frozen=True)
class CoatingPlan:
    """A coating of ``coating_wt_percent`` on a substrate, with the precursor plan for it."""

    basis: str
    coating_wt_percent: float
    substrate: SubstanceAmount
    coating: SubstanceAmount
    plan: Plan

    @property
    def precursors(self) -> tuple[PrecursorQuantity, ...]:
        return self.plan.precursors

    @property
    def element_balance(self) -> Mapping[str, ElementBalance]:
        return self.plan.element_balance

    def to_dict(self) -> dict[str, Any]:
        """The API shape of ``POST /api/v1/stoichiometry/coating`` (extra keys are additive)."""
        planned = self.plan.to_dict()
        return {
            "coating": self.coating.to_dict(),
            "basis": self.basis,
            "coating_wt_percent": self.coating_wt_percent,
            "substrate": self.substrate.to_dict(),
            "precursors": planned["precursors"],
            "element_balance": planned["element_balance"],
            "volatile_elements": planned["volatile_elements"],
            "atomic_weight_table": planned["atomic_weight_table"],
        }


def coating_mass_g(*, substrate_mass_g: float, coating_wt_percent: float, basis: str) -> float:
    """m_c = w·m_s ("substrate" basis) or w·m_s/(1 − w) ("total" basis), w = wt% / 100."""
    mass = positive_number(substrate_mass_g, "substrate_mass_g", "The substrate mass (g)")
    w = _weight_fraction(coating_wt_percent)
    if basis == "substrate":
        return w * mass
    if basis == "total":
        return w * mass / (1 - w)
    raise InputError(
        "basis",
        f"The coating basis must be 'substrate' (coating/substrate) or 'total' "
        f"(coating/(substrate + coating)), got {basis!r}.",
    )


def plan_coating(
    *,
    substrate_formula: str,
    substrate_mass_g: float,
    coating_formula: str,
    coating_wt_percent: float,
    basis: Basis = "substrate",
    precursors: Sequence[PrecursorSpec],
    excess_percent: Mapping[str, float] | None = None,
    volatile_elements: Iterable[str] = DEFAULT_VOLATILE_ELEMENTS,
) -> CoatingPlan:
    """Plan the precursors for a coating of ``coating_wt_percent`` on ``substrate_mass_g``.

    m_c from ``coating_mass_g``; n_c = m_c / M_c; precursors from the element balance of the
    coating (errors about the coating formula are reported on ``coating_formula``).
    """
    substrate = parse_formula(substrate_formula, field="substrate_formula")
    coating = parse_formula(coating_formula, field="coating_formula")
    mass_c = coating_mass_g(
        substrate_mass_g=substrate_mass_g, coating_wt_percent=coating_wt_percent, basis=basis
    )
    plan = plan_for_target(
        coating,
        amount_mol=mass_c / coating.molar_mass_g_per_mol,
        precursors=precursors,
        excess_percent=excess_percent,
        volatile_elements=volatile_elements,
        target_field="coating_formula",
    )
    return CoatingPlan(
        basis=basis,
        coating_wt_percent=float(coating_wt_percent),
        substrate=_amount(substrate.text, substrate.molar_mass_g_per_mol, float(substrate_mass_g)),
        coating=plan.target,
        plan=plan,
    )


def _weight_fraction(coating_wt_percent: float) -> float:
    """w = wt% / 100, with 0 < wt% < 100 (0 is no coating; 100 % would be all coating)."""
    percent = finite_number(coating_wt_percent, "coating_wt_percent", "The coating wt%")
    if not 0 < percent < 100:
        raise InputError(
            "coating_wt_percent",
            f"The coating wt% must be greater than 0 and less than 100, got {percent:g}.",
        )
    return percent / 100


def _amount(formula: str, molar_mass_g_per_mol: float, mass_g: float) -> SubstanceAmount:
    """n = m / M."""
    return SubstanceAmount(formula, molar_mass_g_per_mol, mass_g / molar_mass_g_per_mol, mass_g)
