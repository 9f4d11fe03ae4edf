"""Voltage hysteresis and energy efficiency per cycle (DOMAIN.md section 3).

Cycles and completeness come from the one cycle model (characterization.parsers.cycles
.cycle_table), paired for the working electrode's role. "Charge" and "discharge" are always the
table's directions (the cell's: current > 0 is charge), so for an anode half-cell the charge is
the delithiation; the role only decides which halves make a cycle (cathode: a charge and the
discharge after it; anode: a discharge (lithiation) and the charge after it).

Per complete cycle:
    mean charge voltage     V̄_ch = E_ch / Q_ch       (V = mWh / mAh)
    mean discharge voltage  V̄_dis = E_dis / Q_dis
    voltage hysteresis      ΔV = V̄_ch − V̄_dis        (V)
    energy efficiency       EE = E_dis / E_ch          (energy out / energy in, either role)
Q is the half's capacity (its maximum within the cycle). E is the file's energy counter (its
maximum within the cycle) when the file records energy in both directions somewhere (any value
> 0 in both columns), else ∫ V dQ over each half (trapezoids over the rising capacity,
characterization.analysis.cycling.integrated_energy_mwh); `energy_source` says which, per
cycle. A file that records energy but has none for a cycle's half (NaN or 0 while Q > 0) gets
no figures for that cycle rather than a mixture of counted and integrated energies: its
counters were lost there, and the note says so. Incomplete cycles get no figures either.

Plausibility (warnings): ΔV < 0 or > MAX_HYSTERESIS_V (2 V), EE > 1 (more energy out than in),
and a mean voltage outside the voltage range its half cycle actually ran through (by more than
MEAN_VOLTAGE_TOLERANCE_V): energy and capacity counters that disagree (units, damage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from characterization.analysis._checks import cycling_table
from characterization.analysis.cycling import (
    cycle_capacities_mah,
    electrode_role,
    integrated_energy_mwh,
)
from characterization.analysis.plausibility import FLAG, NOTE, cycle_list
from characterization.parsers.cycles import paired

VERSION = "1"
MAX_HYSTERESIS_V = 2.0
MEAN_VOLTAGE_TOLERANCE_V = 0.05
FROM_FILE, INTEGRATED = "file", "integrated"
# Warning codes of this analysis and their severity (plausibility.SEVERITY's sense).
SEVERITY: dict[str, str] = {
    "hysteresis_out_of_range": FLAG,
    "energy_efficiency_above_one": FLAG,
    "mean_voltage_outside_half": FLAG,
    "energy_missing": NOTE,
}
NEEDED_COLUMNS = (
    "cycle",
    "half_cycle",
    "instrument_cycle",
    "direction",
    "current_ma",
    "voltage_v",
    "charge_capacity_mah",
    "discharge_capacity_mah",
    "charge_energy_mwh",
    "discharge_energy_mwh",
)
SUMMARY_FIELDS = ("cycle", "mean_charge_v", "mean_discharge_v", "hysteresis_v", "energy_efficiency")


@dataclass(frozen=True)
class CycleHysteresis:
    """One cycle's figures (None when not computed; `note` says why, "" otherwise)."""

    cycle: int
    mean_charge_v: float | None
    mean_discharge_v: float | None
    hysteresis_v: float | None
    energy_efficiency: float | None
    energy_source: str | None  # FROM_FILE, INTEGRATED, or None when not computed
    note: str = ""

    def as_summary(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in SUMMARY_FIELDS}


@dataclass(frozen=True)
class Hysteresis:
    """Per-cycle hysteresis and energy efficiency of a file (every cycle of cycle_table, in
    order), the energy basis of the file, and plausibility warnings as dicts (code, message,
    cycles, severity)."""

    cycles: tuple[CycleHysteresis, ...]
    electrode: str
    energy_source: str  # FROM_FILE or INTEGRATED, for the whole file
    warnings: tuple[dict, ...] = ()
    version: str = VERSION

    def as_summary(self) -> dict[str, object]:
        return {"hysteresis": [row.as_summary() for row in self.cycles]}

    @property
    def series(self) -> dict[str, list]:
        """Plot data: one list per field, one entry per cycle (None where not computed)."""
        names = (*SUMMARY_FIELDS, "energy_source", "note")
        return {name: [getattr(row, name) for row in self.cycles] for name in names}


