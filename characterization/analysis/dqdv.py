"""Differential capacity dQ/dV per half-cycle, its peaks, and each peak followed over cycles.

Method (numpy only):

0. Half-cycles: when the table has the resolved ``direction`` column ("charge", "discharge",
   "rest"), charge and discharge rows are taken from it, so an export that records |I| keeps
   its discharge curves; otherwise from the current's sign (I > 0 charge, I < 0 discharge).
   Rows are grouped by the ``half_cycle`` id when the table has one (rest rows are dropped),
   else by (cycle, direction). Every curve, peak and track row carries its ``half_cycle``
   (without that column: 1, 2, ... in time order of each group's first record).
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
6. Tracking, for each target voltage (default 4.4 V Ni2+/Ni4+ and 3.25 V Mn3+/Mn4+) and each
   direction separately, half-cycles in order: the track starts at the first half-cycle with a
   peak within ±``window_v`` (default 0.15 V) of the target, taking the peak nearest the
   target; in every later half-cycle it takes the peak nearest the last position found within
   ±``follow_window_v`` (default 50 mV). A half-cycle with no peak there is "missing" (NaN row)
   and the search stays centred on the last position found, so a peak that fades and returns
   is picked up again. shift_mv = 1000·(V − the track's first position).
   The follow window bounds what can be followed: a drift of up to follow_window_v from one
   half-cycle of a direction to the next, i.e. per cycle (50 mV: twelve times the 4 mV/cycle
   of a fast-fading cathode), and across k missing half-cycles up to follow_window_v/(k + 1)
   per cycle. Nearest-first keeps two present peaks apart while each drifts less than half
   their separation per cycle; but if the tracked peak vanishes while a neighbour lies
   within follow_window_v of its last position, the track moves to the neighbour, so keep the
   window below the separation of peaks that must not be confused (two sech² peaks of 30 mV
   width smoothed at 10 mV are hardly resolved below ~50 mV anyway).
7. Track summary, one row per (target, direction): where it started, where it was last found,
   the half-cycles missing after the start, and where it was lost for good (see
   ``track_summary``).
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
DEFAULT_WINDOW_V = 0.15  # start: a peak this close to the target begins the track
DEFAULT_FOLLOW_WINDOW_V = 0.05  # then: this close to the last position found (module doc, 6.)
CURVE_COLUMNS = ("cycle", "direction", "half_cycle", "voltage_v", "dqdv_mah_per_v")
PEAK_COLUMNS = (
    "cycle",
    "direction",
    "half_cycle",
    "voltage_v",
    "dqdv_mah_per_v",
    "prominence_mah_per_v",
)
TRACK_COLUMNS = (
    "cycle",
    "direction",
    "half_cycle",
    "target_v",
    "peak_voltage_v",
    "peak_dqdv_mah_per_v",
    "shift_mv",
    "status",  # TRACK_STATUSES
)
TRACK_STATUSES = ("found", "missing", "not_started")
TRACK_SUMMARY_COLUMNS = (
    "target_v",
    "direction",
    "status",  # "tracked" | "lost" | "not_found"
    "first_cycle",
    "start_voltage_v",
    "last_found_cycle",
    "last_shift_mv",
    "first_missing_cycle",
    "lost_at_cycle",
    "found_half_cycles",
    "missing_half_cycles",
    "missing_cycles",
)


@dataclass(frozen=True)
class DqdvResult:
    """curves (CURVE_COLUMNS [+ dqdv_mah_g_per_v]), peaks (PEAK_COLUMNS), tracks (TRACK_COLUMNS)
    and track_summary (TRACK_SUMMARY_COLUMNS, one row per target and direction)."""

    curves: pd.DataFrame
    peaks: pd.DataFrame
    tracks: pd.DataFrame
    track_summary: pd.DataFrame


def dqdv_analysis(
    df: pd.DataFrame,
    *,
    active_mass_mg: float | None = None,
    voltage_step_v: float = 0.005,
    smoothing_sigma_v: float = 0.01,
    min_prominence_fraction: float = 0.05,
    targets_v: Sequence[float] = DEFAULT_TARGETS_V,
    window_v: float = DEFAULT_WINDOW_V,
    follow_window_v: float = DEFAULT_FOLLOW_WINDOW_V,
    cycles: Iterable[int] | None = None,
) -> DqdvResult:
    """dQ/dV curves, their peaks and the peaks followed from ``targets_v`` (see module doc)."""
    curves = dqdv_curves(
        df,
        active_mass_mg=active_mass_mg,
        voltage_step_v=voltage_step_v,
        smoothing_sigma_v=smoothing_sigma_v,
        cycles=cycles,
    )
    peaks = find_dqdv_peaks(curves, min_prominence_fraction=min_prominence_fraction)
    tracks = track_peaks(
        peaks,
        targets_v=targets_v,
        window_v=window_v,
        follow_window_v=follow_window_v,
        curves=curves,
    )
    return DqdvResult(curves, peaks, tracks, track_summary(tracks))


def dqdv_curves(
    df: pd.DataFrame,
    *,
    active_mass_mg: float | None = None,
    voltage_step_v: float = 0.005,
    smoothing_sigma_v: float = 0.01,
    cycles: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Smoothed dQ/dV (mAh/V; and mAh g⁻¹ V⁻¹ when the active mass is given) per half-cycle on
    a uniform voltage grid, ascending voltage within each half-cycle (module doc, 0.–4.)."""
    step = positive(voltage_step_v, field="voltage_step_v", label="voltage step", unit="V")
    sigma = non_negative(
        smoothing_sigma_v, field="smoothing_sigma_v", label="smoothing width", unit="V"
    )
    mass_g = None if active_mass_mg is None else active_mass_g(active_mass_mg)
    columns = ("cycle", "voltage_v", "charge_capacity_mah", "discharge_capacity_mah")
    cycling_table(df, (*columns, *(() if "direction" in df.columns else ("current_ma",))))
    parts = [
        _half_cycle_curve(half, volts, q, step, sigma)
        for half, volts, q in _half_cycles(df, cycles)
    ]
    parts = [part for part in parts if part is not None]
    if not parts:
        raise AnalysisError("df", "no half-cycle spans enough voltage for a dQ/dV curve")
    # One frame from concatenated arrays: a frame per half-cycle costs more than the maths.
    sizes = [len(v) for _, v, _ in parts]
    labels = list(zip(*(half for half, _, _ in parts), strict=True))
    curves = pd.DataFrame(
        {
            "cycle": np.repeat(labels[0], sizes),
            "direction": np.repeat(labels[1], sizes).astype(object),
            "half_cycle": np.repeat(labels[2], sizes).astype(np.int64),
            "voltage_v": np.concatenate([v for _, v, _ in parts]),
            "dqdv_mah_per_v": np.concatenate([y for _, _, y in parts]),
        }
    )
    if mass_g is not None:
        curves["dqdv_mah_g_per_v"] = curves["dqdv_mah_per_v"] / mass_g
    return curves


