"""Per-cycle summary of a normalised cycling table (DOMAIN.md section 3).

Cycles, their capacities and which are complete come from the one cycle model
(characterization.parsers.cycles.cycle_table): half cycles paired for the working electrode's
role (a cathode half-cell charges first, an anode half-cell lithiates first). Per cycle:
Coulombic efficiency CE = Q of the second half / Q of the first (cathode: Q_dis / Q_ch; anode:
delithiation / lithiation = Q_ch / Q_dis), for complete cycles only (NaN otherwise);
retention = Q of the second half / the same of the reference cycle; energy E = the maximum of
the file's energy column within the cycle, or, where the file has none, ∫ V dQ (trapezoids
over the rising capacity); mean discharge voltage = E_dis / Q_dis. Specific values divide by
the active mass in g. All work is vectorised over the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from characterization.analysis._checks import cycling_table, positive
from characterization.analysis.errors import AnalysisError
from characterization.parsers.cycles import check_electrode, cycle_table, paired

CAPACITY_COLUMNS = ("cycle", "half_cycle", "direction", "charge_capacity_mah")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "cycle",
    "instrument_cycle",
    "complete",
    "end_unverified",
    "incomplete_reason",
    "charge_capacity_mah",
    "discharge_capacity_mah",
    "charge_capacity_mah_g",
    "discharge_capacity_mah_g",
    "coulombic_efficiency",
    "retention",
    "charge_energy_mwh",
    "discharge_energy_mwh",
    "charge_energy_mwh_g",
    "discharge_energy_mwh_g",
    "mean_discharge_voltage_v",
    "charge_current_ma",
    "discharge_current_ma",
    "charge_end_v",
    "discharge_end_v",
)
Window = tuple[float | None, float | None] | None


def active_mass_g(active_mass_mg: float) -> float:
    """Check the active mass (mg) and return it in g."""
    return positive(active_mass_mg, field="active_mass_mg", label="active mass", unit="mg") / 1e3


def electrode_role(electrode: str) -> str:
    try:
        return check_electrode(electrode)
    except ValueError as exc:
        raise AnalysisError("electrode", str(exc)) from None


def cycle_capacities_mah(
    df: pd.DataFrame, *, electrode: str = "cathode", voltage_window_v: Window = None
) -> pd.DataFrame:
    """Per cycle (sorted): parsers.cycles.cycle_table (capacities in mAh, `complete` by the
    schema's rule), after checking the table."""
    cycling_table(df, (*CAPACITY_COLUMNS, "discharge_capacity_mah", "voltage_v"))
    return cycle_table(df, electrode=electrode_role(electrode), voltage_window_v=voltage_window_v)


def second_half(electrode: str) -> str:
    """The direction whose capacity closes a cycle: discharge for a cathode half-cell,
    charge (delithiation) for an anode half-cell."""
    return "discharge" if electrode == "cathode" else "charge"


def first_complete_cycle(capacities: pd.DataFrame) -> int:
    """The lowest complete cycle label."""
    complete = capacities.loc[capacities["complete"], "cycle"]
    if complete.empty:
        raise AnalysisError("df", "the file has no complete charge/discharge cycle")
    return int(complete.iloc[0])


def cycle_summary(
    df: pd.DataFrame,
    *,
    active_mass_mg: float,
    reference_cycle: int | None = None,
    electrode: str = "cathode",
    voltage_window_v: Window = None,
) -> pd.DataFrame:
    """One row per cycle (SUMMARY_COLUMNS): cycle_table's columns plus the specific
    capacities and energies, coulombic_efficiency (second / first half, complete cycles only),
    retention (second-half capacity / that of reference_cycle, default the first complete
    cycle) and mean_discharge_voltage_v = E_dis / Q_dis (NaN when Q_dis = 0)."""
    mass_g = active_mass_g(active_mass_mg)
    out = cycle_capacities_mah(df, electrode=electrode, voltage_window_v=voltage_window_v)
    closing = second_half(electrode)
    opening = "charge" if closing == "discharge" else "discharge"
    reference = _reference_cycle(out, reference_cycle, closing)
    charge, discharge = out["charge_capacity_mah"], out["discharge_capacity_mah"]
    out["charge_capacity_mah_g"] = charge / mass_g
    out["discharge_capacity_mah_g"] = discharge / mass_g
    ratio = out[f"{closing}_capacity_mah"] / out[f"{opening}_capacity_mah"].where(lambda q: q > 0)
    out["coulombic_efficiency"] = ratio.where(out["complete"])
    closing_q = out[f"{closing}_capacity_mah"]
    out["retention"] = closing_q / float(closing_q[out["cycle"] == reference].iloc[0])
    data = paired(df, electrode)
    for direction in ("charge", "discharge"):
        energy = _cycle_energy_mwh(data, direction).reindex(out["cycle"]).to_numpy()
        out[f"{direction}_energy_mwh"] = energy
        out[f"{direction}_energy_mwh_g"] = energy / mass_g
    out["mean_discharge_voltage_v"] = out["discharge_energy_mwh"] / discharge.where(discharge > 0)
    return out.loc[:, list(SUMMARY_COLUMNS)]


def _reference_cycle(capacities: pd.DataFrame, reference_cycle: int | None, closing: str) -> int:
    """The reference for retention: the given cycle (it must have a closing half) or the
    first complete cycle."""
    first = first_complete_cycle(capacities)
    if reference_cycle is None:
        return first
    row = capacities.loc[capacities["cycle"] == reference_cycle]
    if row.empty:
        raise AnalysisError("reference_cycle", f"the file has no cycle {reference_cycle}")
    if float(row[f"{closing}_capacity_mah"].iloc[0]) <= 0:
        raise AnalysisError(
            "reference_cycle", f"cycle {reference_cycle} has no {closing} to compare against"
        )
    return int(reference_cycle)


def _cycle_energy_mwh(df: pd.DataFrame, direction: str) -> pd.Series:
    """Energy per cycle (mWh): the file's energy column where it has values, else ∫ V dQ."""
    integrated = integrated_energy_mwh(df, f"{direction}_capacity_mah")
    column = f"{direction}_energy_mwh"
    if column not in df.columns:
        return integrated
    from_file = df.groupby("cycle", sort=True)[column].max()
    from_file.index = from_file.index.astype(int)
    return from_file.where(from_file.notna(), integrated)


def integrated_energy_mwh(df: pd.DataFrame, capacity_column: str) -> pd.Series:
    """E = Σ ½(V_i + V_{i−1})·(Q_i − Q_{i−1}) per cycle, indexed by cycle (mWh = V × mAh).

    Q is the running maximum of the capacity column within each contiguous cycle block, so only
    rising capacity counts: rows of the other direction (capacity 0), rests and resets add
    nothing, and the first row of a block steps up from Q = 0 at its own voltage.
    """
    cycles = df["cycle"].to_numpy()
    volts = df["voltage_v"].to_numpy(dtype=float)
    q = np.nan_to_num(df[capacity_column].to_numpy(dtype=float), nan=0.0)
    starts = np.r_[True, cycles[1:] != cycles[:-1]]
    block = np.cumsum(starts)
    envelope = pd.Series(q).groupby(block).cummax().to_numpy()
    previous_q = np.r_[0.0, envelope[:-1]]
    previous_q[starts] = 0.0
    previous_v = np.r_[volts[:1], volts[:-1]]
    previous_v[starts] = volts[starts]
    energy = (envelope - previous_q) * 0.5 * (volts + previous_v)
    per_cycle = pd.Series(energy).groupby(cycles).sum(min_count=1)
    per_cycle.index = per_cycle.index.astype(int)
    return per_cycle
