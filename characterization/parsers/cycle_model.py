"""One cycle model for every instrument: direction, half cycles and cycles, computed once.

Every reader hands its records to `normalise` as a `Records` (time, voltage, current as the
file recorded them, the instrument's steps, step types and cycle index where it has them, and
its capacity/energy counters with the rule by which each restarts). `normalise` returns the
table of schema.COLUMNS, deciding everything the analyses rely on in one place:

1. Steps: the instrument's step column where it has one, else runs of one current sign
   (|I| below a noise floor is rest), else (a file recording |I| without steps) runs split
   where the voltage turns back by more than TURN_V.
2. Direction of each step (charge / discharge / rest), from three sources:
   - the step type the instrument wrote (CC_Chg, "D", ...), where the file has one;
   - the current's sign, after one decision per file about its convention: "as recorded"
     (charge positive), "reversed" (the file counts charge negative: most steps disagree with
     the step types, or with the voltage trend when there are no step types) or "magnitude"
     (the file records |I|: one sign only while the other sources show both directions);
   - the voltage trend of the step (V rises on charge), used where the first two disagree or
     are missing (a CV step without a usable trend takes the direction of the step before it).
   Which source decided how many steps is reported in table.attrs["kiln"]["direction"].
3. Half cycles: a new half cycle starts at each active step whose direction differs from the
   previous active step; rest steps belong to the half cycle before them (leading rests to
   the first one).
4. Cycles (cathode half-cell pairing, see pair_half_cycles for the anode): each charge half
   cycle opens a cycle numbered from 1 and takes the discharge after it; a leading discharge
   is cycle 0 for every instrument. The instrument's own index is kept as `instrument_cycle`.
5. Capacity: every counter is turned into a running throughput over the file (a counter that
   restarts at every step, cycle or half cycle is chained through its segment maxima; a net
   counter that goes up and down is taken step by step), and a row's capacity is the
   throughput since its half cycle began, on rows of that direction (0 elsewhere). So a
   half cycle's capacity is the sum of its CC and CV steps whatever the instrument's counting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ._table import chained
from .schema import COLUMNS, DIRECTIONS, STEP_TYPES

CHARGE, DISCHARGE, REST, OTHER = STEP_TYPES
REST_FLOOR_FRACTION = 1e-3  # |mean I| of a step below this share of the file's largest is rest
TREND_MIN_V = 0.005  # a step's voltage trend counts when V moved at least this much
TURN_V = 0.02  # |I|-only files without steps: the voltage turning back this much ends a step
NO_CYCLE = -1  # instrument_cycle of a file that records no cycle index
COUNTER_NOISE_FRACTION = 1e-6  # a counter falling by more than this share of its peak restarted
NET_COUNTER_FRACTION = 0.05  # ... unless it falls in this share of its records: a net counter

Restart = Literal["restarts", "net", "increments"]


@dataclass(frozen=True)
class Counter:
    """An instrument's running capacity (mAh) or energy (mWh), sign ignored.

    kind "restarts": the value restarts from 0 whenever `segments` changes (a Neware/Maccor
    step, an Arbin cycle, a BioLogic half cycle; None = one segment for the whole file);
    kind "net": one counter over the file that rises and falls (net charge), taken per step;
    kind "increments": the charge passed since the previous record (BioLogic dq).
    """

    values: np.ndarray
    kind: Restart = "restarts"
    segments: np.ndarray | None = None


@dataclass
class Records:
    """What a reader found in the file, in record order, units s, V, mA (as recorded)."""

    time_s: np.ndarray
    voltage_v: np.ndarray
    current_ma: np.ndarray
    capacity: tuple[Counter, ...]
    energy: tuple[Counter, ...] = ()
    step: np.ndarray | None = None
    step_type: pd.Categorical | np.ndarray | None = None  # values of STEP_TYPES, None: none
    instrument_cycle: np.ndarray | None = None
    notes: dict = field(default_factory=dict)  # reader facts kept in attrs (cut last line, ...)


def normalise(records: Records) -> pd.DataFrame:
    """The normalised table (schema.COLUMNS) with the decisions in table.attrs["kiln"]."""
    # The table holds these arrays without a copy (copy=False below): they must be writable
    # (a reader's zero-copy view of a polars buffer is not) and not another frame's memory.
    time_s = np.require(records.time_s, dtype=float, requirements=["W", "O"])
    volts = np.require(records.voltage_v, dtype=float, requirements=["W", "O"])
    current = np.asarray(records.current_ma, dtype=float)
    types = None if records.step_type is None else _type_codes(records.step_type)
    floor = REST_FLOOR_FRACTION * float(np.nanmax(np.abs(current))) if len(current) else 0.0
    steps = _steps(records, current, volts, floor, types)
    per_step = _step_facts(steps, current, volts, types, floor)
    step_dir, direction_info = _directions(per_step)
    row_dir = step_dir[steps.index]
    half = _half_cycles(step_dir)[steps.index]
    cycle = pair_half_cycles(half, row_dir, "cathode")
    charge, discharge = _capacities(records.capacity, steps.index, half, row_dir, len(time_s))
    if records.energy:
        charge_e, discharge_e = _capacities(records.energy, steps.index, half, row_dir, len(time_s))
    else:
        charge_e = discharge_e = np.full(len(time_s), np.nan)
    signed = np.where(
        row_dir > 0, np.abs(current), np.where(row_dir < 0, -np.abs(current), current)
    )
    table = pd.DataFrame(
        {
            "time_s": time_s,
            "cycle": cycle,
            "half_cycle": half,
            "instrument_cycle": _instrument_cycle(records.instrument_cycle, len(time_s)),
            "step": steps.number[steps.index],
            "step_type": _step_type_column(types, row_dir),
            "direction": pd.Categorical.from_codes(_direction_codes(row_dir), DIRECTIONS),
            "current_ma": signed,
            "voltage_v": volts,
            "charge_capacity_mah": charge,
            "discharge_capacity_mah": discharge,
            "charge_energy_mwh": charge_e,
            "discharge_energy_mwh": discharge_e,
        },
        columns=list(COLUMNS),
        copy=False,  # the arrays are the table's own: no consolidated copy of every column
    )
    table.attrs["kiln"] = {
        "direction": direction_info,
        "instrument_cycle_recorded": records.instrument_cycle is not None,
        "half_cycles": int(half.max()) if len(half) else 0,
        **records.notes,
    }
    return table


def pair_half_cycles(half_cycle: np.ndarray, direction: np.ndarray, electrode: str) -> np.ndarray:
    """Cycle label per row: a cathode half-cell charges first (each charge half cycle opens a
    cycle), an anode half-cell lithiates (discharges) first; what precedes the first opening
    half cycle is cycle 0. `direction` is +1 charge, -1 discharge, 0 rest per row."""
    opening = 1 if electrode == "cathode" else -1
    half = np.asarray(half_cycle, dtype=np.int64)
    n_half = int(half.max()) + 1 if len(half) else 1
    half_dir = np.zeros(n_half, dtype=np.int8)
    active = np.asarray(direction) != 0
    half_dir[half[active]] = np.asarray(direction)[active]
    opens = half_dir == opening
    return np.cumsum(opens)[half].astype(np.int64)


# --- steps and their direction ------------------------------------------------------------


@dataclass(frozen=True)
class _Steps:
    index: np.ndarray  # row -> step position (0-based)
    starts: np.ndarray  # first row of each step
    number: np.ndarray  # step label (1-based, running)


def _steps(records: Records, current, volts, floor, types) -> _Steps:
    if records.step is not None:
        keys = [np.asarray(records.step)]
        if records.instrument_cycle is not None:
            keys.append(np.asarray(records.instrument_cycle))
        if types is not None:
            keys.append(types)
        changed = _changes(*keys)
    else:
        sign = np.where(np.abs(current) <= floor, 0, np.sign(current))
        changed = _changes(sign) if types is None else _changes(sign, types)
        if not (current < -floor).any() and types is None:
            changed |= _voltage_turns(volts, sign != 0)
    starts = np.flatnonzero(changed)
    index = np.cumsum(changed) - 1
    return _Steps(index=index, starts=starts, number=np.arange(1, len(starts) + 1))


def _changes(*keys: np.ndarray) -> np.ndarray:
    n = len(keys[0])
    changed = np.zeros(n, dtype=bool)
    if n:
        changed[0] = True
    for key in keys:
        values = np.asarray(key)
        changed[1:] |= values[1:] != values[:-1]
    return changed


def _voltage_turns(volts: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Rows that start a new step because the voltage of an active run turned back by more
    than TURN_V after its extreme (|I| files without steps: the only place a change from
    charge to discharge shows). A plain loop: only such files take this path."""
    turns = np.zeros(len(volts), dtype=bool)
    trend, extreme, at = 0, 0.0, 0
    for i in np.flatnonzero(active):
        v = float(volts[i])
        if i == 0 or not active[i - 1]:
            trend, extreme, at = 0, v, i
        elif trend == 0 and abs(v - extreme) > TURN_V:
            trend, extreme, at = (1 if v > extreme else -1), v, i
        elif trend != 0 and (v - extreme) * trend > 0:
            extreme, at = v, i
        elif trend != 0 and (extreme - v) * trend > TURN_V:
            turns[at + 1] = True
            trend, extreme, at = -trend, v, i
    return turns


