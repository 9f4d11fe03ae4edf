"""Per-cycle capacities of a normalised table, the one completeness rule, and how the
instrument's own cycle index compares with Kiln's cycles (rules in schema.py).

Everything here works on half cycles first (the table's `half_cycle` and `direction`), then
pairs them into cycles for the working electrode's role: a cathode half-cell charges first,
an anode half-cell lithiates (discharges) first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cycle_model import NO_CYCLE, pair_half_cycles
from .schema import ELECTRODES, END_VOLTAGE_TOLERANCE_V

CYCLE_COLUMNS: tuple[str, ...] = (
    "cycle",
    "instrument_cycle",
    "charge_capacity_mah",
    "discharge_capacity_mah",
    "charge_energy_mwh",
    "discharge_energy_mwh",
    "charge_current_ma",
    "discharge_current_ma",
    "charge_end_v",
    "discharge_end_v",
    "complete",
    "end_unverified",
    "incomplete_reason",
)
_WORD = {1: "charge", -1: "discharge"}


def check_electrode(electrode: str) -> str:
    if electrode not in ELECTRODES:
        raise ValueError(f"electrode must be one of {', '.join(ELECTRODES)}, not {electrode!r}")
    return electrode


def direction_signs(table: pd.DataFrame) -> np.ndarray:
    """+1 charge, -1 discharge, 0 rest per row, from the `direction` column."""
    codes = pd.Categorical(table["direction"]).codes if len(table) else np.zeros(0, int)
    names = list(pd.Categorical(table["direction"]).categories) if len(table) else []
    lookup = np.array([{"charge": 1, "discharge": -1}.get(n, 0) for n in names] + [0])
    return lookup[np.where(codes < 0, len(names), codes)].astype(np.int8)


def paired(table: pd.DataFrame, electrode: str = "cathode") -> pd.DataFrame:
    """The table with `cycle` paired for the electrode's role (the table itself for a
    cathode, whose pairing the parsers store; a re-paired copy for an anode)."""
    if check_electrode(electrode) == "cathode":
        return table
    cycle = pair_half_cycles(table["half_cycle"].to_numpy(), direction_signs(table), electrode)
    out = table.copy(deep=False)
    out["cycle"] = cycle
    return out


@dataclass(frozen=True)
class FileEnd:
    """How the file's last half cycle ended: `reached` is True (it reached the cut-off of its
    predecessors or of the declared window, or the instrument went on to another step),
    False (it stopped short: the file looks truncated) or None (nothing to compare with).
    `basis` is "next step", "earlier", "window" or "none"."""

    cycle: int
    direction: str
    end_voltage_v: float
    reached: bool | None
    reference_v: float | None
    basis: str

    def shortfall(self) -> str:
        """ "at 3.712 V, short of the 2.00 V its earlier discharges reached"."""
        what = (
            f"its earlier {self.direction}s reached"
            if self.basis == "earlier"
            else "limit of the declared voltage window"
        )
        return f"at {self.end_voltage_v:.3f} V, short of the {self.reference_v:.2f} V {what}"


def cycle_table(
    table: pd.DataFrame,
    *,
    electrode: str = "cathode",
    voltage_window_v: tuple[float | None, float | None] | None = None,
) -> pd.DataFrame:
    """One row per cycle (CYCLE_COLUMNS), capacities in mAh, energies in mWh (NaN without
    energy columns), currents the median |I| of each half in mA, end voltages of each half in
    V; `complete` by the schema's rule; df.attrs["file_end"] is a FileEnd (None when no
    current flowed)."""
    halves = half_cycle_table(table)
    data = paired(table, electrode)
    first = 1 if check_electrode(electrode) == "cathode" else -1
    halves["cycle"] = (
        pair_half_cycles(halves.index.to_numpy(), halves["direction"].to_numpy(), electrode)
        if len(halves)
        else np.zeros(0, int)
    )
    cycles = _per_cycle(data, halves)
    end = _file_end(halves, len(table), voltage_window_v, first)
    _completeness(cycles, halves, end, first)
    cycles.attrs["file_end"] = end
    return cycles.loc[:, list(CYCLE_COLUMNS)]


def half_cycle_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per half cycle (index: half_cycle id >= 1): direction (+1/-1), capacity_mah,
    energy_mwh, current_ma (median |I|), end_v (V at its last active record), last_row,
    instrument_first / instrument_last (its active records' instrument cycles)."""
    signs = direction_signs(table)
    active = signs != 0
    rows = np.flatnonzero(active)
    half = table["half_cycle"].to_numpy()[rows]
    charge = signs[rows] > 0
    frame = pd.DataFrame(
        {
            "half": half,
            "direction": signs[rows],
            "q": np.where(
                charge,
                table["charge_capacity_mah"].to_numpy()[rows],
                table["discharge_capacity_mah"].to_numpy()[rows],
            ),
            "e": np.where(
                charge,
                table["charge_energy_mwh"].to_numpy()[rows],
                table["discharge_energy_mwh"].to_numpy()[rows],
            ),
            "i": np.abs(table["current_ma"].to_numpy()[rows]),
            "v": table["voltage_v"].to_numpy()[rows],
            "row": rows,
            "ic": table["instrument_cycle"].to_numpy()[rows],
        },
        copy=False,  # no consolidated copy of a million rows: the arrays are ours already
    )
    grouped = frame.groupby("half", sort=True)
    return pd.DataFrame(
        {
            "direction": grouped["direction"].first(),
            "capacity_mah": grouped["q"].max().fillna(0.0),
            "energy_mwh": grouped["e"].max(),
            "current_ma": grouped["i"].median(),
            "end_v": grouped["v"].last(),
            "last_row": grouped["row"].last(),
            "instrument_first": grouped["ic"].min(),
            "instrument_last": grouped["ic"].max(),
        }
    )


