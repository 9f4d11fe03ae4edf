"""The first charge's high-voltage plateau (Li2MnO3 activation of Li-rich cathodes, ~4.5 V),
measured two ways, both reported (DOMAIN.md section 3, formation).

The first charge is the charge of the file's first cycle (Kiln's cycle 1 of a cathode
half-cell; a leading partial discharge, cycle 0, is not a charge): the activation happens
once, on that charge, so a later cycle is never taken instead. Nothing is measured (every
figure None, `note` says why) when that cycle is incomplete (the one completeness rule of
characterization.parsers.cycles), when its charge never reaches `threshold_v` (not a Li-rich
activation, or a charge cut off below it), or for an anode half-cell.

(a) capacity_above_threshold_mah_g: the charge passed while V ≥ threshold_v (default 4.4 V)
    during the first charge, per g of active material: Σ ΔQ_i·f_i with f_i the share of record
    segment i above the threshold, V linear in Q within a segment
    (first_cycle.charge_capacity_above_mah). A constant-voltage hold above the threshold
    counts: it is charge passed at V ≥ threshold.
(b) flat_plateau_mah_g: the length (in capacity) of the longest span of the first charge's
    constant-current part over which the smoothed slope |dV/dQ| stays below
    `slope_threshold_v_per_100mah_g` (default 0.5 V per 100 mAh/g) while the smoothed voltage
    is at or above `plateau_floor_v` (default 4.4 V). Method: V is interpolated linearly in Q
    (mAh/g, records where Q rises) onto a uniform grid of step smoothing_window_mah_g / 20;
    dV/dQ is the slope of a least-squares line over a window of `smoothing_window_mah_g`
    (default 10 mAh/g) centred on each grid point (Savitzky–Golay, order 1, scipy; the ends
    use the fit of the first/last window), and V is smoothed by the same filter. The span is
    (number of grid points in the run) × step; its ends' voltages are the smoothed V there.
    The constant-voltage tail of a CC-CV charge (records after the last one at a current of
    at least CV_CURRENT_FRACTION of the charge's constant current) is left out: Q rises there
    at fixed V, which is not a plateau. The constant current is the ΔQ-weighted 75th
    percentile of |I| over the charge, so a hold passing under 75 % of the charge leaves it
    unchanged. No span qualifying gives 0.0 (start and end None); data that cannot tell (a
    charge shorter than the window, records more than half a window apart, a span beyond
    MAX_SPAN_MAH_G: a mass typed wrong) give None with the reason in the note.
    A window centred within h = window/2 of a sharp knee sees part of the slope: a straight
    slope s meeting a flat plateau shortens the run at that end by about t·h, where
    t³ − 3t + 2 − 4·(threshold/s) = 0 (t = 0 for s = 2 × threshold, 0.35 for s = 4 ×; a
    slope below 2 × threshold lengthens it instead), so the run is within ±h of the knees.

A curve that rises steadily above the threshold (a conventional layered oxide charged to
4.6 V) has capacity above the threshold but no flat plateau (0.0); a Li-rich first charge has
both, the flat part being the activation plateau.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.signal import savgol_filter

from characterization.analysis._checks import cycling_table, positive
from characterization.analysis.cycling import active_mass_g, cycle_capacities_mah, electrode_role
from characterization.analysis.errors import AnalysisError
from characterization.analysis.first_cycle import charge_capacity_above_mah
from characterization.analysis.plausibility import NOTE

VERSION = "1"
DEFAULT_THRESHOLD_V = 4.4
DEFAULT_PLATEAU_FLOOR_V = 4.4
DEFAULT_SLOPE_THRESHOLD_V_PER_100MAH_G = 0.5
DEFAULT_SMOOTHING_WINDOW_MAH_G = 10.0
VOLTAGE_BOUNDS_V = (1.0, 6.0)  # thresholds outside this are typing errors for a cathode
SLOPE_BOUNDS_V_PER_100MAH_G = (0.01, 10.0)
WINDOW_BOUNDS_MAH_G = (1.0, 100.0)
GRID_STEPS_PER_WINDOW = 20
MAX_SPAN_MAH_G = 5000.0  # a first charge beyond this (Li metal: 3860) is a mass typed wrong
CV_CURRENT_FRACTION = 0.9  # CC currents vary by < 1 % on real testers
# Where Li2MnO3 activation sits at formation rates (~4.45-4.6 V, higher at faster rates): a
# flat plateau elsewhere (a 4.9 V spinel plateau, a noisy hold) is measured but noted.
ACTIVATION_RANGE_V = (4.35, 4.75)
SEVERITY: dict[str, str] = {"plateau_unavailable": NOTE, "plateau_voltage_unusual": NOTE}
SUMMARY_FIELDS = (
    "threshold_v",
    "capacity_above_threshold_mah_g",
    "flat_plateau_mah_g",
    "flat_plateau_start_v",
    "flat_plateau_end_v",
    "slope_threshold",
    "note",
)
NEEDED_COLUMNS = (
    "cycle",
    "half_cycle",
    "instrument_cycle",
    "direction",
    "current_ma",
    "voltage_v",
    "charge_capacity_mah",
    "discharge_capacity_mah",
)


@dataclass(frozen=True)
class Plateau:
    """Both plateau measures of the first charge (None when not measured; `note` says how
    they were measured, or why not). `slope_threshold` is in V per 100 mAh/g. `series` holds
    the first charge for plotting: q_mah_g and voltage_v on the grid, smoothed voltage_v and
    dvdq_v_per_100mah_g, and the flat run's first and last grid index (empty lists when
    nothing was measured)."""

    threshold_v: float
    capacity_above_threshold_mah_g: float | None
    flat_plateau_mah_g: float | None
    flat_plateau_start_v: float | None
    flat_plateau_end_v: float | None
    slope_threshold: float
    note: str
    cycle: int | None = None
    constant_voltage_hold_mah_g: float | None = None  # the CV tail left out of (b)
    plateau_floor_v: float = DEFAULT_PLATEAU_FLOOR_V
    smoothing_window_mah_g: float = DEFAULT_SMOOTHING_WINDOW_MAH_G
    series: dict = field(default_factory=dict)
    warnings: tuple[dict, ...] = ()
    version: str = VERSION

    def as_summary(self) -> dict[str, object]:
        return {"plateau": {name: getattr(self, name) for name in SUMMARY_FIELDS}}


@dataclass(frozen=True)
class _Settings:
    threshold_v: float
    floor_v: float
    slope: float  # V per 100 mAh/g
    window: float  # mAh/g
    mass_g: float


def first_charge_plateau(
    df: pd.DataFrame,
    *,
    active_mass_mg: float,
    threshold_v: float = DEFAULT_THRESHOLD_V,
    plateau_floor_v: float = DEFAULT_PLATEAU_FLOOR_V,
    slope_threshold_v_per_100mah_g: float = DEFAULT_SLOPE_THRESHOLD_V_PER_100MAH_G,
    smoothing_window_mah_g: float = DEFAULT_SMOOTHING_WINDOW_MAH_G,
    electrode: str = "cathode",
    voltage_window_v: tuple[float | None, float | None] | None = None,
) -> Plateau:
    """(a) capacity above `threshold_v` and (b) flat-plateau length from dV/dQ of the first
    charge (see the module doc); both None, with the reason in `note`, when not measurable."""
    settings = _settings(
        active_mass_mg,
        threshold_v,
        plateau_floor_v,
        slope_threshold_v_per_100mah_g,
        smoothing_window_mah_g,
    )
    cycling_table(df, NEEDED_COLUMNS)
    if electrode_role(electrode) != "cathode":
        return _unmeasured(
            settings,
            None,
            "the activation plateau is a cathode measure; an anode half-cell has none",
        )
    cycles = cycle_capacities_mah(df, electrode="cathode", voltage_window_v=voltage_window_v)
    opened = cycles[cycles["charge_capacity_mah"] > 0]
    if opened.empty:
        return _unmeasured(settings, None, "the file has no charge")
    first = opened.iloc[0]
    cycle = int(first["cycle"])
    if not bool(first["complete"]):
        reason = first["incomplete_reason"]
        return _unmeasured(settings, cycle, f"the first cycle ({cycle}) is incomplete ({reason})")
    rows = df[(df["cycle"].to_numpy() == cycle) & (df["direction"].to_numpy() == "charge")]
    return _measure(rows, settings, cycle)


def _settings(mass_mg, threshold_v, floor_v, slope, window) -> _Settings:
    mass_g = active_mass_g(mass_mg)
    volts = [
        _bounded(value, name, label, VOLTAGE_BOUNDS_V, "V")
        for value, name, label in (
            (threshold_v, "threshold_v", "plateau threshold"),
            (floor_v, "plateau_floor_v", "plateau floor"),
        )
    ]
    slope = _bounded(
        slope,
        "slope_threshold_v_per_100mah_g",
        "slope threshold",
        SLOPE_BOUNDS_V_PER_100MAH_G,
        "V per 100 mAh/g",
    )
    window = _bounded(
        window, "smoothing_window_mah_g", "smoothing window", WINDOW_BOUNDS_MAH_G, "mAh/g"
    )
    return _Settings(volts[0], volts[1], slope, window, mass_g)


def _bounded(value, name: str, label: str, bounds: tuple[float, float], unit: str) -> float:
    result = positive(value, field=name, label=label, unit=unit)
    low, high = bounds
    if not low <= result <= high:
        raise AnalysisError(name, f"{label} must be between {low:g} and {high:g} {unit}")
    return result


def _unmeasured(settings: _Settings, cycle: int | None, reason: str) -> Plateau:
    note = f"No plateau measured: {reason}."
    return Plateau(
        threshold_v=settings.threshold_v,
        capacity_above_threshold_mah_g=None,
        flat_plateau_mah_g=None,
        flat_plateau_start_v=None,
        flat_plateau_end_v=None,
        slope_threshold=settings.slope,
        note=note,
        cycle=cycle,
        plateau_floor_v=settings.floor_v,
        smoothing_window_mah_g=settings.window,
        series=_series(),
        warnings=(
            {
                "code": "plateau_unavailable",
                "message": note,
                "cycles": [] if cycle is None else [cycle],
                "severity": SEVERITY["plateau_unavailable"],
            },
        ),
    )


def _measure(rows: pd.DataFrame, settings: _Settings, cycle: int) -> Plateau:
    volts = rows["voltage_v"].to_numpy(dtype=float)
    q = rows["charge_capacity_mah"].to_numpy(dtype=float) / settings.mass_g
    amps = np.abs(rows["current_ma"].to_numpy(dtype=float))
    keep = np.isfinite(volts) & np.isfinite(q)
    if keep.sum() < 2:
        return _unmeasured(settings, cycle, f"cycle {cycle}'s charge has fewer than 2 records")
    dropped = int(len(keep) - keep.sum())
    volts, q, amps = volts[keep], np.maximum.accumulate(q[keep]), amps[keep]
    top = float(volts.max())
    if top < settings.threshold_v:
        return _unmeasured(
            settings,
            cycle,
            f"the first charge (cycle {cycle}) peaks at {top:.4f} V, below the "
            f"{settings.threshold_v:g} V threshold (not a Li-rich activation, or a charge cut "
            "off below it)",
        )
    above = charge_capacity_above_mah(volts, q, threshold_v=settings.threshold_v)
    cc_end = constant_current_end(q, amps)
    flat, series, flat_note = flat_plateau(volts[:cc_end], q[:cc_end], settings)
    cv = float(q[-1] - q[cc_end - 1])
    caveats = [flat_note and f"no flat plateau measured: {flat_note}"]
    if not np.isfinite(amps).any():
        caveats.append("the file records no current, so no constant-voltage hold was left out")
    if dropped:
        caveats.append(f"{dropped} record(s) without a finite voltage or capacity left out")
    note = _note(settings, cycle, cv, [c for c in caveats if c])
    return Plateau(
        threshold_v=settings.threshold_v,
        capacity_above_threshold_mah_g=above,
        flat_plateau_mah_g=None if flat is None else flat[0],
        flat_plateau_start_v=None if flat is None else flat[1],
        flat_plateau_end_v=None if flat is None else flat[2],
        slope_threshold=settings.slope,
        note=note,
        cycle=cycle,
        constant_voltage_hold_mah_g=cv,
        plateau_floor_v=settings.floor_v,
        smoothing_window_mah_g=settings.window,
        series=series,
        warnings=_voltage_note(flat, cycle),
    )


def _voltage_note(flat: tuple | None, cycle: int) -> tuple[dict, ...]:
    """A note when the flat plateau lies outside ACTIVATION_RANGE_V."""
    if flat is None or flat[1] is None:
        return ()
    low, high = ACTIVATION_RANGE_V
    start, end = flat[1], flat[2]
    if low <= min(start, end) and max(start, end) <= high:
        return ()
    message = (
        f"The first charge's flat plateau lies at {start:.3f}–{end:.3f} V, outside "
        f"{low:g}–{high:g} V where Li2MnO3 activation is found: it may be another process "
        "(a spinel or electrolyte plateau, a voltage hold)."
    )
    return (
        {
            "code": "plateau_voltage_unusual",
            "message": message,
            "cycles": [cycle],
            "severity": SEVERITY["plateau_voltage_unusual"],
        },
    )


def constant_current_end(q: np.ndarray, amps: np.ndarray) -> int:
    """The number of leading records before the constant-voltage tail: the records up to the
    last one whose |I| is at least CV_CURRENT_FRACTION of the constant current (the
    ΔQ-weighted 75th percentile of |I|); all of them when the currents are unknown."""
    dq = np.diff(q, prepend=q[0])
    known = np.isfinite(amps) & (dq > 0)
    if not known.any():
        return len(q)
    order = np.argsort(amps[known])
    weights = np.cumsum(dq[known][order])
    reference = amps[known][order][np.searchsorted(weights, 0.75 * weights[-1])]
    strong = np.flatnonzero(np.nan_to_num(amps, nan=np.inf) >= CV_CURRENT_FRACTION * reference)
    return int(strong[-1]) + 1 if len(strong) else len(q)


Flat = tuple[float, float | None, float | None]  # length mAh/g, start V, end V


def flat_plateau(
    volts: np.ndarray, q_mah_g: np.ndarray, settings: _Settings
) -> tuple[Flat | None, dict, str]:
    """((length mAh/g, start V, end V) or None, plot series, a note when not measured) of the
    longest flat run on the constant-current curve (module doc, (b))."""
    rising = np.r_[True, np.diff(q_mah_g) > 0]
    q, v = q_mah_g[rising], volts[rising]
    span = float(q[-1] - q[0]) if len(q) else 0.0
    if span > MAX_SPAN_MAH_G:
        return None, _series(), f"the charge spans {span:,.0f} mAh/g: check the active mass"
    if span < settings.window:
        return None, _series(), "the charge is shorter than the smoothing window"
    gaps = np.diff(q)
    if float(np.median(gaps)) > settings.window / 2:
        return (
            None,
            _series(),
            (
                f"its records are {float(np.median(gaps)):.3g} mAh/g apart, too coarse for a "
                f"{settings.window:g} mAh/g window"
            ),
        )
    step = settings.window / GRID_STEPS_PER_WINDOW
    grid = q[0] + step * np.arange(int(span / step) + 1)
    raw = np.interp(grid, q, v)
    points = GRID_STEPS_PER_WINDOW + 1  # odd: a window centred on each grid point
    smooth = savgol_filter(raw, points, 1, mode="interp")
    slope = savgol_filter(raw, points, 1, deriv=1, delta=step, mode="interp") * 100.0
    flat = (np.abs(slope) < settings.slope) & (smooth >= settings.floor_v)
    first, last = longest_run(flat)
    series = _series(grid, raw, smooth, slope, first, last)
    if first is None:
        return (0.0, None, None), series, ""
    return (float((last - first + 1) * step), float(smooth[first]), float(smooth[last])), series, ""


def longest_run(mask: np.ndarray) -> tuple[int | None, int | None]:
    """First and last index of the longest run of True (the earliest of equal runs)."""
    if not mask.any():
        return None, None
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    best = int(np.argmax(ends - starts))
    return int(starts[best]), int(ends[best] - 1)


def _series(grid=None, raw=None, smooth=None, slope=None, first=None, last=None) -> dict:
    def listed(values):
        return [] if values is None else [float(x) for x in values]

    return {
        "q_mah_g": listed(grid),
        "voltage_v": listed(raw),
        "smoothed_voltage_v": listed(smooth),
        "dvdq_v_per_100mah_g": listed(slope),
        "flat_first_index": first,
        "flat_last_index": last,
    }


def _note(settings: _Settings, cycle: int, cv: float, caveats: list[str]) -> str:
    parts = [
        f"First charge = cycle {cycle}'s charge. (a) capacity above threshold: charge passed at "
        f"V ≥ {settings.threshold_v:.2f} V"
        + (f", including a {cv:.1f} mAh/g constant-voltage hold" if cv > 0 else ""),
        f"(b) flat plateau: the longest span at V ≥ {settings.floor_v:.2f} V where |dV/dQ| < "
        f"{settings.slope:g} V per 100 mAh/g, dV/dQ the slope of a least-squares line over "
        f"{settings.window:g} mAh/g (Savitzky–Golay, order 1), constant-voltage hold left out",
        *caveats,
    ]
    return "; ".join(parts) + "."
