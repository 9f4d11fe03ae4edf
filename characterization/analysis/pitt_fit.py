"""The fit of one PITT step: the window rule of characterization/analysis/pitt.py (its module
doc states the rule; the numbered steps below follow it) and the decay fit behind it, least
squares of I = I∞ + A·exp(−k·t) by variable projection (for a given k the model is linear in
I∞ and A, solved from the normal equations; k minimises the residual on a log grid).

So that nothing depends on how densely the instrument recorded (every 0.1 s at first and
every 10 s later, or every 1 s for hours), the search for k runs on at most THIN_POINTS
(onset) or PRECISE_POINTS (final fit) records picked evenly in TIME, not every n-th record:
dense early records would otherwise outweigh the late decay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_POINTS = 10
MIN_LOG_DROP = 0.01  # ln|I − I∞| must fall by at least this (1 %) across the window
ONSET_KT = 1.0  # the long-time regime: k·t >= 1, the next term below exp(−8) of the first
NOISE_SIGMAS = 5.0  # the window ends where the decaying part falls to this many σ
SETTLE = 0.05  # the onset has settled when it moves by less than 5 % of itself
ROUNDS = 12
LATE_GAP = 0.05  # the late part's rate replaces the window's when over 5 % slower ...
LATE_SIGMAS = 3.0  # ... and slower by more than 3 standard errors
LINEAR_TOLERANCE = 0.15  # the slopes over the window's two halves may differ by 15 % ...
LINEAR_SIGMAS = 3.0  # ... or, beyond that, by no more than 3 standard errors
WEIGHT_FLOOR = 1e-6  # the least weight of a record in the line through ln|I − I∞|
THIN_POINTS = 300
PRECISE_POINTS = 5000
_GRID = 32
NOT_REACHED = "taken as 0 (long-time regime not reached)"


@dataclass(frozen=True)
class DecayFit:
    """I = residual_a + amplitude_a·exp(−rate_per_s·t), t from the step's first record; rms_a:
    the rms residual over the fitted records (the noise, once the model holds); rate_se_per_s:
    the standard error of k from those residuals (inf when undetermined)."""

    residual_a: float
    amplitude_a: float
    rate_per_s: float
    rms_a: float
    rate_se_per_s: float = math.inf  # standard error of k (linearised at the optimum)

    def signal_end_s(self, duration_s: float) -> float:
        """Where the decaying part |A|·exp(−kt) falls to NOISE_SIGMAS·σ (−inf when it starts
        below), or the step's end."""
        floor = NOISE_SIGMAS * self.rms_a
        if floor <= 0:
            return duration_s
        ratio = abs(self.amplitude_a) / floor
        return min(duration_s, math.log(ratio) / self.rate_per_s) if ratio > 1 else -math.inf


@dataclass(frozen=True)
class Line:
    """Weighted least-squares line y = slope·x + intercept; r_squared weighted alike."""

    slope: float
    intercept: float
    r_squared: float
    slope_se: float


@dataclass(frozen=True)
class StepWindow:
    """The outcome of one step: window [t_a, t_b] (s from the step's first record), the line
    through ln|I − I∞| there, I∞ and how it was taken, the noise σ, the slopes over the two
    halves of the window and whether they agree (the linearity check)."""

    t_a: float
    t_b: float
    line: Line
    residual_a: float
    residual_basis: str  # "fitted" | "taken as 0" | NOT_REACHED
    noise_a: float
    points: int
    half_slopes_per_s: tuple[float, float]
    linear: bool
    crossing_later: bool
    window_basis: str


def fit_step(t: np.ndarray, current: np.ndarray, mode: str) -> StepWindow | str:
    """The window, I∞ and the line of one step (times from its first record), or the reason
    it is refused. mode: "fit" (I∞ fitted) or "zero"."""
    if len(t) < MIN_POINTS:
        return f"fewer than {MIN_POINTS} records in the step ({len(t)})"
    if t[-1] <= 0:
        return "the step has no duration (all records at one time)"
    peak = int(np.argmax(np.abs(current)))
    sign = 1.0 if current[peak] > 0 else -1.0
    after = np.flatnonzero(
        (np.arange(len(t)) > peak) & (np.abs(current) <= 0.5 * abs(current[peak]))
    )
    t_half = float(t[after[0]]) if len(after) else float(t[peak])
    free = mode == "fit"
    t_a, why = _onset(t, current, t_half, free)
    if t_a is not None:
        basis = "fitted" if free else "taken as 0"
        done = _window(t, current, sign, t_a, free, why, basis)
        if isinstance(done, str) or done.linear or not free:
            return done
        low, high = done.half_slopes_per_s
        why = (
            f"ln|I − I∞| is not linear from {t_a:.4g} s on: slopes {low:.3g} and "
            f"{high:.3g} s⁻¹ over the two halves of the window"
        )
    t_a = max(t_half, float(t[-1]) / 2)
    why = f"second half of the step, long-time regime not reached ({why})"
    return _window(t, current, sign, t_a, False, why, NOT_REACHED)


