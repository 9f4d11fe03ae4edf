"""Theoretical specific capacity of an active material from its formula (DOMAIN.md §3).

Q_theo (mAh/g) = n · F / (3.6 · M): n the charge carriers (Li) exchanged per formula unit,
F = 96485.33212 C/mol, M the molar mass in g/mol, and 3.6 C per mAh. Li1.2Mn0.6Ni0.2O2 has
n = 1.2 and M = 85.03 g/mol, so Q_theo = 1.2 × 96485.33 / (3.6 × 85.03) = 378.2 mAh/g.
n is taken as all the Li of the formula (every Li extracted): the upper bound a measured
capacity cannot exceed.
"""

from __future__ import annotations

from dataclasses import dataclass

from characterization.analysis.errors import AnalysisError
from synthesis.chemistry import ChemistryError, parse_formula

FARADAY_C_PER_MOL = 96485.33212


@dataclass(frozen=True)
class TheoreticalCapacity:
    formula: str
    carriers_per_formula_unit: float
    molar_mass_g_per_mol: float
    capacity_mah_g: float


def theoretical_capacity_mah_g(formula: str, *, carrier: str = "Li") -> TheoreticalCapacity:
    """Q = n·F/(3.6·M) for the `carrier` atoms of `formula` (AnalysisError on a formula
    without the carrier or that cannot be parsed)."""
    try:
        parsed = parse_formula(formula, field="formula")
    except ChemistryError as exc:
        raise AnalysisError("formula", exc.message) from None
    n = float(parsed.elements.get(carrier, 0.0))
    if n <= 0:
        raise AnalysisError("formula", f"{parsed.text} holds no {carrier}: no theoretical capacity")
    capacity = n * FARADAY_C_PER_MOL / (3.6 * parsed.molar_mass_g_per_mol)
    return TheoreticalCapacity(parsed.text, n, parsed.molar_mass_g_per_mol, capacity)