@dataclass(frozen=True)
class _StepFacts:
    type_dir: np.ndarray  # +1, -1, 0 (rest), 2 (unknown / other)
    current_dir: np.ndarray  # +1, -1, 0 (below the floor)
    trend_dir: np.ndarray  # +1, -1, 0 (no usable trend)
    has_types: bool


UNKNOWN = 2


def _step_facts(steps: _Steps, current, volts, types, floor) -> _StepFacts:
    starts = steps.starts
    if not len(starts):
        empty = np.zeros(0, dtype=np.int8)
        return _StepFacts(empty, empty, empty, types is not None)
    ends = np.r_[starts[1:], len(current)] - 1
    counts = np.diff(np.r_[starts, len(current)])
    mean = np.add.reduceat(np.nan_to_num(current), starts) / counts
    current_dir = np.where(np.abs(mean) <= floor, 0, np.sign(mean)).astype(np.int8)
    rise = volts[ends] - volts[starts]
    # A step too short for a trend of its own (a record or two) takes the rise from the end of
    # the step before it (V jumps up when a charge starts after a discharge). A flat step whose
    # current decays is a CV hold: no trend; it continues the step before it (_neighbour).
    magnitude = np.abs(current)
    decaying = (counts >= 3) & (magnitude[ends] < 0.9 * magnitude[starts])
    rise_from_before = volts[ends] - volts[np.maximum(starts - 1, 0)]
    flat = np.abs(rise) < TREND_MIN_V
    rise = np.where(flat & ~decaying, rise_from_before, np.where(flat, 0.0, rise))
    trend_dir = np.where(np.abs(rise) >= TREND_MIN_V, np.sign(rise), 0).astype(np.int8)
    if types is None:
        type_dir = np.full(len(starts), UNKNOWN, dtype=np.int8)
    else:
        # codes: 0 charge, 1 discharge, 2 rest, 3 other
        type_dir = np.array([1, -1, 0, UNKNOWN], dtype=np.int8)[types[starts]]
    return _StepFacts(type_dir, current_dir, trend_dir, types is not None)


