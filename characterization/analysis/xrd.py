"""Powder XRD of layered R-3m oxides (DOMAIN.md section 3): the positions, widths and
intensities of the (003), (101), (104) and (108)/(110) reflections, I(003)/I(104), a and c,
shifts against a reference pattern, and for an in situ series every scan followed.

Method, per scan (the table of characterization.parsers.diffraction: two_theta_deg,
intensity, intensity_esd, scan):
1. Wavelengths: `wavelength_a` (Kα1), `wavelength2_a` (Kα2), `ka2_ratio` when given, else the
   file's (metadata wavelength_ka1_a, wavelength_ka2_a, ka2_ka1_ratio), else Cu: Kα1
   1.540562 Å, Kα2 1.544390 Å, I(Kα2)/I(Kα1) = 0.5 (each default said in the warnings). A file
   monochromated to Kα1 (ratio 0) is fitted without Kα2.
2. Expected positions: 2θ of each reflection for the guessed cell (a = 2.86, c = 14.25 Å by
   default) from 1/d² = 4(h² + hk + k²)/(3a²) + l²/c² and Bragg's law with Kα1. In a series,
   each scan is searched around where the reflection was found in the scans before it (so a
   peak that moves during cycling is followed), else around the guess.
3. Each reflection is looked for within ±`window_deg` (0.5°) of its expected 2θ and fitted
   (xrd_profile: pseudo-Voigt + Kα2 copy + linear local background; (108) and (110) together
   as a doublet). Maxima within 0.1° of `ignore_peaks_deg` (e.g. the Be/BeO window of an in
   situ cell, ~18.1° and ~44.05° for Cu) are never taken for a reflection. Not found in its
   window: status "missing" with the reason; window beyond the measured range:
   "outside_range". Nothing is invented.
4. Layered or not: a layered oxide shows (003) and (104). The assignment is "confirmed" when
   both are found, the cell they give is plausible (a 2.70-3.05 Å, c 13.5-15.0 Å) and
   I(003)/I(104) lies within 0.2-10; "unconfirmed" (numbers kept, said in the warnings) when
   one of them lies outside the measured range; otherwise the pattern is "not_layered" and
   every reflection found near a layered position is reported "unassigned", without numbers.
5. Derived: d = λ1/(2 sin θ) with its esd; fwhm (of the Kα1 component, degrees 2θ);
   intensity = the integrated intensity of the reflection, Kα1 + Kα2 (area, in the table's
   intensity unit × degrees 2θ); I(003)/I(104) from those areas (warned below 1.2: Li/Ni
   cation mixing); a and c by least squares over the found reflections (xrd_lattice).
6. Shift against `reference` (another XrdResult, or a table analysed here the same way):
   Δ2θ = 2θ − 2θ(reference) per reflection found in both, σ = √(σ² + σ_ref²) from the two
   fits' covariances; Δd likewise. Patterns measured at other wavelengths are compared by Δd
   (and a warning says Δ2θ is not meaningful).

The summary describes one scan (`summary_scan`, default 0, the first of a series);
`scans` holds every scan's result and `figures` the data for plots:
- "pattern": the summary scan {"two_theta_deg", "intensity"};
- "fits": per fitted region of the summary scan {"hkl", "two_theta_deg", "model",
  "background"};
- "tracks": per reflection its 2θ, esd and shift in every scan, a, c and I(003)/I(104) per
  scan (xrd_series.tracks);
- "contour": for more than one scan, {"two_theta_deg", "scan", "intensity"} on one grid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from characterization.analysis._checks import number
from characterization.analysis.errors import AnalysisError
from characterization.analysis.xrd_lattice import hexagonal_d_angstrom, two_theta_deg
from characterization.analysis.xrd_report import (
    PeakShift,
    figures_for,
    shifts_against,
    warning,
    warnings_for,
)
from characterization.analysis.xrd_scan import (
    CATION_MIXING_THRESHOLD,
    REFLECTIONS,
    Reflection,
    ScanResult,
    ScanSettings,
    analyse_scans,
    clean,
)

VERSION = "1"
CU_KA1_A = 1.540562
CU_KA2_A = 1.544390
CU_KA2_RATIO = 0.5
DEFAULT_A_GUESS_ANGSTROM = 2.86
DEFAULT_C_GUESS_ANGSTROM = 14.25
DEFAULT_WINDOW_DEG = 0.5
DEFAULT_MIN_SNR = 5.0
MIN_POINTS = 20


@dataclass(frozen=True)
class XrdResult:
    """The analysis of one pattern or an in situ series (module doc)."""

    version: str
    wavelength_a: float
    wavelength2_a: float | None
    ka2_ratio: float
    wavelength_source: str
    summary_scan: int
    scans: tuple[ScanResult, ...]
    shifts: tuple[PeakShift, ...] = ()
    warnings: tuple[dict, ...] = ()
    figures: dict = field(default_factory=dict)

    @property
    def summary_result(self) -> ScanResult:
        return self.scans[self.summary_scan]

    @property
    def peaks(self) -> tuple[Reflection, ...]:
        return self.summary_result.reflections

    def as_summary(self) -> dict:
        """{"peaks": [{"hkl", "two_theta_deg", "d_angstrom", "fwhm_deg", "intensity"}],
        "i003_i104", "lattice": {"a_angstrom", "a_esd_angstrom", "c_angstrom",
        "c_esd_angstrom"}}; None where a number is not available."""
        result = self.summary_result
        lattice = result.lattice
        return clean(
            {
                "peaks": [r.summary() for r in result.reflections],
                "i003_i104": result.i003_i104,
                "lattice": {
                    "a_angstrom": lattice.a_angstrom if lattice else None,
                    "a_esd_angstrom": lattice.a_esd_angstrom if lattice else None,
                    "c_angstrom": lattice.c_angstrom if lattice else None,
                    "c_esd_angstrom": lattice.c_esd_angstrom if lattice else None,
                },
            }
        )

    def to_dict(self) -> dict:
        """Everything: the summary, every scan, the shifts, warnings and figures."""
        return clean(
            {
                "version": self.version,
                "wavelength_a": self.wavelength_a,
                "wavelength2_a": self.wavelength2_a,
                "ka2_ratio": self.ka2_ratio,
                "wavelength_source": self.wavelength_source,
                "summary_scan": self.summary_scan,
                "summary": self.as_summary(),
                "scans": [s.to_dict() for s in self.scans],
                "shifts": [asdict(s) for s in self.shifts],
                "warnings": list(self.warnings),
                "figures": self.figures,
            }
        )


def analyse_xrd(
    table: pd.DataFrame,
    wavelength_a: float | None = None,
    reference: XrdResult | pd.DataFrame | None = None,
    *,
    metadata: dict | None = None,
    wavelength2_a: float | None = None,
    ka2_ratio: float | None = None,
    a_guess_angstrom: float = DEFAULT_A_GUESS_ANGSTROM,
    c_guess_angstrom: float = DEFAULT_C_GUESS_ANGSTROM,
    window_deg: float = DEFAULT_WINDOW_DEG,
    min_snr: float = DEFAULT_MIN_SNR,
    summary_scan: int = 0,
    ignore_peaks_deg: tuple[float, ...] | list[float] = (),
    reference_metadata: dict | None = None,
    contour_points: int = 1500,
) -> XrdResult:
    """The layered-oxide analysis of a diffraction table (module doc). `metadata` is the
    reader's (wavelengths, intensity corrections); AnalysisError names any bad input."""
    patterns = _patterns(table)
    settings, source, notes = _settings(
        metadata, wavelength_a, wavelength2_a, ka2_ratio, window_deg, min_snr
    )
    a_guess = _bounded(a_guess_angstrom, "a_guess_angstrom", "guessed a", (2.0, 4.0), "Å")
    c_guess = _bounded(c_guess_angstrom, "c_guess_angstrom", "guessed c", (5.0, 40.0), "Å")
    if not isinstance(summary_scan, int) or not 0 <= summary_scan < len(patterns):
        raise AnalysisError(
            "summary_scan", f"summary_scan must be a scan index from 0 to {len(patterns) - 1}"
        )
    if not isinstance(ignore_peaks_deg, (list, tuple)):
        raise AnalysisError("ignore_peaks_deg", "ignore_peaks_deg must be a list of 2θ values")
    ignore = tuple(
        _bounded(p, f"ignore_peaks_deg[{i}]", "an ignored peak", (0.0, 180.0), "°")
        for i, p in enumerate(ignore_peaks_deg)
    )
    settings = replace(settings, ignore=ignore)
    points = int(_bounded(contour_points, "contour_points", "contour points", (10, 20000), ""))
    guess = {
        hkl: two_theta_deg(hexagonal_d_angstrom(h, a_guess, c_guess), settings.wavelength_a)
        for hkl, h in REFLECTIONS.items()
    }
    results = analyse_scans(patterns, guess, settings)
    ref = _reference(reference, settings, reference_metadata)
    shifts, shift_notes = (
        shifts_against(
            results[summary_scan], ref.summary_result, settings.wavelength_a, ref.wavelength_a
        )
        if ref is not None
        else ([], [])
    )
    warnings = notes + warnings_for(results, summary_scan, settings, metadata) + shift_notes
    figures = figures_for(patterns, results, summary_scan, points, list(REFLECTIONS))
    return XrdResult(
        version=VERSION,
        wavelength_a=settings.wavelength_a,
        wavelength2_a=settings.wavelength2_a,
        ka2_ratio=settings.ka2_ratio,
        wavelength_source=source,
        summary_scan=summary_scan,
        scans=tuple(results),
        shifts=tuple(shifts),
        warnings=tuple(warnings),
        figures=figures,
    )