def _row_directions(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row: (is charge, is charge or discharge), from ``direction`` when the table has it
    (an |I| export keeps its discharges), else from the current's sign."""
    if "direction" in df.columns:
        is_charge = df["direction"].eq("charge").to_numpy(dtype=bool)
        return is_charge, is_charge | df["direction"].eq("discharge").to_numpy(dtype=bool)
    current = df["current_ma"].to_numpy(dtype=float)
    return current > 0, (current != 0) & np.isfinite(current)


def _group_ids(df: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The half-cycle id of each of ``rows`` (its ``half_cycle``), else its cycle."""
    if "half_cycle" not in df.columns:
        return df["cycle"].to_numpy()[rows].astype(np.int64)
    ids = pd.to_numeric(df["half_cycle"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ids = ids[rows]
    if not np.isfinite(ids).all():
        raise AnalysisError("df", "some charge or discharge rows have no half-cycle number")
    return ids.astype(np.int64)


def _half_cycles(df: pd.DataFrame, cycles: Iterable[int] | None):
    """Yield ((cycle, direction, half_cycle), voltage_v, capacity_mah) per half-cycle, rows in
    time order, half-cycles ordered by their id (module doc, 0.)."""
    is_charge, usable = _row_directions(df)
    cycle = df["cycle"].to_numpy()
    volts = df["voltage_v"].to_numpy(dtype=float)
    keep = usable & np.isfinite(volts)
    if cycles is not None:
        keep &= np.isin(cycle, np.fromiter(cycles, dtype=int))
    rows = np.flatnonzero(keep)
    if not len(rows):
        return
    key = _group_ids(df, rows) * 2 + is_charge[rows]
    sort = np.argsort(key, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(key[sort])) + 1]
    groups = np.split(rows[sort], starts[1:])
    if "half_cycle" in df.columns:
        ids = (key[sort][starts] // 2).tolist()
    else:  # number the (cycle, direction) groups in time order of their first record
        ids = (np.argsort(np.argsort([group[0] for group in groups])) + 1).tolist()
    charge_q = df["charge_capacity_mah"].to_numpy(dtype=float)
    discharge_q = df["discharge_capacity_mah"].to_numpy(dtype=float)
    for group, half_id in zip(groups, ids, strict=True):
        charging = bool(is_charge[group[0]])
        q = (charge_q if charging else discharge_q)[group]
        half = (int(cycle[group[0]]), "charge" if charging else "discharge", int(half_id))
        yield half, volts[group], q


def _half_cycle_curve(
    half: tuple[int, str, int], volts: np.ndarray, q: np.ndarray, step: float, sigma: float
) -> tuple[tuple[int, str, int], np.ndarray, np.ndarray] | None:
    """One half-cycle's ((cycle, direction, half_cycle), voltage_v, dqdv) ascending in voltage,
    or None when it spans fewer than 3 grid points."""
    sign = 1.0 if half[1] == "charge" else -1.0
    grid_x, dq_dx = _dq_dx_on_grid(sign * volts, np.nan_to_num(q, nan=0.0), step)
    if len(grid_x) < 3:
        return None
    dqdv = sign * gaussian_smooth(dq_dx, sigma_points=sigma / step)
    order = np.argsort(sign * grid_x)
    return half, (sign * grid_x)[order], dqdv[order]


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
    # prominence ≤ y_peak − min(y): this cheap bound drops the noise wiggles of the baseline
    # before the per-candidate search (the same peaks, far fewer _prominence calls)
    candidates = candidates[y[candidates] - y.min() >= min_prominence]
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
    """Peaks of |dQ/dV| in each half-cycle's curve with prominence ≥ fraction × its maximum
    (PEAK_COLUMNS; without half_cycle when ``curves`` has none)."""
    fraction = number(
        min_prominence_fraction, field="min_prominence_fraction", label="peak prominence"
    )
    if not 0 <= fraction < 1:
        raise AnalysisError(
            "min_prominence_fraction", "peak prominence must be a fraction in [0, 1)"
        )
    keys = _half_keys(curves)
    rows: list[tuple] = []
    if curves.empty:
        return pd.DataFrame(rows, columns=[*keys, *PEAK_COLUMNS[3:]])
    # numpy slices per half-cycle: iterating a pandas groupby costs more than the peak search
    group = curves.groupby(keys, sort=True, dropna=False).ngroup().to_numpy()
    order = np.argsort(group, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(group[order])) + 1, len(order)]
    labels = curves[keys].to_numpy(dtype=object)[order[starts[:-1]]]
    all_volts = curves["voltage_v"].to_numpy(dtype=float)[order]
    all_dqdv = curves["dqdv_mah_per_v"].to_numpy(dtype=float)[order]
    for half, first, stop in zip(labels, starts[:-1], starts[1:], strict=True):
        volts, dqdv = all_volts[first:stop], all_dqdv[first:stop]
        magnitude = np.abs(dqdv)
        found, prominence = peak_indices(magnitude, min_prominence=fraction * magnitude.max())
        rows.extend(
            (*half, _vertex_v(volts, magnitude, i), dqdv[i], p)
            for i, p in zip(found, prominence, strict=True)
        )
    return pd.DataFrame(rows, columns=[*keys, *PEAK_COLUMNS[3:]])


def _half_keys(frame: pd.DataFrame) -> list[str]:
    """The columns naming a half-cycle: cycle, direction and half_cycle when present."""
    return ["cycle", "direction", *(["half_cycle"] if "half_cycle" in frame.columns else [])]


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
    window_v: float = DEFAULT_WINDOW_V,
    follow_window_v: float = DEFAULT_FOLLOW_WINDOW_V,
    curves: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each target's peak followed through the half-cycles of each direction (module doc, 6.).

    One row per target, direction and half-cycle (TRACK_COLUMNS, ordered so), half-cycles from
    ``curves`` when given (so those without any peak appear), else from ``peaks``; in order of
    half_cycle, or of cycle when the frames have no half_cycle. status is "not_started" before
    the first peak within ±window_v of the target, then "found" or "missing" (NaN values).
    """
    window = positive(window_v, field="window_v", label="tracking window", unit="V")
    follow = positive(follow_window_v, field="follow_window_v", label="follow window", unit="V")
    targets = [
        positive(t, field=f"targets_v[{i}]", label="target voltage", unit="V")
        for i, t in enumerate(targets_v)
    ]
    targets = list(dict.fromkeys(targets))  # a target given twice is tracked once
    source = curves if curves is not None else peaks
    keys = _half_keys(source) if "half_cycle" in peaks.columns else ["cycle", "direction"]
    order = "half_cycle" if "half_cycle" in keys else "cycle"
    halves = source[keys].drop_duplicates().sort_values(["direction", order])
    frames = [
        _track_one(peaks.loc[peaks["direction"] == direction], part, order, target, window, follow)
        for target in targets
        for direction, part in halves.groupby("direction", sort=True)
    ]
    columns = [c for c in TRACK_COLUMNS if c != "half_cycle" or c in keys]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True).loc[:, columns]


def _track_one(
    peaks: pd.DataFrame,
    halves: pd.DataFrame,
    order: str,
    target: float,
    window: float,
    follow: float,
) -> pd.DataFrame:
    """One target's track through ``halves`` (one direction, sorted by ``order``: half_cycle,
    else cycle) among that direction's ``peaks``."""
    peaks = peaks.sort_values([order, "voltage_v"])
    at = peaks[order].to_numpy()
    volts = peaks["voltage_v"].to_numpy(dtype=float)
    dqdv = peaks["dqdv_mah_per_v"].to_numpy(dtype=float)
    wanted = halves[order].to_numpy()
    lo, hi = np.searchsorted(at, wanted, "left"), np.searchsorted(at, wanted, "right")
    chosen = _follow(volts, lo, hi, target, window, follow)
    found = chosen >= 0
    out = halves.reset_index(drop=True)
    out["target_v"] = target
    out["peak_voltage_v"] = _take(volts, chosen)
    out["peak_dqdv_mah_per_v"] = _take(dqdv, chosen)
    start = volts[chosen[found][0]] if found.any() else np.nan
    out["shift_mv"] = 1000.0 * (out["peak_voltage_v"] - start)
    started = np.maximum.accumulate(found)
    out["status"] = np.where(found, "found", np.where(started, "missing", "not_started"))
    return out


def _follow(
    volts: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: float, window: float, follow: float
) -> np.ndarray:
    """Index into ``volts`` of the tracked peak in each half-cycle (its peaks are
    volts[lo:hi]), −1 where none: nearest to the target within ±window until first found,
    then nearest to the last position found within ±follow."""
    chosen = np.full(len(lo), -1, dtype=np.int64)
    centre, reach = target, window
    for i, (first, stop) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        if first == stop:
            continue
        j = first + int(np.argmin(np.abs(volts[first:stop] - centre)))
        if abs(volts[j] - centre) <= reach + 1e-9:  # 1e-9 V: a peak right on the edge counts
            chosen[i], centre, reach = j, volts[j], follow
    return chosen


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index], NaN where index is −1."""
    out = np.full(len(index), np.nan)
    out[index >= 0] = values[index[index >= 0]]
    return out


def track_summary(tracks: pd.DataFrame) -> pd.DataFrame:
    """One row per (target, direction) of ``tracks`` saying where the peak was lost.

    TRACK_SUMMARY_COLUMNS: status "tracked" (found in the last half-cycle), "lost" (missing
    from ``lost_at_cycle`` to the end) or "not_found" (never within the start window);
    first_cycle / start_voltage_v where the track started (the shift reference);
    last_found_cycle and its last_shift_mv; first_missing_cycle, the first half-cycle after the
    start without the peak (it may have come back); found_half_cycles and missing_half_cycles
    counted from the start; missing_cycles, the cycle of every missing half-cycle. Cycles
    absent (never found, never lost) are <NA>.
    """
    rows = [
        _summarise_track(target, direction, part)
        for (target, direction), part in tracks.groupby(["target_v", "direction"], sort=False)
    ]
    summary = pd.DataFrame(rows, columns=list(TRACK_SUMMARY_COLUMNS))
    for column in ("first_cycle", "last_found_cycle", "first_missing_cycle", "lost_at_cycle"):
        summary[column] = summary[column].astype("Int64")
    for column in ("target_v", "start_voltage_v", "last_shift_mv"):
        summary[column] = summary[column].astype(float)
    return summary


def _summarise_track(target: float, direction: str, track: pd.DataFrame) -> dict:
    cycles = track["cycle"].to_numpy()
    status = track["status"].to_numpy()
    found, missing = status == "found", status == "missing"
    row = dict.fromkeys(TRACK_SUMMARY_COLUMNS)
    row.update(target_v=target, direction=direction, status="not_found")
    row.update(found_half_cycles=int(found.sum()), missing_half_cycles=int(missing.sum()))
    row["missing_cycles"] = [int(c) for c in cycles[missing]]
    if not found.any():
        return row
    first, last = np.flatnonzero(found)[[0, -1]]
    row.update(first_cycle=int(cycles[first]), last_found_cycle=int(cycles[last]))
    row["start_voltage_v"] = float(track["peak_voltage_v"].iloc[first])
    row["last_shift_mv"] = float(track["shift_mv"].iloc[last])
    row["first_missing_cycle"] = row["missing_cycles"][0] if missing.any() else None
    lost = last < len(track) - 1
    row["status"] = "lost" if lost else "tracked"
    row["lost_at_cycle"] = int(cycles[last + 1]) if lost else None
    return row
