"""Plausibility warnings for a cycling result: a number Kiln shows is right or visibly flagged.

Each warning has a code, a sentence and the cycles concerned, and a severity:
- "flag": the numbers may be wrong (a capacity above the material's theoretical capacity, an
  efficiency outside the plausible band, voltages outside the declared window or absurd, time
  running backwards, capacities that are not finite or negative). Comparisons leave flagged
  cells out unless asked to include them.
- "note": the numbers shown are right but something was left out or decided (an incomplete or
  unverified final cycle, a file that ends mid-step, the instrument's cycle index disagreeing
  with Kiln's cycles, a current sign convention that was corrected).

Thresholds (Checks): CE band 0.80-1.05 after the first 2 complete cycles (formation cycles of
Li-rich cathodes reach 0.7 and below), voltages beyond the declared window by more than 0.1 V,
cell voltages beyond -5 … 10 V, the capacity ceiling from the active material's formula
(capacity.theoretical_capacity_mah_g) or, without one, a lab-wide ceiling per electrode role.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from characterization.parsers.cycles import FileEnd, IndexCheck

FLAG, NOTE = "flag", "note"
SEVERITY: dict[str, str] = {
    "capacity_above_theoretical": FLAG,
    "coulombic_efficiency_out_of_range": FLAG,
    "voltage_outside_window": FLAG,
    "implausible": FLAG,
    "time_not_monotonic": FLAG,
    "capacity_invalid": FLAG,
    "incomplete_cycle": NOTE,
    "end_unverified": NOTE,
    "file_truncated": NOTE,
    "cycle_index_inconsistent": NOTE,
    "current_sign_convention": NOTE,
    "direction_resolved": NOTE,
    "fade_unavailable": NOTE,
    "peak_lost": NOTE,
}
_LISTED = 8  # cycles named in a sentence; the full list is in `cycles`


@dataclass(frozen=True)
class ResultWarning:
    code: str
    message: str
    cycles: tuple[int, ...] = ()

    @property
    def severity(self) -> str:
        return SEVERITY.get(self.code, FLAG)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "cycles": list(self.cycles),
            "severity": self.severity,
        }


@dataclass(frozen=True)
class Checks:
    """What a result is checked against (see the module doc for the defaults' reasons)."""

    capacity_ceiling_mah_g: float | None = None
    ceiling_source: str = ""  # "the theoretical 378 mAh/g of Li1.2Mn0.6Ni0.2O2 (n = 1.2 Li)"
    voltage_window_v: tuple[float | None, float | None] | None = None
    ce_band: tuple[float, float] = (0.80, 1.05)
    ce_exempt_cycles: int = 2
    window_tolerance_v: float = 0.1
    cell_voltage_range_v: tuple[float, float] = (-5.0, 10.0)
    extra: Sequence[ResultWarning] = field(default_factory=tuple)


def flagged(warnings: Iterable[dict | ResultWarning]) -> list[dict]:
    """The warnings whose severity is "flag" (as dicts)."""
    out = []
    for item in warnings:
        data = item.to_dict() if isinstance(item, ResultWarning) else dict(item)
        if data.get("severity", SEVERITY.get(data.get("code", ""), FLAG)) == FLAG:
            out.append(data)
    return out


def cycle_list(cycles: Sequence[int]) -> str:
    """ "3, 4, 7" or "3, 4, 7, … (12 cycles)"."""
    shown = ", ".join(str(c) for c in cycles[:_LISTED])
    return shown if len(cycles) <= _LISTED else f"{shown}, … ({len(cycles)} cycles)"


def check_cycling(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    checks: Checks,
    index: IndexCheck | None = None,
    specific: bool = True,
) -> list[ResultWarning]:
    """All warnings for one cycling result: `summary` is cycle_summary's table (its attrs
    carry the FileEnd), `table` the normalised table it came from."""
    found: list[ResultWarning] = []
    found += _record_checks(table, checks)
    found += _capacity_checks(summary, checks, specific)
    found += _efficiency_checks(summary, checks)
    found += _completeness_notes(summary)
    found += reading_notes(table, index)
    found += list(checks.extra)
    return found


def _record_checks(table: pd.DataFrame, checks: Checks) -> list[ResultWarning]:
    out = []
    cycle = table["cycle"].to_numpy()
    time = table["time_s"].to_numpy(dtype=float)
    back = np.flatnonzero(np.diff(time) < 0) + 1
    if len(back) or not np.isfinite(time).all():
        cycles = _cycles_at(cycle, back)
        out.append(
            ResultWarning(
                "time_not_monotonic",
                f"Time runs backwards or is missing at {len(back):,} record(s) (cycles "
                f"{cycle_list(cycles)}): the file may be spliced from several tests or damaged.",
                tuple(cycles),
            )
        )
    volts = table["voltage_v"].to_numpy(dtype=float)
    low, high = checks.cell_voltage_range_v
    absurd = np.flatnonzero(~np.isfinite(volts) | (volts < low) | (volts > high))
    if len(absurd):
        cycles = _cycles_at(cycle, absurd)
        worst = volts[absurd][np.argmax(np.abs(np.nan_to_num(volts[absurd], nan=np.inf)))]
        out.append(
            ResultWarning(
                "implausible",
                f"{len(absurd):,} record(s) hold a cell voltage of {_v(worst)}, outside "
                f"{low:g} … {high:g} V (cycles {cycle_list(cycles)}): the file may be damaged.",
                tuple(cycles),
            )
        )
    out += _window_check(cycle, volts, checks)
    out += _charge_balance(table)
    return out


CHARGE_BALANCE_FACTOR = 2.0  # a record may pass up to twice what its current allows


def _charge_balance(table: pd.DataFrame) -> list[ResultWarning]:
    """Records whose capacity rises faster than the current can pass charge: ΔQ between two
    consecutive records of one half cycle above 2 × (the half cycle's largest |I|)·Δt (Δt at
    least the file's time resolution; the half cycle's largest current because a record at a
    CC→CV change carries charge passed at the CC current) plus the counter's resolution. A
    corrupted record (a flipped digit, a step id that jumps) shows up here even when the
    totals look plausible."""
    q = (table["charge_capacity_mah"] + table["discharge_capacity_mah"]).to_numpy(dtype=float)
    if len(q) < 2:
        return []
    active = table["direction"].to_numpy() != "rest"
    half = table["half_cycle"].to_numpy()
    time = table["time_s"].to_numpy(dtype=float)
    amps = np.abs(table["current_ma"].to_numpy(dtype=float))
    peak = pd.Series(np.where(active, amps, 0.0)).groupby(half).transform("max").to_numpy()
    dt = np.diff(time)
    positive = dt[dt > 0]
    resolution = float(positive.min()) if len(positive) else 1.0
    dt_eff = np.maximum(np.nan_to_num(dt, nan=0.0), resolution)
    allowed = CHARGE_BALANCE_FACTOR * peak[1:] * dt_eff / 3600.0
    floor = 1e-4 * float(np.nanmax(q)) + 1e-9
    pairs = active[1:] & active[:-1] & (half[1:] == half[:-1])
    rise = np.diff(q)
    bad = np.flatnonzero(pairs & ((rise > allowed + floor) | ~np.isfinite(rise))) + 1
    if not len(bad):
        return []
    cycles = _cycles_at(table["cycle"].to_numpy(), bad)
    worst = bad[np.argmax(np.nan_to_num(rise[bad - 1], nan=np.inf))]
    return [
        ResultWarning(
            "implausible",
            f"In {len(bad):,} record(s) the capacity rises faster than the current can pass "
            f"charge (e.g. +{_number(rise[worst - 1])} mAh in {dt[worst - 1]:g} s at "
            f"{amps[worst]:.3g} mA; cycles {cycle_list(cycles)}): the file may be damaged.",
            tuple(cycles),
        )
    ]


def _window_check(cycle: np.ndarray, volts: np.ndarray, checks: Checks) -> list[ResultWarning]:
    window = checks.voltage_window_v
    if not window or (window[0] is None and window[1] is None):
        return []
    tol = checks.window_tolerance_v
    below = volts < (window[0] - tol) if window[0] is not None else np.zeros(len(volts), bool)
    above = volts > (window[1] + tol) if window[1] is not None else np.zeros(len(volts), bool)
    outside = np.flatnonzero((below | above) & np.isfinite(volts))
    if not len(outside):
        return []
    cycles = _cycles_at(cycle, outside)
    span = f"{_v(np.nanmin(volts[outside]))} … {_v(np.nanmax(volts[outside]))}"
    declared = f"{_v(window[0]) if window[0] is not None else '–'} … " + (
        f"{_v(window[1])}" if window[1] is not None else "–"
    )
    return [
        ResultWarning(
            "voltage_outside_window",
            f"Voltages of {span} lie outside the declared window {declared} (by more than "
            f"{tol:g} V) in cycles {cycle_list(cycles)}: check the measurement's window or the "
            "file.",
            tuple(cycles),
        )
    ]


def _capacity_checks(summary: pd.DataFrame, checks: Checks, specific: bool) -> list[ResultWarning]:
    out = []
    columns = ["charge_capacity_mah", "discharge_capacity_mah"]
    values = summary[columns].to_numpy(dtype=float)
    bad = ~np.isfinite(values).all(axis=1) | (values < 0).any(axis=1)
    if bad.any():
        cycles = [int(c) for c in summary["cycle"].to_numpy()[bad]]
        out.append(
            ResultWarning(
                "capacity_invalid",
                f"Capacities that are not finite or negative in cycles {cycle_list(cycles)}: the "
                "file may be damaged.",
                tuple(cycles),
            )
        )
    ceiling = checks.capacity_ceiling_mah_g
    if specific and ceiling and "charge_capacity_mah_g" in summary.columns:
        per_g = summary[["charge_capacity_mah_g", "discharge_capacity_mah_g"]].to_numpy(float)
        peak = np.nanmax(np.where(np.isfinite(per_g), per_g, -np.inf), axis=1)
        over = peak > ceiling
        if over.any():
            cycles = [int(c) for c in summary["cycle"].to_numpy()[over]]
            worst = float(np.max(peak[over]))
            against = checks.ceiling_source or f"{ceiling:g} mAh/g"
            out.append(
                ResultWarning(
                    "capacity_above_theoretical",
                    f"Specific capacities up to {_number(worst)} mAh/g (cycles "
                    f"{cycle_list(cycles)}) are above {against}"
                    ": check the active mass and the file.",
                    tuple(cycles),
                )
            )
    return out


def _efficiency_checks(summary: pd.DataFrame, checks: Checks) -> list[ResultWarning]:
    complete = summary[summary["complete"].to_numpy(dtype=bool)]
    later = complete.iloc[checks.ce_exempt_cycles :]
    ce = later["coulombic_efficiency"].to_numpy(dtype=float)
    low, high = checks.ce_band
    out_of_band = np.isfinite(ce) & ((ce < low) | (ce > high))
    if not out_of_band.any():
        return []
    cycles = [int(c) for c in later["cycle"].to_numpy()[out_of_band]]
    values = ce[out_of_band]
    return [
        ResultWarning(
            "coulombic_efficiency_out_of_range",
            f"Coulombic efficiency outside {low:.2f}–{high:.2f} after the first "
            f"{checks.ce_exempt_cycles} complete cycles: {_number(values.min())}–"
            f"{_number(values.max())} in cycles {cycle_list(cycles)} (a cell fault, a wrong "
            "electrode role, or charge and discharge paired wrongly).",
            tuple(cycles),
        )
    ]


def _completeness_notes(summary: pd.DataFrame) -> list[ResultWarning]:
    out = []
    incomplete = summary[~summary["complete"].to_numpy(dtype=bool)]
    leading = (incomplete["cycle"] == 0) & incomplete["incomplete_reason"].str.startswith("no ")
    for row in incomplete[~leading].itertuples(index=False):
        out.append(
            ResultWarning(
                "incomplete_cycle",
                f"Cycle {row.cycle} is incomplete ({row.incomplete_reason}); it is left out of "
                "fade, efficiency statistics and comparisons.",
                (int(row.cycle),),
            )
        )
    end: FileEnd | None = summary.attrs.get("file_end")
    if end is not None and end.reached is False:
        out.append(
            ResultWarning(
                "file_truncated",
                f"The file ends during cycle {end.cycle}'s {end.direction} {end.shortfall()}: "
                "it was cut off (a test still running, or an incomplete copy).",
                (end.cycle,),
            )
        )
    unverified = summary[summary["end_unverified"].to_numpy(dtype=bool)]
    for row in unverified.itertuples(index=False):
        out.append(
            ResultWarning(
                "end_unverified",
                f"The file ends at the end of cycle {row.cycle} with no earlier half cycle or "
                "declared voltage window to show that it reached its cut-off; declare the "
                "measurement's voltage window to confirm it.",
                (int(row.cycle),),
            )
        )
    return out


def reading_notes(table: pd.DataFrame, index: IndexCheck | None) -> list[ResultWarning]:
    out = []
    info = table.attrs.get("kiln", {})
    if info.get("cut_last_line"):
        out.append(
            ResultWarning(
                "file_truncated",
                "The file's last line was cut off in the middle of a record and was left out.",
            )
        )
    direction = info.get("direction", {})
    current = direction.get("current", "")
    if current and not current.startswith("signed, charge positive"):
        out.append(
            ResultWarning(
                "current_sign_convention",
                f"The file records current as {current}; charge and discharge were taken from "
                f"the {direction.get('decided_by', 'step types')}.",
            )
        )
    disagreeing = direction.get("steps_by_source", {}).get("voltage trend (sources disagree)", 0)
    if disagreeing:
        out.append(
            ResultWarning(
                "direction_resolved",
                f"In {disagreeing} step(s) the step type and the current's sign disagree; the "
                "voltage trend decided their direction.",
            )
        )
    if index is not None and not index.consistent:
        out.append(
            ResultWarning(
                "cycle_index_inconsistent",
                f"The instrument's cycle index does not match the half cycles ({index.detail}): "
                "Kiln pairs charge and discharge itself, so its cycle numbers differ from the "
                "instrument's (kept as instrument_cycle).",
                tuple(index.cycles),
            )
        )
    return out


def _cycles_at(cycle: np.ndarray, rows: np.ndarray) -> list[int]:
    return sorted({int(c) for c in cycle[rows]}) if len(rows) else []


def _v(value: float) -> str:
    return "not a number" if not math.isfinite(float(value)) else f"{float(value):.3g} V"


def _number(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        return "not a number"
    if abs(value) >= 1e6:
        return f"{value:.3g}"
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
