"""Per-cycle summary of a normalised cycling table (DOMAIN.md section 3).

Per cycle: capacity = maximum of the capacity column within the cycle (the columns reset each
cycle); Coulombic efficiency CE = Q_discharge / Q_charge of the same cycle (a cathode half-cell
charges first); retention = Q_discharge / Q_discharge of the reference cycle; energy E = the
maximum of the file's energy column within the cycle, or, where the file has none, ∫ V dQ
(trapezoids over the rising capacity); mean discharge voltage = E_discharge / Q_discharge.
Specific values divide by the active mass in g. All work is vectorised over the rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from characterization.analysis._checks import cycling_table, positive
from characterization.analysis.errors import AnalysisError
from characterization.parsers.cycles import complete_mask

CAPACITY_COLUMNS = ("cycle", "charge_capacity_mah", "discharge_capacity_mah")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "cycle",
    "complete",
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
)


def active_mass_g(active_mass_mg: float) -> float:
    """Check the active mass (mg) and return it in g."""
    return positive(active_mass_mg, field="active_mass_mg", label="active mass", unit="mg") / 1e3


def cycle_capacities_mah(df: pd.DataFrame) -> pd.DataFrame:
    """Per cycle (sorted): cycle, charge_capacity_mah, discharge_capacity_mah, complete.

    Q = max of each capacity column within the cycle (missing values count as 0); a cycle is
    complete when both its charge and its discharge capacity are > 0, and for the final cycle
    min(Q_ch, Q_dis) ≥ 1 % of max(Q_ch, Q_dis) (parsers.cycles.complete_mask).
    """
    cycling_table(df, CAPACITY_COLUMNS)
    columns = ["charge_capacity_mah", "discharge_capacity_mah"]
    per_cycle = df.groupby("cycle", sort=True)[columns].max().fillna(0.0)
    per_cycle = per_cycle.reset_index()
    per_cycle["cycle"] = per_cycle["cycle"].astype(int)
    per_cycle["complete"] = complete_mask(
        per_cycle["charge_capacity_mah"], per_cycle["discharge_capacity_mah"]
    )
    return per_cycle


def first_complete_cycle(capacities: pd.DataFrame) -> int:
    """The lowest cycle label with both charge and discharge capacity > 0."""
    complete = capacities.loc[capacities["complete"], "cycle"]
    if complete.empty:
        raise AnalysisError("df", "the file has no complete charge/discharge cycle")
    return int(complete.iloc[0])


def cycle_summary(
    df: pd.DataFrame, *, active_mass_mg: float, reference_cycle: int | None = None
) -> pd.DataFrame:
    """One row per cycle with capacities, CE, retention, energies and mean discharge voltage.

    Columns (SUMMARY_COLUMNS): cycle, complete, charge/discharge_capacity_mah and _mah_g,
    coulombic_efficiency = Q_dis / Q_ch (fraction, NaN when Q_ch = 0),
    retention = Q_dis / Q_dis(reference_cycle) (default: first complete cycle),
    charge/discharge_energy_mwh and _mwh_g (file energy, else ∫ V dQ),
    mean_discharge_voltage_v = E_dis / Q_dis (NaN when Q_dis = 0).
    """
    mass_g = active_mass_g(active_mass_mg)
    cycling_table(df, (*CAPACITY_COLUMNS, "voltage_v"))
    out = cycle_capacities_mah(df)
    reference = _reference_cycle(out, reference_cycle)
    charge, discharge = out["charge_capacity_mah"], out["discharge_capacity_mah"]
    out["charge_capacity_mah_g"] = charge / mass_g
    out["discharge_capacity_mah_g"] = discharge / mass_g
    out["coulombic_efficiency"] = discharge / charge.where(charge > 0)
    reference_discharge = float(discharge[out["cycle"] == reference].iloc[0])
    out["retention"] = discharge / reference_discharge
    for direction in ("charge", "discharge"):
        energy = _cycle_energy_mwh(df, direction).reindex(out["cycle"]).to_numpy()
        out[f"{direction}_energy_mwh"] = energy
        out[f"{direction}_energy_mwh_g"] = energy / mass_g
    out["mean_discharge_voltage_v"] = out["discharge_energy_mwh"] / discharge.where(discharge > 0)
    return out.loc[:, list(SUMMARY_COLUMNS)]


def _reference_cycle(capacities: pd.DataFrame, reference_cycle: int | None) -> int:
    """The reference for retention: the given cycle (it must have a discharge) or the first
    complete cycle."""
    first = first_complete_cycle(capacities)
    if reference_cycle is None:
        return first
    row = capacities.loc[capacities["cycle"] == reference_cycle]
    if row.empty:
        raise AnalysisError("reference_cycle", f"the file has no cycle {reference_cycle}")
    if float(row["discharge_capacity_mah"].iloc[0]) <= 0:
        raise AnalysisError(
            "reference_cycle", f"cycle {reference_cycle} has no discharge to compare against"
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