def _per_cycle(data: pd.DataFrame, halves: pd.DataFrame) -> pd.DataFrame:
    labels = np.unique(data["cycle"].to_numpy()) if len(data) else np.zeros(0, int)
    cycles = pd.DataFrame({"cycle": labels.astype(np.int64)}).set_index("cycle", drop=False)
    for sign, word in _WORD.items():
        part = halves[halves["direction"] == sign].groupby("cycle")
        cycles[f"{word}_capacity_mah"] = part["capacity_mah"].max()
        cycles[f"{word}_energy_mwh"] = part["energy_mwh"].max()
        cycles[f"{word}_current_ma"] = part["current_ma"].median()
        cycles[f"{word}_end_v"] = part["end_v"].last()
    cycles[["charge_capacity_mah", "discharge_capacity_mah"]] = cycles[
        ["charge_capacity_mah", "discharge_capacity_mah"]
    ].fillna(0.0)
    first_ic = halves.groupby("cycle")["instrument_first"].min()
    cycles["instrument_cycle"] = first_ic.reindex(cycles.index).fillna(NO_CYCLE).astype(np.int64)
    return cycles.reset_index(drop=True)


def _file_end(
    halves: pd.DataFrame,
    n_rows: int,
    window: tuple[float | None, float | None] | None,
    first: int,
) -> FileEnd | None:
    """Did the file's last half cycle end like its predecessors (see schema.py)?"""
    if halves.empty:
        return None
    last = halves.iloc[-1]
    sign, end_v = int(last["direction"]), float(last["end_v"])
    word = _WORD[sign]
    cycle = int(last["cycle"])
    if int(last["last_row"]) < n_rows - 1:
        return FileEnd(cycle, word, end_v, True, None, "next step")
    earlier = halves.iloc[:-1]
    earlier = earlier.loc[earlier["direction"] == sign, "end_v"].to_numpy(dtype=float)
    if len(earlier):
        low, high = float(np.min(earlier)), float(np.max(earlier))
        reference = float(earlier[-1])
        tol = END_VOLTAGE_TOLERANCE_V
        reached = low - tol <= end_v <= high + tol
        return FileEnd(cycle, word, end_v, reached, reference, "earlier")
    limit = None
    if window is not None:
        limit = window[1] if sign > 0 else window[0]
    if limit is not None:
        reached = abs(end_v - float(limit)) <= END_VOLTAGE_TOLERANCE_V
        return FileEnd(cycle, word, end_v, reached, float(limit), "window")
    return FileEnd(cycle, word, end_v, None, None, "none")


