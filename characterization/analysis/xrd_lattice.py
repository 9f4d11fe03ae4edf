"""Hexagonal (R-3m, hexagonal setting) geometry from fitted peak positions.

Bragg: d = λ/(2·sin θ) with λ the Kα1 wavelength. Hexagonal metric:
  1/d² = 4(h² + hk + k²)/(3a²) + l²/c²,
linear in A = 1/a² and C = 1/c², so the lattice is a weighted linear least-squares fit of
Q = 1/d² = 4·sin²θ/λ² over the fitted reflections, with σ(Q) = 2·sin(2θ)/λ² · σ(2θ) [rad]
from each peak's position esd. cov(A, C) = (XᵀWX)⁻¹, multiplied by the reduced χ² when more
reflections than unknowns are used and χ² > 1 (the scatter shows errors the peak esds miss,
e.g. sample displacement); with exactly two reflections the solution is exact and its esds
come from the peak esds alone. Then a = A^(−1/2), σa = ½·A^(−3/2)·σA (likewise c), and
V = (√3/2)·a²·c (structure.hexagonal_cell_volume_angstrom3) with σV from the full covariance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from characterization.analysis.structure import hexagonal_cell_volume_angstrom3

Hkl = tuple[int, int, int]


def d_spacing_angstrom(two_theta_deg: float, wavelength_a: float) -> float:
    """d = λ/(2·sin θ)."""
    return wavelength_a / (2.0 * math.sin(math.radians(two_theta_deg) / 2.0))


def d_spacing_esd_angstrom(two_theta_deg: float, esd_deg: float, wavelength_a: float) -> float:
    """σd = λ·cos θ/(4·sin²θ)·σ(2θ) [rad]."""
    theta = math.radians(two_theta_deg) / 2.0
    return wavelength_a * math.cos(theta) / (4.0 * math.sin(theta) ** 2) * math.radians(esd_deg)


def hexagonal_d_angstrom(hkl: Hkl, a_angstrom: float, c_angstrom: float) -> float:
    """d of (hkl) from 1/d² = 4(h² + hk + k²)/(3a²) + l²/c²."""
    h, k, l = hkl  # noqa: E741
    return 1.0 / math.sqrt(
        4.0 * (h * h + h * k + k * k) / (3.0 * a_angstrom**2) + l * l / c_angstrom**2
    )


def two_theta_deg(d_angstrom: float, wavelength_a: float) -> float:
    """2θ = 2·asin(λ/2d); NaN when the reflection is beyond 180°."""
    s = wavelength_a / (2.0 * d_angstrom)
    return 2.0 * math.degrees(math.asin(s)) if s < 1.0 else math.nan


@dataclass(frozen=True)
class LatticeFit:
    """a and c (Å) with esds, V (Å³) with esd, the reflections used, each one's residual
    2θ(observed) − 2θ(calculated) in degrees, and the reduced χ² (NaN with two reflections)."""

    a_angstrom: float
    a_esd_angstrom: float
    c_angstrom: float
    c_esd_angstrom: float
    volume_angstrom3: float
    volume_esd_angstrom3: float
    reflections: tuple[str, ...]
    residuals_deg: tuple[float, ...]
    reduced_chi2: float

    def to_dict(self) -> dict:
        return {
            "a_angstrom": self.a_angstrom,
            "a_esd_angstrom": self.a_esd_angstrom,
            "c_angstrom": self.c_angstrom,
            "c_esd_angstrom": self.c_esd_angstrom,
            "volume_angstrom3": self.volume_angstrom3,
            "volume_esd_angstrom3": self.volume_esd_angstrom3,
            "reflections": list(self.reflections),
            "residuals_deg": list(self.residuals_deg),
            "reduced_chi2": self.reduced_chi2,
        }


def fit_hexagonal(
    observations: list[tuple[Hkl, float, float]], wavelength_a: float
) -> LatticeFit | None:
    """a, c from (hkl, 2θ, σ2θ) triples (module doc); None when they do not fix both (fewer
    than two reflections, or only (00l) or only (hk0) ones)."""
    if len(observations) < 2:
        return None
    rows, q, sigma_q = [], [], []
    for (h, k, l), tt, esd in observations:  # noqa: E741
        theta = math.radians(tt) / 2.0
        rows.append([4.0 * (h * h + h * k + k * k) / 3.0, float(l * l)])
        q.append(4.0 * math.sin(theta) ** 2 / wavelength_a**2)
        s = esd if np.isfinite(esd) and esd > 0 else math.nan
        sigma_q.append(2.0 * math.sin(2.0 * theta) / wavelength_a**2 * math.radians(s))
    x, q_arr, sq = np.asarray(rows), np.asarray(q), np.asarray(sigma_q)
    if np.linalg.matrix_rank(x) < 2 or np.linalg.cond(x) > 1e8:
        return None
    weighted = np.isfinite(sq).all()
    w = 1.0 / sq**2 if weighted else np.ones_like(q_arr)
    normal = x.T @ (w[:, None] * x)
    cov = np.linalg.inv(normal)
    solution = cov @ (x.T @ (w * q_arr))
    big_a, big_c = solution
    if big_a <= 0 or big_c <= 0:
        return None
    residual_q = q_arr - x @ solution
    dof = len(observations) - 2
    chi2 = float(residual_q @ (w * residual_q) / dof) if dof > 0 else math.nan
    if dof > 0 and (chi2 > 1.0 or not weighted):
        cov = cov * chi2
    elif not weighted:
        cov = np.full((2, 2), np.nan)
    return _lattice(observations, wavelength_a, big_a, big_c, cov, chi2)


def _lattice(observations, wavelength_a, big_a, big_c, cov, chi2) -> LatticeFit:
    a, c = big_a**-0.5, big_c**-0.5
    volume = hexagonal_cell_volume_angstrom3(a_angstrom=a, c_angstrom=c)
    grad = np.array([-volume / big_a, -volume / (2.0 * big_c)])
    residuals = tuple(
        float(tt - two_theta_deg(hexagonal_d_angstrom(hkl, a, c), wavelength_a))
        for hkl, tt, _ in observations
    )
    return LatticeFit(
        a_angstrom=float(a),
        a_esd_angstrom=float(0.5 * big_a**-1.5 * math.sqrt(cov[0, 0])),
        c_angstrom=float(c),
        c_esd_angstrom=float(0.5 * big_c**-1.5 * math.sqrt(cov[1, 1])),
        volume_angstrom3=float(volume),
        volume_esd_angstrom3=float(math.sqrt(max(grad @ cov @ grad, 0.0))),
        reflections=tuple("".join(str(i) for i in hkl) for hkl, _, _ in observations),
        residuals_deg=residuals,
        reduced_chi2=chi2,
    )
