"""Voltage fade from a cycle summary (DOMAIN.md section 3, long cycling).

Sign convention: fade is positive when the mean discharge voltage falls with cycling.

Only complete cycles count (the summary's `complete`, the one completeness rule of
characterization.parsers.cycles), over a window of cycles:
* chosen: `first_cycle` .. `last_cycle` (either may be left open);
* default: from the first complete cycle after the formation cycles to the last complete one.
  Formation cycles are the leading complete cycles run in another regime than the test's
  main one: a charge or discharge current more than FORMATION_CURRENT_TOLERANCE away from the
  median over all complete cycles, or an end-of-charge / end-of-discharge voltage more than
  FORMATION_VOLTAGE_TOLERANCE_V from the median (e.g. 0.05C activation before 5C cycling, or
  a narrower voltage window first). They are named in the result.

* endpoint fade (mV/cycle) = 1000·(V̄_first − V̄_last) / (last_cycle − first_cycle), i.e. the drop
  divided by the number of cycles *between* the first and the last cycle of the window (cycles
  1 to 500 → denominator 499);
* fitted fade (mV/cycle) = −1000 × least-squares slope of V̄ (V) against cycle number over all
  complete cycles in the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from characterization.analysis.errors import AnalysisError, TooFewCyclesError

SIGN_CONVENTION = "positive = the mean discharge voltage falls with cycling"
FORMATION_CURRENT_TOLERANCE = 0.25  # relative
FORMATION_VOLTAGE_TOLERANCE_V = 0.05
_NEEDED = ("cycle", "complete", "mean_discharge_voltage_v")


@dataclass(frozen=True)
class VoltageFade:
    """Mean discharge voltage per complete cycle of the window and its fade."""

    cycles: list[int]
    mean_discharge_voltage_v: list[float]
    first_cycle: int
    last_cycle: int
    first_voltage_v: float
    last_voltage_v: float
    fade_mv_per_cycle: float
    fitted_fade_mv_per_cycle: float
    fit_intercept_v: float
    window: str = "chosen"  # "chosen" or "default"
    formation_cycles: list[int] = field(default_factory=list)

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
            "sign": SIGN_CONVENTION,
            "window": self.window,
            "formation_cycles": list(self.formation_cycles),
        }


def voltage_fade(
    summary: pd.DataFrame, *, first_cycle: int | None = None, last_cycle: int | None = None
) -> VoltageFade:
    """Fade of the mean discharge voltage over the complete cycles of ``summary`` (the output
    of ``cycle_summary``) in the window ``first_cycle``..``last_cycle`` (default: after the
    formation cycles to the last complete cycle; see the module doc).

    fade_mv_per_cycle = 1000·(V̄_first − V̄_last)/(last_cycle − first_cycle);
    fitted_fade_mv_per_cycle = −1000·slope of the least-squares line V̄ = slope·cycle + intercept.
    Raises TooFewCyclesError when the window holds fewer than two complete cycles.
    """
    rows = _complete_rows(summary)
    formation: list[int] = []
    if first_cycle is None and last_cycle is None:
        formation = formation_cycles(rows)
        rows = rows[~rows["cycle"].isin(formation)]
    if first_cycle is not None:
        rows = rows[rows["cycle"] >= first_cycle]
    if last_cycle is not None:
        rows = rows[rows["cycle"] <= last_cycle]
    if len(rows) < 2:
        raise TooFewCyclesError(
            "summary",
            f"voltage fade needs at least 2 complete cycles; the window holds {len(rows)}",
        )
    cycles = rows["cycle"].to_numpy()
    volts = rows["mean_discharge_voltage_v"].to_numpy(dtype=float)
    slope, intercept = np.polyfit(cycles.astype(float), volts, 1)
    return VoltageFade(
        cycles=[int(c) for c in cycles],
        mean_discharge_voltage_v=[float(v) for v in volts],
        first_cycle=int(cycles[0]),
        last_cycle=int(cycles[-1]),
        first_voltage_v=float(volts[0]),
        last_voltage_v=float(volts[-1]),
        fade_mv_per_cycle=1000.0 * float(volts[0] - volts[-1]) / int(cycles[-1] - cycles[0]),
        fitted_fade_mv_per_cycle=-1000.0 * float(slope),
        fit_intercept_v=float(intercept),
        window="default" if first_cycle is None and last_cycle is None else "chosen",
        formation_cycles=formation,
    )


def _complete_rows(summary: pd.DataFrame) -> pd.DataFrame:
    """Complete cycles with a finite mean discharge voltage, sorted by cycle."""
    if not isinstance(summary, pd.DataFrame):
        raise AnalysisError("summary", "expected a cycle summary table")
    missing = [name for name in _NEEDED if name not in summary.columns]
    if missing:
        raise AnalysisError("summary", f"the cycle summary has no column(s) {', '.join(missing)}")
    finite = np.isfinite(summary["mean_discharge_voltage_v"].to_numpy(dtype=float))
    keep = summary["complete"].to_numpy(dtype=bool) & finite
    return summary.loc[keep].sort_values("cycle")


def formation_cycles(rows: pd.DataFrame) -> list[int]:
    """The leading complete cycles whose currents or end voltages differ from the test's
    main regime (the medians over all complete cycles); [] when the summary has no current or
    end-voltage columns, or when such cycles would be half the test or more."""
    checks = []
    for column in ("charge_current_ma", "discharge_current_ma"):
        if column in rows.columns:
            values = rows[column].to_numpy(dtype=float)
            reference = np.nanmedian(values) if np.isfinite(values).any() else np.nan
            checks.append(np.abs(values / reference - 1.0) > FORMATION_CURRENT_TOLERANCE)
    for column in ("charge_end_v", "discharge_end_v"):
        if column in rows.columns:
            values = rows[column].to_numpy(dtype=float)
            reference = np.nanmedian(values) if np.isfinite(values).any() else np.nan
            checks.append(np.abs(values - reference) > FORMATION_VOLTAGE_TOLERANCE_V)
    if not checks or len(rows) < 3:
        return []
    different = np.logical_or.reduce(checks)
    leading = int(np.argmin(different)) if not different.all() else len(different)
    if leading * 2 >= len(rows):
        return []
    return [int(c) for c in rows["cycle"].to_numpy()[:leading]]
