"""DSC peaks: onset, peak temperature and enthalpy of each exotherm and endotherm of a scan
(DOMAIN.md section 3: the exothermic peak of a charged electrode, its temperature and the
heat it releases in J/g). Pure numpy/scipy on the thermal table (parsers.thermal_table).

Sign convention: heat flow is EXOTHERM POSITIVE (the readers convert every file to it).
Enthalpies are given positive for both kinds; `kind` says the sign: "exo" = heat released by
the sample, "endo" = heat absorbed.

1. Temperature segments. The local rate dT/dt (over ±RATE_WINDOW_S / 2) classes each point as
   heating (> the scanning threshold), cooling (< −threshold) or isothermal, the threshold
   being the larger of SCANNING_RATE_K_PER_MIN and SCANNING_FRACTION × the file's 95th
   percentile of |dT/dt| (so a sample settling after an overshoot at 1 K/min in a 10 K/min
   program counts as isothermal); runs shorter than
   MIN_SEGMENT_POINTS (or 1 % of the points) join the run before them. By default the heating
   segment with the widest temperature range is analysed (a cooling one when there is none);
   `segment` (1-based, see result.segments) chooses another. The segment is trimmed to run from
   its lowest to its highest temperature (the reverse for cooling).
2. Smoothing, for peak finding, peak positions and tangents only: the scan is put on a uniform
   time grid and smoothed with a Savitzky–Golay filter (order 2) over SMOOTHING_WINDOW_K of
   temperature (at least 5 points). Enthalpies integrate the measured points, not smoothed.
3. Baseline: a straight line in temperature, P_b(T) = a + b·T.
   default: the least-squares line through the measured heat flow of the first and last
   `edge_fraction` (5 %) of the segment's temperature range, refitted once without points
   beyond OUTLIER_SIGMAS robust standard deviations (a stray point, the last point of a hold);
   peaks are sought between the two windows' inner edges, which are the reported baseline
   limits. A window whose smoothed heat flow leaves the line by the prominence threshold (a
   peak or a start-up hook in it) is flagged: baseline_window_not_flat.
   chosen `baseline=(t1_c, t2_c)` (either order): the line through the smoothed heat flow at t1
   and t2; peaks are sought between t1 and t2.
4. Peaks (after subtracting the baseline; net = P − P_b): maxima of the smoothed net (exo) and
   of −net (endo) whose height and prominence are both at least
   max(PROMINENCE_NOISE_FACTOR × noise, PROMINENCE_FRACTION × the largest |net| in the
   limits, PROMINENCE_FLOOR_MW), and at least MIN_PEAK_POINTS wide. noise = 1.4826 × median
   absolute deviation of (measured − smoothed), on the uniform grid. A peak spans the points
   around it until the smoothed |net| returns to the baseline, i.e. within
   max(RETURN_NOISE_FACTOR × noise, RETURN_FRACTION × the peak's height); two peaks of one
   kind that do not return to the baseline between them are split at the net's minimum
   between them (perpendicular drop, said in a note). A peak that reaches a baseline limit
   without returning to the baseline is incomplete (flagged: its enthalpy is a lower bound).
5. Per peak:
   peak temperature: where the smoothed |net| is largest (parabolic interpolation between grid
   points); onset: the extrapolated onset, where the tangent at the inflection point of the
   leading edge (steepest rise of |net| before the peak, in the order the scan ran) meets the
   baseline: T_on = T_i − net_i / (d net/dT)_i, with d net/dT = (d net/dt) / (dT/dt);
   enthalpy (J/g) = |∫ (P − P_b) dt| / m over the peak's span, trapezoids over the measured
   points (P in mW, t in s -> mJ; m in mg; mJ/mg = J/g).
Plausibility warnings (code: severity): enthalpy_implausible (flag): above
MAX_ENTHALPY_J_PER_G (3000 J/g: no charged cathode with electrolyte releases that much, the
largest reported are ~2000 J/g; a wrong mass or heat-flow unit); temperature_not_monotonic
(flag): the temperature runs back by more than BACKWARDS_TOLERANCE_K within the analysed scan;
peak_at_edge (flag); temperature_segments (note): the file holds other segments than the one
analysed (a heat-cool-heat program); heating_rate_uneven (note): the rate departs by more than
UNEVEN_RATE_TOLERANCE from its median over more than UNEVEN_RATE_SHARE (10 %) of the middle
90 % of the scan; no_peak (note);
peaks_overlap (note); rows_dropped (note); baseline_window_not_flat (flag, see 3.);
onset_undetermined (note: no rising edge, onset None); and the reader's warnings
(table.attrs["kiln"], passed on as they are, severity "note" unless they give one).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.signal import find_peaks, savgol_filter

from characterization.analysis.errors import AnalysisError

VERSION = "1"
SIGN_CONVENTION = (
    "heat flow exotherm positive; enthalpies are positive for both kinds and the kind says the "
    "sign: exo = heat released by the sample, endo = heat absorbed"
)
EDGE_FRACTION = 0.05
EDGE_FRACTION_BOUNDS = (0.01, 0.25)
SAMPLE_MASS_MAX_MG = 1000.0
SMOOTHING_WINDOW_K = 1.0
PROMINENCE_NOISE_FACTOR = 10.0
PROMINENCE_FRACTION = 0.05
PROMINENCE_FLOOR_MW = 1e-3
MIN_PEAK_POINTS = 5
OUTLIER_SIGMAS = 4.0
RETURN_NOISE_FACTOR = 2.0
RETURN_FRACTION = 1e-3
MAX_ENTHALPY_J_PER_G = 3000.0
RATE_WINDOW_S = 120.0
SCANNING_RATE_K_PER_MIN = 0.05
SCANNING_FRACTION = 0.2
MIN_SEGMENT_POINTS = 10
UNEVEN_RATE_TOLERANCE = 0.2
UNEVEN_RATE_SHARE = 0.1
BACKWARDS_TOLERANCE_K = 0.5
MIN_SCAN_POINTS = 20
MIN_SCAN_SPAN_K = 2.0
FIGURE_POINTS = 4000
FLAG, NOTE = "flag", "note"
SEVERITY: dict[str, str] = {
    "enthalpy_implausible": FLAG,
    "temperature_not_monotonic": FLAG,
    "peak_at_edge": FLAG,
    "temperature_segments": NOTE,
    "heating_rate_uneven": NOTE,
    "no_peak": NOTE,
    "peaks_overlap": NOTE,
    "rows_dropped": NOTE,
    "baseline_window_not_flat": FLAG,
    "onset_undetermined": NOTE,
}
PEAK_SUMMARY_FIELDS = ("kind", "onset_temperature_c", "peak_temperature_c", "enthalpy_j_per_g")
NEEDED_COLUMNS = ("time_s", "temperature_c", "heat_flow_mw")


@dataclass(frozen=True)
class TemperatureSegment:
    """A run of the temperature program: rows first_row..last_row (positions in the table)."""

    number: int
    kind: str  # "heating", "cooling" or "isothermal"
    first_row: int  # positions among the rows with numbers (= the table's, none dropped)
    last_row: int
    start_temperature_c: float
    end_temperature_c: float
    rate_k_per_min: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class DscPeak:
    """One peak; enthalpy positive for both kinds (see SIGN_CONVENTION)."""

    kind: str  # "exo" or "endo"
    onset_temperature_c: float
    peak_temperature_c: float
    enthalpy_j_per_g: float
    start_temperature_c: float  # the span integrated
    end_temperature_c: float
    inflection_temperature_c: float
    inflection_heat_flow_mw: float  # smoothed heat flow there (the tangent's upper point)
    height_mw: float  # |net heat flow| at the peak
    complete: bool  # False: reaches a baseline limit (enthalpy a lower bound)

    def as_summary(self) -> dict[str, object]:
        """The agreed keys; an onset that could not be found (None) rather than NaN."""
        return {name: _json_number(getattr(self, name)) for name in PEAK_SUMMARY_FIELDS}


def _json_number(value: object) -> object:
    return None if isinstance(value, float) and not math.isfinite(value) else value


@dataclass(frozen=True)
class DscResult:
    """Peaks of the analysed segment, what they were measured against, and plot data.

    figures: "scan" {time_s, temperature_c, heat_flow_mw, heat_flow_w_per_g} (the analysed
    segment, at most FIGURE_POINTS points); "baseline" {temperature_c, heat_flow_mw} (its two
    end points at the limits); "peaks" [{kind, start_temperature_c, end_temperature_c,
    peak_temperature_c, peak_heat_flow_mw, onset_temperature_c, tangent {temperature_c,
    heat_flow_mw}}] (the tangent from the onset on the baseline to the inflection point);
    "segments" [TemperatureSegment.to_dict()].
    """

    peaks: tuple[DscPeak, ...]
    baseline_limits_c: tuple[float, float]
    baseline_rule: str
    heating_rate_k_per_min: float  # signed: < 0 on a cooling segment
    sample_mass_mg: float
    segment: int
    segments: tuple[TemperatureSegment, ...]
    noise_mw: float
    prominence_threshold_mw: float
    warnings: tuple[dict, ...]
    figures: dict
    sign_convention: str = SIGN_CONVENTION
    version: str = VERSION

    def as_summary(self) -> dict[str, object]:
        return {
            "peaks": [peak.as_summary() for peak in self.peaks],
            "baseline_limits_c": list(self.baseline_limits_c),
            "sign_convention": self.sign_convention,
            "heating_rate_k_per_min": self.heating_rate_k_per_min,
        }


@dataclass
class _Scan:
    """The analysed segment: measured points and their smoothed uniform-grid version."""

    t: np.ndarray
    temp: np.ndarray
    power: np.ndarray
    grid_t: np.ndarray
    grid_temp: np.ndarray
    smooth_power: np.ndarray
    d_power: np.ndarray  # d(smoothed P)/dt, mW/s
    d_temp: np.ndarray  # d(smoothed T)/dt, K/s
    noise_mw: float
    rate_k_per_min: float
    points_rate: np.ndarray  # local rate per measured point, K/min


@dataclass(frozen=True)
class _Baseline:
    intercept: float
    slope: float
    limits: tuple[float, float]
    rule: str
    default: bool = False

    def at(self, temp: np.ndarray | float) -> np.ndarray | float:
        return self.intercept + self.slope * temp


def analyse_dsc(
    table: pd.DataFrame,
    *,
    sample_mass_mg: float | None,
    baseline: tuple[float, float] | None = None,
    segment: int | None = None,
    edge_fraction: float = EDGE_FRACTION,
) -> DscResult:
    """Peaks of a DSC scan (module doc): sample_mass_mg in (0, 1000] mg (the caller takes it
    from the file or the measurement); baseline (t1_c, t2_c) or None for the default rule;
    segment 1-based or None; edge_fraction in [0.01, 0.25]. Raises AnalysisError(field, ...)."""
    mass = _sample_mass(sample_mass_mg)
    edge = _edge_fraction(edge_fraction)
    t, temp, power, dropped = _columns(table)
    segments = temperature_segments(t, temp)
    chosen = _chosen(segments, segment)
    scan = _scan(t, temp, power, chosen)
    base = _baseline(scan, baseline, edge)
    peaks, threshold, overlaps, spans = _peaks(scan, base, mass)
    warnings = list(_reading_warnings(table))
    warnings += _program_warnings(segments, chosen, scan, dropped)
    warnings += _peak_warnings(peaks, overlaps, base, threshold)
    warnings += _window_warnings(scan, base, threshold)
    return DscResult(
        peaks=tuple(peaks),
        baseline_limits_c=base.limits,
        baseline_rule=base.rule,
        heating_rate_k_per_min=scan.rate_k_per_min,
        sample_mass_mg=mass,
        segment=chosen.number,
        segments=tuple(segments),
        noise_mw=scan.noise_mw,
        prominence_threshold_mw=threshold,
        warnings=tuple(warnings),
        figures=_figures(scan, base, peaks, spans, segments, mass),
    )


# ---------------------------------------------------------------- inputs


def _sample_mass(value: object) -> float:
    if value is None:
        raise AnalysisError(
            "sample_mass_mg",
            "the sample mass is not known (the file does not state it); enter it in mg",
        )
    mass = _finite(value, "sample_mass_mg", "the sample mass")
    if not 0 < mass <= SAMPLE_MASS_MAX_MG:
        raise AnalysisError(
            "sample_mass_mg", f"the sample mass must be > 0 and ≤ {SAMPLE_MASS_MAX_MG:g} mg"
        )
    return mass


def _edge_fraction(value: object) -> float:
    fraction = _finite(value, "edge_fraction", "the baseline edge fraction")
    low, high = EDGE_FRACTION_BOUNDS
    if not low <= fraction <= high:
        raise AnalysisError("edge_fraction", f"the edge fraction must be {low:g}…{high:g}")
    return fraction


def _finite(value: object, field: str, label: str) -> float:
    if isinstance(value, bool):
        raise AnalysisError(field, f"{label} must be a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise AnalysisError(field, f"{label} must be a number") from None
    if not math.isfinite(number):
        raise AnalysisError(field, f"{label} must be a finite number")
    return number


def _columns(table: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """time, temperature, heat flow of the rows where all three are numbers, and how many rows
    were left out."""
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError("table", "expected the thermal table of a DSC file")
    missing = [c for c in NEEDED_COLUMNS if c not in table.columns]
    if missing:
        raise AnalysisError("table", f"the thermal table has no column(s) {', '.join(missing)}")
    data = [pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float) for c in NEEDED_COLUMNS]
    keep = np.logical_and.reduce([np.isfinite(d) for d in data])
    t, temp, power = (d[keep] for d in data)
    if len(t) < MIN_SCAN_POINTS:
        raise AnalysisError(
            "table",
            f"the table holds {len(t)} point(s) with time, temperature and heat flow; a DSC "
            f"analysis needs at least {MIN_SCAN_POINTS}",
        )
    back = np.flatnonzero(np.diff(t) < 0)
    if len(back):
        raise AnalysisError(
            "table",
            f"time runs backwards at {len(back)} point(s) (first at {t[back[0]]:g} s): the file "
            "may be spliced from several runs; heat flow cannot be integrated over it",
        )
    return t, temp, power, int((~keep).sum())


# ---------------------------------------------------------------- temperature program


def local_rate_k_per_min(time_s: np.ndarray, temperature_c: np.ndarray) -> np.ndarray:
    """dT/dt at each point over ±RATE_WINDOW_S/2 (at least the neighbouring points), K/min."""
    n = len(time_s)
    index = np.arange(n)
    lo = np.searchsorted(time_s, time_s - RATE_WINDOW_S / 2, side="left")
    hi = np.searchsorted(time_s, time_s + RATE_WINDOW_S / 2, side="right") - 1
    lo = np.clip(np.minimum(lo, index - 1), 0, n - 1)
    hi = np.clip(np.maximum(hi, index + 1), 0, n - 1)
    dt = time_s[hi] - time_s[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(dt > 0, (temperature_c[hi] - temperature_c[lo]) / dt * 60.0, 0.0)
    return rate


def temperature_segments(time_s: np.ndarray, temperature_c: np.ndarray) -> list[TemperatureSegment]:
    """The heating, cooling and isothermal runs of the temperature program (module doc)."""
    rate = local_rate_k_per_min(time_s, temperature_c)
    typical = float(np.percentile(np.abs(rate), 95))
    threshold = max(SCANNING_RATE_K_PER_MIN, SCANNING_FRACTION * typical)
    kind = np.where(rate > threshold, 1, np.where(rate < -threshold, -1, 0))
    edges = np.flatnonzero(np.diff(kind)) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(kind)]])
    runs = [[int(a), int(b), int(kind[a])] for a, b in zip(starts, stops, strict=True)]
    runs = _merged(runs, max(MIN_SEGMENT_POINTS, len(kind) // 100))
    names = {1: "heating", -1: "cooling", 0: "isothermal"}
    out = []
    for number, (a, b, k) in enumerate(runs, start=1):
        span_t = time_s[b - 1] - time_s[a]
        slope = (temperature_c[b - 1] - temperature_c[a]) / span_t * 60 if span_t > 0 else 0.0
        if b - a >= 3 and span_t > 0:
            slope = float(np.polyfit(time_s[a:b], temperature_c[a:b], 1)[0]) * 60.0
        out.append(
            TemperatureSegment(
                number=number,
                kind=names[k],
                first_row=a,
                last_row=b - 1,
                start_temperature_c=float(temperature_c[a]),
                end_temperature_c=float(temperature_c[b - 1]),
                rate_k_per_min=float(slope),
            )
        )
    return out


def _merged(runs: list[list[int]], min_len: int) -> list[list[int]]:
    """Short runs join the run before them (the first joins the next); equal kinds coalesce."""
    out: list[list[int]] = []
    for run in runs:
        if out and (run[1] - run[0] < min_len or run[2] == out[-1][2]):
            out[-1][1] = run[1]
        else:
            out.append(list(run))
    if len(out) > 1 and out[0][1] - out[0][0] < min_len:
        out[1][0] = out[0][0]
        out.pop(0)
    coalesced: list[list[int]] = []
    for run in out:
        if coalesced and run[2] == coalesced[-1][2]:
            coalesced[-1][1] = run[1]
        else:
            coalesced.append(run)
    return coalesced


def _chosen(segments: list[TemperatureSegment], number: int | None) -> TemperatureSegment:
    if number is not None:
        if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
            raise AnalysisError("segment", "the segment must be a whole number")
        if not 1 <= number <= len(segments):
            raise AnalysisError(
                "segment", f"the file has {len(segments)} temperature segment(s); got {number}"
            )
        chosen = segments[number - 1]
        if chosen.kind == "isothermal":
            raise AnalysisError(
                "segment", f"segment {number} is isothermal; DSC peaks need a heating or cooling"
            )
        return chosen
    for kind in ("heating", "cooling"):
        scans = [s for s in segments if s.kind == kind]
        if scans:
            return max(scans, key=lambda s: abs(s.end_temperature_c - s.start_temperature_c))
    raise AnalysisError(
        "table",
        "the temperature hardly changes (an isothermal measurement?); DSC peaks need a "
        "temperature scan",
    )


def _scan(t: np.ndarray, temp: np.ndarray, power: np.ndarray, seg: TemperatureSegment) -> _Scan:
    a, b = seg.first_row, seg.last_row + 1
    part = temp[a:b] if seg.kind == "heating" else -temp[a:b]
    # from the last point at the lowest temperature to the first at the highest (for cooling
    # the reverse): a hold absorbed into the segment's ends is left out
    first = len(part) - 1 - int(np.argmin(part[::-1]))
    last = int(np.argmax(part))
    if last > first:
        a, b = a + int(first), a + int(last) + 1
    t, temp, power = t[a:b], temp[a:b], power[a:b]
    span = float(np.ptp(temp))
    if len(t) < MIN_SCAN_POINTS or span < MIN_SCAN_SPAN_K or t[-1] <= t[0]:
        raise AnalysisError(
            "table",
            f"segment {seg.number} spans {span:.1f} K in {len(t)} point(s); a DSC analysis "
            f"needs at least {MIN_SCAN_SPAN_K:g} K and {MIN_SCAN_POINTS} points",
        )
    n = len(t)
    grid_t = np.linspace(t[0], t[-1], n)
    grid_temp = np.interp(grid_t, t, temp)
    grid_power = np.interp(grid_t, t, power)
    step_k = span / (n - 1)
    window = int(round(SMOOTHING_WINDOW_K / step_k)) if step_k > 0 else 5
    window = min(max(window, 5), max(5, n // 4))
    window += 1 - window % 2
    dt = float(grid_t[1] - grid_t[0])
    smooth = savgol_filter(grid_power, window, 2)
    residual = grid_power - smooth
    noise = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    rate = float(np.polyfit(t - t[0], temp, 1)[0]) * 60.0
    return _Scan(
        t=t,
        temp=temp,
        power=power,
        grid_t=grid_t,
        grid_temp=grid_temp,
        smooth_power=smooth,
        d_power=savgol_filter(grid_power, window, 2, deriv=1, delta=dt),
        d_temp=savgol_filter(grid_temp, window, 2, deriv=1, delta=dt),
        noise_mw=noise,
        rate_k_per_min=rate,
        points_rate=local_rate_k_per_min(t, temp),
    )


# ---------------------------------------------------------------- baseline


def _baseline(scan: _Scan, limits: object, edge: float) -> _Baseline:
    low, high = float(scan.temp.min()), float(scan.temp.max())
    if limits is None:
        width = edge * (high - low)
        inner = (low + width, high - width)
        window = (scan.temp <= inner[0]) | (scan.temp >= inner[1])
        intercept, slope = _robust_line(scan.temp[window], scan.power[window])
        rule = (
            f"default: the least-squares line through the measured heat flow of the first and "
            f"last {edge:.0%} of the scan's temperature range ({low:.1f}–{inner[0]:.1f} °C and "
            f"{inner[1]:.1f}–{high:.1f} °C), refitted once without points beyond "
            f"{OUTLIER_SIGMAS:g} robust standard deviations; peaks sought between "
            f"{inner[0]:.1f} and {inner[1]:.1f} °C"
        )
        return _Baseline(intercept, slope, inner, rule, default=True)
    t1, t2 = _limits(limits, low, high)
    i1 = int(np.argmin(np.abs(scan.grid_temp - t1)))
    i2 = int(np.argmin(np.abs(scan.grid_temp - t2)))
    p1, p2 = scan.smooth_power[i1], scan.smooth_power[i2]
    slope = (p2 - p1) / (t2 - t1)
    rule = (
        f"chosen: the straight line through the smoothed heat flow at {t1:g} °C and "
        f"{t2:g} °C; peaks sought between them"
    )
    return _Baseline(float(p1 - slope * t1), float(slope), (t1, t2), rule)


def _robust_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of a least-squares line, refitted once without the points further
    than OUTLIER_SIGMAS robust standard deviations (1.4826 × MAD) from the first fit."""
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    keep = np.abs(residual) <= max(OUTLIER_SIGMAS * spread, 1e-9)
    if keep.sum() >= max(3, len(x) // 2) and not keep.all():
        slope, intercept = np.polyfit(x[keep], y[keep], 1)
    return float(intercept), float(slope)


def _limits(limits: object, low: float, high: float) -> tuple[float, float]:
    if not isinstance(limits, (tuple, list)) or len(limits) != 2:
        raise AnalysisError("baseline", "the baseline limits must be two temperatures (°C)")
    t1, t2 = sorted(_finite(v, "baseline", "a baseline limit") for v in limits)
    if t2 - t1 < MIN_SCAN_SPAN_K:
        raise AnalysisError(
            "baseline",
            f"the baseline limits must be at least {MIN_SCAN_SPAN_K:g} K apart (got {t1:g} and "
            f"{t2:g} °C)",
        )
    if t1 < low or t2 > high:
        raise AnalysisError(
            "baseline",
            f"the baseline limits {t1:g}–{t2:g} °C lie outside the scan ({low:.1f}–{high:.1f} °C)",
        )
    return t1, t2


# ---------------------------------------------------------------- peaks


def _peaks(
    scan: _Scan, base: _Baseline, mass: float
) -> tuple[list[DscPeak], float, list[tuple[DscPeak, DscPeak]], list[tuple[int, int]]]:
    """Peaks (in scan order), the prominence threshold, the overlapping pairs, and each
    peak's span as grid indices."""
    net = scan.smooth_power - base.at(scan.grid_temp)
    lo, hi = min(base.limits), max(base.limits)
    inside = np.flatnonzero((scan.grid_temp >= lo) & (scan.grid_temp <= hi))
    if len(inside) < 2 * MIN_PEAK_POINTS:
        raise AnalysisError("baseline", "the baseline limits hold too few points to find peaks")
    i0, i1 = int(inside[0]), int(inside[-1])
    largest = float(np.max(np.abs(net[i0 : i1 + 1])))
    threshold = max(
        PROMINENCE_NOISE_FACTOR * scan.noise_mw, PROMINENCE_FRACTION * largest, PROMINENCE_FLOOR_MW
    )
    found: list[tuple[int, DscPeak, tuple[int, int]]] = []
    overlaps = []
    for kind, sign in (("exo", 1.0), ("endo", -1.0)):
        y = sign * net[i0 : i1 + 1]
        index, _ = find_peaks(y, height=threshold, prominence=threshold, width=MIN_PEAK_POINTS)
        previous = None
        for k, p in enumerate(index):
            left, right, split = _span(y, index, k, scan.noise_mw)
            peak = _peak(scan, base, mass, kind, sign, i0 + p, i0 + left, i0 + right, y, p)
            peak = _with_completeness(peak, y, left, right, scan.noise_mw)
            found.append((i0 + p, peak, (i0 + left, i0 + right)))
            if split and previous is not None:
                overlaps.append((previous, peak))
            previous = peak
    found.sort(key=lambda item: item[0])
    return [f[1] for f in found], threshold, overlaps, [f[2] for f in found]


def _span(y: np.ndarray, index: np.ndarray, k: int, noise: float) -> tuple[int, int, bool]:
    """The grid span of peak k: out to where y returns to the baseline (within
    max(RETURN_NOISE_FACTOR × noise, RETURN_FRACTION × its height)), or to the minimum between
    it and a neighbouring peak of the same kind, whichever is nearer; True when it was split
    from the peak before it."""
    p = int(index[k])
    level = max(RETURN_NOISE_FACTOR * noise, RETURN_FRACTION * float(y[p]))
    below = np.flatnonzero(y <= level)
    left_cross = below[below < p]
    right_cross = below[below > p]
    left = int(left_cross[-1]) if len(left_cross) else 0
    right = int(right_cross[0]) if len(right_cross) else len(y) - 1
    split_before = False
    if k > 0:
        q = int(index[k - 1])
        split = q + int(np.argmin(y[q : p + 1]))
        if split > left:
            left, split_before = split, True
    if k + 1 < len(index):
        q = int(index[k + 1])
        right = min(right, p + int(np.argmin(y[p : q + 1])))
    return left, right, split_before


def _peak(
    scan: _Scan,
    base: _Baseline,
    mass: float,
    kind: str,
    sign: float,
    p: int,
    left: int,
    right: int,
    y: np.ndarray,
    local_p: int,
) -> DscPeak:
    grid = scan.grid_temp
    offset = 0.0
    if 0 < local_p < len(y) - 1:
        a, b, c = y[local_p - 1], y[local_p], y[local_p + 1]
        denominator = a - 2 * b + c
        offset = float(np.clip(0.5 * (a - c) / denominator, -0.5, 0.5)) if denominator else 0.0
    peak_temp = float(np.interp(p + offset, np.arange(len(grid)), grid))
    # leading edge: from the span's start (earlier in time) to the peak
    slope_t = sign * (scan.d_power - base.slope * scan.d_temp)  # d|net|/dt, mW/s
    edge = slice(left, p + 1)
    q = left + int(np.argmax(slope_t[edge]))
    height_q = sign * (scan.smooth_power[q] - base.at(grid[q]))
    onset = math.nan
    if slope_t[q] > 0 and scan.d_temp[q] != 0:
        onset = float(grid[q] - height_q * scan.d_temp[q] / slope_t[q])
    return DscPeak(
        kind=kind,
        onset_temperature_c=onset,
        peak_temperature_c=peak_temp,
        enthalpy_j_per_g=_enthalpy(scan, base, left, right, sign) / mass,
        start_temperature_c=float(grid[left]),
        end_temperature_c=float(grid[right]),
        inflection_temperature_c=float(grid[q]),
        inflection_heat_flow_mw=float(scan.smooth_power[q]),
        height_mw=float(y[local_p]),
        complete=True,
    )


def _enthalpy(scan: _Scan, base: _Baseline, left: int, right: int, sign: float) -> float:
    """sign × ∫ (P − P_b) dt in mJ over the measured points of the span (its ends taken from
    the grid)."""
    t0, t1 = scan.grid_t[left], scan.grid_t[right]
    inner = (scan.t > t0) & (scan.t < t1)
    ends_power = np.interp([t0, t1], scan.t, scan.power)
    ends_temp = scan.grid_temp[[left, right]]
    t = np.concatenate([[t0], scan.t[inner], [t1]])
    temp = np.concatenate([[ends_temp[0]], scan.temp[inner], [ends_temp[1]]])
    power = np.concatenate([[ends_power[0]], scan.power[inner], [ends_power[1]]])
    return sign * float(np.trapezoid(power - base.at(temp), t))


def _with_completeness(
    peak: DscPeak, y: np.ndarray, left: int, right: int, noise: float
) -> DscPeak:
    level = max(RETURN_NOISE_FACTOR * noise, RETURN_FRACTION * peak.height_mw)
    complete = not ((left == 0 and y[0] > level) or (right == len(y) - 1 and y[-1] > level))
    if complete:
        return peak
    return DscPeak(**{**asdict(peak), "complete": False})


# ---------------------------------------------------------------- warnings


def _warning(code: str, message: str) -> dict:
    return {"code": code, "message": message, "severity": SEVERITY[code]}


def _reading_warnings(table: pd.DataFrame) -> list[dict]:
    info = table.attrs.get("kiln", {}) if isinstance(table.attrs, dict) else {}
    out = []
    for item in info.get("warnings", []) or []:
        if isinstance(item, dict) and "code" in item and "message" in item:
            out.append({"severity": NOTE, **item})
    return out


def _program_warnings(
    segments: list[TemperatureSegment], chosen: TemperatureSegment, scan: _Scan, dropped: int
) -> list[dict]:
    out = []
    if dropped:
        out.append(
            _warning(
                "rows_dropped",
                f"{dropped} row(s) without a number for time, temperature or heat flow were "
                "left out.",
            )
        )
    if len(segments) > 1:
        listed = "; ".join(
            f"{s.number}: {s.kind} {s.start_temperature_c:.0f}→{s.end_temperature_c:.0f} °C"
            for s in segments
        )
        out.append(
            _warning(
                "temperature_segments",
                f"The temperature program has {len(segments)} segments ({listed}); segment "
                f"{chosen.number} ({chosen.kind}) was analysed. Choose another with 'segment'.",
            )
        )
    direction = 1.0 if scan.rate_k_per_min > 0 else -1.0
    oriented = direction * scan.temp
    fall = np.maximum.accumulate(oriented) - oriented
    if fall.max() > BACKWARDS_TOLERANCE_K:
        where = float(scan.temp[int(np.argmax(fall))])
        out.append(
            _warning(
                "temperature_not_monotonic",
                f"Within the analysed scan the temperature runs back by up to {fall.max():.1f} K "
                f"(near {where:.1f} °C): the heating rate is not monotonic there, so onsets and "
                "peak temperatures near it are uncertain.",
            )
        )
    n = len(scan.points_rate)
    middle = scan.points_rate[n // 20 : n - n // 20]
    if len(middle):
        median = float(np.median(middle))
        off = np.abs(middle - median) > UNEVEN_RATE_TOLERANCE * abs(median)
        if off.mean() > UNEVEN_RATE_SHARE:
            out.append(
                _warning(
                    "heating_rate_uneven",
                    f"The scanning rate departs from its median {median:.3g} K/min by more than "
                    f"{UNEVEN_RATE_TOLERANCE:.0%} over {off.mean():.0%} of the analysed scan "
                    f"({middle.min():.3g} to {middle.max():.3g} K/min); a rate that is not "
                    "constant shifts onsets and peak shapes.",
                )
            )
    return out


def _peak_warnings(
    peaks: list[DscPeak],
    overlaps: list[tuple[DscPeak, DscPeak]],
    base: _Baseline,
    threshold: float,
) -> list[dict]:
    out = []
    if not peaks:
        out.append(
            _warning(
                "no_peak",
                f"No exothermic or endothermic peak rises above the baseline by more than "
                f"{threshold:.3g} mW between {base.limits[0]:.1f} and {base.limits[1]:.1f} °C.",
            )
        )
    for peak in peaks:
        name = f"The {peak.kind} peak at {peak.peak_temperature_c:.1f} °C"
        if not math.isfinite(peak.onset_temperature_c):
            out.append(
                _warning(
                    "onset_undetermined",
                    f"{name} has no rising leading edge to draw a tangent on; its onset is "
                    "not given.",
                )
            )
        if peak.enthalpy_j_per_g > MAX_ENTHALPY_J_PER_G:
            out.append(
                _warning(
                    "enthalpy_implausible",
                    f"{name} gives {peak.enthalpy_j_per_g:,.0f} J/g, above "
                    f"{MAX_ENTHALPY_J_PER_G:,.0f} J/g, more than any charged cathode releases: "
                    "check the sample mass and the heat-flow unit.",
                )
            )
        if not peak.complete:
            out.append(
                _warning(
                    "peak_at_edge",
                    f"{name} does not return to the baseline before the baseline limits "
                    f"({base.limits[0]:.1f}–{base.limits[1]:.1f} °C): it is incomplete and its "
                    "enthalpy is a lower bound.",
                )
            )
    for first, second in overlaps:
        out.append(
            _warning(
                "peaks_overlap",
                f"The {first.kind} peaks at {first.peak_temperature_c:.1f} and "
                f"{second.peak_temperature_c:.1f} °C overlap; they were split at the lowest "
                "point between them.",
            )
        )
    return out


def _window_warnings(scan: _Scan, base: _Baseline, threshold: float) -> list[dict]:
    """For the default baseline: each edge window whose smoothed heat flow leaves the line by
    as much as a peak would (the prominence threshold): a peak, a step or a start-up hook
    there tilts the baseline."""
    if not base.default:
        return []
    off = np.abs(scan.smooth_power - base.at(scan.grid_temp))
    out = []
    for name, inside in (
        ("first", scan.grid_temp < min(base.limits)),
        ("last", scan.grid_temp > max(base.limits)),
    ):
        if inside.any() and off[inside].max() >= threshold:
            out.append(
                _warning(
                    "baseline_window_not_flat",
                    f"The heat flow in the {name} baseline window leaves the baseline by up to "
                    f"{off[inside].max():.3g} mW, as much as a peak (a peak, a step or a "
                    "start-up hook there): the baseline is tilted; choose the baseline limits.",
                )
            )
    return out


# ---------------------------------------------------------------- figures


def _figures(
    scan: _Scan,
    base: _Baseline,
    peaks: list[DscPeak],
    spans: list[tuple[int, int]],
    segments: list[TemperatureSegment],
    mass: float,
) -> dict:
    step = max(1, math.ceil(len(scan.t) / FIGURE_POINTS))
    power = scan.power[::step]
    lo, hi = base.limits
    return {
        "scan": {
            "time_s": scan.t[::step].tolist(),
            "temperature_c": scan.temp[::step].tolist(),
            "heat_flow_mw": power.tolist(),
            "heat_flow_w_per_g": (power / mass).tolist(),
        },
        "baseline": {
            "temperature_c": [lo, hi],
            "heat_flow_mw": [float(base.at(lo)), float(base.at(hi))],
        },
        "peaks": [_peak_figure(peak, base) for peak in peaks],
        "segments": [s.to_dict() for s in segments],
    }


def _peak_figure(peak: DscPeak, base: _Baseline) -> dict:
    sign = 1.0 if peak.kind == "exo" else -1.0
    at_peak = float(base.at(peak.peak_temperature_c)) + sign * peak.height_mw
    figure = {
        "kind": peak.kind,
        "start_temperature_c": peak.start_temperature_c,
        "end_temperature_c": peak.end_temperature_c,
        "peak_temperature_c": peak.peak_temperature_c,
        "peak_heat_flow_mw": at_peak,
        "onset_temperature_c": _json_number(peak.onset_temperature_c),
        "tangent": None,
    }
    if math.isfinite(peak.onset_temperature_c):
        figure["tangent"] = {
            "temperature_c": [peak.onset_temperature_c, peak.inflection_temperature_c],
            "heat_flow_mw": [
                float(base.at(peak.onset_temperature_c)),
                peak.inflection_heat_flow_mw,
            ],
        }
    return figure