def voltage_hysteresis(
    df: pd.DataFrame,
    *,
    electrode: str = "cathode",
    voltage_window_v: tuple[float | None, float | None] | None = None,
) -> Hysteresis:
    """Mean charge and discharge voltage, ΔV = E_ch/Q_ch − E_dis/Q_dis and EE = E_dis/E_ch per
    complete cycle of a normalised cycling table (see the module doc)."""
    cycling_table(df, NEEDED_COLUMNS)
    role = electrode_role(electrode)
    cycles = cycle_capacities_mah(df, electrode=role, voltage_window_v=voltage_window_v)
    data = paired(df, role)
    from_file = file_records_energy(df)
    e_ch, e_dis = _energies(data, cycles, from_file)
    q_ch = cycles["charge_capacity_mah"].to_numpy(dtype=float)
    q_dis = cycles["discharge_capacity_mah"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_ch, v_dis, efficiency = e_ch / q_ch, e_dis / q_dis, e_dis / e_ch
    notes = _notes(cycles, e_ch, e_dis, from_file)
    source = FROM_FILE if from_file else INTEGRATED
    rows = tuple(
        CycleHysteresis(int(label), None, None, None, None, None, str(note))
        if note
        else CycleHysteresis(int(label), float(ch), float(dis), float(ch - dis), float(ee), source)
        for label, ch, dis, ee, note in zip(
            cycles["cycle"], v_ch, v_dis, efficiency, notes, strict=True
        )
    )
    ranges = _half_voltage_ranges(data, cycles["cycle"].to_numpy())
    return Hysteresis(rows, role, source, tuple(_warnings(rows, ranges, from_file)))


def file_records_energy(df: pd.DataFrame) -> bool:
    """True when both energy columns hold a value > 0 somewhere (the file has energy
    counters for both directions); False for files without energy (NaN or all 0)."""
    return all(
        bool(np.any(np.nan_to_num(df[column].to_numpy(dtype=float), nan=0.0) > 0))
        for column in ("charge_energy_mwh", "discharge_energy_mwh")
    )


def _energies(
    data: pd.DataFrame, cycles: pd.DataFrame, from_file: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(E_ch, E_dis) per cycle in mWh: the file's counters (cycle_table's maxima), or ∫ V dQ
    over each half of the role-paired table `data`."""
    if from_file:
        return (
            cycles["charge_energy_mwh"].to_numpy(dtype=float),
            cycles["discharge_energy_mwh"].to_numpy(dtype=float),
        )
    labels = cycles["cycle"].to_numpy()
    charge = integrated_energy_mwh(data, "charge_capacity_mah").reindex(labels)
    discharge = integrated_energy_mwh(data, "discharge_capacity_mah").reindex(labels)
    return charge.to_numpy(dtype=float), discharge.to_numpy(dtype=float)


def _notes(
    cycles: pd.DataFrame, e_ch: np.ndarray, e_dis: np.ndarray, from_file: bool
) -> np.ndarray:
    """Why a cycle gets no figures ("" when it gets them)."""
    notes = np.full(len(cycles), "", dtype=object)
    complete = cycles["complete"].to_numpy(dtype=bool)
    reasons = cycles["incomplete_reason"].to_numpy(dtype=object)
    for i in np.flatnonzero(~complete):
        notes[i] = f"incomplete cycle ({reasons[i]})"
    for i in np.flatnonzero(complete):
        missing = [
            word
            for word, energy in (("charge", e_ch[i]), ("discharge", e_dis[i]))
            if not (np.isfinite(energy) and energy > 0)
        ]
        if missing and from_file:
            notes[i] = (
                f"the file records energy, but not for this cycle's {' and '.join(missing)}: "
                "its energy counters are missing here"
            )
        elif missing:
            notes[i] = (
                f"∫V dQ over its {' and '.join(missing)} is not a positive number "
                "(missing or non-positive voltages)"
            )
    return notes


def _half_voltage_ranges(data: pd.DataFrame, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Per cycle (order of `labels`) and direction: the lowest and highest voltage recorded
    on that half's rows (NaN when it has none)."""
    out: dict[str, np.ndarray] = {}
    volts = data["voltage_v"].to_numpy(dtype=float)
    cycle = data["cycle"].to_numpy()
    direction = data["direction"].to_numpy(dtype=object)
    for word in ("charge", "discharge"):
        rows = direction == word
        grouped = pd.Series(volts[rows]).groupby(cycle[rows])
        out[f"{word}_min"] = grouped.min().reindex(labels).to_numpy(dtype=float)
        out[f"{word}_max"] = grouped.max().reindex(labels).to_numpy(dtype=float)
    return out


def _warning(code: str, message: str, cycles: list[int]) -> dict:
    return {"code": code, "message": message, "cycles": cycles, "severity": SEVERITY[code]}


def _warnings(
    rows: tuple[CycleHysteresis, ...], ranges: dict[str, np.ndarray], from_file: bool
) -> list[dict]:
    out = []
    done = [i for i, row in enumerate(rows) if row.hysteresis_v is not None]
    dv = np.array([rows[i].hysteresis_v for i in done], dtype=float)
    ee = np.array([rows[i].energy_efficiency for i in done], dtype=float)
    cycles = np.array([rows[i].cycle for i in done], dtype=np.int64)
    odd = (dv < 0) | (dv > MAX_HYSTERESIS_V)
    if odd.any():
        out.append(
            _warning(
                "hysteresis_out_of_range",
                f"Voltage hysteresis of {dv[odd].min():.3g} … {dv[odd].max():.3g} V, outside "
                f"0 … {MAX_HYSTERESIS_V:g} V, in cycles {cycle_list(cycles[odd].tolist())}: "
                "charge and discharge may be paired wrongly (electrode role) or the energy "
                "counters are damaged.",
                cycles[odd].tolist(),
            )
        )
    high = ee > 1
    if high.any():
        out.append(
            _warning(
                "energy_efficiency_above_one",
                f"Energy efficiency above 1 ({ee[high].max():.4g} at most) in cycles "
                f"{cycle_list(cycles[high].tolist())}: more energy came out than went in "
                "(a cell that started partly charged, halves paired wrongly, or damaged "
                "counters).",
                cycles[high].tolist(),
            )
        )
    out += _mean_voltage_check(rows, done, ranges, from_file)
    missing = [row.cycle for row in rows if row.note.startswith("the file records energy")]
    if missing:
        out.append(
            _warning(
                "energy_missing",
                f"The file records energy but not for cycles {cycle_list(missing)}: their "
                "hysteresis and energy efficiency are left out.",
                missing,
            )
        )
    return out


def _mean_voltage_check(
    rows: tuple[CycleHysteresis, ...], done: list[int], ranges: dict, from_file: bool
) -> list[dict]:
    """A mean voltage E/Q must lie within the voltages its half ran through."""
    tol = MEAN_VOLTAGE_TOLERANCE_V
    bad: list[int] = []
    for i in done:
        for word, mean in (
            ("charge", rows[i].mean_charge_v),
            ("discharge", rows[i].mean_discharge_v),
        ):
            low, high = ranges[f"{word}_min"][i], ranges[f"{word}_max"][i]
            if not (low - tol <= mean <= high + tol):
                bad.append(rows[i].cycle)
                break
    if not bad:
        return []
    source = "the file's energy and capacity counters" if from_file else "the records"
    return [
        _warning(
            "mean_voltage_outside_half",
            f"In cycles {cycle_list(bad)} a mean voltage (energy / capacity) lies outside the "
            f"voltages its half cycle ran through: {source} disagree (units or damage).",
            bad,
        )
    ]
