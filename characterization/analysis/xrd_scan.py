"""One scan of the layered-oxide XRD analysis: each targeted reflection looked for, fitted
and assigned, then the layered call, I(003)/I(104) and the cell (xrd.py's module doc, steps
2-5). Pure numpy/scipy."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from characterization.analysis.xrd_lattice import (
    Hkl,
    LatticeFit,
    d_spacing_angstrom,
    d_spacing_esd_angstrom,
    fit_hexagonal,
)
from characterization.analysis.xrd_profile import (
    Candidate,
    GroupFit,
    find_candidates,
    fit_group,
    noise_sigma,
)

CATION_MIXING_THRESHOLD = 1.2
#: (108) is written as most papers do; in R-3m it is indexed (018), which has the same d
REFLECTIONS: dict[str, Hkl] = {
    "003": (0, 0, 3),
    "101": (1, 0, 1),
    "104": (1, 0, 4),
    "108": (1, 0, 8),
    "110": (1, 1, 0),
}
PLAUSIBLE_A_ANGSTROM = (2.70, 3.05)
PLAUSIBLE_C_ANGSTROM = (13.5, 15.0)
LAYERED_RATIO_RANGE = (0.2, 10.0)
_GROUP_GAP_DEG = 1.2


@dataclass(frozen=True)
class ScanSettings:
    """Wavelengths (Å), Kα2/Kα1 ratio, search window (° 2θ), detection threshold and the
    positions of peaks that belong to something else."""

    wavelength_a: float
    wavelength2_a: float | None
    ka2_ratio: float
    window_deg: float
    min_snr: float
    ignore: tuple[float, ...] = ()

    @property
    def lambda_ratio(self) -> float:
        return (self.wavelength2_a or self.wavelength_a) / self.wavelength_a


@dataclass(frozen=True)
class Reflection:
    """One targeted reflection in one scan. status: "found", "missing" (nothing significant
    in its window), "outside_range" (its window is not measured) or "unassigned" (a peak is
    there but the pattern is not a layered oxide). Numbers are None unless found."""

    hkl: str
    status: str
    expected_two_theta_deg: float
    two_theta_deg: float | None = None
    two_theta_esd_deg: float | None = None
    d_angstrom: float | None = None
    d_esd_angstrom: float | None = None
    fwhm_deg: float | None = None
    fwhm_esd_deg: float | None = None
    eta: float | None = None
    intensity: float | None = None
    intensity_esd: float | None = None
    height: float | None = None
    reason: str = ""

    def summary(self) -> dict:
        return {
            "hkl": self.hkl,
            "two_theta_deg": self.two_theta_deg,
            "d_angstrom": self.d_angstrom,
            "fwhm_deg": self.fwhm_deg,
            "intensity": self.intensity,
        }

    def to_dict(self) -> dict:
        return clean(asdict(self))


@dataclass(frozen=True)
class ScanResult:
    """Every targeted reflection of one scan, its cell, I(003)/I(104) and the layered call
    ("confirmed", "unconfirmed" or "not_layered")."""

    scan: int
    reflections: tuple[Reflection, ...]
    lattice: LatticeFit | None
    i003_i104: float | None
    i003_i104_esd: float | None
    layered: str
    curves: tuple[dict, ...] = ()

    def reflection(self, hkl: str) -> Reflection:
        return next(r for r in self.reflections if r.hkl == hkl)

    def to_dict(self) -> dict:
        return {
            "scan": self.scan,
            "layered": self.layered,
            "reflections": [r.to_dict() for r in self.reflections],
            "lattice": self.lattice.to_dict() if self.lattice else None,
            "i003_i104": self.i003_i104,
            "i003_i104_esd": self.i003_i104_esd,
        }


def analyse_scans(patterns, guess: dict[str, float], settings: ScanSettings) -> list[ScanResult]:
    """Each scan searched around where each reflection was last found (else the guess)."""
    seeds = dict(guess)
    results = []
    for scan, x, y, esd in patterns:
        result = _analyse_scan(scan, x, y, esd, seeds, guess, settings)
        for r in result.reflections:
            if r.status == "found":
                seeds[r.hkl] = r.two_theta_deg
        results.append(result)
    return results


def _analyse_scan(scan, x, y, esd, seeds, guess, settings: ScanSettings) -> ScanResult:
    sigma_noise = noise_sigma(y)
    sigma = _fit_sigma(y, esd, sigma_noise)
    if not np.isfinite(sigma_noise) or sigma_noise <= 0:
        sigma_noise = float(np.median(sigma))
    sigma_noise = max(sigma_noise, 1e-9 * float(np.max(np.abs(y))), 1e-12)
    w = settings.window_deg
    measured = {hkl: x[0] <= seed - w and seed + w <= x[-1] for hkl, seed in seeds.items()}
    inside = [hkl for hkl in REFLECTIONS if measured[hkl]]
    found, maxima = find_candidates(
        x,
        y,
        [(seeds[h] - w, seeds[h] + w) for h in inside],
        sigma=sigma_noise,
        min_snr=settings.min_snr,
        lambda_ratio=settings.lambda_ratio,
        ka2_ratio=settings.ka2_ratio,
        ignore=settings.ignore,
    )
    candidates = {h: c for h, c in zip(inside, found, strict=True) if c is not None}
    fits, curves = _fit_all(x, y, sigma, candidates, seeds, settings, maxima)
    reflections = [
        _reflection(hkl, guess[hkl], measured[hkl], candidates.get(hkl), fits.get(hkl), settings)
        for hkl in REFLECTIONS
    ]
    return _assess(scan, reflections, curves, settings)


def _fit_sigma(y: np.ndarray, esd: np.ndarray, sigma_noise: float) -> np.ndarray:
    """Per-point σ for the fit: the esd (floored at a tenth of its median), else the noise."""
    good = np.isfinite(esd) & (esd > 0)
    if good.mean() > 0.5:
        floor = 0.1 * float(np.median(esd[good]))
        return np.where(good, np.maximum(esd, floor), floor)
    level = sigma_noise if np.isfinite(sigma_noise) and sigma_noise > 0 else 1e-3 * np.ptp(y)
    return np.full(y.size, max(level, 1e-12))


def _fit_all(x, y, sigma, candidates: dict[str, Candidate], seeds, settings: ScanSettings, maxima):
    """Fit candidates in groups (neighbours within _GROUP_GAP_DEG together)."""
    ordered = sorted(candidates, key=lambda h: candidates[h].two_theta_deg)
    groups: list[list[str]] = []
    for hkl in ordered:
        if (
            groups
            and candidates[hkl].two_theta_deg - candidates[groups[-1][-1]].two_theta_deg
            < _GROUP_GAP_DEG
        ):
            groups[-1].append(hkl)
        else:
            groups.append([hkl])
    fits, curves = {}, []
    w = settings.window_deg
    for group in groups:
        fit: GroupFit = fit_group(
            x,
            y,
            sigma,
            [candidates[h] for h in group],
            [(seeds[h] - w, seeds[h] + w) for h in group],
            lambda_ratio=settings.lambda_ratio,
            ka2_ratio=settings.ka2_ratio,
            obstacles=maxima,
        )
        fits.update(zip(group, fit.peaks, strict=True))
        curves.append(
            {
                "hkl": group,
                "two_theta_deg": fit.two_theta_deg.tolist(),
                "model": fit.model.tolist(),
                "background": fit.background.tolist(),
            }
        )
    return fits, curves


def _reflection(hkl, expected, measured, candidate, fit, settings: ScanSettings) -> Reflection:
    if not measured:
        return Reflection(
            hkl, "outside_range", expected, reason="its window lies outside the measured 2θ range"
        )
    if candidate is None:
        return Reflection(
            hkl,
            "missing",
            expected,
            reason=f"no peak stands {settings.min_snr:g}× above the noise in its window",
        )
    if not fit.accepted:
        return Reflection(hkl, "missing", expected, reason=fit.reason)
    lam = settings.wavelength_a
    total = 1.0 + settings.ka2_ratio
    return Reflection(
        hkl=hkl,
        status="found",
        expected_two_theta_deg=expected,
        two_theta_deg=fit.center_deg,
        two_theta_esd_deg=fit.center_esd_deg,
        d_angstrom=d_spacing_angstrom(fit.center_deg, lam),
        d_esd_angstrom=d_spacing_esd_angstrom(fit.center_deg, fit.center_esd_deg, lam),
        fwhm_deg=fit.fwhm_deg,
        fwhm_esd_deg=fit.fwhm_esd_deg,
        eta=fit.eta,
        intensity=fit.area * total,
        intensity_esd=fit.area_esd * total,
        height=fit.height,
    )


def _assess(scan, reflections: list[Reflection], curves, settings: ScanSettings) -> ScanResult:
    """The layered call (module doc, 4.), then I(003)/I(104) and the cell."""
    by = {r.hkl: r for r in reflections}
    ratio, ratio_esd = _ratio(by["003"], by["104"])
    layered = _layered_call(by, ratio, settings)
    if layered == "not_layered":
        reflections = [_unassign(r) for r in reflections]
        return ScanResult(scan, tuple(reflections), None, None, None, layered, ())
    observations = [
        (REFLECTIONS[r.hkl], r.two_theta_deg, r.two_theta_esd_deg)
        for r in reflections
        if r.status == "found"
    ]
    lattice = fit_hexagonal(observations, settings.wavelength_a)
    return ScanResult(scan, tuple(reflections), lattice, ratio, ratio_esd, layered, tuple(curves))


def _ratio(r003: Reflection, r104: Reflection) -> tuple[float | None, float | None]:
    if r003.status != "found" or r104.status != "found" or not r104.intensity:
        return None, None
    ratio = r003.intensity / r104.intensity
    esd = ratio * math.hypot(
        r003.intensity_esd / r003.intensity, r104.intensity_esd / r104.intensity
    )
    return ratio, esd


def _layered_call(by: dict[str, Reflection], ratio: float | None, settings: ScanSettings) -> str:
    r003, r104 = by["003"], by["104"]
    if r003.status == "found" and r104.status == "found":
        cell = fit_hexagonal(
            [((0, 0, 3), r003.two_theta_deg, math.nan), ((1, 0, 4), r104.two_theta_deg, math.nan)],
            settings.wavelength_a,
        )
        plausible = (
            cell is not None
            and PLAUSIBLE_A_ANGSTROM[0] <= cell.a_angstrom <= PLAUSIBLE_A_ANGSTROM[1]
            and PLAUSIBLE_C_ANGSTROM[0] <= cell.c_angstrom <= PLAUSIBLE_C_ANGSTROM[1]
        )
        in_range = ratio is not None and LAYERED_RATIO_RANGE[0] <= ratio <= LAYERED_RATIO_RANGE[1]
        return "confirmed" if plausible and in_range else "not_layered"
    pair = {r003.status, r104.status}
    if "outside_range" in pair and "found" in pair:
        return "unconfirmed"
    return "not_layered"


def _unassign(r: Reflection) -> Reflection:
    if r.status != "found":
        return r
    return Reflection(
        r.hkl,
        "unassigned",
        r.expected_two_theta_deg,
        reason=f"a peak at {r.two_theta_deg:.3f}°, not assigned: the pattern is not layered",
    )


def clean(value):
    """JSON-ready: NaN/inf -> None, numpy scalars -> floats, tuples -> lists."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