def _current_convention(facts: _StepFacts) -> tuple[str, np.ndarray | None]:
    """How the file records current ("as recorded", "reversed" or "magnitude") and the
    current-sign direction per step corrected for it (None for |I|)."""
    current = facts.current_dir
    typed = (facts.type_dir == 1) | (facts.type_dir == -1)
    reference = np.where(typed, facts.type_dir, facts.trend_dir)
    usable = (current != 0) & (reference != 0)
    both_signs = (current > 0).any() and (current < 0).any()
    reference_both = (reference[current != 0] > 0).any() and (reference[current != 0] < 0).any()
    if not both_signs and reference_both:
        return "magnitude", None
    agree = int((current[usable] == reference[usable]).sum())
    disagree = int(usable.sum()) - agree
    if disagree > agree:
        return "reversed", -current
    return "as recorded", current


def _directions(facts: _StepFacts) -> tuple[np.ndarray, dict]:
    """+1 / -1 / 0 per step and the report of which source decided (see the module doc)."""
    convention, current = _current_convention(facts)
    typed, trend = facts.type_dir.astype(int), facts.trend_dir.astype(int)
    sign = np.full(len(typed), UNKNOWN) if current is None else current.astype(int)
    has_type = typed != UNKNOWN
    agrees = (sign == UNKNOWN) | (sign == 0) | (sign == typed)
    flowing = facts.current_dir != 0
    cases = [
        (has_type & (typed == 0), 0, "rest"),
        (has_type & agrees, typed, "step type"),
        (has_type & (trend != 0), trend, "voltage trend (sources disagree)"),
        (has_type, typed, "step type"),
        (~flowing, 0, "rest"),
        (sign != UNKNOWN, sign, "current sign"),
        (trend != 0, trend, "voltage trend"),
    ]
    out = np.select([c for c, _, _ in cases], [v for _, v, _ in cases], 0).astype(np.int8)
    source = np.select(
        [c for c, _, _ in cases], [s for _, _, s in cases], "neighbouring step"
    ).astype(object)
    for i in np.flatnonzero(source == "neighbouring step"):
        out[i] = _neighbour(out, i)
    counts = {s: int((source == s).sum()) for s in dict.fromkeys(source.tolist())}
    active = {k: v for k, v in counts.items() if k != "rest"}
    return out, {
        "current": _CONVENTION_TEXT[convention],
        "decided_by": max(active, key=active.get) if active else "none (no current flowed)",
        "steps_by_source": counts,
    }


_CONVENTION_TEXT = {
    "as recorded": "signed, charge positive",
    "reversed": "signed with charge negative (reversed to charge positive)",
    "magnitude": "magnitude only (|I|); direction from the step type or the voltage",
}


def _neighbour(directions: np.ndarray, i: int) -> int:
    """An active step without any usable source (a CV step in an |I| file): the direction of
    the nearest active step before it, else after it."""
    before = directions[:i][directions[:i] != 0]
    if len(before):
        return int(before[-1])
    after = directions[i + 1 :][directions[i + 1 :] != 0]
    return int(after[0]) if len(after) else 0


