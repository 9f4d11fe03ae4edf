"""Synthetic normalised cycling tables with answers that can be worked by hand.

A table is assembled from half-cycles (charge or discharge) given as cumulative capacity Q
(mAh, from 0) and voltage V at each record. Time advances by ΔQ / |I| (h → s). Each
half-cycle is followed by ``rest_points`` rest records (I = 0, both capacities 0, voltage
relaxed by 50 mV towards 3.5 V) like a real tester writes. Energy columns hold the running
trapezoid ∫ V dQ when ``with_energy`` is set, else NaN (a file without energy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from characterization.parsers.cycle_model import Counter, Records, normalise
from characterization.parsers.schema import COLUMNS


@dataclass(frozen=True)
class HalfCycle:
    cycle: int
    direction: str  # "charge" | "discharge"
    capacity_mah: np.ndarray  # cumulative, rising from 0
    voltage_v: np.ndarray
    current_ma: np.ndarray  # magnitude per record (> 0)


def piecewise_half_cycle(
    cycle: int,
    direction: str,
    *,
    capacity_knots_mah: Sequence[float],
    voltage_knots_v: Sequence[float],
    current_ma: float,
    points: int = 201,
) -> HalfCycle:
    """Records evenly spaced in Q (constant current) with V linear in Q between the knots."""
    q = np.linspace(0.0, capacity_knots_mah[-1], points)
    v = np.interp(q, capacity_knots_mah, voltage_knots_v)
    return HalfCycle(cycle, direction, q, v, np.full(points, float(current_ma)))


def linear_half_cycle(
    cycle: int,
    direction: str,
    *,
    capacity_mah: float,
    start_v: float,
    end_v: float,
    current_ma: float,
    points: int = 201,
) -> HalfCycle:
    """Constant current with V linear in Q from start_v to end_v: mean V = (start + end) / 2."""
    return piecewise_half_cycle(
        cycle,
        direction,
        capacity_knots_mah=(0.0, capacity_mah),
        voltage_knots_v=(start_v, end_v),
        current_ma=current_ma,
        points=points,
    )


def assemble(
    half_cycles: Sequence[HalfCycle], *, with_energy: bool = False, rest_points: int = 2
) -> pd.DataFrame:
    """Concatenate half-cycles into records as an instrument writes them (a capacity counter
    restarting every step, the given cycle numbers as the instrument's index) and normalise
    them with the cycle model every reader uses, so the table has the schema's columns."""
    parts = [_half_cycle_rows(h, step, with_energy) for step, h in enumerate(half_cycles, 1)]
    if rest_points:
        parts = [
            frame
            for part, h in zip(parts, half_cycles, strict=True)
            for frame in (part, _rest_rows(h, part, rest_points, with_energy))
        ]
    table = pd.concat(parts, ignore_index=True)
    current = table["current_ma"].abs().to_numpy()
    dq = table.pop("_dq").to_numpy()
    hours = np.divide(dq, current, out=np.zeros_like(dq), where=current > 0)
    time_s = np.cumsum(hours * 3600.0 + np.where(current > 0, 0.0, 60.0))
    step = np.cumsum(table["step_type"] != table["step_type"].shift()).to_numpy()
    capacity = (table["charge_capacity_mah"] + table["discharge_capacity_mah"]).to_numpy()
    energy = (table["charge_energy_mwh"] + table["discharge_energy_mwh"]).to_numpy()
    records = Records(
        time_s=time_s,
        voltage_v=table["voltage_v"].to_numpy(),
        current_ma=table["current_ma"].to_numpy(),
        step=step,
        step_type=table["step_type"].to_numpy(dtype=object),
        instrument_cycle=table["cycle"].to_numpy(),
        capacity=(Counter(capacity, segments=step),),
        energy=(Counter(energy, segments=step),) if with_energy else (),
    )
    out = normalise(records)
    assert tuple(out.columns) == COLUMNS
    return out


def _half_cycle_rows(h: HalfCycle, step: int, with_energy: bool) -> pd.DataFrame:
    q, v = np.asarray(h.capacity_mah, float), np.asarray(h.voltage_v, float)
    dq = np.diff(q, prepend=0.0)
    energy = np.cumsum(dq * 0.5 * (v + np.r_[v[:1], v[:-1]]))
    zeros = np.zeros_like(q)
    charging = h.direction == "charge"
    no_energy = np.full_like(q, np.nan)
    return pd.DataFrame(
        {
            "cycle": h.cycle,
            "step_type": h.direction,
            "current_ma": (1.0 if charging else -1.0) * np.asarray(h.current_ma, float),
            "voltage_v": v,
            "charge_capacity_mah": q if charging else zeros,
            "discharge_capacity_mah": zeros if charging else q,
            "charge_energy_mwh": (energy if charging else zeros) if with_energy else no_energy,
            "discharge_energy_mwh": (zeros if charging else energy) if with_energy else no_energy,
            "_dq": dq,
        }
    )


def _rest_rows(h: HalfCycle, part: pd.DataFrame, n: int, with_energy: bool) -> pd.DataFrame:
    end_v = float(part["voltage_v"].iloc[-1])
    relaxed = end_v - 0.05 if end_v > 3.5 else end_v + 0.05
    fill = 0.0 if with_energy else np.nan
    return pd.DataFrame(
        {
            "cycle": h.cycle,
            "step_type": "rest",
            "current_ma": np.zeros(n),
            "voltage_v": np.linspace(end_v, relaxed, n + 1)[1:],
            "charge_capacity_mah": 0.0,
            "discharge_capacity_mah": 0.0,
            "charge_energy_mwh": fill,
            "discharge_energy_mwh": fill,
            "_dq": 0.0,
        }
    )


def linear_cycling_table(
    n_cycles: int = 1,
    *,
    charge_capacity_mah: float = 1.0,
    discharge_capacity_mah: float = 0.9,
    discharge_capacity_loss_mah_per_cycle: float = 0.0,
    charge_v: tuple[float, float] = (3.0, 4.6),
    discharge_v: tuple[float, float] = (4.4, 2.6),
    discharge_shift_v_per_cycle: float = 0.0,
    current_ma: float = 0.1,
    points: int = 201,
    with_energy: bool = False,
    first_cycle: int = 1,
) -> pd.DataFrame:
    """CC charge then CC discharge per cycle, V linear in Q.

    Discharge of cycle n: capacity = discharge_capacity_mah − loss·(n − first), voltages shifted
    by −shift·(n − first); mean discharge voltage = mean of discharge_v minus that shift.
    """
    halves = linear_cycling_halves(
        n_cycles,
        charge_capacity_mah=charge_capacity_mah,
        discharge_capacity_mah=discharge_capacity_mah,
        discharge_capacity_loss_mah_per_cycle=discharge_capacity_loss_mah_per_cycle,
        charge_v=charge_v,
        discharge_v=discharge_v,
        discharge_shift_v_per_cycle=discharge_shift_v_per_cycle,
        current_ma=current_ma,
        points=points,
        first_cycle=first_cycle,
    )
    return assemble(halves, with_energy=with_energy)


def linear_cycling_halves(
    n_cycles: int = 1,
    *,
    charge_capacity_mah: float = 1.0,
    discharge_capacity_mah: float = 0.9,
    discharge_capacity_loss_mah_per_cycle: float = 0.0,
    charge_v: tuple[float, float] = (3.0, 4.6),
    discharge_v: tuple[float, float] = (4.4, 2.6),
    discharge_shift_v_per_cycle: float = 0.0,
    current_ma: float = 0.1,
    points: int = 201,
    first_cycle: int = 1,
) -> list[HalfCycle]:
    """The half cycles of linear_cycling_table, to assemble with others."""
    halves: list[HalfCycle] = []
    for n in range(first_cycle, first_cycle + n_cycles):
        k = n - first_cycle
        halves.append(
            linear_half_cycle(
                n,
                "charge",
                capacity_mah=charge_capacity_mah,
                start_v=charge_v[0],
                end_v=charge_v[1],
                current_ma=current_ma,
                points=points,
            )
        )
        shift = discharge_shift_v_per_cycle * k
        halves.append(
            linear_half_cycle(
                n,
                "discharge",
                capacity_mah=discharge_capacity_mah - discharge_capacity_loss_mah_per_cycle * k,
                start_v=discharge_v[0] - shift,
                end_v=discharge_v[1] - shift,
                current_ma=current_ma,
                points=points,
            )
        )
    return halves


def rate_test_table(
    *,
    active_mass_mg: float,
    steps: Sequence[tuple[float, int, float]],
    one_c_ma_per_g: float = 250.0,
    current_noise_fraction: float = 0.0,
    seed: int = 0,
    points: int = 101,
) -> pd.DataFrame:
    """Cycles at each (rate_c, n_cycles, discharge_capacity_mah_g) step, charge and discharge
    at I = rate × one_c_ma_per_g × m_g, with optional relative Gaussian noise on the current.
    Charge capacity is 2 % above the discharge capacity."""
    rng = np.random.default_rng(seed)
    mass_g = active_mass_mg / 1000.0
    halves: list[HalfCycle] = []
    cycle = 0
    for rate, n_cycles, capacity_mah_g in steps:
        for _ in range(n_cycles):
            cycle += 1
            current = rate * one_c_ma_per_g * mass_g
            for direction, capacity, volts in (
                ("charge", 1.02 * capacity_mah_g * mass_g, (3.0, 4.6)),
                ("discharge", capacity_mah_g * mass_g, (4.4, 2.6)),
            ):
                noise = 1.0 + current_noise_fraction * rng.standard_normal(points)
                q = np.linspace(0.0, capacity, points)
                v = np.linspace(*volts, points)
                halves.append(HalfCycle(cycle, direction, q, v, current * np.abs(noise)))
    return assemble(halves)


def peak_half_cycle(
    cycle: int,
    direction: str,
    *,
    peak_v: float,
    low_v: float = 2.5,
    high_v: float = 4.7,
    baseline_mah_per_v: float = 0.1,
    step_mah: float = 0.4,
    width_v: float = 0.03,
    current_ma: float = 0.1,
    points: int = 2000,
    noise_v: float = 0.0,
    cv_hold_mah: float = 0.0,
    seed: int = 0,
) -> HalfCycle:
    """A half-cycle whose dQ/dV is a baseline plus one sech² peak centred exactly at peak_v.

    Q(V) = baseline·|V − V_start| + step·(1 ± tanh((V − peak_v)/width))/2, sampled evenly in Q
    (constant current); optional Gaussian voltage noise (non-monotonic V) and a constant-voltage
    hold at the end voltage adding cv_hold_mah with decaying current.
    """
    fine_v = np.linspace(low_v, high_v, 20001)
    rising = direction == "charge"
    start = low_v if rising else high_v
    sigmoid = (1 + np.tanh((fine_v - peak_v) / width_v)) / 2
    fine_q = baseline_mah_per_v * np.abs(fine_v - start) + step_mah * (
        sigmoid - sigmoid[0] if rising else sigmoid[-1] - sigmoid
    )
    if not rising:
        fine_v, fine_q = fine_v[::-1], fine_q[::-1]
    q = np.linspace(0.0, fine_q[-1], points)
    v = np.interp(q, fine_q, fine_v)
    current = np.full(points, current_ma)
    if cv_hold_mah > 0:
        hold = 200
        q = np.r_[q, q[-1] + cv_hold_mah * np.linspace(0, 1, hold + 1)[1:]]
        v = np.r_[v, np.full(hold, v[-1])]
        current = np.r_[current, current_ma * np.geomspace(1.0, 0.05, hold)]
    if noise_v > 0:
        v = v + noise_v * np.random.default_rng(seed).standard_normal(len(v))
    return HalfCycle(cycle, direction, q, v, current)
