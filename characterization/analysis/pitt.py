"""PITT: the Li diffusion coefficient from the long-time current decay of each potential step
(DOMAIN.md section 3; Wen, Boukamp & Huggins, J. Electrochem. Soc. 126 (1979) 2258).

Model. After a potential step, with planar diffusion over a length L, the surface held at its
new composition and no flux at the far side, the current is
    I(t) = I∞ + (2·ΔQ·D/L²) · Σ_{n≥0} exp(−(2n+1)²·π²·D·t / (4L²)).
Once the higher terms have died only n = 0 is left, so ln|I − I∞| is linear in t:
    ln|I − I∞| = const − k·t,  k = π²D/(4L²),  D = −slope · 4L²/π²  (cm² s⁻¹, L in cm).
Before that (the short-time, Cottrell-like regime) the apparent decay rate is faster the
earlier one looks. I∞ is the residual current at the new equilibrium (side reactions,
electronic leakage).

The window rule (WINDOW_RULE, shown with the result; t from the step's first record, T its
duration; fit_window_s uses this clock). It depends neither on how densely the instrument
recorded nor on where the noise starts:
1. t_half: the first record after the largest |I| at which |I| has fallen to half of it (skips
   the double-layer spike and any rise of the current).
2. Decay fits: least squares of I = I∞ + A·exp(−k·t) over the records from some t on, k
   searched on at most 400 records picked evenly in time (5000 for the final fit of rule 4;
   pitt_fit.py), so that a file recorded every 0.1 s early and every 10 s late, or every 1 s
   for hours, weighs each part of the decay by its duration, not by its number of records.
3. Window start t_a, the long-time onset 1/k (from there on the next term is below
   exp(−8) = 0.03 % of the first). From t_a = t_half, repeat: fit from t_a (rate k); when
   1/k is within 5 % of t_a (or before it), fit again from the middle of the part of [t_a, T]
   still above 5σ of the noise (rule 4), and if that late part decays slower, by more than
   5 % and more than 3 standard errors, its rate replaces k (the fit from t_a still sees a
   faster short-time decay, or a fast extra process; the late slope is the single-term
   one); move t_a to 1/k if that is later (never back: starting earlier only adds faster
   early decay); stop when t_a moves by less than 5 % (at most 12 rounds, else the last
   t_a). The long-time regime is not reached when 1/k lies beyond half the step, or when
   ln|I − I∞| is not linear over the resulting window (rule 6): then the window is the
   second half of the step, I∞ is taken as 0 (DOMAIN.md's plain ln I vs t) and the step is
   flagged `long_time_regime_not_reached`.
4. I∞, k and the noise σ: one precise fit from t_a to the end of the step (the tail pins I∞);
   σ is its rms residual, i.e. the noise of the late part, where the model holds.
   Window end t_b: the end of the step, or earlier where the decaying part |A|·exp(−k·t)
   falls to 5σ, and before the first record where I − I∞ has lost the step's sign: beyond,
   ln|I − I∞| is noise and biased low (the log of a noisy small number).
5. Weighted least squares of ln|I − I∞| against t over [t_a, t_b], weights exp(−2k(t − t_a))
   (the inverse variance of ln|I − I∞| under a constant current noise): slope, weighted R²;
   D = −slope·4L²/π².
6. Linearity check: the slopes over the two halves (in time) of the window must agree within
   15 % of the slope, or within 3 standard errors of each other (noise). ln I of a
   Cottrell-like current fails it (with I∞ fitted, rule 3's late-part test is what catches
   it: a fitted I∞ can straighten a power law over a short window).
With residual_current="zero", I∞ is 0 throughout (the fits of 2-4 have A and k only); a
window that fails rule 6 then keeps its fit and is flagged `residual_current_not_zero`.

Refused steps (listed with the reason in refused_steps and in a warning, never dropped): fewer
than 10 records in the step or in the window, a current that changes sign inside the window,
a decaying part already within 5σ of the noise at the window start, a current that does not
decay (ln|I − I∞| falls by less than 0.01, i.e. 1 %, across the window).

Direction: "charge" when the step's potential is above the previous step's, "discharge" when
below; for the first step (or no change) the sign of the charge passed (> 0, oxidation:
charge). The step potential is the set potential when the file records it, else the median
measured potential of the step.

Warnings (code, message, steps, severity): d_out_of_range (D outside 1e-16…1e-6 cm² s⁻¹),
low_r_squared (below min_r_squared), step_shorter_than_diffusion_time (T < L²/D: the current
had not relaxed, D less certain), long_time_regime_not_reached, residual_current_not_zero
(I∞ taken as 0 but the current crosses zero after the window, or ln|I| bends away from a
line), direction_against_current (the charge passed has the other sign than the potential
step), steps_refused, no_step_analysed.

VERSION 2 (this rule) replaces version 1's, whose onset iteration from t_half called a move
under 1 % of the step "settled" and weighted records by number: on densely recorded steps its
window sat in the short-time regime (D 4.5x too high at 5000 records, 25x at 1 s records).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from characterization.analysis._checks import number
from characterization.analysis.errors import AnalysisError
from characterization.analysis.pitt_fit import NOT_REACHED, fit_step

VERSION = "2"
NEEDED_COLUMNS = ("time_s", "potential_v", "current_a", "step")
DIFFUSION_LENGTH_BOUNDS_UM = (0.01, 1000.0)
D_PLAUSIBLE_CM2_S = (1e-16, 1e-6)
DEFAULT_MIN_R_SQUARED = 0.95
RESIDUAL_CURRENT_MODES = ("fit", "zero")
SAME_POTENTIAL_V = 1e-4
WINDOW_RULE = (
    "Each step is fitted where ln|I − I∞| is linear in t, the long-time regime: from the "
    "onset t = 1/k = 4L²/(π²D), found iteratively with k taken from the late part of the "
    "decay whenever that decays significantly slower (so neither the sampling density nor "
    "the fast early decay moves it), to the end of the step or to where the decaying current "
    "falls to 5σ of the noise (σ from the residuals of the fit from the onset on). I∞ is "
    "fitted jointly with k from the onset to the end of the step. The line through "
    "ln|I − I∞| is a weighted least squares fit (weights as the inverse variance of "
    "ln|I − I∞|); the slopes over the two halves of the window must agree within 15 % or "
    "within the noise. A step whose onset lies beyond half its duration, or whose window is "
    "not linear, is fitted over its second half with I∞ = 0 and flagged."
)
_PLOT_POINTS = 400
FLAG, NOTE = "flag", "note"
_SEVERITY = {
    "d_out_of_range": FLAG,
    "low_r_squared": FLAG,
    "step_shorter_than_diffusion_time": FLAG,
    "long_time_regime_not_reached": FLAG,
    "residual_current_not_zero": FLAG,
    "direction_against_current": NOTE,
    "steps_refused": NOTE,
    "no_step_analysed": FLAG,
}


@dataclass(frozen=True)
class StepFit:
    """One analysed step. Times in s from the step's first record; current in A."""

    index: int
    potential_v: float
    direction: str  # "charge" | "discharge"
    d_cm2_per_s: float
    r_squared: float
    fit_window_s: tuple[float, float]
    slope_per_s: float
    intercept_ln_a: float  # ln|I − I∞| at t = 0 of the fitted line (I in A)
    residual_current_a: float
    residual_current_basis: str  # "fitted" | "taken as 0" | pitt_fit.NOT_REACHED
    window_points: int
    duration_s: float
    diffusion_time_s: float  # L²/D
    direction_basis: str
    charge_passed_c: float
    sign_change_after_window: bool  # the raw current crosses zero later in the step
    noise_a: float  # σ, the rms residual of the decay fit from the window start on
    half_slopes_per_s: tuple[float, float]  # over the two halves of the window (rule 6)
    linear_in_window: bool  # the two half slopes agree (rule 6)
    window_basis: str  # how this step's window start and end were decided

    def as_summary(self) -> dict[str, object]:
        return {
            "index": self.index,
            "potential_v": self.potential_v,
            "direction": self.direction,
            "d_cm2_per_s": self.d_cm2_per_s,
            "r_squared": self.r_squared,
            "fit_window_s": list(self.fit_window_s),
        }