def _onset(
    t: np.ndarray, current: np.ndarray, t_half: float, free: bool
) -> tuple[float | None, str]:
    """(t_a, how it was found), or (None, why) when the long-time regime is not reached
    (rule 3 of pitt.py's module doc)."""
    duration = float(t[-1])
    t_a = t_half
    for _ in range(ROUNDS):
        fit = fit_decay(t, current, t_a, free_offset=free, precise=False)
        if fit is None:
            return None, "no decay found"
        k = fit.rate_per_s
        if _moves(t_a, ONSET_KT / k) <= SETTLE:  # would settle: check the late part first
            late = _late_fit(t, current, t_a, fit, free)
            if late is not None and _slower(late, fit):
                k = late.rate_per_s  # the fit from t_a still sees a faster early decay
        if ONSET_KT / k > duration / 2:
            return None, f"1/k = {1 / k:.3g} s lies beyond half the step"
        new_t_a = max(t_a, ONSET_KT / k)  # never back: earlier adds the faster early decay
        if _moves(t_a, new_t_a) <= SETTLE:
            return new_t_a, f"starts at the long-time onset {new_t_a:.3g} s (1/k = {1 / k:.3g} s)"
        t_a = new_t_a
    return (
        t_a,
        f"starts at {t_a:.3g} s, the last estimate of the onset (not settled in {ROUNDS} rounds)",
    )


def _moves(t_a: float, onset: float) -> float:
    """How far t_a would move forward to reach the onset, relative to where it lands."""
    later = max(t_a, onset)
    return (later - t_a) / later if later > 0 else 0.0


def _late_fit(
    t: np.ndarray, current: np.ndarray, t_a: float, fit: DecayFit, free: bool
) -> DecayFit | None:
    """The fit from the middle of the part of [t_a, T] where the decay is above the noise
    (fit.signal_end_s) to the step's end; None when that later half holds too few records."""
    t_end = fit.signal_end_s(float(t[-1]))
    t_mid = 0.5 * (t_a + t_end)
    if np.count_nonzero((t >= t_mid) & (t <= t_end)) < MIN_POINTS:
        return None
    return fit_decay(t, current, t_mid, free_offset=free, precise=False)


def _slower(late: DecayFit, fit: DecayFit) -> bool:
    """Whether the late part decays slower than the whole, beyond LATE_GAP of the rate and
    beyond LATE_SIGMAS standard errors (the noise): in the long-time regime the two agree."""
    gap = fit.rate_per_s - late.rate_per_s
    noise = LATE_SIGMAS * math.hypot(fit.rate_se_per_s, late.rate_se_per_s)
    return gap > LATE_GAP * fit.rate_per_s and gap > noise


def _window(
    t: np.ndarray,
    current: np.ndarray,
    sign: float,
    t_a: float,
    free: bool,
    why: str,
    basis: str,
) -> StepWindow | str:
    """Rules 4-6: I∞, k and σ from t_a to the end, the window end, the weighted line."""
    fit = fit_decay(t, current, t_a, free_offset=free, precise=True)
    if fit is None:
        return "the current does not decay after the step"
    t_b = fit.signal_end_s(float(t[-1]))
    end = (
        "ends at the step's end"
        if t_b >= t[-1]
        else f"ends where the decaying part falls to {NOISE_SIGMAS:g}σ (σ = {fit.rms_a:.3g} A)"
    )
    if t_b <= t_a:
        return (
            f"the decaying part of the current is within {NOISE_SIGMAS:g}σ of the noise "
            f"from the window start ({t_a:.4g} s) on"
        )
    inside = (t >= t_a) & (t <= t_b)
    if (current[inside] * sign < 0).any():
        return f"the current changes sign within the fit window [{t_a:.4g}, {t_b:.4g}] s"
    lost = np.flatnonzero(inside & ((current - fit.residual_a) * sign <= 0))
    if len(lost):
        t_b = float(t[lost[0] - 1]) if lost[0] > 0 else t_a
        inside &= t <= t_b
        end = "ends before I − I∞ loses the step's sign"
    if inside.sum() < MIN_POINTS:
        return (
            f"fewer than {MIN_POINTS} records in the fit window [{t_a:.4g}, {t_b:.4g}] s "
            f"({inside.sum()})"
        )
    x, y = t[inside], np.log((current[inside] - fit.residual_a) * sign)
    if len(np.unique(x)) < 3:
        return f"fewer than 3 distinct record times in the fit window [{t_a:.4g}, {t_b:.4g}] s"
    # 1/var(ln|I − I∞|) for a constant σ; floored so that it never underflows to 0
    weight = np.maximum(np.exp(-2.0 * fit.rate_per_s * (x - x[0])), WEIGHT_FLOOR)
    line = weighted_line(x, y, weight)
    if -line.slope * (x[-1] - x[0]) < MIN_LOG_DROP:
        return (
            f"the current does not decay in the fit window (slope {line.slope:.3g} s⁻¹: "
            f"ln|I − I∞| falls by less than {MIN_LOG_DROP:g} across it)"
        )
    halves, linear = _halves(x, y, weight, line)
    return StepWindow(
        t_a=float(x[0]),
        t_b=float(x[-1]),
        line=line,
        residual_a=fit.residual_a,
        residual_basis=basis,
        noise_a=fit.rms_a,
        points=int(inside.sum()),
        half_slopes_per_s=halves,
        linear=linear,
        crossing_later=bool((current[t > x[-1]] * sign < 0).any()),
        window_basis=f"{why}; {end}",
    )


