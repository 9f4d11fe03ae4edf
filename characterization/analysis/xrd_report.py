"""The layered-oxide XRD analysis' shifts against a reference, warnings and figure data
(xrd.py's module doc, step 6 and the figures)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from characterization.analysis.xrd_lattice import LatticeFit
from characterization.analysis.xrd_scan import (
    CATION_MIXING_THRESHOLD,
    PLAUSIBLE_A_ANGSTROM,
    PLAUSIBLE_C_ANGSTROM,
    Reflection,
    ScanResult,
    ScanSettings,
)
from characterization.analysis.xrd_series import contour, tracks

RESIDUAL_LIMIT_DEG = 0.05
FLAG, NOTE = "flag", "note"
SEVERITY = {
    "not_layered": FLAG,
    "cation_mixing": FLAG,
    "lattice_implausible": FLAG,
    "lattice_residual": FLAG,
    "wavelength_mismatch": FLAG,
    "intensity_corrections": NOTE,
    "wavelength_default": NOTE,
    "ka2_ratio_default": NOTE,
    "layered_unconfirmed": NOTE,
    "reflection_missing": NOTE,
    "reflection_outside_range": NOTE,
    "lattice_unavailable": NOTE,
    "series_not_layered": NOTE,
    "shift_unavailable": NOTE,
}


@dataclass(frozen=True)
class PeakShift:
    """A reflection's position against the reference pattern (this − reference)."""

    hkl: str
    status: str  # "found" (in both) or "missing"
    delta_two_theta_deg: float | None = None
    delta_two_theta_esd_deg: float | None = None
    delta_d_angstrom: float | None = None
    delta_d_esd_angstrom: float | None = None


def shifts_against(
    result: ScanResult, reference: ScanResult, wavelength_a: float, reference_wavelength_a: float
) -> tuple[list[PeakShift], list[dict]]:
    """Per reflection this − reference (2θ and d, esds combined), and the warnings."""
    notes = []
    if abs(reference_wavelength_a - wavelength_a) > 1e-5 * wavelength_a:
        notes.append(
            warning(
                "wavelength_mismatch",
                f"the reference was measured at {reference_wavelength_a:.6f} Å and this pattern "
                f"at {wavelength_a:.6f} Å: compare Δd, Δ2θ is not meaningful",
            )
        )
    shifts = [_shift(r, reference.reflection(r.hkl)) for r in result.reflections]
    lost = [s.hkl for s in shifts if s.status != "found"]
    if lost:
        notes.append(
            warning(
                "shift_unavailable",
                f"no shift for ({'), ('.join(lost)}): not found in both patterns",
            )
        )
    return shifts, notes


def _shift(this: Reflection, ref: Reflection) -> PeakShift:
    if this.status != "found" or ref.status != "found":
        return PeakShift(this.hkl, "missing")
    return PeakShift(
        this.hkl,
        "found",
        this.two_theta_deg - ref.two_theta_deg,
        math.hypot(this.two_theta_esd_deg, ref.two_theta_esd_deg),
        this.d_angstrom - ref.d_angstrom,
        math.hypot(this.d_esd_angstrom, ref.d_esd_angstrom),
    )


def warning(code: str, message: str) -> dict:
    return {"code": code, "message": message, "severity": SEVERITY.get(code, FLAG)}


def warnings_for(
    results: list[ScanResult], summary: int, settings: ScanSettings, metadata
) -> list[dict]:
    result = results[summary]
    out = _scan_warnings(result, settings)
    if len(results) > 1:
        off = [r.scan for r in results if r.layered == "not_layered"]
        if off and result.layered != "not_layered":
            out.append(
                warning("series_not_layered", f"scans {_listed(off)} show no layered pattern")
            )
    meta = metadata or {}
    if meta.get("divergence_correction_not_applied") or meta.get("absorption_factor_applied"):
        what = (
            "divergence-slit corrections in the file were not applied"
            if meta.get("divergence_correction_not_applied")
            else "intensities were scaled by the absorber factors in the file"
        )
        out.append(warning("intensity_corrections", f"{what}; I(003)/I(104) depends on it"))
    return out


def _scan_warnings(result: ScanResult, settings: ScanSettings) -> list[dict]:
    out = []
    if result.layered == "not_layered":
        out.append(
            warning(
                "not_layered",
                "(003) and (104) of a layered oxide are not both found where a plausible "
                "layered cell puts them: this pattern does not look like a layered R-3m oxide, "
                "and no layered reflection is reported",
            )
        )
        return out
    if result.layered == "unconfirmed":
        out.append(
            warning(
                "layered_unconfirmed",
                "(003) or (104) lies outside the measured range: the layered indexing is not "
                "confirmed",
            )
        )
    for r in result.reflections:
        if r.status in ("missing", "outside_range"):
            code = "reflection_missing" if r.status == "missing" else "reflection_outside_range"
            out.append(warning(code, f"({r.hkl}) near {r.expected_two_theta_deg:.2f}°: {r.reason}"))
    if result.i003_i104 is not None and result.i003_i104 < CATION_MIXING_THRESHOLD:
        out.append(
            warning(
                "cation_mixing",
                f"I(003)/I(104) = {result.i003_i104:.2f}, below {CATION_MIXING_THRESHOLD}: Li/Ni "
                "cation mixing is indicated",
            )
        )
    out += _lattice_warnings(result.lattice)
    return out


def _lattice_warnings(lattice: LatticeFit | None) -> list[dict]:
    if lattice is None:
        return [
            warning(
                "lattice_unavailable",
                "a and c need two found reflections that fix both (e.g. (003) and (104))",
            )
        ]
    out = []
    a_ok = PLAUSIBLE_A_ANGSTROM[0] <= lattice.a_angstrom <= PLAUSIBLE_A_ANGSTROM[1]
    c_ok = PLAUSIBLE_C_ANGSTROM[0] <= lattice.c_angstrom <= PLAUSIBLE_C_ANGSTROM[1]
    if not (a_ok and c_ok):
        out.append(
            warning(
                "lattice_implausible",
                f"a = {lattice.a_angstrom:.4f} Å, c = {lattice.c_angstrom:.4f} Å lie outside the "
                "layered-oxide range (a 2.70-3.05 Å, c 13.5-15.0 Å)",
            )
        )
    worst = max(range(len(lattice.residuals_deg)), key=lambda i: abs(lattice.residuals_deg[i]))
    if abs(lattice.residuals_deg[worst]) > RESIDUAL_LIMIT_DEG:
        out.append(
            warning(
                "lattice_residual",
                f"({lattice.reflections[worst]}) is {lattice.residuals_deg[worst]:+.3f}° from "
                "where the fitted cell puts it: a misassigned or overlapped peak, or a second "
                "phase",
            )
        )
    return out


def _listed(scans: list[int]) -> str:
    shown = ", ".join(str(s) for s in scans[:8])
    return shown if len(scans) <= 8 else f"{shown}, … ({len(scans)} scans)"


def figures_for(
    patterns, results: list[ScanResult], summary: int, points: int, hkls: list[str]
) -> dict:
    _, x, y, _ = patterns[summary]
    figures = {
        "pattern": {"two_theta_deg": x.tolist(), "intensity": y.tolist()},
        "fits": list(results[summary].curves),
        "tracks": tracks(results, hkls),
    }
    if len(patterns) > 1:
        figures["contour"] = contour([(p[1], p[2]) for p in patterns], points)
    return figures