@dataclass(frozen=True)
class RefusedStep:
    index: int
    reason: str
    potential_v: float
    direction: str

    def as_summary(self) -> dict[str, object]:
        return {"index": self.index, "reason": self.reason}


@dataclass(frozen=True)
class PittResult:
    """Per-step diffusion coefficients, the refused steps with their reasons, warnings and
    figure data (see `figures`)."""

    steps: tuple[StepFit, ...]
    refused_steps: tuple[RefusedStep, ...]
    diffusion_length_um: float
    residual_current: str
    min_r_squared: float
    warnings: tuple[dict, ...] = ()
    figures: dict = field(default_factory=dict)
    version: str = VERSION
    window_rule: str = WINDOW_RULE

    def as_summary(self) -> dict[str, object]:
        return {
            "steps": [s.as_summary() for s in self.steps],
            "refused_steps": [r.as_summary() for r in self.refused_steps],
        }

    def details(self) -> list[dict[str, object]]:
        """Everything known about each analysed step (for a table under the plot)."""
        return [
            {
                **asdict(s),
                "fit_window_s": list(s.fit_window_s),
                "half_slopes_per_s": list(s.half_slopes_per_s),
            }
            for s in self.steps
        ]


def default_diffusion_length_um(
    particle_size_um: float | None = None, thickness_um: float | None = None
) -> float:
    """The diffusion length L for a PITT analysis when the user gives none.

    Rule: half the particle size (the particle radius: in a porous composite electrode the
    electrolyte reaches every particle, and Li diffuses from its surface to its centre);
    without a particle size, the electrode thickness (a dense film, diffusion across it).
    Raises AnalysisError when neither is given or the result is outside 0.01-1000 µm.
    """
    if particle_size_um is not None:
        size = number(particle_size_um, field="particle_size_um", label="particle size")
        if size <= 0:
            raise AnalysisError("particle_size_um", "particle size must be > 0 µm")
        return _length(size / 2.0, "particle_size_um", "half the particle size")
    if thickness_um is not None:
        thickness = number(thickness_um, field="thickness_um", label="electrode thickness")
        if thickness <= 0:
            raise AnalysisError("thickness_um", "electrode thickness must be > 0 µm")
        return _length(thickness, "thickness_um", "the electrode thickness")
    raise AnalysisError(
        "diffusion_length_um",
        "give the diffusion length, or the particle size or electrode thickness it comes from",
    )


