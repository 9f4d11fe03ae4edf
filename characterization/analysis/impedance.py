"""Impedance (EIS) analysis of one spectrum: high-frequency intercept and equivalent-circuit fit.

Input: the EIS table of the parsers (biologic.EIS_COLUMNS: freq_hz, z_real_ohm, z_imag_ohm =
Im Z, negative on a capacitive arc; cycle optional). One spectrum (one `cycle`) is analysed.

* r_s_ohm, the high-frequency intercept: with the points ordered from the highest frequency
  down, the first pair where -Im Z goes from <= 0 (inductive or on the axis) to > 0
  (capacitive); R_s = Re Z interpolated linearly in -Im Z between these two points:
      R_s = Re_a + (Re_b − Re_a)·(−y_a)/(y_b − y_a),  y = −Im Z, a the higher frequency.
  None, with a warning, when -Im Z never crosses zero that way (positive already at the
  highest frequency, or never positive): Kiln does not extrapolate. When noise makes -Im Z
  cross zero several times above the arc's apex, the first crossing is used and the spread
  of the others is said.
* the equivalent-circuit fit (impedance_circuit: the circuit string, its parameters and seeds
  from the data; impedance_fit: impedance.py's fitting procedure, confirmed by its
  CustomCircuit; bounds >= 0). Weighting "auto": unit weights, and when their residual is
  above the threshold modulus weights too, keeping the lower residual (result.weighting says
  which). Each parameter with its 95 % interval value ± 1.96·σ; the mean
  relative residual mean(|Z_fit − Z| / |Z|) over the measured points; `reliable` is False,
  with the reason, when the fit did not converge, the residual is above `residual_threshold`
  (default RESIDUAL_THRESHOLD = 5 %), or an interval is wider than its value (2·1.96·σ > |value|)
  or could not be estimated.
* r_ct_ohm: the fitted R1 (charge-transfer / interfacial resistance of the default circuit
  R0-p(R1,CPE1)-W1); None for a circuit without R1.

Warnings (impedance_checks) flag what makes a number doubtful. Figures: see figures().
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from characterization.analysis import impedance_checks as checks
from characterization.analysis import impedance_circuit as circuits
from characterization.analysis import impedance_fit as fitting
from characterization.analysis.errors import AnalysisError

VERSION = "1"
DEFAULT_CIRCUIT = "R0-p(R1,CPE1)-W1"
RESIDUAL_THRESHOLD = 0.05
MAX_EVALUATIONS = 1000  # curve_fit's maxfev: model evaluations before "not converged"
WEIGHTINGS = ("auto", "unit", "modulus")
APEX_PROMINENCE = 0.10  # an arc's apex stands out by 10 % of the -Im Z range
_FIT_POINTS_PER_DECADE = 20
_NEEDED = ("freq_hz", "z_real_ohm", "z_imag_ohm")


@dataclass(frozen=True)
class Spectrum:
    """One spectrum ordered from the highest frequency down (Hz, Ω, Im Z)."""

    cycle: int
    freq_hz: np.ndarray
    z_real_ohm: np.ndarray
    z_imag_ohm: np.ndarray

    @property
    def z(self) -> np.ndarray:
        return self.z_real_ohm + 1j * self.z_imag_ohm


@dataclass(frozen=True)
class Intercept:
    """The high-frequency intercept and how it was found (see the module doc)."""

    r_s_ohm: float | None
    bracket_hz: tuple[float, float] | None  # (higher, lower) frequency of the two points
    other_crossings_ohm: tuple[float, ...] = ()  # Re Z at later crossings above the apex
    reason: str = ""  # why r_s_ohm is None


@dataclass(frozen=True)
class FittedParameter:
    name: str
    value: float
    unit: str
    sigma: float | None
    ci95: tuple[float, float] | None


@dataclass(frozen=True)
class ImpedanceResult:
    circuit: str
    cycle: int
    n_points: int
    r_s_ohm: float | None
    intercept: Intercept
    parameters: tuple[FittedParameter, ...]
    r_ct_ohm: float | None
    mean_relative_residual: float | None
    reliable: bool
    unreliable_reason: str | None
    converged: bool
    weighting: str  # "unit" or "modulus" (impedance.py's weight_by_modulus)
    confirmed: bool  # the parameters are impedance.py CustomCircuit's own fit (impedance_fit)
    initial_guess: dict[str, float]
    residual_threshold: float
    warnings: tuple[dict, ...] = ()
    figures: dict = field(default_factory=dict)
    version: str = VERSION

    def parameter(self, name: str) -> FittedParameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def as_summary(self) -> dict:
        return {
            "r_s_ohm": self.r_s_ohm,
            "circuit": self.circuit,
            "parameters": {
                p.name: {"value": p.value, "ci95": list(p.ci95) if p.ci95 else None}
                for p in self.parameters
            },
            "units": {p.name: p.unit for p in self.parameters},
            "r_ct_ohm": self.r_ct_ohm,
            "mean_relative_residual": self.mean_relative_residual,
            "reliable": self.reliable,
            "unreliable_reason": self.unreliable_reason,
        }


def analyse_impedance(
    table: pd.DataFrame,
    circuit: str = DEFAULT_CIRCUIT,
    *,
    cycle: int | None = None,
    weighting: str = "auto",
    residual_threshold: float = RESIDUAL_THRESHOLD,
    max_evaluations: int = MAX_EVALUATIONS,
) -> ImpedanceResult:
    """Intercept, fit and warnings for one spectrum of `table` (the first cycle unless
    `cycle` is given). Raises AnalysisError naming the field for a bad circuit ("circuit"),
    table ("table"), cycle, threshold or evaluation budget."""
    parsed = circuits.parse_circuit(circuit)
    threshold = _fraction(residual_threshold)
    budget = _evaluations(max_evaluations)
    if weighting not in WEIGHTINGS:
        raise AnalysisError("weighting", f"weighting must be one of {', '.join(WEIGHTINGS)}")
    spectrum, notes = spectrum_of(table, cycle)
    if 2 * spectrum.freq_hz.size <= len(parsed.names):
        raise AnalysisError(
            "table",
            f"the spectrum has {spectrum.freq_hz.size} points: too few to fit "
            f"{len(parsed.names)} parameters of {parsed.text}",
        )
    intercept = high_frequency_intercept(spectrum)
    features = _features(spectrum, intercept)
    initial = circuits.seeds(parsed, features)
    outcome, residual = _best_fit(parsed, spectrum, initial, weighting, threshold, budget)
    parameters = tuple(
        FittedParameter(name, value, unit, sigma, fitting.interval(value, sigma))
        for name, unit, value, sigma in zip(
            parsed.names, parsed.units, outcome.values, outcome.sigmas, strict=False
        )
    )
    reason = checks.unreliable_reason(outcome, parameters, residual, threshold, budget)
    r_ct = next((p.value for p in parameters if p.name == "R1"), None)
    result = ImpedanceResult(
        circuit=parsed.text,
        cycle=spectrum.cycle,
        n_points=int(spectrum.freq_hz.size),
        r_s_ohm=intercept.r_s_ohm,
        intercept=intercept,
        parameters=parameters,
        r_ct_ohm=r_ct,
        mean_relative_residual=residual,
        reliable=reason is None,
        unreliable_reason=reason,
        converged=outcome.converged,
        weighting=outcome.weighting,
        confirmed=outcome.confirmed,
        initial_guess=dict(zip(parsed.names, outcome.initial_guess, strict=True)),
        residual_threshold=threshold,
    )
    warnings = notes + checks.plausibility(result, spectrum, apex_index(spectrum))
    return replace(result, warnings=tuple(warnings), figures=figures(spectrum, outcome))


def _best_fit(
    circuit: circuits.Circuit,
    spectrum: Spectrum,
    initial: list[float],
    weighting: str,
    threshold: float,
    budget: int,
) -> tuple[fitting.FitOutcome, float | None]:
    """The fit with the chosen weighting; for "auto", unit weights first and, when their mean
    relative residual is above the threshold (or the fit fails), modulus weights too, keeping
    the lower residual. Returns the outcome and its mean relative residual."""
    tried = []
    for scheme in ("unit", "modulus") if weighting == "auto" else (weighting,):
        outcome = fitting.fit(
            circuit, spectrum.freq_hz, spectrum.z, initial, weighting=scheme, max_evaluations=budget
        )
        residual = None
        if outcome.converged:
            z_fit = fitting.predict(outcome, spectrum.freq_hz)
            residual = float(np.mean(np.abs(z_fit - spectrum.z) / np.abs(spectrum.z)))
            if not math.isfinite(residual):
                message = "the fitted circuit gives non-finite impedances"
                outcome = replace(outcome, converged=False, message=message, values=(), sigmas=())
                residual = None
        tried.append((outcome, residual))
        if residual is not None and residual <= threshold:
            break
    converged = [t for t in tried if t[1] is not None]
    return min(converged, key=lambda t: t[1]) if converged else tried[0]


# ---------------------------------------------------------------- input


def spectrum_of(table: object, cycle: int | None = None) -> tuple[Spectrum, list[dict]]:
    """The spectrum of `cycle` (default the first), highest frequency first, and notes (other
    spectra in the table, repeated frequencies, the reader's notes)."""
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError("table", "expected an impedance table (a pandas DataFrame)")
    missing = [c for c in _NEEDED if c not in table.columns]
    if missing:
        raise AnalysisError("table", f"the impedance table has no column(s) {', '.join(missing)}")
    if table.empty:
        raise AnalysisError("table", "the impedance table has no data rows")
    cycles = table["cycle"] if "cycle" in table.columns else pd.Series(1, index=table.index)
    cycles = pd.to_numeric(cycles, errors="coerce")
    if cycles.isna().any():
        raise AnalysisError("table", "some rows of the impedance table have no cycle number")
    available = sorted({int(c) for c in cycles})
    if cycle is not None and (
        isinstance(cycle, bool) or not isinstance(cycle, (int, np.integer)) or cycle < 1
    ):
        raise AnalysisError("cycle", "cycle must be a whole number ≥ 1")
    chosen = cycle if cycle is not None else (available[0] if available else 1)
    if chosen not in available:
        raise AnalysisError("cycle", f"the table has no spectrum {chosen} (it has {available})")
    rows = table[cycles.to_numpy() == chosen]
    values = rows[list(_NEEDED)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if len(values) == 0:
        raise AnalysisError("table", "the impedance table has no data rows")
    if not np.isfinite(values).all():
        raise AnalysisError("table", "the impedance table holds missing or non-numeric values")
    if (values[:, 0] <= 0).any():
        raise AnalysisError("table", "frequencies must be > 0 Hz")
    if (np.hypot(values[:, 1], values[:, 2]) == 0).any():
        raise AnalysisError("table", "a point has Z = 0 Ω, which no cell can have")
    if np.unique(values[:, 0]).size < 2:
        raise AnalysisError("table", "the spectrum holds a single frequency, not a sweep")
    order = np.argsort(-values[:, 0], kind="stable")
    spectrum = Spectrum(chosen, *(values[order, i] for i in range(3)))
    notes = checks.input_notes(table, available, chosen, spectrum.freq_hz)
    return spectrum, notes


def _fraction(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AnalysisError("residual_threshold", "residual_threshold must be a number")
    if not 0 < value <= 1:
        raise AnalysisError("residual_threshold", "residual_threshold must be > 0 and ≤ 1")
    return float(value)


def _evaluations(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise AnalysisError("max_evaluations", "max_evaluations must be a whole number")
    if not 50 <= value <= 20000:
        raise AnalysisError("max_evaluations", "max_evaluations must be between 50 and 20000")
    return int(value)


# ---------------------------------------------------------------- the spectrum's features


def high_frequency_intercept(spectrum: Spectrum) -> Intercept:
    """R_s where -Im Z first crosses from <= 0 to > 0 going down in frequency (module doc)."""
    y, re = -spectrum.z_imag_ohm, spectrum.z_real_ohm
    apex = apex_index(spectrum)
    limit = apex if apex is not None else len(y) - 1
    crossings = [i for i in range(limit) if y[i] <= 0 < y[i + 1]]
    if not crossings:
        return Intercept(None, None, (), _no_intercept_reason(spectrum))
    values = [re[i] + (re[i + 1] - re[i]) * (-y[i]) / (y[i + 1] - y[i]) for i in crossings]
    first = crossings[0]
    bracket = (float(spectrum.freq_hz[first]), float(spectrum.freq_hz[first + 1]))
    return Intercept(float(values[0]), bracket, tuple(float(v) for v in values[1:]))


def _no_intercept_reason(spectrum: Spectrum) -> str:
    y = -spectrum.z_imag_ohm
    top = f"{spectrum.freq_hz[0]:.4g} Hz"
    if (y <= 0).all():
        return "-Im Z is never positive: the spectrum holds no capacitive arc"
    if y[0] > 0:
        return (
            f"-Im Z is already positive (capacitive) at the highest frequency, {top}: the "
            "spectrum does not reach the real axis at high frequency"
        )
    return "-Im Z does not cross from negative to positive above the arc's apex"


def apex_index(spectrum: Spectrum) -> int | None:
    """Index of the arc's apex: the most prominent interior maximum of -Im Z (prominence at
    least APEX_PROMINENCE of the -Im Z range); None when no maximum stands out (the data do
    not cover the apex, or hold no arc)."""
    y = -spectrum.z_imag_ohm
    span = float(np.ptp(y))
    if y.size < 3 or span <= 0:
        return None
    peaks, props = find_peaks(y, prominence=APEX_PROMINENCE * span)
    if not len(peaks):
        return None
    return int(peaks[np.argmax(props["prominences"])])


def _features(spectrum: Spectrum, intercept: Intercept) -> circuits.Features:
    f, re, y = spectrum.freq_hz, spectrum.z_real_ohm, -spectrum.z_imag_ohm
    r0 = intercept.r_s_ohm if intercept.r_s_ohm is not None else float(re[0])
    apex = apex_index(spectrum)
    at = apex if apex is not None else int(np.argmax(y))
    arc = 2 * (re[at] - r0) if apex is not None else float(np.ptp(re))
    return circuits.Features(
        r0_ohm=max(float(r0), 1e-9),
        arc_ohm=max(float(arc), float(np.ptp(re)) * 0.05, 1e-9),
        apex_hz=float(f[at]),
        f_min_hz=float(f[-1]),
        f_max_hz=float(f[0]),
        tail_minus_imag_ohm=float(y[-1]),
    )


# ---------------------------------------------------------------- figures


def figures(spectrum: Spectrum, outcome: fitting.FitOutcome) -> dict:
    """Plot data (lists): "nyquist" (Re Z vs -Im Z, measured and fitted; draw with equal
    axes), "bode" (|Z| and phase vs frequency, measured and fitted; phase = arg Z in degrees,
    negative on a capacitive arc) and "residuals" (relative |Z_fit − Z|/|Z| per measured
    frequency). Fitted curves are on a log grid of 20 points per decade over the measured
    range; they are None when the fit did not converge."""
    f = spectrum.freq_hz
    measured = spectrum.z
    out = {
        "nyquist": {"equal_axes": True, "measured": _nyquist(f, measured), "fitted": None},
        "bode": {"measured": _bode(f, measured), "fitted": None},
        "residuals": None,
    }
    if outcome.converged:
        decades = max(math.log10(f[0] / f[-1]), 1.0)
        grid = np.logspace(
            math.log10(f[0]), math.log10(f[-1]), int(decades * _FIT_POINTS_PER_DECADE) + 1
        )
        z_grid = fitting.predict(outcome, grid)
        out["nyquist"]["fitted"] = _nyquist(grid, z_grid)
        out["bode"]["fitted"] = _bode(grid, z_grid)
        relative = np.abs(fitting.predict(outcome, f) - measured) / np.abs(measured)
        out["residuals"] = {"freq_hz": f.tolist(), "relative": relative.tolist()}
    return out


def _nyquist(f: np.ndarray, z: np.ndarray) -> dict:
    return {
        "freq_hz": f.tolist(),
        "z_real_ohm": z.real.tolist(),
        "minus_z_imag_ohm": (-z.imag).tolist(),
    }


def _bode(f: np.ndarray, z: np.ndarray) -> dict:
    return {
        "freq_hz": f.tolist(),
        "z_abs_ohm": np.abs(z).tolist(),
        "phase_deg": np.degrees(np.angle(z)).tolist(),
    }
