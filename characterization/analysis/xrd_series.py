"""In situ series: peak positions followed scan by scan, and the contour-plot grid.

Tracks: for each reflection, its fitted 2θ (and esd) in every scan, None where it was not
found, and its shift from the first scan where it was found. The seeds that let a reflection
be followed (each scan searched around where the reflection was last found) are chosen in
xrd.analyse_xrd; this module only lays the numbers out for figures.

Contour: every scan interpolated linearly onto one 2θ grid spanning the range all scans
share, of at most `max_points` points (the median scan's own count otherwise), so a
2θ × scan × intensity image can be drawn without resampling on the page.
"""

from __future__ import annotations

import numpy as np


def tracks(scan_results: list, hkls: list[str]) -> dict:
    """{"scan": [...], "two_theta_deg": {hkl: [...]}, "two_theta_esd_deg": {...},
    "shift_deg": {...}, "a_angstrom": [...], "c_angstrom": [...], "i003_i104": [...]}."""
    out: dict = {
        "scan": [r.scan for r in scan_results],
        "two_theta_deg": {},
        "two_theta_esd_deg": {},
        "shift_deg": {},
    }
    for hkl in hkls:
        found = [r.reflection(hkl) for r in scan_results]
        positions = [f.two_theta_deg if f.status == "found" else None for f in found]
        first = next((p for p in positions if p is not None), None)
        out["two_theta_deg"][hkl] = positions
        out["two_theta_esd_deg"][hkl] = [
            f.two_theta_esd_deg if f.status == "found" else None for f in found
        ]
        out["shift_deg"][hkl] = [None if p is None else p - first for p in positions]
    out["a_angstrom"] = [r.lattice.a_angstrom if r.lattice else None for r in scan_results]
    out["c_angstrom"] = [r.lattice.c_angstrom if r.lattice else None for r in scan_results]
    out["i003_i104"] = [r.i003_i104 for r in scan_results]
    return out


def contour(patterns: list[tuple[np.ndarray, np.ndarray]], max_points: int) -> dict | None:
    """{"two_theta_deg": grid, "scan": [0..n-1], "intensity": [[row per scan]]}, or None
    when the scans share no 2θ range."""
    low = max(float(x[0]) for x, _ in patterns)
    high = min(float(x[-1]) for x, _ in patterns)
    if not high > low:
        return None
    points = int(min(max_points, np.median([x.size for x, _ in patterns])))
    grid = np.linspace(low, high, max(points, 2))
    rows = [np.interp(grid, x, y).tolist() for x, y in patterns]
    return {"two_theta_deg": grid.tolist(), "scan": list(range(len(patterns))), "intensity": rows}