def analyse_pitt(
    table: pd.DataFrame,
    diffusion_length_um: float,
    *,
    residual_current: str = "fit",
    min_r_squared: float = DEFAULT_MIN_R_SQUARED,
) -> PittResult:
    """D per potential step of a potential-step table (parsers.potential_steps COLUMNS; see
    the module doc for the rules). diffusion_length_um: L, 0.01-1000 µm; residual_current:
    "fit" (I∞ fitted jointly) or "zero"; min_r_squared: R² below it is flagged (0-1)."""
    length_um = _length(diffusion_length_um, "diffusion_length_um", "diffusion length")
    if residual_current not in RESIDUAL_CURRENT_MODES:
        raise AnalysisError("residual_current", "residual_current must be 'fit' or 'zero'")
    r2_min = number(min_r_squared, field="min_r_squared", label="minimum R²")
    if not 0.0 <= r2_min <= 1.0:
        raise AnalysisError("min_r_squared", "minimum R² must be between 0 and 1")
    steps = _steps(_checked(table))
    fits, refused, previous = [], [], None
    for index, t, current, potential in steps:
        done = _analysed(index, t, current, potential, previous, residual_current, length_um)
        (refused if isinstance(done, RefusedStep) else fits).append(done)
        previous = potential
    return PittResult(
        steps=tuple(fits),
        refused_steps=tuple(refused),
        diffusion_length_um=length_um,
        residual_current=residual_current,
        min_r_squared=r2_min,
        warnings=tuple(_warnings(fits, refused, r2_min)),
        figures=_figures(fits, steps),
    )


