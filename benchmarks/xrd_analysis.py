"""Speed of the layered-oxide XRD analysis (issue target: under 2 s per typical pattern).

Usage (from the repo root):
    .venv/bin/python benchmarks/xrd_analysis.py [--rounds 5] [--scans 60]

Times, best and median of --rounds runs (imports and a warm-up run excluded):
- a synthetic Cu Kα pattern 10-80° 2θ at 0.02° (3,501 points, the lab's 1°/min scan) of a
  layered oxide (a = 2.8589, c = 14.2535 Å; ten reflections with Kα2, Poisson noise):
  read from a .xy file written here + analyse_xrd;
- the shared PANalytical .xrdml (7,181 points, 5-125°), read + analysed, when the shared
  testdata folder is there (KILN_TESTDATA, default ../shared/testdata);
- an in situ series of --scans scans (10-46° at 0.02°, c moving 14.25 -> 14.47 -> 14.30 Å, a
  Be window's peaks at 18.1° and 44.05°), analysed as one table (per scan and in total).
It also prints how far the fitted (003), (104), a and c of the synthetic pattern are from the
drawn ones.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from characterization.analysis.xrd import CU_KA1_A, CU_KA2_A, analyse_xrd  # noqa: E402
from characterization.parsers.diffraction import read_diffraction_file  # noqa: E402
from tests.testdata import testdata_path  # noqa: E402

A, C = 2.8589, 14.2535
AREAS = {
    (0, 0, 3): 900.0,
    (1, 0, 1): 250.0,
    (0, 0, 6): 60.0,
    (0, 1, 2): 100.0,
    (1, 0, 4): 700.0,
    (0, 1, 5): 150.0,
    (1, 0, 7): 120.0,
    (0, 1, 8): 200.0,
    (1, 1, 0): 180.0,
    (1, 1, 3): 150.0,
}


def two_theta(hkl, a, c, lam=CU_KA1_A):
    h, k, l = hkl  # noqa: E741
    d = 1.0 / math.sqrt(4.0 * (h * h + h * k + k * k) / (3.0 * a * a) + l * l / (c * c))
    return 2.0 * math.degrees(math.asin(lam / (2.0 * d)))


def pv(x, x0, w, eta):
    u = (x - x0) / w
    lorentz = 2.0 / (math.pi * w) / (1.0 + 4.0 * u * u)
    gauss = 2.0 / w * math.sqrt(math.log(2) / math.pi) * np.exp(-4.0 * math.log(2) * u * u)
    return eta * lorentz + (1.0 - eta) * gauss


def pattern(c=C, *, hi=80.0, seed=0, be_window=False):
    x = np.arange(10.0, hi + 0.01, 0.02)
    y = 200.0 - 0.5 * (x - 10.0)
    for hkl, area in AREAS.items():
        t1 = two_theta(hkl, A, c)
        t2 = 2.0 * math.degrees(math.asin(CU_KA2_A / CU_KA1_A * math.sin(math.radians(t1 / 2))))
        w = 0.08 + 0.002 * t1
        y = y + area * pv(x, t1, w, 0.4) + 0.5 * area * pv(x, t2, w, 0.4)
    if be_window:
        y = y + 300.0 * pv(x, 18.1, 0.1, 0.3) + 900.0 * pv(x, 44.05, 0.1, 0.3)
    return x, np.random.default_rng(seed).poisson(y).astype(float)


def timed(work, rounds):
    work()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scans", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        x, y = pattern()
        path = Path(folder) / "lmno.xy"
        path.write_text(
            "2Theta Counts\n" + "".join(f"{a:.3f} {b:.0f}\n" for a, b in zip(x, y, strict=True))
        )

        def synthetic():
            table, meta = read_diffraction_file(path)
            return analyse_xrd(table, metadata=meta)

        best, median = timed(synthetic, args.rounds)
        print(
            f"synthetic 10-80° pattern ({x.size} points): best {best:.3f} s, median {median:.3f} s"
        )
        result = synthetic()
        summary = result.as_summary()
        peaks = {p["hkl"]: p for p in summary["peaks"]}
        for hkl, miller in (("003", (0, 0, 3)), ("104", (1, 0, 4))):
            delta = peaks[hkl]["two_theta_deg"] - two_theta(miller, A, C)
            print(f"  ({hkl}) fitted - drawn = {delta:+.5f}°")
        lattice = summary["lattice"]
        print(
            f"  a = {lattice['a_angstrom']:.5f}({lattice['a_esd_angstrom']:.5f}) Å "
            f"(drawn {A}), c = {lattice['c_angstrom']:.4f}({lattice['c_esd_angstrom']:.4f}) Å "
            f"(drawn {C})"
        )

    shared = testdata_path("diffraction") / "panalytical_xrdml15_datalab.xrdml"
    if shared.is_file():

        def real():
            table, meta = read_diffraction_file(shared)
            return analyse_xrd(table, metadata=meta)

        best, median = timed(real, args.rounds)
        print(f"shared .xrdml (7181 points): best {best:.3f} s, median {median:.3f} s")
    else:
        print(f"shared .xrdml not found at {shared}: skipped")

    cs = np.interp(np.linspace(0, 1, args.scans), [0, 0.6, 1], [14.25, 14.47, 14.30])
    frames = []
    for n, c in enumerate(cs):
        sx, sy = pattern(c, hi=46.0, seed=100 + n, be_window=True)
        frames.append(pd.DataFrame({"two_theta_deg": sx, "intensity": sy, "scan": n}))
    series = pd.concat(frames, ignore_index=True)
    meta = {"wavelength_ka1_a": CU_KA1_A, "wavelength_ka2_a": CU_KA2_A, "ka2_ka1_ratio": 0.5}
    best, median = timed(
        lambda: analyse_xrd(series, metadata=meta, ignore_peaks_deg=(18.1, 44.05)),
        max(1, args.rounds // 2),
    )
    print(
        f"in situ series, {args.scans} scans of {len(frames[0])} points: best {best:.3f} s "
        f"({best / args.scans * 1000:.1f} ms per scan), median {median:.3f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
