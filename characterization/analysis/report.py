"""The cycling report of `manage.py analyze_cycling` (a contract): per-cycle summary, voltage
fade over a window and plausibility warnings, in one JSON document.

Cycles are Kiln's (characterization.parsers.schema): half cycles paired for the working
electrode's role, a leading partial half cycle being cycle 0; the instrument's own index is
given beside each as `instrument_cycle`. Efficiency is a fraction (second half / first half of
the same cycle), for complete cycles only. Numbers that do not exist (the efficiency of an
incomplete cycle, fade with fewer than two complete cycles in the window) are None, and a
warning says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from characterization.analysis.capacity import theoretical_capacity_mah_g
from characterization.analysis.cycling import cycle_summary, electrode_role
from characterization.analysis.errors import AnalysisError, TooFewCyclesError
from characterization.analysis.fade import SIGN_CONVENTION, voltage_fade
from characterization.analysis.plausibility import Checks, ResultWarning, check_cycling
from characterization.analysis.shared_tables import remembered
from characterization.parsers.cycles import instrument_index_check

CYCLE_FIELDS = (
    "cycle",
    "instrument_cycle",
    "complete",
    "charge_capacity_mah",
    "discharge_capacity_mah",
    "charge_capacity_mah_g",
    "discharge_capacity_mah_g",
    "coulombic_efficiency",
    "mean_discharge_voltage_v",
)
# Without a formula: no cathode material reaches 500 mAh/g (Li2MnO3, the richest layered
# oxide, has 459); no anode 4200 (Si as Li22Si5). Settings may lower them for a lab.
LAB_CAPACITY_CEILING_MAH_G = {"cathode": 500.0, "anode": 4200.0}


@dataclass(frozen=True)
class CellFacts:
    """What Kiln knows about the cell besides the file (all optional but the mass)."""

    active_mass_mg: float
    electrode: str = "cathode"
    formula: str | None = None
    voltage_window_v: tuple[float | None, float | None] | None = None
    capacity_ceiling_mah_g: float | None = None  # the lab's, when no formula is known


def checks_for(facts: CellFacts) -> Checks:
    """The plausibility checks for a cell: its material's theoretical capacity when the
    formula is known (and holds Li), else the lab-wide ceiling for its electrode role."""
    electrode = electrode_role(facts.electrode)
    theory, unknown = None, "no formula known for the active material"
    if facts.formula:
        try:
            theory = theoretical_capacity_mah_g(facts.formula)
        except AnalysisError as exc:  # no Li in it, or not a formula: fall back to the ceiling
            unknown = f"{facts.formula}: {exc.message}"
    if theory is not None:
        return Checks(
            capacity_ceiling_mah_g=theory.capacity_mah_g,
            ceiling_source=(
                f"the theoretical {theory.capacity_mah_g:.0f} mAh/g of {theory.formula} "
                f"(Q = n·F/(3.6·M), n = {theory.carriers_per_formula_unit:g} Li)"
            ),
            voltage_window_v=facts.voltage_window_v,
        )
    ceiling = facts.capacity_ceiling_mah_g or LAB_CAPACITY_CEILING_MAH_G[electrode]
    return Checks(
        capacity_ceiling_mah_g=ceiling,
        ceiling_source=f"the lab-wide ceiling of {ceiling:g} mAh/g for a {electrode} ({unknown})",
        voltage_window_v=facts.voltage_window_v,
    )


def cycling_assessment(
    table: pd.DataFrame, facts: CellFacts, *, reference_cycle: int | None = None
) -> tuple[pd.DataFrame, list[ResultWarning]]:
    """The cycle summary of a table and every plausibility warning about it (computed once
    for a table the jobs layer shares between analyses: each caller gets its own copy)."""
    summary, warnings = remembered(
        table, ("cycling_assessment", facts, reference_cycle),
        lambda: _assessment(table, facts, reference_cycle),
    )  # fmt: skip
    return summary.copy(), list(warnings)


def _assessment(
    table: pd.DataFrame, facts: CellFacts, reference_cycle: int | None
) -> tuple[pd.DataFrame, list[ResultWarning]]:
    summary = cycle_summary(
        table,
        active_mass_mg=facts.active_mass_mg,
        reference_cycle=reference_cycle,
        electrode=facts.electrode,
        voltage_window_v=facts.voltage_window_v,
    )
    index = instrument_index_check(table, facts.electrode)
    warnings = check_cycling(table, summary, checks=checks_for(facts), index=index)
    return summary, warnings


def cycling_report(
    table: pd.DataFrame,
    *,
    active_mass_mg: float,
    electrode: str = "cathode",
    first_cycle: int | None = None,
    last_cycle: int | None = None,
    formula: str | None = None,
    voltage_window_v: tuple[float | None, float | None] | None = None,
) -> dict:
    """{"rows", "electrode", "cycles": [...CYCLE_FIELDS], "voltage_fade_mv_per_cycle",
    "fade": {window, sign, formation cycles}, "warnings": [{code, message, cycles, severity}]}."""
    facts = CellFacts(active_mass_mg, electrode, formula, voltage_window_v)
    summary, warnings = cycling_assessment(table, facts)
    cycles = [
        {name: _value(row[name]) for name in CYCLE_FIELDS}
        for row in summary.to_dict(orient="records")
    ]
    fade, fade_warning = fade_or_warning(summary, first_cycle, last_cycle)
    warnings += [fade_warning] if fade_warning else []
    return {
        "rows": len(table),
        "electrode": facts.electrode,
        "cycles": cycles,
        "voltage_fade_mv_per_cycle": None if fade is None else _value(fade["fade_mv_per_cycle"]),
        "fade": fade or {"sign": SIGN_CONVENTION},
        "warnings": [w.to_dict() for w in warnings],
    }


def fade_or_warning(
    summary: pd.DataFrame, first_cycle: int | None, last_cycle: int | None
) -> tuple[dict | None, ResultWarning | None]:
    """The fade over the window (without the per-cycle lists), or None and a note why not."""
    try:
        fade = voltage_fade(summary, first_cycle=first_cycle, last_cycle=last_cycle).to_dict()
    except TooFewCyclesError as exc:
        return None, ResultWarning("fade_unavailable", f"No voltage fade: {exc.message}.")
    fade.pop("cycles")
    fade.pop("mean_discharge_voltage_v")
    return fade, None


def _value(value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value
