"""Multi-cycle cycling tables whose dQ/dV peaks sit exactly where a test puts them.

Tables are built here (not by synthetic.assemble) so each test decides whether the resolved
``direction`` and ``half_cycle`` columns are present: dQ/dV must work with and without them.

Each half-cycle's Q(V) is a 0.1 mAh/V baseline plus one tanh step per peak, so dQ/dV is the
baseline plus a sech² peak (height step/(2·width), FWHM ≈ 1.76·width) centred exactly at each
chosen voltage. A half-cycle with no peaks is the baseline alone: a flat dQ/dV, no peak at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from tests.characterization.synthetic import HalfCycle

Peaks = Sequence[tuple[float, float]]  # (peak voltage V, step mAh) per peak


def multi_peak_half_cycle(
    cycle: int,
    direction: str,
    peaks: Peaks,
    *,
    low_v: float = 2.5,
    high_v: float = 4.7,
    baseline_mah_per_v: float = 0.1,
    width_v: float = 0.03,
    current_ma: float = 0.1,
    points: int = 800,
) -> HalfCycle:
    """Constant-current half-cycle (records evenly spaced in Q) with a sech² dQ/dV peak at each
    (voltage, step) of ``peaks``; charge runs low_v → high_v, discharge high_v → low_v."""
    fine_v = np.linspace(low_v, high_v, 20001)
    rising = direction == "charge"
    fine_q = baseline_mah_per_v * (fine_v - low_v if rising else high_v - fine_v)
    for peak_v, step_mah in peaks:
        sigmoid = (1 + np.tanh((fine_v - peak_v) / width_v)) / 2
        fine_q = fine_q + step_mah * (sigmoid - sigmoid[0] if rising else sigmoid[-1] - sigmoid)
    if not rising:
        fine_v, fine_q = fine_v[::-1], fine_q[::-1]
    q = np.linspace(0.0, fine_q[-1], points)
    return HalfCycle(cycle, direction, q, np.interp(q, fine_q, fine_v), np.full(points, current_ma))


def peak_cycling_table(
    n_cycles: int,
    *,
    charge_peaks: Callable[[int], Peaks],
    discharge_peaks: Callable[[int], Peaks],
    width_v: float = 0.03,
    direction_columns: bool = False,
) -> pd.DataFrame:
    """Cycles 1..n_cycles, each a charge then a discharge whose peaks are given per cycle n by
    ``charge_peaks(n)`` and ``discharge_peaks(n)``."""
    halves = []
    for n in range(1, n_cycles + 1):
        halves.append(multi_peak_half_cycle(n, "charge", charge_peaks(n), width_v=width_v))
        halves.append(multi_peak_half_cycle(n, "discharge", discharge_peaks(n), width_v=width_v))
    return cycling_table(halves, direction_columns=direction_columns)


def cycling_table(
    half_cycles: Sequence[HalfCycle], *, direction_columns: bool = False, rest_points: int = 2
) -> pd.DataFrame:
    """The half-cycles in order as a cycling table (time_s, cycle, step, step_type, signed
    current_ma, voltage_v, charge/discharge_capacity_mah), each followed by ``rest_points``
    rest records (I = 0, capacities 0, V relaxing 50 mV towards 3.5 V); with
    ``direction_columns`` also ``direction`` and ``half_cycle`` (see with_direction_columns)."""
    parts = []
    for h in half_cycles:
        q, v = np.asarray(h.capacity_mah, float), np.asarray(h.voltage_v, float)
        sign = 1.0 if h.direction == "charge" else -1.0
        parts.append(_rows(h.cycle, h.direction, sign * np.asarray(h.current_ma, float), v, q))
        relaxed = v[-1] - 0.05 if v[-1] > 3.5 else v[-1] + 0.05
        rest_v = np.linspace(v[-1], relaxed, rest_points + 1)[1:]
        parts.append(_rows(h.cycle, "rest", np.zeros(rest_points), rest_v, np.zeros(rest_points)))
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "time_s", np.arange(len(table), dtype=float))
    table.insert(2, "step", table["step_type"].ne(table["step_type"].shift()).cumsum())
    return with_direction_columns(table) if direction_columns else table


def _rows(cycle: int, step_type: str, current_ma, voltage_v, q_mah) -> pd.DataFrame:
    zeros = np.zeros(len(q_mah))
    return pd.DataFrame(
        {
            "cycle": cycle,
            "step_type": step_type,
            "current_ma": current_ma,
            "voltage_v": voltage_v,
            "charge_capacity_mah": q_mah if step_type == "charge" else zeros,
            "discharge_capacity_mah": q_mah if step_type == "discharge" else zeros,
        }
    )


def with_direction_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Add the resolved ``direction`` (categorical charge/discharge/rest, from step_type) and
    ``half_cycle`` (1, 2, ... per charge or discharge run; rest rows keep the one they follow)."""
    out = table.copy()
    step_type = out["step_type"].where(out["step_type"].isin(["charge", "discharge"]), "rest")
    out["direction"] = pd.Categorical(step_type, categories=["charge", "discharge", "rest"])
    active = step_type.ne("rest")
    starts = active & step_type.ne(step_type.where(active).ffill().shift())
    out["half_cycle"] = starts.cumsum().astype(int)
    return out
