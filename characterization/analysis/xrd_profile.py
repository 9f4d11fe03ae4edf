"""Locating and fitting powder reflections: pseudo-Voigt peaks with their Kα2 copies on a
linear local background (numpy + scipy.optimize.least_squares). Pure functions, no Django.

Profile (unit area, FWHM w, mixing η ∈ [0, 1]):
  pV(x) = η·L(x) + (1 − η)·G(x),
  L(x) = (2/(π·w)) / (1 + 4(x − x0)²/w²),
  G(x) = (2/w)·√(ln2/π)·exp(−4·ln2·(x − x0)²/w²).
A reflection of Kα1 area A at 2θ1 contributes A·pV(2θ1) + R·A·pV(2θ2): the Kα2 copy has the
same width and shape, R = I(Kα2)/I(Kα1), and sits where Bragg's law puts the longer
wavelength: 2θ2 = 2·asin((λ2/λ1)·sin(θ1)). Background b0 + b1·(x − x_mid) over the fit region.
Fitted by weighted least squares (residuals (model − y)/σ, σ the intensity esd, floored at a
tenth of its median, or one robust noise level when the table has no esd). Parameter esds:
√diag((JᵀJ)⁻¹·s²), s² = Σr²/(n − p), J the Jacobian at the solution (scaled by the fit's own
scatter, as scipy's curve_fit does without absolute_sigma).

Locating (before fitting): a candidate is a local maximum of the lightly smoothed pattern
(moving average over ~0.03°) inside the reflection's window whose topographic prominence is at
least `min_snr` times the pattern's noise (σ_noise = 1.4826·MAD(Δ²y)/√6, the robust scatter of
second differences, which a smooth peak or background hardly affects); of those at least a
quarter as prominent as the window's strongest, the one nearest the expected position wins
(so a strong neighbour at the window's edge, a Be window line, does not displace the
reflection, and a tiny bump does not displace a strong peak that has moved; prominence
is measured within ±0.6°). A local maximum where the Kα2 of a more prominent maximum falls
is not a candidate, nor one within 0.1° of a position the caller says belongs to something
else (the Be/BeO window of an in situ cell at ~18.1° and ~44.05°, an internal standard).
The fit region stops halfway to any other significant maximum. After fitting, a reflection
is accepted only when its area is at least 3 esds, its centre is not pinned at the window's
edge and its width not at the upper bound.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.signal import find_peaks, peak_widths

_LN2 = math.log(2.0)
_G_NORM = 2.0 * math.sqrt(_LN2 / math.pi)
#: the area of a pV of height 1 and FWHM 1: η·π/2 + (1 − η)·√(π/(4 ln2))
_L_AREA, _G_AREA = math.pi / 2.0, math.sqrt(math.pi / (4.0 * _LN2))
MAX_FWHM_DEG = 2.0
MIN_AREA_SIGMAS = 3.0
_SMOOTH_DEG = 0.03
IGNORE_TOLERANCE_DEG = 0.1
#: of the maxima in a window at least this fraction as prominent as the strongest, the one
#: nearest the expected position is the candidate
STRONG_FRACTION = 0.25
#: prominence is measured within ±0.6° of a maximum, so a noise maximum on a broad hump
#: (an amorphous background, a window's scattering) is not taken for a peak
_PROMINENCE_REACH_DEG = 0.6


def pseudo_voigt(x: np.ndarray, center: float, fwhm: float, eta: float) -> np.ndarray:
    """Unit-area pseudo-Voigt (module doc)."""
    u = (x - center) / fwhm
    lorentz = (2.0 / (math.pi * fwhm)) / (1.0 + 4.0 * u * u)
    gauss = (_G_NORM / fwhm) * np.exp(-4.0 * _LN2 * u * u)
    return eta * lorentz + (1.0 - eta) * gauss


def pv_peak_height(area: float, fwhm: float, eta: float) -> float:
    """Height of a pseudo-Voigt of the given area: area / (w·(η·π/2 + (1 − η)·√(π/4ln2)))."""
    return area / (fwhm * (eta * _L_AREA + (1.0 - eta) * _G_AREA))


def ka2_two_theta_deg(two_theta1_deg: float, lambda_ratio: float) -> float:
    """2θ of the Kα2 line for a Kα1 reflection at 2θ1; NaN past 180° (λ2/λ1 = lambda_ratio)."""
    s = lambda_ratio * math.sin(math.radians(two_theta1_deg) / 2.0)
    return 2.0 * math.degrees(math.asin(s)) if s < 1.0 else math.nan


def noise_sigma(y: np.ndarray) -> float:
    """Robust noise level of a pattern: 1.4826·MAD of second differences / √6."""
    if y.size < 5:
        return float("nan")
    second = np.diff(y, 2)
    mad = float(np.median(np.abs(second - np.median(second))))
    return 1.4826 * mad / math.sqrt(6.0)


@dataclass(frozen=True)
class Candidate:
    """A local maximum chosen for a reflection: position, height above its surroundings
    (prominence), a width estimate (FWHM, degrees)."""

    two_theta_deg: float
    prominence: float
    fwhm_deg: float


def find_candidates(
    x: np.ndarray,
    y: np.ndarray,
    windows: list[tuple[float, float]],
    *,
    sigma: float,
    min_snr: float,
    lambda_ratio: float,
    ka2_ratio: float,
    ignore: tuple[float, ...] = (),
) -> tuple[list[Candidate | None], np.ndarray]:
    """One candidate (or None) per window (module doc; windows are (low, high) in 2θ), and
    the 2θ of every significant maximum of the pattern (fit_group keeps clear of them)."""
    step = float(np.median(np.diff(x)))
    k = max(1, int(round(_SMOOTH_DEG / step)) | 1)
    smooth = np.convolve(y, np.ones(k) / k, mode="same") if k > 1 else y
    reach = max(3, int(round(_PROMINENCE_REACH_DEG / step)))
    with warnings.catch_warnings():  # flat stretches have maxima of prominence 0: not peaks
        warnings.filterwarnings("ignore", message="some peaks have")
        index, props = find_peaks(smooth, prominence=min_snr * sigma, wlen=2 * reach + 1)
    if index.size == 0:
        return [None] * len(windows), np.empty(0)
    prominence = props["prominences"]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="some peaks have")
        widths = peak_widths(smooth, index, rel_height=0.5, prominence_data=_prom_data(props))[0]
    keep = _not_ka2(x[index], prominence, lambda_ratio, ka2_ratio, step)
    for position in ignore:  # known peaks of something else (a Be window, a standard)
        keep &= np.abs(x[index] - position) > max(3.0 * step, IGNORE_TOLERANCE_DEG)
    chosen: list[Candidate | None] = []
    taken: set[int] = set()
    for low, high in windows:
        inside = [
            i
            for i in range(index.size)
            if keep[i] and low <= x[index[i]] <= high and i not in taken
        ]
        if not inside:
            chosen.append(None)
            continue
        strong = max(prominence[i] for i in inside)
        centre = 0.5 * (low + high)
        best = min(
            (i for i in inside if prominence[i] >= STRONG_FRACTION * strong),
            key=lambda i: abs(x[index[i]] - centre),
        )
        taken.add(best)
        chosen.append(
            Candidate(float(x[index[best]]), float(prominence[best]), widths[best] * step)
        )
    return chosen, x[index]


def _prom_data(props: dict) -> tuple:
    return props["prominences"], props["left_bases"], props["right_bases"]


def _not_ka2(
    positions: np.ndarray,
    prominence: np.ndarray,
    lambda_ratio: float,
    ka2_ratio: float,
    step: float,
) -> np.ndarray:
    """False for maxima at the Kα2 place of a more prominent maximum."""
    keep = np.ones(positions.size, dtype=bool)
    if ka2_ratio <= 0:
        return keep
    tolerance = max(2.5 * step, 0.03)
    for i, position in enumerate(positions):
        ka2 = ka2_two_theta_deg(position, lambda_ratio)
        near = np.abs(positions - ka2) <= tolerance
        keep &= ~(near & (prominence < prominence[i]))
    return keep


@dataclass(frozen=True)
class PeakFit:
    """One fitted reflection (Kα1 component): centre, FWHM and area with their esds, η, and
    the Kα1 height. `accepted` False with `reason` when the fit did not hold up."""

    center_deg: float
    center_esd_deg: float
    fwhm_deg: float
    fwhm_esd_deg: float
    eta: float
    area: float
    area_esd: float
    height: float
    accepted: bool
    reason: str = ""


@dataclass(frozen=True)
class GroupFit:
    """The fit of one region: its peaks and the curves for a figure."""

    peaks: tuple[PeakFit, ...]
    two_theta_deg: np.ndarray
    model: np.ndarray
    background: np.ndarray
    reduced_chi2: float


def fit_group(
    x: np.ndarray,
    y: np.ndarray,
    sigma: np.ndarray,
    candidates: list[Candidate],
    bounds: list[tuple[float, float]],
    *,
    lambda_ratio: float,
    ka2_ratio: float,
    obstacles: np.ndarray | None = None,
) -> GroupFit:
    """Fit the candidates (with their windows as centre bounds) together on their region,
    which stops halfway to any other significant maximum (`obstacles`, 2θ) so a neighbouring
    reflection does not bend the local background."""
    step = float(np.median(np.diff(x)))
    widths = [min(max(c.fwhm_deg, 1.5 * step), 1.0) for c in candidates]
    margin = min(max(3.0 * max(widths), 0.3), 1.2)
    ka2_reach = max(ka2_two_theta_deg(c.two_theta_deg, lambda_ratio) for c in candidates)
    high = (ka2_reach if ka2_ratio > 0 and np.isfinite(ka2_reach) else 0.0) + margin
    low = min(c.two_theta_deg for c in candidates) - margin
    high = max(high, max(c.two_theta_deg for c in candidates) + margin)
    low, high = _clear_of(obstacles, candidates, low, high, lambda_ratio, ka2_ratio, step)
    inside = (x >= low) & (x <= high)
    xs, ys, ss = x[inside], y[inside], sigma[inside]
    mid = 0.5 * (xs[0] + xs[-1])
    p0, lower, upper = _start(xs, ys, candidates, widths, bounds, step)

    def model(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        background = p[0] + p[1] * (xs - mid)
        total = background.copy()
        for k in range(len(candidates)):
            center, fwhm, eta, area = p[2 + 4 * k : 6 + 4 * k]
            total += area * pseudo_voigt(xs, center, fwhm, eta)
            if ka2_ratio > 0:
                center2 = ka2_two_theta_deg(center, lambda_ratio)
                if np.isfinite(center2):
                    total += ka2_ratio * area * pseudo_voigt(xs, center2, fwhm, eta)
        return total, background

    result = least_squares(
        lambda p: (model(p)[0] - ys) / ss, p0, bounds=(lower, upper), x_scale="jac", max_nfev=400
    )
    total, background = model(result.x)
    errors, chi2 = _esds(result, ys.size)
    peaks = tuple(_peak(result.x, errors, k, bounds[k], step) for k in range(len(candidates)))
    return GroupFit(peaks, xs, total, background, chi2)


def _clear_of(obstacles, candidates, low, high, lambda_ratio, ka2_ratio, step):
    """The region shrunk to stop halfway to the nearest maximum that is neither a candidate
    nor a candidate's Kα2 line."""
    if obstacles is None or obstacles.size == 0:
        return low, high
    own = [c.two_theta_deg for c in candidates]
    if ka2_ratio > 0:
        own += [ka2_two_theta_deg(t, lambda_ratio) for t in own]
    tolerance = max(3.0 * step, 0.04)
    others = [o for o in obstacles if all(abs(o - t) > tolerance for t in own)]
    first, last = min(c.two_theta_deg for c in candidates), max(own)
    below = [o for o in others if o < first]
    above = [o for o in others if o > last]
    if below:
        low = max(low, 0.5 * (max(below) + first))
    if above:
        high = min(high, 0.5 * (min(above) + last))
    return low, high


