"""Least-squares fits of an equivalent circuit (impedance_circuit) to one spectrum.

The procedure is impedance.py's circuit_fit (impedance.models.circuits.fitting, MIT):
scipy.optimize.curve_fit on the stacked residuals [Re Z_fit − Re Z, Im Z_fit − Im Z], bounds
from impedance_circuit.bounds, ftol 1e-13, maxfev `max_evaluations`; "modulus" weighting
divides each residual by |Z| (impedance.py's weight_by_modulus). The search runs on
impedance_circuit.model (fast); its optimum is then handed to impedance.py's CustomCircuit,
whose own fit, started there, gives the reported parameters and σ (it converges in a few
evaluations, at most CONFIRM_EVALUATIONS). Should it stop without converging, the search's
values are kept and the outcome says so.

95 % intervals: value ± 1.96·σ, σ = √diag(covariance) (absolute_sigma=False: scaled by the
residual variance). A parameter the model barely depends on (a relative change h of it moves
Z by less than MIN_SENSITIVITY·h·‖Z‖, e.g. R1 ∥ CPE with R1 → ∞) gets no σ: curve_fit's
pseudo-inverse would report 0 for it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from characterization.analysis.impedance_circuit import Circuit, bounds, model

CI_FACTOR = 1.96
MIN_SENSITIVITY = 1e-6
CONFIRM_EVALUATIONS = 25
_FAILURES = (RuntimeError, ValueError, FloatingPointError, np.linalg.LinAlgError)


@dataclass(frozen=True)
class FitOutcome:
    circuit: Circuit
    converged: bool
    message: str  # why it did not converge, or what curve_fit warned about
    values: tuple[float, ...]
    sigmas: tuple[float | None, ...]
    initial_guess: tuple[float, ...]
    weighting: str  # "unit" or "modulus"
    confirmed: bool = False  # the values are CustomCircuit's own fit


def fit(
    circuit: Circuit,
    freq_hz: np.ndarray,
    z: np.ndarray,
    initial: list[float],
    *,
    weighting: str,
    max_evaluations: int,
) -> FitOutcome:
    """Fit `circuit` to Z (complex, Ω) at freq_hz; `weighting` "unit" or "modulus"."""
    guess = tuple(float(x) for x in initial)
    evaluate = model(circuit)

    def stacked(f: np.ndarray, *p: float) -> np.ndarray:
        values = evaluate(f, p)
        return np.hstack([values.real, values.imag])

    options = {"maxfev": max_evaluations, "ftol": 1e-13}
    if weighting == "modulus":
        options["sigma"] = np.hstack([np.abs(z), np.abs(z)])
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            found, covariance = curve_fit(
                stacked, freq_hz, np.hstack([z.real, z.imag]), p0=guess,
                bounds=bounds(circuit), **options,
            )  # fmt: skip
        except _FAILURES as exc:
            return FitOutcome(circuit, False, _first_line(exc), (), (), guess, weighting)
    if not np.all(np.isfinite(found)):
        return FitOutcome(circuit, False, "non-finite parameters", (), (), guess, weighting)
    values, conf, confirmed = _confirm(circuit, freq_hz, z, found, weighting)
    if conf is None:
        conf = np.sqrt(np.diag(covariance))
    sensitive = sensitivities(circuit, freq_hz, values)
    sigmas = tuple(
        float(s) if np.isfinite(s) and k >= MIN_SENSITIVITY else None
        for s, k in zip(conf, sensitive, strict=True)
    )
    message = "; ".join(sorted({_first_line(w.message) for w in caught}))
    if not confirmed:
        message = "; ".join(filter(None, [message, "impedance.py did not confirm the optimum"]))
    return FitOutcome(circuit, True, message, values, sigmas, guess, weighting, confirmed)


def _confirm(
    circuit: Circuit, freq_hz: np.ndarray, z: np.ndarray, found: np.ndarray, weighting: str
) -> tuple[tuple[float, ...], np.ndarray | None, bool]:
    """impedance.py's CustomCircuit fit started at the search's optimum: its parameters and
    σ, or the search's parameters and None when it stops without converging."""
    from impedance.models.circuits import CustomCircuit

    start = [float(x) for x in found]
    checker = CustomCircuit(circuit.text, initial_guess=start)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            checker.fit(
                freq_hz, z, bounds=bounds(circuit), weight_by_modulus=weighting == "modulus",
                maxfev=CONFIRM_EVALUATIONS,
            )  # fmt: skip
        except _FAILURES:
            return tuple(start), None, False
    values = tuple(float(v) for v in checker.parameters_)
    if not all(np.isfinite(values)) or checker.conf_ is None:
        return tuple(start), None, False
    return values, np.asarray(checker.conf_, dtype=float), True


def sensitivities(circuit: Circuit, freq_hz: np.ndarray, values: tuple[float, ...]) -> list[float]:
    """Per parameter, ‖Z(p_k·(1+h)) − Z(p)‖ / (h·‖Z(p)‖), h = 1e-4 (0 for p_k = 0)."""
    evaluate = model(circuit)
    out = []
    with np.errstate(all="ignore"):
        base = evaluate(freq_hz, values)
        scale = np.linalg.norm(base)
        for index, value in enumerate(values):
            moved = list(values)
            moved[index] = value * (1 + 1e-4)
            change = np.linalg.norm(evaluate(freq_hz, moved) - base)
            out.append(float(change / (1e-4 * scale)) if value else 0.0)
    return [k if np.isfinite(k) else 0.0 for k in out]


def predict(outcome: FitOutcome, freq_hz: np.ndarray) -> np.ndarray:
    """The fitted circuit's Z at freq_hz (complex, Ω)."""
    with np.errstate(all="ignore"):
        return model(outcome.circuit)(np.asarray(freq_hz, dtype=float), outcome.values)


def interval(value: float, sigma: float | None) -> tuple[float, float] | None:
    """The 95 % interval value ± 1.96·σ (None without σ)."""
    if sigma is None:
        return None
    return (value - CI_FACTOR * sigma, value + CI_FACTOR * sigma)


def _first_line(message: object) -> str:
    text = str(message).strip()
    return text.splitlines()[0] if text else type(message).__name__