def _analysed(
    index: int,
    t: np.ndarray,
    current: np.ndarray,
    potential: float,
    previous: float | None,
    mode: str,
    length_um: float,
) -> StepFit | RefusedStep:
    direction, basis, charge = _direction(potential, previous, t, current)
    window = fit_step(t, current, mode)
    if isinstance(window, str):
        return RefusedStep(index, window, potential, direction)
    length_cm = length_um * 1e-4
    d = -window.line.slope * 4.0 * length_cm**2 / math.pi**2
    return StepFit(
        index=index,
        potential_v=potential,
        direction=direction,
        d_cm2_per_s=d,
        r_squared=window.line.r_squared,
        fit_window_s=(window.t_a, window.t_b),
        slope_per_s=window.line.slope,
        intercept_ln_a=window.line.intercept,
        residual_current_a=window.residual_a,
        residual_current_basis=window.residual_basis,
        window_points=window.points,
        duration_s=float(t[-1]),
        diffusion_time_s=length_cm**2 / d,
        direction_basis=basis,
        charge_passed_c=charge,
        sign_change_after_window=window.crossing_later,
        noise_a=window.noise_a,
        half_slopes_per_s=window.half_slopes_per_s,
        linear_in_window=window.linear,
        window_basis=window.window_basis,
    )


# ---------------------------------------------------------------- inputs


def _length(value: object, name: str, label: str) -> float:
    low, high = DIFFUSION_LENGTH_BOUNDS_UM
    length = number(value, field=name, label=label)
    if not low <= length <= high:
        raise AnalysisError(
            name, f"{label} must be between {low:g} and {high:g} µm (got {length:g} µm)"
        )
    return length


def _checked(table: object) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError("table", "expected a potential-step table (a pandas DataFrame)")
    missing = [c for c in NEEDED_COLUMNS if c not in table.columns]
    if missing:
        raise AnalysisError(
            "table", f"the potential-step table has no column(s) {', '.join(missing)}"
        )
    if table.empty:
        raise AnalysisError("table", "the file has no data rows")
    for column in NEEDED_COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise AnalysisError("table", f"the column {column} has missing or non-numeric values")
    step = table["step"].to_numpy()
    if (np.diff(step) < 0).any():
        raise AnalysisError("table", "the records of a step are not together in time order")
    if (np.diff(table["time_s"].to_numpy(dtype=float)) < 0).any():
        raise AnalysisError("table", "time goes backwards in the potential-step table")
    return table


def _steps(table: pd.DataFrame) -> list[tuple[int, np.ndarray, np.ndarray, float]]:
    """(index, t from the step's first record, current A, step potential V) per step."""
    out = []
    has_set = "set_potential_v" in table.columns
    for index, rows in table.groupby("step", sort=True):
        time_s = rows["time_s"].to_numpy(dtype=float)
        set_v = rows["set_potential_v"].to_numpy(dtype=float) if has_set else np.array([np.nan])
        potential = (
            float(np.median(set_v))
            if np.isfinite(set_v).all()
            else float(np.median(rows["potential_v"].to_numpy(dtype=float)))
        )
        out.append((int(index), time_s - time_s[0], rows["current_a"].to_numpy(float), potential))
    return out


def _direction(
    potential: float, previous: float | None, t: np.ndarray, current: np.ndarray
) -> tuple[str, str, float]:
    charge = float(np.trapezoid(current, t)) if len(t) > 1 else 0.0
    if previous is not None and abs(potential - previous) >= SAME_POTENTIAL_V:
        up = potential > previous
        basis = f"potential stepped {'up' if up else 'down'} from {previous:.4f} V"
        return ("charge" if up else "discharge"), basis, charge
    basis = "sign of the charge passed (no earlier step potential to compare)"
    return ("charge" if charge >= 0 else "discharge"), basis, charge


# ---------------------------------------------------------------- warnings and figures


def _warning(code: str, message: str, steps: list[int]) -> dict:
    return {"code": code, "message": message, "steps": steps, "severity": _SEVERITY[code]}


def _named(steps: list[int]) -> str:
    return ", ".join(str(i) for i in steps[:8]) + (" …" if len(steps) > 8 else "")


