"""First (formation) cycle: capacities, efficiency and the high-voltage plateau (DOMAIN.md §3).

The first cycle is the first *complete* one (the one completeness rule of
characterization.parsers.cycles); a leading partial half cycle (cycle 0) is skipped.
First-cycle efficiency = second half / first half of that cycle (cathode: Q_dis / Q_ch;
anode half-cell: delithiation / lithiation = Q_ch / Q_dis).

Plateau (oxygen activation, ~4.5 V in Li-rich oxides) = charge capacity accumulated while the
cell voltage is at or above ``plateau_threshold_v`` (default 4.45 V) during that first charge:
Σ ΔQ_i × f_i, where ΔQ_i is the rise of the running-maximum charge capacity between records
i−1 and i and f_i the fraction of that segment above the threshold, taking V linear in Q within
the segment (1 when both ends are above, 0 when both are below). This threshold rule was
chosen over a dV/dQ criterion because it needs no differentiation of noisy data; any
constant-voltage hold above the threshold counts as plateau, so report the threshold with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from characterization.analysis._checks import cycling_table, positive
from characterization.analysis.cycling import (
    active_mass_g,
    cycle_capacities_mah,
    first_complete_cycle,
    second_half,
)
from characterization.parsers.cycles import paired

DEFAULT_PLATEAU_THRESHOLD_V = 4.45


@dataclass(frozen=True)
class FirstCycle:
    """First complete cycle: specific capacities (mAh/g), efficiency and plateau length."""

    cycle: int
    charge_capacity_mah_g: float
    discharge_capacity_mah_g: float
    first_cycle_efficiency: float
    plateau_capacity_mah_g: float
    plateau_threshold_v: float

    def to_dict(self) -> dict[str, object]:
        return {
            "cycle": self.cycle,
            "charge_capacity_mah_g": self.charge_capacity_mah_g,
            "discharge_capacity_mah_g": self.discharge_capacity_mah_g,
            "first_cycle_efficiency": self.first_cycle_efficiency,
            "plateau_capacity_mah_g": self.plateau_capacity_mah_g,
            "plateau_threshold_v": self.plateau_threshold_v,
        }


def first_cycle_metrics(
    df: pd.DataFrame,
    *,
    active_mass_mg: float,
    plateau_threshold_v: float = DEFAULT_PLATEAU_THRESHOLD_V,
    electrode: str = "cathode",
    voltage_window_v: tuple[float | None, float | None] | None = None,
) -> FirstCycle:
    """Capacities, efficiency (second / first half) and plateau capacity (charge above the
    threshold) of the first complete cycle, all per g of active material."""
    mass_g = active_mass_g(active_mass_mg)
    threshold = positive(
        plateau_threshold_v, field="plateau_threshold_v", label="plateau threshold", unit="V"
    )
    cycling_table(df, ("cycle", "voltage_v", "charge_capacity_mah", "discharge_capacity_mah"))
    capacities = cycle_capacities_mah(df, electrode=electrode, voltage_window_v=voltage_window_v)
    cycle = first_complete_cycle(capacities)
    row = capacities.loc[capacities["cycle"] == cycle].iloc[0]
    data = paired(df, electrode)
    rows = data.loc[data["cycle"].to_numpy() == cycle]
    closing = second_half(electrode)
    opening = "charge" if closing == "discharge" else "discharge"
    plateau_mah = charge_capacity_above_mah(
        rows["voltage_v"].to_numpy(dtype=float),
        rows["charge_capacity_mah"].to_numpy(dtype=float),
        threshold_v=threshold,
    )
    return FirstCycle(
        cycle=cycle,
        charge_capacity_mah_g=float(row["charge_capacity_mah"]) / mass_g,
        discharge_capacity_mah_g=float(row["discharge_capacity_mah"]) / mass_g,
        first_cycle_efficiency=float(
            row[f"{closing}_capacity_mah"] / row[f"{opening}_capacity_mah"]
        ),
        plateau_capacity_mah_g=plateau_mah / mass_g,
        plateau_threshold_v=threshold,
    )


def charge_capacity_above_mah(
    voltage_v: np.ndarray, capacity_mah: np.ndarray, *, threshold_v: float
) -> float:
    """Σ ΔQ_i·f_i: capacity gained at V ≥ threshold, with V linear in Q inside each segment."""
    q = np.maximum.accumulate(np.nan_to_num(capacity_mah, nan=0.0))
    dq = np.diff(q, prepend=0.0)
    v_prev = np.r_[voltage_v[:1], voltage_v[:-1]]
    high = np.maximum(voltage_v, v_prev)
    low = np.minimum(voltage_v, v_prev)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = (high - threshold_v) / (high - low)
    fraction = np.where(low >= threshold_v, 1.0, np.where(high < threshold_v, 0.0, crossing))
    return float(np.sum(dq * np.clip(np.nan_to_num(fraction, nan=0.0), 0.0, 1.0)))
