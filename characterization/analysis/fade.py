"""Voltage fade from a cycle summary (DOMAIN.md section 3, long cycling).

Sign convention: fade is positive when the mean discharge voltage falls with cycling.

* endpoint fade (mV/cycle) = 1000·(V̄_first − V̄_last) / (last_cycle − first_cycle), i.e. the drop
  divided by the number of cycles *between* the first and the last complete cycle (cycles 1 to
  500 → denominator 499);
* fitted fade (mV/cycle) = −1000 × least-squares slope of V̄ (V) against cycle number over all
  complete cycles in the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from characterization.analysis.errors import AnalysisError, TooFewCyclesError

_NEEDED = ("cycle", "charge_capacity_mah", "discharge_capacity_mah", "mean_discharge_voltage_v")


@dataclass(frozen=True)
class VoltageFade:
    """Mean discharge voltage per complete cycle and its fade (positive = voltage falls)."""

    cycles: list[int]
    mean_discharge_voltage_v: list[float]
    first_cycle: int
    last_cycle: int
    first_voltage_v: float
    last_voltage_v: float
    fade_mv_per_cycle: float
    fitted_fade_mv_per_cycle: float
    fit_intercept_v: float

    def to_dict(self) -> dict[str, object]:
        return {
            "cycles": list(self.cycles),
            "mean_discharge_voltage_v": list(self.mean_discharge_voltage_v),
            "first_cycle": self.first_cycle,
            "last_cycle": self.last_cycle,
            "first_voltage_v": self.first_voltage_v,
            "last_voltage_v": self.last_voltage_v,
            "fade_mv_per_cycle": self.fade_mv_per_cycle,
            "fitted_fade_mv_per_cycle": self.fitted_fade_mv_per_cycle,
            "fit_intercept_v": self.fit_intercept_v,
        }


def voltage_fade(
    summary: pd.DataFrame, *, first_cycle: int | None = None, last_cycle: int | None = None
) -> VoltageFade:
    """Fade of the mean discharge voltage over the complete cycles of ``summary``.

    ``summary`` is the output of ``cycle_summary``; ``first_cycle``/``last_cycle`` optionally
    restrict the range (e.g. to skip formation cycles at another rate).
    fade_mv_per_cycle = 1000·(V̄_first − V̄_last)/(last_cycle − first_cycle);
    fitted_fade_mv_per_cycle = −1000·slope of the least-squares line V̄ = slope·cycle + intercept.
    """
    cycles, volts = _complete_cycles(summary, first_cycle, last_cycle)
    slope, intercept = np.polyfit(cycles.astype(float), volts, 1)
    span = int(cycles[-1] - cycles[0])
    return VoltageFade(
        cycles=[int(c) for c in cycles],
        mean_discharge_voltage_v=[float(v) for v in volts],
        first_cycle=int(cycles[0]),
        last_cycle=int(cycles[-1]),
        first_voltage_v=float(volts[0]),
        last_voltage_v=float(volts[-1]),
        fade_mv_per_cycle=1000.0 * float(volts[0] - volts[-1]) / span,
        fitted_fade_mv_per_cycle=-1000.0 * float(slope),
        fit_intercept_v=float(intercept),
    )


def _complete_cycles(
    summary: pd.DataFrame, first_cycle: int | None, last_cycle: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Cycle numbers and mean discharge voltages of complete cycles in range, sorted."""
    if not isinstance(summary, pd.DataFrame):
        raise AnalysisError("summary", "expected a cycle summary table")
    missing = [name for name in _NEEDED if name not in summary.columns]
    if missing:
        raise AnalysisError("summary", f"the cycle summary has no column(s) {', '.join(missing)}")
    keep = (
        (summary["charge_capacity_mah"] > 0)
        & (summary["discharge_capacity_mah"] > 0)
        & np.isfinite(summary["mean_discharge_voltage_v"].to_numpy(dtype=float))
    )
    if first_cycle is not None:
        keep &= summary["cycle"] >= first_cycle
    if last_cycle is not None:
        keep &= summary["cycle"] <= last_cycle
    rows = summary.loc[keep].sort_values("cycle")
    if len(rows) < 2:
        raise TooFewCyclesError(
            "summary",
            f"voltage fade needs at least 2 complete cycles; the file has {len(rows)} in range",
        )
    return rows["cycle"].to_numpy(), rows["mean_discharge_voltage_v"].to_numpy(dtype=float)