def _start(xs, ys, candidates, widths, bounds, step):
    edge = max(3, min(10, xs.size // 10))
    left, right = float(np.median(ys[:edge])), float(np.median(ys[-edge:]))
    span = max(xs[-1] - xs[0], step)
    p0 = [0.5 * (left + right), (right - left) / span]
    lower, upper = [-np.inf, -np.inf], [np.inf, np.inf]
    for c, w, (lo, hi) in zip(candidates, widths, bounds, strict=True):
        area = max(c.prominence, 1e-12) * w * (0.5 * _L_AREA + 0.5 * _G_AREA)
        p0 += [min(max(c.two_theta_deg, lo), hi), w, 0.5, area]
        lower += [lo, 0.5 * step, 0.0, 0.0]
        upper += [hi, MAX_FWHM_DEG, 1.0, np.inf]
    return np.asarray(p0), np.asarray(lower), np.asarray(upper)


def _esds(result, n: int) -> tuple[np.ndarray, float]:
    """Parameter esds from the Jacobian, scaled by the reduced χ² of the fit."""
    jac = result.jac
    dof = max(n - jac.shape[1], 1)
    chi2 = float(2.0 * result.cost / dof)
    try:
        cov = np.linalg.inv(jac.T @ jac) * chi2
        errors = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        errors = np.full(jac.shape[1], np.nan)
    return errors, chi2


def _peak(p: np.ndarray, errors: np.ndarray, k: int, bound: tuple[float, float], step: float):
    center, fwhm, eta, area = p[2 + 4 * k : 6 + 4 * k]
    s_center, s_fwhm, _s_eta, s_area = errors[2 + 4 * k : 6 + 4 * k]
    reason = ""
    if not np.isfinite(s_area) or area < MIN_AREA_SIGMAS * s_area or area <= 0:
        reason = "its fitted area is not significant (below 3 esds)"
    elif min(center - bound[0], bound[1] - center) < 0.25 * step:
        reason = "the fit pushed its centre to the edge of the search window"
    elif fwhm >= 0.99 * MAX_FWHM_DEG:
        reason = f"the fit widened it to {MAX_FWHM_DEG:g}° (a background hump, not a peak)"
    return PeakFit(
        center_deg=float(center),
        center_esd_deg=float(s_center),
        fwhm_deg=float(fwhm),
        fwhm_esd_deg=float(s_fwhm),
        eta=float(eta),
        area=float(area),
        area_esd=float(s_area),
        height=float(pv_peak_height(area, fwhm, eta)),
        accepted=not reason,
        reason=reason,
    )
