"""Pure-Python reagent arithmetic: formulas, precursor plans and coatings (no Django)."""

from .coating import CoatingPlan, coating_mass_g, plan_coating
from .errors import BalanceError, ChemistryError, FormulaError, InputError
from .formula import ATOMIC_WEIGHT_TABLE, Formula, molar_mass_g_per_mol, parse_formula
from .stoichiometry import (
    ElementBalance,
    Plan,
    PrecursorQuantity,
    PrecursorSpec,
    SubstanceAmount,
    plan_precursors,
)
from .theoretical_yield import (
    Supply,
    TheoreticalYield,
    check_yield,
    coating_theoretical_yield,
    mol_per_mol_product,
    synthesis_theoretical_yield,
)

__all__ = [
    "ATOMIC_WEIGHT_TABLE",
    "BalanceError",
    "ChemistryError",
    "CoatingPlan",
    "ElementBalance",
    "Formula",
    "FormulaError",
    "InputError",
    "Plan",
    "PrecursorQuantity",
    "PrecursorSpec",
    "SubstanceAmount",
    "Supply",
    "TheoreticalYield",
    "check_yield",
    "coating_theoretical_yield",
    "coating_mass_g",
    "mol_per_mol_product",
    "molar_mass_g_per_mol",
    "parse_formula",
    "plan_coating",
    "plan_precursors",
    "synthesis_theoretical_yield",
]