def _patterns(table: object) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(scan, 2θ, intensity, esd) per scan, checked."""
    if not isinstance(table, pd.DataFrame):
        raise AnalysisError("table", "expected a diffraction table (a pandas DataFrame)")
    missing = [c for c in ("two_theta_deg", "intensity") if c not in table.columns]
    if missing:
        raise AnalysisError("table", f"the diffraction table has no column(s) {', '.join(missing)}")
    if table.empty:
        raise AnalysisError("table", "the diffraction table has no rows")
    scans = table["scan"] if "scan" in table.columns else pd.Series(0, index=table.index)
    out = []
    for scan, rows in table.groupby(scans.to_numpy(), sort=True):
        x = pd.to_numeric(rows["two_theta_deg"], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(rows["intensity"], errors="coerce").to_numpy(dtype=float)
        esd = (
            pd.to_numeric(rows["intensity_esd"], errors="coerce").to_numpy(dtype=float)
            if "intensity_esd" in rows.columns
            else np.full(y.size, np.nan)
        )
        where = f"scan {scan}"
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise AnalysisError(
                "table", f"{where} holds 2θ or intensity values that are not numbers"
            )
        if x.size < MIN_POINTS:
            raise AnalysisError(
                "table", f"{where} holds {x.size} points; at least {MIN_POINTS} needed"
            )
        if not (np.diff(x) > 0).all():
            raise AnalysisError("table", f"{where}: 2θ must rise strictly from point to point")
        out.append((int(scan), x, y, esd))
    return out


def _bounded(value: object, field_name: str, label: str, bounds: tuple, unit: str) -> float:
    result = number(value, field=field_name, label=label)
    low, high = bounds
    if not low <= result <= high:
        raise AnalysisError(
            field_name, f"{label} must be between {low:g} and {high:g} {unit}".rstrip()
        )
    return result


def _settings(metadata, wavelength_a, wavelength2_a, ka2_ratio, window_deg, min_snr):
    """Wavelengths (explicit > file > Cu default), window and threshold; default notes."""
    meta = metadata or {}
    if not isinstance(meta, dict):
        raise AnalysisError("metadata", "metadata must be the reader's dictionary")
    notes: list[dict] = []
    lam1 = wavelength_a if wavelength_a is not None else meta.get("wavelength_ka1_a")
    source = "given" if wavelength_a is not None else "file"
    if lam1 is None:
        anode = (meta.get("anode") or "").strip()
        if anode and anode.lower() != "cu":
            raise AnalysisError(
                "wavelength_a",
                f"the file names a {anode} anode but no wavelength; give wavelength_a (Kα1, Å)",
            )
        lam1, source = CU_KA1_A, "default"
        notes.append(
            warning("wavelength_default", f"no wavelength in the file: Cu Kα1 {CU_KA1_A} Å assumed")
        )
    lam1 = _bounded(lam1, "wavelength_a", "wavelength", (0.1, 3.0), "Å")
    ratio = ka2_ratio if ka2_ratio is not None else meta.get("ka2_ka1_ratio")
    lam2 = wavelength2_a if wavelength2_a is not None else meta.get("wavelength_ka2_a")
    if lam2 is None and ratio != 0 and abs(lam1 - CU_KA1_A) < 1e-3:
        lam2 = lam1 * CU_KA2_A / CU_KA1_A
    if lam2 is None:
        ratio = 0.0  # no Kα2 known: nothing to model
    if ratio is None:
        ratio = CU_KA2_RATIO
        notes.append(
            warning("ka2_ratio_default", f"no Kα2/Kα1 ratio in the file: {CU_KA2_RATIO} assumed")
        )
    ratio = _bounded(ratio, "ka2_ratio", "Kα2/Kα1 intensity ratio", (0.0, 1.0), "")
    if lam2 is not None:
        lam2 = _bounded(lam2, "wavelength2_a", "Kα2 wavelength", (lam1, lam1 * 1.01), "Å")
    window = _bounded(window_deg, "window_deg", "search window", (0.05, 2.0), "° 2θ")
    snr = _bounded(min_snr, "min_snr", "detection threshold", (2.0, 1000.0), "× noise")
    return ScanSettings(lam1, lam2, ratio, window, snr), source, notes


def _reference(reference, settings: ScanSettings, reference_metadata) -> XrdResult | None:
    """The reference as an XrdResult: a table is analysed with this pattern's settings (its
    own metadata's wavelengths when given)."""
    if reference is None or isinstance(reference, XrdResult):
        return reference
    if not isinstance(reference, pd.DataFrame):
        raise AnalysisError("reference", "reference must be an XrdResult or a diffraction table")
    same = {
        "wavelength_a": settings.wavelength_a,
        "wavelength2_a": settings.wavelength2_a,
        "ka2_ratio": settings.ka2_ratio,
    }
    return analyse_xrd(
        reference,
        metadata=reference_metadata,
        window_deg=settings.window_deg,
        min_snr=settings.min_snr,
        ignore_peaks_deg=settings.ignore,
        **({} if reference_metadata else same),
    )


__all__ = [
    "CATION_MIXING_THRESHOLD",
    "CU_KA1_A",
    "CU_KA2_A",
    "CU_KA2_RATIO",
    "REFLECTIONS",
    "VERSION",
    "PeakShift",
    "Reflection",
    "ScanResult",
    "XrdResult",
    "analyse_xrd",
]
