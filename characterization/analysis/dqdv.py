"""Differential capacity dQ/dV per half-cycle, its peaks, and their drift over cycles.

Method (numpy only), for each half-cycle (rows of one cycle with I > 0 = charge, I < 0 =
discharge):

1. Monotonic envelope: on charge V is replaced by the mean of its forward running maximum and
   its backward running minimum (mirrored on discharge), and Q by its running maximum, so noise
   that makes V go backwards never produces a negative or infinite slope, and the envelope is
   not pulled towards the noise extremes the way a plain running maximum is.
2. Q is interpolated linearly against the envelope onto a uniform grid of ``voltage_step_v``
   (default 5 mV) at multiples of the step. The grid stops one step short of the half-cycle's
   end voltage, so charge passed during a constant-voltage hold (Q rising at fixed V) never
   enters the grid; nothing is ever divided by a measured dV.
3. dQ/dV = np.gradient(Q_grid, step) (central differences; mAh/V). Sign: positive on charge,
   negative on discharge (Q rises while V falls), as usually plotted.
4. Smoothing: a Gaussian kernel of standard deviation ``smoothing_sigma_v`` (default 10 mV,
   truncated at ±4σ), normalised at the edges so the ends are not pulled to 0; 0 turns it off.
5. Peaks: local maxima of |dQ/dV| (a flat top counts once, at its middle) whose topographic
   prominence is at least ``min_prominence_fraction`` (default 5 %) of the half-cycle's maximum;
   the peak voltage is refined below the grid step by a parabola through the top three points.
6. Tracking: for each target voltage (default 4.4 V Ni2+/Ni4+ and 3.25 V Mn3+/Mn4+) and each
   half-cycle, the tallest peak within ±``window_v`` (default 0.15 V) of the target; NaN when
   none. shift_mv is relative to the first half-cycle of that direction where it was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from characterization.analysis._checks import cycling_table, non_negative, number, positive
from characterization.analysis.cycling import active_mass_g
from characterization.analysis.errors import AnalysisError

DEFAULT_TARGETS_V: tuple[float, ...] = (4.4, 3.25)
CURVE_COLUMNS = ("cycle", "direction", "voltage_v", "dqdv_mah_per_v")
PEAK_COLUMNS = ("cycle", "direction", "voltage_v", "dqdv_mah_per_v", "prominence_mah_per_v")
TRACK_COLUMNS = (
    "cycle",
    "direction",
    "target_v",
    "peak_voltage_v",
    "peak_dqdv_mah_per_v",
    "shift_mv",
)


@dataclass(frozen=True)
class DqdvResult:
    """curves (CURVE_COLUMNS [+ dqdv_mah_g_per_v]), peaks (PEAK_COLUMNS), tracks (TRACK_COLUMNS)."""

    curves: pd.DataFrame
    peaks: pd.DataFrame
    tracks: pd.DataFrame


def dqdv_analysis(
    df: pd.DataFrame,
    *,
    active_mass_mg: float | None = None,
    voltage_step_v: float = 0.005,
    smoothing_sigma_v: float = 0.01,
    min_prominence_fraction: float = 0.05,
    targets_v: Sequence[float] = DEFAULT_TARGETS_V,
    window_v: float = 0.15,
    cycles: Iterable[int] | None = None,
) -> DqdvResult:
    """dQ/dV curves, their peaks and the peaks tracked near ``targets_v`` (see module doc)."""
    curves = dqdv_curves(
        df,
        active_mass_mg=active_mass_mg,
        voltage_step_v=voltage_step_v,
        smoothing_sigma_v=smoothing_sigma_v,
        cycles=cycles,
    )
    peaks = find_dqdv_peaks(curves, min_prominence_fraction=min_prominence_fraction)
    tracks = track_peaks(peaks, targets_v=targets_v, window_v=window_v, curves=curves)
    return DqdvResult(curves=curves, peaks=peaks, tracks=tracks)


def dqdv_curves(
    df: pd.DataFrame,
    *,
    active_mass_mg: float | None = None,
    voltage_step_v: float = 0.005,
    smoothing_sigma_v: float = 0.01,
    cycles: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Smoothed dQ/dV (mAh/V; and mAh g⁻¹ V⁻¹ when the active mass is given) per half-cycle on
    a uniform voltage grid, ascending voltage within each (cycle, direction)."""
    step = positive(voltage_step_v, field="voltage_step_v", label="voltage step", unit="V")
    sigma = non_negative(
        smoothing_sigma_v, field="smoothing_sigma_v", label="smoothing width", unit="V"
    )
    mass_g = None if active_mass_mg is None else active_mass_g(active_mass_mg)
    columns = ("cycle", "current_ma", "voltage_v", "charge_capacity_mah", "discharge_capacity_mah")
    cycling_table(df, columns)
    parts = [
        _half_cycle_curve(cycle, direction, volts, q, step, sigma)
        for cycle, direction, volts, q in _half_cycles(df, cycles)
    ]
    parts = [part for part in parts if part is not None]
    if not parts:
        raise AnalysisError("df", "no half-cycle spans enough voltage for a dQ/dV curve")
    # One frame from concatenated arrays: a frame per half-cycle costs more than the maths.
    sizes = [len(v) for _, _, v, _ in parts]
    curves = pd.DataFrame(
        {
            "cycle": np.repeat([c for c, _, _, _ in parts], sizes),
            "direction": np.repeat([d for _, d, _, _ in parts], sizes).astype(object),
            "voltage_v": np.concatenate([v for _, _, v, _ in parts]),
            "dqdv_mah_per_v": np.concatenate([y for _, _, _, y in parts]),
        }
    )
    if mass_g is not None:
        curves["dqdv_mah_g_per_v"] = curves["dqdv_mah_per_v"] / mass_g
    return curves


