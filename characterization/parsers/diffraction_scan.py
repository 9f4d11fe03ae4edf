"""What every diffraction reader hands over: one `Scan` per measured pattern, checked the same
way, and the metadata keys they share. Pure Python (numpy/pandas), no Django.

Checks (each a ParseError naming the file and the scan): 2θ and intensity of equal length,
at least MIN_POINTS points, every value finite, 2θ strictly monotonic (a scan written from high
to low angle is turned round and said so in metadata["reversed_scans"]), no negative
intensity (a measured pattern has none; negative values mean background-subtracted or
otherwise processed data), 2θ within 0-180°.

Intensity esd: the file's own column when it has one (.xye); otherwise, for intensities in
counts, Poisson counting statistics on the counts actually registered,
σ = √(counts registered) × (attenuation factor), i.e. √(I·f) for I = counts × f; for counts
per second with a known counting time t per step, σ = √(I·t)/t; otherwise unknown (NaN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParseError, file_label

DIFFRACTION_COLUMNS = ("two_theta_deg", "intensity", "intensity_esd", "scan")
INTENSITY_UNITS = ("counts", "cps", "arbitrary")
MIN_POINTS = 5


@dataclass
class Scan:
    """One pattern as read: 2θ (degrees), intensity in `unit`, optional esd, and what the
    reader knows about how the numbers were made."""

    two_theta_deg: np.ndarray
    intensity: np.ndarray
    unit: str = "arbitrary"  # one of INTENSITY_UNITS
    esd: np.ndarray | None = None  # from the file
    attenuation: np.ndarray | None = None  # factor already multiplied into `intensity`
    counting_time_s: float | None = None  # per step
    label: str = ""  # "scan 2 of Data0/Profile2.txt", for messages
    info: dict = field(default_factory=dict)  # per-scan metadata (axis, status, ...)


def number_or_none(text: str | None) -> float | None:
    """A float from header text ('1.540593', '29.0000000000', '1,5406'), or None."""
    if text is None:
        return None
    try:
        value = float(str(text).strip().strip('"').replace(",", "."))
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def check_scan(scan: Scan, path: Path, number: int) -> Scan:
    """The scan with 2θ ascending, or ParseError saying what is wrong (module doc)."""
    name = f"{file_label(path)}: {scan.label or f'scan {number + 1}'}"
    x = np.asarray(scan.two_theta_deg, dtype=float)
    y = np.asarray(scan.intensity, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ParseError(
            f"{name} has {x.size} 2θ positions but {y.size} intensities; the lists must be "
            "of equal length (the file is damaged or was cut while written)."
        )
    if x.size < MIN_POINTS:
        raise ParseError(f"{name} holds {x.size} points; a diffraction pattern needs more.")
    _check_finite(x, y, scan.esd, name)
    steps = np.diff(x)
    if (steps < 0).all():
        x, y = x[::-1], y[::-1]
        scan.esd = None if scan.esd is None else np.asarray(scan.esd, dtype=float)[::-1]
        scan.attenuation = None if scan.attenuation is None else scan.attenuation[::-1]
        scan.info["reversed"] = True
    elif not (steps > 0).all():
        bad = int(np.flatnonzero(steps <= 0)[0])
        raise ParseError(
            f"{name}: 2θ is not monotonic: point {bad + 2} ({x[bad + 1]:g}°) does not follow "
            f"point {bad + 1} ({x[bad]:g}°); 2θ must rise (or fall) at every step."
        )
    if x[0] < 0 or x[-1] > 180:
        raise ParseError(f"{name}: 2θ runs from {x[0]:g}° to {x[-1]:g}°, outside 0-180°.")
    if (y < 0).any():
        bad = int(np.flatnonzero(y < 0)[0])
        raise ParseError(
            f"{name}: negative intensity {y[bad]:g} at 2θ = {x[bad]:g}° (point {bad + 1}); a "
            "measured pattern has none, so this looks like background-subtracted or processed "
            "data. Upload the pattern as measured."
        )
    scan.two_theta_deg, scan.intensity = x, y
    return scan


def _check_finite(x: np.ndarray, y: np.ndarray, esd: np.ndarray | None, name: str) -> None:
    for values, what in ((x, "2θ"), (y, "intensity")):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ParseError(f"{name}: {what} of point {bad[0] + 1} is not a finite number.")
    if esd is not None:
        esd = np.asarray(esd, dtype=float)
        if esd.shape != y.shape:
            raise ParseError(f"{name}: the esd column has {esd.size} values for {y.size} points.")
        bad = np.flatnonzero(~np.isfinite(esd) | (esd < 0))
        if bad.size:
            raise ParseError(f"{name}: esd of point {bad[0] + 1} is negative or not a number.")


def esd_of(scan: Scan) -> tuple[np.ndarray, str | None]:
    """(esd array, how it was obtained) following the module doc; NaN where unknown."""
    y = scan.intensity
    if scan.esd is not None:
        return np.asarray(scan.esd, dtype=float), "file"
    factor = np.ones_like(y) if scan.attenuation is None else scan.attenuation
    if scan.unit == "counts":
        return np.sqrt(y * factor), "poisson: sqrt(counts registered) x attenuation factor"
    if scan.unit == "cps" and scan.counting_time_s:
        t = scan.counting_time_s
        return np.sqrt(y * factor * t) / t, "poisson: sqrt(cps x counting time) / counting time"
    return np.full_like(y, np.nan), None


def scans_frame(scans: list[Scan], path: Path) -> pd.DataFrame:
    """The normalised table (DIFFRACTION_COLUMNS) of checked scans, `scan` numbered from 0."""
    if not scans:
        raise ParseError(f"{file_label(path)}: the file holds no diffraction pattern.")
    units = {s.unit for s in scans}
    if len(units) > 1:
        raise ParseError(
            f"{file_label(path)}: its scans mix intensity units ({', '.join(sorted(units))}); "
            "Kiln does not put counts and count rates in one table."
        )
    frames = []
    for number, scan in enumerate(scans):
        checked = check_scan(scan, path, number)
        esd, _ = esd_of(checked)
        frames.append(
            pd.DataFrame(
                {
                    "two_theta_deg": checked.two_theta_deg,
                    "intensity": checked.intensity,
                    "intensity_esd": esd,
                    "scan": np.full(checked.intensity.size, number, dtype="int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def wavelength_metadata(
    *,
    ka1: float | None,
    ka2: float | None = None,
    ratio: float | None = None,
    kbeta: float | None = None,
    anode: str | None = None,
    ka1_only: bool = False,
) -> dict:
    """The wavelength keys every reader fills (Å). `ka1_only`: the file says the beam is
    monochromated to Kα1 (no Kα2 in the pattern), so ka2_ka1_ratio is 0."""
    for value, what in ((ka1, "Kα1"), (ka2, "Kα2"), (kbeta, "Kβ")):
        if value is not None and not 0.1 <= value <= 3.0:
            raise ParseError(f"the file gives a {what} wavelength of {value:g} Å, not 0.1-3 Å.")
    if ratio is not None and not 0 <= ratio <= 1:
        raise ParseError(f"the file gives a Kα2/Kα1 ratio of {ratio:g}, not 0-1.")
    return {
        "wavelength_ka1_a": ka1,
        "wavelength_ka2_a": None if ka1_only else ka2,
        "ka2_ka1_ratio": 0.0 if ka1_only else ratio,
        "wavelength_kbeta_a": kbeta,
        "radiation": "K-Alpha 1" if ka1_only else ("K-Alpha" if ka1 else None),
        "anode": anode or None,
    }


def common_metadata(fmt: str, scans: list[Scan], extra: dict) -> dict:
    """Metadata shared by all formats; `extra` holds the format's own keys (wavelengths...)."""
    unit = scans[0].unit if scans else "arbitrary"
    _, esd_source = esd_of(scans[0]) if scans else (None, None)
    meta = {
        "source_library": "kiln",
        "source_version": None,
        "format": fmt,
        "measurement": "diffraction",
        "intensity_unit": unit,
        "units_seen": {"two_theta": "deg", "intensity": unit},
        "intensity_esd_source": esd_source,
        "scan_count": len(scans),
        "points_per_scan": [int(s.intensity.size) for s in scans],
        "counting_time_s": [s.counting_time_s for s in scans],
        "reversed_scans": [n for n, s in enumerate(scans) if s.info.get("reversed")],
        "scans": [dict(s.info) for s in scans],
        "notes": [],
    }
    meta.update(extra)
    return meta
