"""Plausibility warnings and the reliability rule of analysis.impedance.

Warnings are {"code", "message", "severity"} dicts; severity "flag" means a number shown may be
wrong, "note" that the numbers are right but something was chosen or left out:

| code                     | sev. | when                                                       |
| several_spectra          | note | the table holds other spectra (cycles) than the one analysed |
| duplicate_frequencies    | note | a frequency appears more than once in the spectrum          |
| <reader's code>          | note | what the reader left out or assumed (file_truncated, ...)  |
| no_hf_intercept          | flag | -Im Z never crosses zero at high frequency: R_s is empty    |
| hf_intercept_noisy       | note | several crossings above the apex; their spread is given     |
|                          | flag | ... when they spread by more than NOISY_INTERCEPT of R_s    |
| few_frequencies          | flag | fewer than MIN_FREQUENCIES points                           |
| apex_not_covered         | flag | no maximum of -Im Z stands out: the arc's apex is not measured |
| fit_not_converged        | flag | the least-squares fit stopped without converging            |
| fit_unreliable           | flag | residual above the threshold or intervals too wide          |
| resistance_not_positive  | flag | R_s or a fitted resistance <= 0 (at its bound)               |
| r_s_far_above_r_ct       | flag | R_s (else the fitted R0) / R_ct above ABSURD_RS_OVER_RCT     |
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # imported for types only: impedance imports this module
    from characterization.analysis.impedance import FittedParameter, ImpedanceResult, Spectrum
    from characterization.analysis.impedance_fit import FitOutcome

FLAG, NOTE = "flag", "note"
MIN_FREQUENCIES = 10
ABSURD_RS_OVER_RCT = 100.0
NOISY_INTERCEPT = 0.05  # crossings spread by 5 % of R_s: the intercept itself is in doubt
ZERO_RESISTANCE = 1e-6  # a fitted R below 1e-6 × max|Z| sits at its bound of 0


def warning(code: str, message: str, severity: str = FLAG) -> dict:
    return {"code": code, "message": message, "severity": severity}


def input_notes(
    table: pd.DataFrame, available: list[int], chosen: int, freq_hz: np.ndarray
) -> list[dict]:
    notes = []
    if len(available) > 1:
        notes.append(
            warning(
                "several_spectra",
                f"The file holds {len(available)} spectra (cycles {_listed(available)}); "
                f"spectrum {chosen} was analysed. Choose another with the cycle parameter.",
                NOTE,
            )
        )
    repeated = int(freq_hz.size - np.unique(freq_hz).size)
    if repeated:
        notes.append(
            warning(
                "duplicate_frequencies",
                f"{repeated} frequency(ies) appear more than once in spectrum {chosen}; all "
                "points were used.",
                NOTE,
            )
        )
    for item in table.attrs.get("kiln", {}).get("reading_notes", []):
        notes.append(warning(str(item.get("code", "reading_note")), str(item.get("message")), NOTE))
    return notes


def _listed(values: Sequence[int]) -> str:
    shown = ", ".join(str(v) for v in values[:8])
    return shown if len(values) <= 8 else f"{shown}, …"


def unreliable_reason(
    outcome: FitOutcome,
    parameters: Sequence[FittedParameter],
    residual: float | None,
    threshold: float,
    budget: int,
) -> str | None:
    """Why the fit is not reliable (sentences joined by '; '), or None when it is."""
    if not outcome.converged:
        return f"the fit did not converge within {budget} function evaluations ({outcome.message})"
    reasons = []
    if residual is not None and residual > threshold:
        reasons.append(
            f"the mean relative residual {residual:.1%} is above the {threshold:.0%} threshold"
        )
    for p in parameters:
        if p.ci95 is None:
            reasons.append(
                f"the data do not constrain {p.name} (its uncertainty cannot be estimated)"
            )
        elif p.ci95[1] - p.ci95[0] > abs(p.value):
            reasons.append(
                f"the 95 % interval of {p.name} (±{1.96 * p.sigma:.3g}) is wider than its "
                f"value ({p.value:.3g})"
            )
    return "; ".join(reasons) or None


def plausibility(result: ImpedanceResult, spectrum: Spectrum, apex: int | None) -> list[dict]:
    out = []
    out += _intercept_warnings(result)
    n = result.n_points
    if n < MIN_FREQUENCIES:
        out.append(
            warning(
                "few_frequencies",
                f"The spectrum has {n} frequencies (fewer than {MIN_FREQUENCIES}): the fitted "
                "parameters rest on too few points to be trusted.",
            )
        )
    if apex is None:
        out.append(
            warning(
                "apex_not_covered",
                "No maximum of -Im Z stands out in the spectrum: the measured frequencies do not "
                "cover the arc's apex, so R1 (R_ct) is an extrapolation of the model.",
            )
        )
    if not result.converged:
        out.append(
            warning("fit_not_converged", f"The circuit fit failed: {result.unreliable_reason}.")
        )
    elif not result.reliable:
        out.append(
            warning(
                "fit_unreliable", f"The circuit fit is not reliable: {result.unreliable_reason}."
            )
        )
    out += _resistance_warnings(result, float(np.max(np.abs(spectrum.z))))
    return out


def _intercept_warnings(result: ImpedanceResult) -> list[dict]:
    intercept = result.intercept
    if intercept.r_s_ohm is None:
        fitted = result.parameter("R0")
        hint = (
            f" The fitted R0 ({fitted.value:.4g} Ω) is the model's extrapolation." if fitted else ""
        )
        return [
            warning(
                "no_hf_intercept",
                f"R_s is left empty: {intercept.reason}; Kiln does not extrapolate it.{hint}",
            )
        ]
    if not intercept.other_crossings_ohm:
        return []
    values = (intercept.r_s_ohm, *intercept.other_crossings_ohm)
    high, low = intercept.bracket_hz
    spread = max(values) - min(values)
    return [
        warning(
            "hf_intercept_noisy",
            f"-Im Z crosses zero {len(values)} times above the arc's apex (noise around the "
            f"real axis); R_s is taken at the highest-frequency crossing (between {high:.4g} "
            f"and {low:.4g} Hz), the crossings give {min(values):.4g}–{max(values):.4g} Ω.",
            FLAG if spread > NOISY_INTERCEPT * abs(intercept.r_s_ohm) else NOTE,
        )
    ]


def _resistance_warnings(result: ImpedanceResult, z_max: float) -> list[dict]:
    out = []
    if result.r_s_ohm is not None and result.r_s_ohm <= 0:
        out.append(
            warning(
                "resistance_not_positive",
                f"R_s is {result.r_s_ohm:.4g} Ω (≤ 0): check the cell connections and the "
                "sign convention of the file.",
            )
        )
    floor = ZERO_RESISTANCE * z_max
    zero = [p.name for p in result.parameters if p.unit == "Ohm" and p.value <= floor]
    if zero and result.converged:
        out.append(
            warning(
                "resistance_not_positive",
                f"The fitted {', '.join(zero)} ended at zero (the lower bound): the data do not "
                "support that element; try a simpler circuit.",
            )
        )
    r_ct, r0 = result.r_ct_ohm, result.parameter("R0")
    r_s, name = (result.r_s_ohm, "R_s") if result.r_s_ohm is not None else (None, "")
    if r_s is None and r0 is not None:
        r_s, name = r0.value, "The fitted R0"
    if r_s and r_ct and r_ct > floor and r_s / r_ct > ABSURD_RS_OVER_RCT:
        out.append(
            warning(
                "r_s_far_above_r_ct",
                f"{name} ({r_s:.4g} Ω) is {r_s / r_ct:.0f} times R_ct ({r_ct:.4g} Ω): the arc "
                "is barely resolved and R_ct is not trustworthy.",
            )
        )
    return out