def _half_cycles(df: pd.DataFrame, cycles: Iterable[int] | None):
    """Yield (cycle, direction, voltage_v, capacity_mah) for each half-cycle, rows in time order."""
    current = df["current_ma"].to_numpy(dtype=float)
    cycle = df["cycle"].to_numpy()
    volts = df["voltage_v"].to_numpy(dtype=float)
    keep = (current != 0) & np.isfinite(current) & np.isfinite(volts)
    if cycles is not None:
        keep &= np.isin(cycle, np.fromiter(cycles, dtype=int))
    rows = np.flatnonzero(keep)
    key = cycle[rows].astype(np.int64) * 2 + (current[rows] > 0)
    sort = np.argsort(key, kind="stable")
    order = rows[sort]
    bounds = np.flatnonzero(np.diff(key[sort])) + 1
    charge_q = df["charge_capacity_mah"].to_numpy(dtype=float)
    discharge_q = df["discharge_capacity_mah"].to_numpy(dtype=float)
    for group in np.split(order, bounds):
        if len(group) == 0:
            continue
        is_charge = bool(current[group[0]] > 0)
        q = (charge_q if is_charge else discharge_q)[group]
        yield int(cycle[group[0]]), "charge" if is_charge else "discharge", volts[group], q


def _half_cycle_curve(
    cycle: int, direction: str, volts: np.ndarray, q: np.ndarray, step: float, sigma: float
) -> tuple[int, str, np.ndarray, np.ndarray] | None:
    """One half-cycle's (cycle, direction, voltage_v, dqdv) ascending in voltage, or None when
    it spans fewer than 3 grid points."""
    sign = 1.0 if direction == "charge" else -1.0
    grid_x, dq_dx = _dq_dx_on_grid(sign * volts, np.nan_to_num(q, nan=0.0), step)
    if len(grid_x) < 3:
        return None
    dqdv = sign * gaussian_smooth(dq_dx, sigma_points=sigma / step)
    order = np.argsort(sign * grid_x)
    return cycle, direction, (sign * grid_x)[order], dqdv[order]


def _dq_dx_on_grid(x: np.ndarray, q: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """dQ/dx on the grid k·step for a half-cycle in which x (= ±V) should rise.

    x becomes the mean of its forward running maximum and backward running minimum (monotonic,
    unbiased by noise), Q its running maximum; Q is taken at the last record of each envelope
    value, then interpolated onto the grid, which ends one step below the envelope's top.
    """
    # forward running max sits above noisy data, backward running min below; their mean is
    # still non-decreasing but carries no systematic voltage offset
    envelope = 0.5 * (np.maximum.accumulate(x) + np.minimum.accumulate(x[::-1])[::-1])
    q_env = np.maximum.accumulate(q)
    last_at_value = np.r_[envelope[1:] != envelope[:-1], True]
    x_env, q_at = envelope[last_at_value], q_env[last_at_value]
    if len(x_env) < 2:
        return np.zeros(0), np.zeros(0)
    first_k = int(np.ceil(x_env[0] / step - 1e-9))
    last_k = int(np.floor(x_env[-1] / step + 1e-9)) - 1
    if last_k - first_k < 2:
        return np.zeros(0), np.zeros(0)
    grid = np.round(np.arange(first_k, last_k + 1) * step, 9)
    q_grid = np.interp(grid, x_env, q_at)
    return grid, np.gradient(q_grid, step)


def gaussian_smooth(values: np.ndarray, *, sigma_points: float) -> np.ndarray:
    """Gaussian-weighted moving average (σ in grid points, kernel ±4σ), edge-normalised."""
    if sigma_points <= 0 or len(values) < 2:
        return np.asarray(values, dtype=float)
    radius = max(1, int(np.ceil(4.0 * sigma_points)))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma_points) ** 2)
    n = len(values)
    total = np.convolve(values, kernel, mode="full")[radius : radius + n]
    weight = np.convolve(np.ones(n), kernel, mode="full")[radius : radius + n]
    return total / weight


