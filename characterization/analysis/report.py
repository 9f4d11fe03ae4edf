"""The cycling report of `manage.py analyze_cycling` (a contract): summary + voltage fade.

Cycles are labelled as the parser labels them (characterization.parsers: the instrument's
count where it has one, else from 1 in charge -> discharge pairs, a leading partial discharge
being cycle 0). Efficiency is a fraction (discharge / charge of the same cycle). Numbers that
do not exist (CE of a cycle without charge, fade with fewer than two complete cycles) are None.
"""

from __future__ import annotations

import math

import pandas as pd

from characterization.analysis.cycling import cycle_summary
from characterization.analysis.errors import TooFewCyclesError
from characterization.analysis.fade import voltage_fade

CYCLE_FIELDS = (
    "cycle",
    "charge_capacity_mah",
    "discharge_capacity_mah",
    "charge_capacity_mah_g",
    "discharge_capacity_mah_g",
    "coulombic_efficiency",
    "mean_discharge_voltage_v",
)


def cycling_report(table: pd.DataFrame, *, active_mass_mg: float) -> dict:
    """{"rows", "cycles": [...CYCLE_FIELDS], "voltage_fade_mv_per_cycle"} for one table."""
    summary = cycle_summary(table, active_mass_mg=active_mass_mg)
    cycles = [
        {field: _number(row[field]) for field in CYCLE_FIELDS}
        for row in summary.to_dict(orient="records")
    ]
    for entry in cycles:
        entry["cycle"] = int(entry["cycle"])
    return {
        "rows": len(table),
        "cycles": cycles,
        "voltage_fade_mv_per_cycle": _fade_or_none(summary),
    }


def _fade_or_none(summary: pd.DataFrame) -> float | None:
    try:
        return _number(voltage_fade(summary).fade_mv_per_cycle)
    except TooFewCyclesError:  # one complete cycle: no fade to report
        return None


def _number(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value
