"""Rate capability (DOMAIN.md section 3, rate test).

The C-rate of each half-cycle is recognised from the data, not typed in:
raw rate x = median |I| (mA) over the half-cycle's rows / (one_c_ma_per_g × active mass in g),
the half cycles and their direction coming from the one cycle model (so a file that records
|I| or counts charge negative gives the same rates). The cell's own 1C is used (the job passes
it); the lab's 250 mA/g only when the cell has none.
It snaps to the nearest protocol rate r when |x/r − 1| ≤ tolerance (default 15 %), otherwise the
raw rate is reported (``rate_snapped`` False). Consecutive complete cycles whose discharge rates
agree (equal after snapping, or within the tolerance of each other) form one step.

Recovery: the last step's rate is matched with the first earlier step at the same rate that
has a step at a higher rate between them (0.1C after 0.2–10C); recovery = mean discharge
capacity of the last step / that of the earlier step. None when the protocol has no return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from characterization.analysis._checks import number, positive
from characterization.analysis.cycling import active_mass_g, cycle_capacities_mah
from characterization.analysis.electrode import LAB_ONE_C_MA_PER_G, PROTOCOL_C_RATES
from characterization.analysis.errors import AnalysisError

DEFAULT_SNAP_TOLERANCE = 0.15


@dataclass(frozen=True)
class Recovery:
    """Capacity on the return to an earlier rate after higher rates."""

    rate_c: float
    reference_step: int
    return_step: int
    fraction: float

    def to_dict(self) -> dict[str, object]:
        return {
            "rate_c": self.rate_c,
            "reference_step": self.reference_step,
            "return_step": self.return_step,
            "fraction": self.fraction,
        }


@dataclass(frozen=True)
class RateCapability:
    """Per-cycle recognised rates, per-step capacities and the recovery."""

    cycles: pd.DataFrame
    steps: pd.DataFrame
    recovery: Recovery | None

    def to_dict(self) -> dict[str, object]:
        steps = [
            {
                "step": int(row.step),
                "rate_c": float(row.rate_c),
                "rate_snapped": bool(row.rate_snapped),
                "cycles": list(row.cycles),
                "mean_discharge_capacity_mah_g": float(row.mean_discharge_capacity_mah_g),
            }
            for row in self.steps.itertuples(index=False)
        ]
        recovery = self.recovery.to_dict() if self.recovery else None
        return {"steps": steps, "recovery": recovery}


def snap_c_rate(
    raw_rate_c: np.ndarray,
    *,
    protocol_rates_c: Sequence[float] = PROTOCOL_C_RATES,
    tolerance: float = DEFAULT_SNAP_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest protocol rate r where |x/r − 1| ≤ tolerance, else x; returns (rates, snapped)."""
    raw = np.asarray(raw_rate_c, dtype=float)
    protocol = np.asarray(protocol_rates_c, dtype=float)
    relative = np.abs(raw[:, None] / protocol[None, :] - 1.0)
    nearest = np.argmin(relative, axis=1) if len(raw) else np.zeros(0, dtype=int)
    snapped = relative[np.arange(len(raw)), nearest] <= tolerance
    return np.where(snapped, protocol[nearest], raw), snapped


def rate_capability(
    df: pd.DataFrame,
    *,
    active_mass_mg: float,
    one_c_ma_per_g: float = LAB_ONE_C_MA_PER_G,
    protocol_rates_c: Sequence[float] = PROTOCOL_C_RATES,
    tolerance: float = DEFAULT_SNAP_TOLERANCE,
    electrode: str = "cathode",
    voltage_window_v: tuple[float | None, float | None] | None = None,
) -> RateCapability:
    """Recognise the rate of each cycle, group cycles into steps, and compute the recovery.

    cycles: cycle, charge_rate_c, discharge_rate_c, rate_snapped, discharge_capacity_mah_g
    (complete cycles only; rate = median |I| / (one_c_ma_per_g × m_g), snapped as above).
    steps: step, rate_c, rate_snapped, first_cycle, last_cycle, cycles (list), n_cycles,
    mean_discharge_capacity_mah_g.
    """
    mass_g = active_mass_g(active_mass_mg)
    one_c = positive(one_c_ma_per_g, field="one_c_ma_per_g", label="1C current", unit="mA/g")
    tol = number(tolerance, field="tolerance", label="rate tolerance")
    if not 0 < tol < 1:
        raise AnalysisError("tolerance", "rate tolerance must be a fraction between 0 and 1")
    protocol = _protocol_rates(protocol_rates_c)
    capacities = cycle_capacities_mah(df, electrode=electrode, voltage_window_v=voltage_window_v)
    per_cycle = _cycle_rates(capacities, one_c * mass_g, protocol, tol)
    per_cycle["discharge_capacity_mah_g"] = per_cycle.pop("discharge_capacity_mah") / mass_g
    steps = _steps(per_cycle, tol)
    return RateCapability(cycles=per_cycle, steps=steps, recovery=_recovery(steps, tol))