def peak_indices(y: np.ndarray, *, min_prominence: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices and prominences of local maxima of y (flat tops once, at their middle).

    Prominence = y_peak − max(lowest y between the peak and the nearest higher point on the
    left, the same on the right), the ends of the curve standing in for a missing higher point.
    """
    change = np.r_[True, y[1:] != y[:-1]]
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], len(y)] - 1
    runs = y[starts]
    inner = np.arange(1, len(runs) - 1)
    top = inner[(runs[inner] > runs[inner - 1]) & (runs[inner] > runs[inner + 1])]
    candidates = (starts[top] + ends[top]) // 2
    prominences = np.array([_prominence(y, i) for i in candidates], dtype=float)
    keep = prominences >= min_prominence
    return candidates[keep], prominences[keep]


def _prominence(y: np.ndarray, index: int) -> float:
    higher_left = np.flatnonzero(y[:index] > y[index])
    higher_right = np.flatnonzero(y[index + 1 :] > y[index])
    left = higher_left[-1] + 1 if len(higher_left) else 0
    right = index + 1 + higher_right[0] if len(higher_right) else len(y)
    base = max(y[left : index + 1].min(), y[index:right].min())
    return float(y[index] - base)


def find_dqdv_peaks(curves: pd.DataFrame, *, min_prominence_fraction: float = 0.05) -> pd.DataFrame:
    """Peaks of |dQ/dV| in each (cycle, direction) curve with prominence ≥ fraction × max."""
    fraction = number(
        min_prominence_fraction, field="min_prominence_fraction", label="peak prominence"
    )
    if not 0 <= fraction < 1:
        raise AnalysisError(
            "min_prominence_fraction", "peak prominence must be a fraction in [0, 1)"
        )
    rows = []
    for (cycle, direction), curve in curves.groupby(["cycle", "direction"], sort=True):
        volts = curve["voltage_v"].to_numpy()
        dqdv = curve["dqdv_mah_per_v"].to_numpy()
        magnitude = np.abs(dqdv)
        found, prominence = peak_indices(magnitude, min_prominence=fraction * magnitude.max())
        rows.extend(
            (cycle, direction, _vertex_v(volts, magnitude, i), dqdv[i], p)
            for i, p in zip(found, prominence, strict=True)
        )
    return pd.DataFrame(rows, columns=list(PEAK_COLUMNS))


def _vertex_v(volts: np.ndarray, y: np.ndarray, i: int) -> float:
    """Peak voltage refined below the grid step by the parabola through points i−1, i, i+1:
    V = V_i + ½·ΔV·(y_{i−1} − y_{i+1}) / (y_{i−1} − 2y_i + y_{i+1})."""
    if i == 0 or i == len(y) - 1:
        return float(volts[i])
    curvature = y[i - 1] - 2.0 * y[i] + y[i + 1]
    if curvature >= 0:  # flat top: keep the middle grid point
        return float(volts[i])
    offset = 0.5 * (y[i - 1] - y[i + 1]) / curvature
    return float(volts[i] + offset * (volts[i + 1] - volts[i]))


def track_peaks(
    peaks: pd.DataFrame,
    *,
    targets_v: Sequence[float] = DEFAULT_TARGETS_V,
    window_v: float = 0.15,
    curves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per half-cycle and target: the tallest peak within ±window_v of the target (NaN if none).

    Half-cycles come from ``curves`` when given (so cycles without a peak appear as NaN rows),
    else from ``peaks``. shift_mv = 1000·(V_peak − V_peak of the first half-cycle of the same
    direction where the peak was found).
    """
    window = positive(window_v, field="window_v", label="tracking window", unit="V")
    targets = [
        positive(t, field=f"targets_v[{i}]", label="target voltage", unit="V")
        for i, t in enumerate(targets_v)
    ]
    source = curves if curves is not None else peaks
    halves = source[["cycle", "direction"]].drop_duplicates().sort_values(["direction", "cycle"])
    frames = [_track_one(peaks, halves, target, window) for target in targets]
    if not frames:
        return pd.DataFrame(columns=list(TRACK_COLUMNS))
    return pd.concat(frames, ignore_index=True).loc[:, list(TRACK_COLUMNS)]


def _track_one(
    peaks: pd.DataFrame, halves: pd.DataFrame, target: float, window: float
) -> pd.DataFrame:
    """Tallest peak near one target for every half-cycle in ``halves``."""
    near = peaks.loc[(peaks["voltage_v"] - target).abs() <= window]
    tallest = near.loc[
        near["dqdv_mah_per_v"].abs().groupby([near["cycle"], near["direction"]]).idxmax()
    ]
    tallest = tallest.rename(
        columns={"voltage_v": "peak_voltage_v", "dqdv_mah_per_v": "peak_dqdv_mah_per_v"}
    )[["cycle", "direction", "peak_voltage_v", "peak_dqdv_mah_per_v"]]
    out = halves.merge(tallest, on=["cycle", "direction"], how="left")
    out.insert(2, "target_v", target)
    first = out.groupby("direction")["peak_voltage_v"].transform(
        lambda v: v.dropna().iloc[0] if v.notna().any() else np.nan
    )
    out["shift_mv"] = 1000.0 * (out["peak_voltage_v"] - first)
    return out
