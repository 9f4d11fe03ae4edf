"""Shared steps of every parser: segment ids, cumulative-in-cycle sums, the final table.

Units: capacities mAh, energies mWh, currents mA, time s. Vocabulary used below:
- a *segment* is a run of rows over which the instrument's running capacity restarts from zero
  (a Neware/Maccor/BTSDA step, a BioLogic half cycle, an Arbin cycle);
- a row's *running* value is the capacity (or energy) the instrument shows for that row within
  its segment, >= 0, and 0 on rows of the other direction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import COLUMNS, STEP_TYPES

CHARGE, DISCHARGE, REST, OTHER = STEP_TYPES


def run_ids(*keys: np.ndarray | pd.Series) -> np.ndarray:
    """1-based id that increases whenever any key changes from one row to the next."""
    n = len(keys[0])
    changed = np.zeros(n, dtype=bool)
    for key in keys:
        values = np.asarray(key)
        changed[1:] |= values[1:] != values[:-1]
    return np.cumsum(changed) + 1 if n else np.zeros(0, dtype=np.int64)


def cumulative_in_cycle(cycle: np.ndarray, segment: np.ndarray, running: np.ndarray) -> np.ndarray:
    """Running value plus the maxima of the earlier segments of the same cycle.

    This is the rule for instruments whose capacity restarts at every step: a cycle's charge
    is the SUM of its charge steps' maxima (CC + CV), not the largest single step.
    """
    return cumulative_in_cycle_many(cycle, segment, running)[0]


def cumulative_in_cycle_many(
    cycle: np.ndarray, segment: np.ndarray, *runnings: np.ndarray
) -> list[np.ndarray]:
    """cumulative_in_cycle for several running columns, finding the segments once.

    Rows of a segment (and segments of a cycle) are contiguous, so segment maxima come from
    np.fmax.reduceat over the segment starts and the offsets from one cumulative sum: numpy
    only, no group-by (this runs on million-row files).
    """
    cycle, segment = np.asarray(cycle), np.asarray(segment)
    n = len(cycle)
    if n == 0:
        return [np.zeros(0) for _ in runnings]
    starts_mask = np.ones(n, dtype=bool)
    starts_mask[1:] = (cycle[1:] != cycle[:-1]) | (segment[1:] != segment[:-1])
    starts = np.flatnonzero(starts_mask)
    row_segment = np.cumsum(starts_mask) - 1
    new_cycle = np.ones(len(starts), dtype=bool)
    new_cycle[1:] = cycle[starts[1:]] != cycle[starts[:-1]]
    cycle_first_segment = np.flatnonzero(new_cycle)[np.cumsum(new_cycle) - 1]
    out = []
    for running in runnings:
        values = np.asarray(running, dtype=float)
        seg_max = np.fmax.reduceat(values, starts)  # NaN only where a whole segment is NaN
        before = np.cumsum(np.nan_to_num(seg_max)) - np.nan_to_num(seg_max)
        offsets = before - before[cycle_first_segment]
        out.append(values + offsets[row_segment])
    return out


def classify_by_current(segment: np.ndarray, current_ma: np.ndarray) -> np.ndarray:
    """Step type per row from the mean current of its segment: > 0 charge, < 0 discharge.

    A segment whose every |current| is below a noise floor (1e-6 of the file's largest) is rest.
    """
    current = pd.Series(np.asarray(current_ma, dtype=float))
    floor = 1e-6 * float(np.nanmax(np.abs(current))) if len(current) else 0.0
    grouped = current.groupby(np.asarray(segment))
    mean = grouped.transform("mean")
    peak = current.abs().groupby(np.asarray(segment)).transform("max")
    kinds = np.where(mean > 0, CHARGE, DISCHARGE)
    return np.where(peak <= floor, REST, kinds).astype(object)


def cycles_charge_first(segment: np.ndarray, step_type: np.ndarray) -> np.ndarray:
    """Cycle labels for files without an instrument cycle count (BioLogic half cycles).

    Each segment that charges opens a new cycle, numbered from 1; what comes before the first
    charge (a partial discharge from open circuit) is cycle 0.
    """
    seg = np.asarray(segment)
    charging = pd.Series(np.asarray(step_type) == CHARGE).groupby(seg).transform("any")
    starts = np.zeros(len(seg), dtype=bool)
    if len(seg):
        starts[0] = True
        starts[1:] = seg[1:] != seg[:-1]
    return np.cumsum(starts & charging.to_numpy()).astype(np.int64)


def build_table(
    *,
    time_s: np.ndarray,
    cycle: np.ndarray,
    step: np.ndarray,
    step_type: np.ndarray,
    current_ma: np.ndarray,
    voltage_v: np.ndarray,
    charge_mah: np.ndarray,
    discharge_mah: np.ndarray,
    charge_mwh: np.ndarray | None = None,
    discharge_mwh: np.ndarray | None = None,
) -> pd.DataFrame:
    """The normalised table (schema.COLUMNS, in order; float64/int64, step_type categorical).

    Capacity and energy columns are kept only on rows of their own step type and set to 0
    elsewhere, so a cycle's capacity is the maximum of its column; energies are NaN when the
    file has none.
    """
    kinds = step_types(step_type)
    is_charge, is_discharge = kinds.codes == 0, kinds.codes == 1
    nan = np.full(len(kinds), np.nan)
    table = pd.DataFrame(
        {
            "time_s": np.asarray(time_s, dtype=float),
            "cycle": np.asarray(cycle, dtype=np.int64),
            "step": np.asarray(step, dtype=np.int64),
            "step_type": kinds,
            "current_ma": np.asarray(current_ma, dtype=float),
            "voltage_v": np.asarray(voltage_v, dtype=float),
            "charge_capacity_mah": _only(is_charge, charge_mah),
            "discharge_capacity_mah": _only(is_discharge, discharge_mah),
            "charge_energy_mwh": _only(is_charge, nan if charge_mwh is None else charge_mwh),
            "discharge_energy_mwh": _only(
                is_discharge, nan if discharge_mwh is None else discharge_mwh
            ),
        }
    )
    return table[list(COLUMNS)]


def step_types(values: np.ndarray | pd.Categorical) -> pd.Categorical:
    """Step types as a categorical over STEP_TYPES (codes 0 charge, 1 discharge, 2 rest,
    3 other): a million rows cost one byte each instead of a Python string."""
    if isinstance(values, pd.Categorical) and tuple(values.categories) == STEP_TYPES:
        return values
    kinds = pd.Categorical(np.asarray(values, dtype=object), categories=STEP_TYPES)
    if (kinds.codes < 0).any():
        unknown = sorted({str(v) for v in np.asarray(values, dtype=object)[kinds.codes < 0]})
        raise ValueError(f"unknown step types {unknown}")
    return kinds


def _only(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return np.where(mask, values, np.where(np.isnan(values), np.nan, 0.0))