def _warnings(fits: list[StepFit], refused: list[RefusedStep], r2_min: float) -> list[dict]:
    low, high = D_PLAUSIBLE_CM2_S
    checks = (
        (
            "d_out_of_range",
            [f.index for f in fits if not low <= f.d_cm2_per_s <= high],
            f"D outside the plausible {low:g}–{high:g} cm² s⁻¹ in step(s) {{}}: check the "
            "diffusion length and the fit window.",
        ),
        (
            "low_r_squared",
            [f.index for f in fits if f.r_squared < r2_min],
            f"ln|I − I∞| is not linear in t (R² below {r2_min:g}) in step(s) {{}}.",
        ),
        (
            "step_shorter_than_diffusion_time",
            [f.index for f in fits if f.duration_s < f.diffusion_time_s],
            "step(s) {} ended before the diffusion time L²/D: the current had not relaxed, "
            "so D is less certain.",
        ),
        (
            "long_time_regime_not_reached",
            [f.index for f in fits if f.residual_current_basis == NOT_REACHED],
            "in step(s) {} the long-time regime is not reached (its onset lies beyond half "
            "the step, or ln|I − I∞| is not linear from it): the fit uses the second half of "
            "the step and takes I∞ as 0.",
        ),
        (
            "residual_current_not_zero",
            [
                f.index
                for f in fits
                if (f.sign_change_after_window and f.residual_current_basis.startswith("taken"))
                or (f.residual_current_basis == "taken as 0" and not f.linear_in_window)
            ],
            "in step(s) {} the residual current I∞ taken as 0 is not 0 (the current changes "
            "sign after the fit window, or ln|I| bends away from a line): D is biased; fit "
            "I∞ (residual_current='fit'), or hold the step longer.",
        ),
        (
            "direction_against_current",
            [
                f.index
                for f in fits
                if f.direction_basis.startswith("potential")
                and (f.charge_passed_c < 0) == (f.direction == "charge")
            ],
            "in step(s) {} the charge passed has the other sign than the potential step.",
        ),
    )
    out = [_warning(code, text.format(_named(ids)), ids) for code, ids, text in checks if ids]
    if refused:
        reasons = "; ".join(f"step {r.index}: {r.reason}" for r in refused[:8])
        out.append(
            _warning(
                "steps_refused",
                f"{len(refused)} step(s) not analysed ({reasons}).",
                [r.index for r in refused],
            )
        )
    if not fits:
        out.append(_warning("no_step_analysed", "no step gave a diffusion coefficient.", []))
    return out


def _thin(values: np.ndarray, points: int = _PLOT_POINTS) -> np.ndarray:
    return values[:: max(1, math.ceil(len(values) / points))]


def _figures(fits: list[StepFit], steps: list) -> dict:
    """d_vs_potential: per direction, potential_v / d_cm2_per_s / step lists (the D-vs-E
    plot); decays: per analysed step, t (s) and ln|I − I∞| (None where I − I∞ has lost its
    sign), at most 400 points, with the fit window and the fitted line's two end points."""
    by_index = {index: (t, current) for index, t, current, _ in steps}
    curves = {}
    for direction in ("charge", "discharge"):
        rows = [f for f in fits if f.direction == direction]
        curves[direction] = {
            "potential_v": [f.potential_v for f in rows],
            "d_cm2_per_s": [f.d_cm2_per_s for f in rows],
            "step": [f.index for f in rows],
        }
    decays = []
    for f in fits:
        t, current = by_index[f.index]
        sign = 1.0 if current[int(np.argmax(np.abs(current)))] > 0 else -1.0
        shifted = (_thin(current) - f.residual_current_a) * sign
        with np.errstate(divide="ignore", invalid="ignore"):
            ln = np.where(shifted > 0, np.log(shifted), np.nan)
        a, b = f.fit_window_s
        decays.append(
            {
                "step": f.index,
                "time_s": _thin(t).tolist(),
                "ln_abs_current_minus_residual": np.where(np.isnan(ln), None, ln).tolist(),
                "fit_window_s": [a, b],
                "fit_line_time_s": [a, b],
                "fit_line_ln": [
                    f.intercept_ln_a + f.slope_per_s * a,
                    f.intercept_ln_a + f.slope_per_s * b,
                ],
            }
        )
    return {"d_vs_potential": curves, "decays": decays}