def _protocol_rates(protocol_rates_c: Sequence[float]) -> list[float]:
    if isinstance(protocol_rates_c, (str, bytes)) or not len(protocol_rates_c):
        raise AnalysisError("protocol_rates_c", "give at least one protocol C-rate")
    return [
        positive(rate, field=f"protocol_rates_c[{index}]", label="C-rate")
        for index, rate in enumerate(protocol_rates_c)
    ]


def _cycle_rates(
    capacities: pd.DataFrame, one_c_ma: float, protocol: list[float], tol: float
) -> pd.DataFrame:
    """Recognised charge and discharge rate of each complete cycle (median |I| of each half)."""
    complete = capacities.loc[capacities["complete"]].set_index("cycle")
    if complete.empty:
        raise AnalysisError("df", "the file has no complete charge/discharge cycle")
    charge = complete["charge_current_ma"] / one_c_ma
    discharge = complete["discharge_current_ma"] / one_c_ma
    charge_rate, _ = snap_c_rate(
        charge.fillna(0.0).to_numpy(), protocol_rates_c=protocol, tolerance=tol
    )
    rate, snapped = snap_c_rate(
        discharge.fillna(0.0).to_numpy(), protocol_rates_c=protocol, tolerance=tol
    )
    return pd.DataFrame(
        {
            "cycle": complete.index.astype(int),
            "charge_rate_c": np.where(charge.isna(), np.nan, charge_rate),
            "discharge_rate_c": rate,
            "rate_snapped": snapped,
            "discharge_capacity_mah": complete["discharge_capacity_mah"].to_numpy(),
        }
    )


def _steps(per_cycle: pd.DataFrame, tol: float) -> pd.DataFrame:
    """Group consecutive cycles at the same discharge rate (relative difference ≤ tol)."""
    rates = per_cycle["discharge_rate_c"].to_numpy()
    new_step = np.r_[True, np.abs(rates[1:] / rates[:-1] - 1.0) > tol]
    grouped = per_cycle.assign(step=np.cumsum(new_step)).groupby("step", sort=True)
    steps = grouped.agg(
        rate_c=("discharge_rate_c", "median"),
        rate_snapped=("rate_snapped", "all"),
        first_cycle=("cycle", "min"),
        last_cycle=("cycle", "max"),
        n_cycles=("cycle", "size"),
        mean_discharge_capacity_mah_g=("discharge_capacity_mah_g", "mean"),
    )
    steps["cycles"] = grouped["cycle"].agg(list)
    return steps.reset_index()


def _recovery(steps: pd.DataFrame, tol: float) -> Recovery | None:
    """Last step vs the first earlier step at its rate with a higher-rate step in between."""
    rates = steps["rate_c"].to_numpy()
    last = len(rates) - 1
    for earlier in range(last - 1):
        same_rate = abs(rates[earlier] / rates[last] - 1.0) <= tol
        if same_rate and (rates[earlier + 1 : last] > rates[last] * (1 + tol)).any():
            capacity = steps["mean_discharge_capacity_mah_g"].to_numpy()
            return Recovery(
                rate_c=float(rates[last]),
                reference_step=int(steps["step"].iloc[earlier]),
                return_step=int(steps["step"].iloc[last]),
                fraction=float(capacity[last] / capacity[earlier]),
            )
    return None