def _half_cycles(step_dir: np.ndarray) -> np.ndarray:
    """Half-cycle id per step: from 1, a new one at each change of active direction; rests
    belong to the half cycle before them (leading rests to the first); 0 when none is active."""
    active = step_dir != 0
    if not active.any():
        return np.zeros(len(step_dir), dtype=np.int64)
    dirs = step_dir[active]
    ids = np.cumsum(np.r_[True, dirs[1:] != dirs[:-1]])
    out = np.zeros(len(step_dir), dtype=np.int64)
    out[active] = ids
    position = np.maximum.accumulate(np.where(active, np.arange(len(step_dir)), -1))
    filled = np.where(position >= 0, out[np.maximum(position, 0)], 1)
    return filled.astype(np.int64)


# --- capacities -----------------------------------------------------------------------------


def throughput(counter: Counter, step_index: np.ndarray) -> np.ndarray:
    """Charge (or energy) passed since the start of the file, from an instrument counter.

    A restarting counter is chained over its segments and over any drop of its value inside
    one (a single capacity column that restarts when the direction changes although the
    mapping says "per cycle"): such a counter only rises between restarts. One that runs
    backwards in more than NET_COUNTER_FRACTION of its records is a net counter (charge in
    minus charge out) whatever it was declared, and is taken step by step like one.
    """
    values = np.nan_to_num(np.asarray(counter.values, dtype=float))
    if counter.kind == "increments":
        return np.cumsum(np.abs(values))
    magnitude = np.abs(values)
    segments = np.zeros(len(values)) if counter.segments is None else counter.segments
    starts = _changes(np.asarray(segments))
    noise = COUNTER_NOISE_FRACTION * (float(magnitude.max()) if len(magnitude) else 0.0)
    drops = np.r_[False, magnitude[1:] < magnitude[:-1] - noise] & ~starts
    # a restart falls to a fraction of the value; a net counter steps down a little each record
    small = drops & np.r_[False, magnitude[1:] >= 0.5 * magnitude[:-1]]
    if counter.kind == "net" or (len(small) and small.mean() > NET_COUNTER_FRACTION):
        first = np.r_[True, step_index[1:] != step_index[:-1]]
        before = np.r_[0.0, values[:-1]][np.flatnonzero(first)]
        return chained(step_index, np.abs(values - before[np.cumsum(first) - 1]))
    return chained(starts | drops, magnitude, boundaries=True)


def _capacities(
    counters: tuple[Counter, ...],
    step_index: np.ndarray,
    half: np.ndarray,
    row_dir: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(charge, discharge) running within each half cycle, on rows of that direction."""
    total = np.zeros(n)
    for counter in counters:
        total += throughput(counter, step_index)
    starts = np.flatnonzero(np.r_[True, half[1:] != half[:-1]]) if n else np.zeros(0, int)
    base = np.r_[0.0, total[:-1]][starts]
    running = np.maximum(total - base[np.cumsum(np.r_[True, half[1:] != half[:-1]]) - 1], 0.0)
    return np.where(row_dir > 0, running, 0.0), np.where(row_dir < 0, running, 0.0)


# --- columns ---------------------------------------------------------------------------------


def _type_codes(values: pd.Categorical | np.ndarray) -> np.ndarray:
    """Step types as int8 codes over STEP_TYPES (unknown names are refused)."""
    if isinstance(values, pd.Categorical) and tuple(values.categories) == STEP_TYPES:
        codes = np.asarray(values.codes, dtype=np.int8)
        return np.where(codes < 0, 3, codes).astype(np.int8)
    kinds = pd.Categorical(np.asarray(values, dtype=object), categories=STEP_TYPES)
    if (kinds.codes < 0).any():
        unknown = sorted({str(v) for v in np.asarray(values, dtype=object)[kinds.codes < 0]})
        raise ValueError(f"unknown step types {unknown}")
    return np.asarray(kinds.codes, dtype=np.int8)


def _step_type_column(types: np.ndarray | None, row_dir: np.ndarray) -> pd.Categorical:
    """The instrument's step type; where the file has none, the resolved direction."""
    codes = types if types is not None else _direction_codes(row_dir)
    return pd.Categorical.from_codes(codes, STEP_TYPES)


def _direction_codes(row_dir: np.ndarray) -> np.ndarray:
    """+1 -> 0 (charge), -1 -> 1 (discharge), 0 -> 2 (rest): codes over DIRECTIONS."""
    return np.where(row_dir > 0, 0, np.where(row_dir < 0, 1, 2)).astype(np.int8)


def _instrument_cycle(values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, NO_CYCLE, dtype=np.int64)
    return np.asarray(values).astype(np.int64)