def _completeness(
    cycles: pd.DataFrame, halves: pd.DataFrame, end: FileEnd | None, first: int
) -> None:
    """Fill complete / end_unverified / incomplete_reason in place (the schema's rule)."""
    opening, closing = _WORD[first], _WORD[-first]
    q_open = cycles[f"{opening}_capacity_mah"].to_numpy()
    q_close = cycles[f"{closing}_capacity_mah"].to_numpy()
    complete = (q_open > 0) & (q_close > 0)
    reasons = np.where(
        q_open <= 0,
        f"no {opening}: a leading partial {closing}",
        np.where(q_close <= 0, f"no {closing} after its {opening}", ""),
    ).astype(object)
    unverified = np.zeros(len(cycles), dtype=bool)
    if end is not None and end.direction == closing and len(cycles):
        at = np.flatnonzero(cycles["cycle"].to_numpy() == end.cycle)
        if len(at) and complete[at[0]]:
            if end.reached is False:
                complete[at[0]] = False
                reasons[at[0]] = f"the file ends during its {closing} {end.shortfall()}"
            elif end.reached is None:
                unverified[at[0]] = True
    cycles["complete"] = complete
    cycles["end_unverified"] = unverified
    cycles["incomplete_reason"] = np.where(complete, "", reasons)


def complete_cycles(table: pd.DataFrame, electrode: str = "cathode") -> list[int]:
    """Labels of the complete cycles, in order ([] for a rest-only or charge-only file)."""
    cycles = cycle_table(table, electrode=electrode)
    return [int(c) for c in cycles.loc[cycles["complete"], "cycle"]]


def cycle_capacities(table: pd.DataFrame, electrode: str = "cathode") -> pd.DataFrame:
    """Per cycle: cycle, charge/discharge_capacity_mah, charge/discharge_energy_mwh."""
    columns = ["cycle", "charge_capacity_mah", "discharge_capacity_mah"]
    columns += ["charge_energy_mwh", "discharge_energy_mwh"]
    return cycle_table(table, electrode=electrode).loc[:, columns]


@dataclass(frozen=True)
class IndexCheck:
    """The instrument's cycle index against Kiln's cycles: consistent, or why not."""

    recorded: bool
    consistent: bool
    detail: str
    cycles: list[int]


def instrument_index_check(table: pd.DataFrame, electrode: str = "cathode") -> IndexCheck:
    """Whether the instrument's index groups the half cycles as Kiln pairs them. Following
    the index and pairing the half cycles give the same cycles whenever it is consistent, so
    Kiln always pairs them itself and uses the index as a check."""
    recorded = bool(len(table)) and bool((table["instrument_cycle"] != NO_CYCLE).any())
    halves = half_cycle_table(table)
    if not recorded or halves.empty:
        return IndexCheck(recorded, True, "", [])
    halves["cycle"] = pair_half_cycles(
        halves.index.to_numpy(), halves["direction"].to_numpy(), electrode
    )
    split = halves[halves["instrument_first"] != halves["instrument_last"]]
    by_index = halves.groupby("instrument_first")["cycle"].unique()
    shared = by_index[by_index.map(len) > 1]
    spread = halves.groupby("cycle")["instrument_first"].nunique()
    spread = spread[spread > 1]
    if split.empty and shared.empty and spread.empty:
        return IndexCheck(True, True, "", [])
    if not shared.empty:
        index, kiln = int(shared.index[0]), sorted(int(c) for c in shared.iloc[0])
        detail = f"instrument cycle {index} holds Kiln cycles {', '.join(map(str, kiln))}"
    elif not spread.empty:
        detail = f"Kiln cycle {int(spread.index[0])} spans several instrument cycles"
    else:
        detail = (
            f"a half cycle of Kiln cycle {int(split['cycle'].iloc[0])} spans two instrument cycles"
        )
    affected = sorted(
        {int(c) for cs in shared for c in cs}
        | {int(c) for c in spread.index}
        | {int(c) for c in split["cycle"]}
    )
    return IndexCheck(True, False, detail, affected)