def _halves(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray, line: Line
) -> tuple[tuple[float, float], bool]:
    """The slopes over the two halves (in time) of the window, and whether they agree:
    within LINEAR_TOLERANCE of the whole window's slope, or within LINEAR_SIGMAS standard
    errors of each other (noise). Halves of fewer than 3 record times count as agreeing."""
    first = x <= 0.5 * (x[0] + x[-1])
    if len(np.unique(x[first])) < 3 or len(np.unique(x[~first])) < 3:
        return (line.slope, line.slope), True
    a = weighted_line(x[first], y[first], weight[first])
    b = weighted_line(x[~first], y[~first], weight[~first])
    gap = abs(a.slope - b.slope)
    agree = gap <= LINEAR_TOLERANCE * abs(line.slope) or gap <= LINEAR_SIGMAS * math.hypot(
        a.slope_se, b.slope_se
    )
    return (a.slope, b.slope), bool(agree)


def weighted_line(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> Line:
    """Least squares of y = slope·x + intercept with weights > 0; R² = 1 − Σw·r²/Σw·(y − ȳ)²;
    the slope's standard error from the weighted residuals (n − 2 degrees of freedom). With
    no spread in x: slope 0, R² 0, standard error inf (callers then refuse: no decay)."""
    total = float(weight.sum())
    x_mean, y_mean = float(weight @ x) / total, float(weight @ y) / total
    dx, dy = x - x_mean, y - y_mean
    sxx = float(weight @ dx**2)
    if sxx <= 0:
        return Line(0.0, y_mean, 0.0, math.inf)
    slope = float(weight @ (dx * dy)) / sxx
    residual = float(weight @ (dy - slope * dx) ** 2)
    spread = float(weight @ dy**2)
    r2 = 1.0 - residual / spread if spread > 0 else 0.0
    se = math.sqrt(residual / (len(x) - 2) / sxx) if len(x) > 2 else math.inf
    return Line(slope, y_mean - slope * x_mean, r2, se)


# ---------------------------------------------------------------- the decay fit


def even_in_time(x: np.ndarray, points: int = THIN_POINTS) -> np.ndarray:
    """Indices of at most `points` records of sorted times x, evenly spread in time (the
    first record at or after each of `points` equally spaced times; first and last kept)."""
    if len(x) <= points:
        return np.arange(len(x))
    picked = np.minimum(np.searchsorted(x, np.linspace(x[0], x[-1], points)), len(x) - 1)
    return picked[np.r_[True, picked[1:] != picked[:-1]]]  # sorted already: drop repeats


def fit_decay(
    t: np.ndarray, current: np.ndarray, t_from: float, *, free_offset: bool, precise: bool
) -> DecayFit | None:
    """The fit over t >= t_from (I∞ = 0 unless free_offset), or None when fewer than 3
    records or no decay is found. k is searched on a log grid of _GRID points from
    0.05/span to 20/(mean interval of the thinned records), then one 10x finer grid (k to
    ~1 %, enough for the onset); `precise` then searches up to PRECISE_POINTS records (all
    of a typical step; evenly in time beyond) around that k with 3 finer grids and a
    parabola through the best three (k to ~1e-9 relative on noise-free data), and the whole
    grid on them when the thinned ones put it at an edge. I∞, A and the rms residual are
    then over all records (over the thinned ones when not precise, with the standard error
    of k, which only the onset search uses)."""
    use = t >= t_from
    x, y = t[use] - t_from, current[use]
    if len(x) < 3 or x[-1] <= 0:
        return None
    scale = float(np.max(np.abs(y))) or 1.0
    y = y / scale
    picked = even_in_time(x)
    xs, ys = x[picked], y[picked]
    dt = x[-1] / (len(xs) - 1)  # the mean interval of the thinned records
    low, high = math.log(0.05 / x[-1]), math.log(20.0 / dt)
    if high <= low:
        return None
    log_k, _ = _search(np.linspace(low, high, _GRID), xs, ys, free_offset, 1)
    if precise:
        many = even_in_time(x, PRECISE_POINTS)
        xp, yp = x[many], y[many]
        spacing = (high - low) / (_GRID - 1) / 10
        bracket = np.linspace(log_k - 5 * spacing, log_k + 5 * spacing, 21)
        log_k, at_edge = _search(bracket, xp, yp, free_offset, 3)
        if at_edge:  # the thinned records misled the first search: search the others
            dt_all = float(np.median(np.diff(xp))) or dt
            wide = np.linspace(low, math.log(20.0 / max(dt_all, 1e-12)), _GRID)
            log_k, _ = _search(wide, xp, yp, free_offset, 4)
    else:
        x, y = xs, ys
    k = math.exp(log_k)
    decay = np.exp(-k * x)
    c, a = _solve(decay[None, :], x, y, free_offset)
    i_inf, amplitude = float(c[0]), float(a[0])
    if amplitude == 0 or not math.isfinite(amplitude) or not math.isfinite(i_inf):
        return None
    residual = y - i_inf - amplitude * decay
    rms = math.sqrt(float(np.mean(residual**2)))
    at_zero = amplitude * math.exp(min(k * t_from, 700.0))  # x counts from t_from
    se = math.inf if precise else _rate_se(x, decay, amplitude, residual, free_offset)
    return DecayFit(i_inf * scale, at_zero * scale, k, rms * scale, se)


def _rate_se(
    x: np.ndarray, decay: np.ndarray, amplitude: float, residual: np.ndarray, free: bool
) -> float:
    """Standard error of k: σ²·(JᵀJ)⁻¹ at the optimum, J the derivatives of the model by
    (I∞,) A and k, σ² = Σr²/(n − parameters); inf when singular or without spare records."""
    columns = [decay, -amplitude * x * decay]
    if free:
        columns.insert(0, np.ones_like(x))
    jacobian = np.column_stack(columns)
    spare = len(x) - jacobian.shape[1]
    if spare <= 0:
        return math.inf
    try:
        inverse = np.linalg.inv(jacobian.T @ jacobian)
    except np.linalg.LinAlgError:
        return math.inf
    variance = float(residual @ residual) / spare * float(inverse[-1, -1])
    return math.sqrt(variance) if variance >= 0 and math.isfinite(variance) else math.inf


def _search(
    grid: np.ndarray, x: np.ndarray, y: np.ndarray, free_offset: bool, zooms: int
) -> tuple[float, bool]:
    """(ln k of the least residual on `grid`, refined by `zooms` 10x finer grids of 21
    points and, when inside, the vertex of the parabola through the best three; whether the
    best point is at an edge of the grid)."""
    for level in range(zooms + 1):
        costs = _costs(np.exp(grid), x, y, free_offset)
        best = int(np.argmin(costs))
        if best in (0, len(grid) - 1):
            return float(grid[best]), True
        if level == zooms:
            break
        grid = np.linspace(grid[best - 1], grid[best + 1], 21)
    step, middle = grid[best] - grid[best - 1], grid[best]
    c0, c1, c2 = costs[best - 1 : best + 2]
    curvature = c0 - 2 * c1 + c2
    vertex = middle + 0.5 * step * (c0 - c2) / curvature if curvature > 0 else middle
    return float(vertex), False


def _costs(ks: np.ndarray, x: np.ndarray, y: np.ndarray, free_offset: bool) -> np.ndarray:
    """Residual sum of squares, for each k, of the least-squares I∞ (or 0) and A, from the
    normal equations: RSS = Σy² − I∞·Σy − A·Σ(e·y)."""
    decay = np.exp(-np.outer(ks, x))
    c, a = _solve(decay, x, y, free_offset)
    return float(y @ y) - c * float(y.sum()) - a * (decay @ y)


def _solve(
    decay: np.ndarray, x: np.ndarray, y: np.ndarray, free_offset: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(I∞, A) per row of decay = exp(−k·x) (I∞ = 0 unless free_offset; both 0 when the
    system is singular, which leaves that k the worst fit)."""
    s_e, s_ee, s_ey = decay.sum(axis=1), (decay**2).sum(axis=1), decay @ y
    if not free_offset:
        a = np.divide(s_ey, s_ee, out=np.zeros_like(s_ee), where=s_ee > 0)
        return np.zeros_like(a), a
    n, s_y = len(x), float(y.sum())
    det = n * s_ee - s_e**2
    ok = det > 1e-12 * n * s_ee
    safe = np.where(ok, det, 1.0)
    c = np.where(ok, (s_ee * s_y - s_e * s_ey) / safe, 0.0)
    a = np.where(ok, (n * s_ey - s_e * s_y) / safe, 0.0)
    return c, a
