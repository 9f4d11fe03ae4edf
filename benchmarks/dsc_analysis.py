"""DSC speed: read + analyse_dsc per file, against the 2 s target for a typical file.

Usage (from the repo root):
    .venv/bin/python benchmarks/dsc_analysis.py [--repeat 5]

Files timed:
- the shared real files, when the testdata folder is there (KILN_TESTDATA, default
  ../shared/testdata/thermal/): the TA Universal Analysis export (19,000 points, heat + cool)
  and the NETZSCH STA .ngb-ds3 (5,801 points; pyngb decodes it and the correction run);
- SYNTHETIC TA exports written to a temporary folder: a typical charged-cathode scan
  (25→400 °C at 5 K/min, a point every 0.5 s: 9,000 points, an endotherm and two overlapping
  exotherms) and a dense one (a point every 0.05 s: 90,000 points).
For each: the best and median of --repeat runs of read_thermal_file and of analyse_dsc (a
fresh process pays pyngb's import once, about 1 s, measured apart).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_S = 2.0


def synthetic_ta(path: Path, step_s: float) -> Path:
    """A TA export of a cathode-like DSC scan: sloping baseline, an endotherm at 120 °C and two
    overlapping exotherms at 250 and 290 °C, noise 0.02 mW; Exotherm Up, 3.2 mg."""
    import numpy as np

    rate = 5.0 / 60.0
    t = np.arange(0.0, (400.0 - 25.0) / rate, step_s)
    temp = 25.0 + rate * t
    power = 0.4 + 0.002 * temp + np.random.default_rng(0).normal(0, 0.02, len(t))
    for centre, height, sigma in ((120.0, -1.5, 60.0), (250.0, 6.0, 90.0), (290.0, 9.0, 70.0)):
        power += height * np.exp(-0.5 * ((t - (centre - 25.0) / rate) / sigma) ** 2)
    head = [
        "Instrument\tQ2000 V24.11",
        "Sample\tcharged NSO electrode (synthetic)",
        "Size\t3.20000\tmg",
        "Exotherm\tUp",
        "Nsig\t3",
        "Sig1\tTime (min)",
        "Sig2\tTemperature (\xb0C)",
        "Sig3\tHeat Flow (mW)",
        "StartOfData",
    ]
    rows = [f"{a / 60:.6f}\t{b:.4f}\t{c:.5f}" for a, b, c in zip(t, temp, power, strict=True)]
    path.write_bytes(("\n".join(head + rows) + "\n").encode("latin-1"))
    return path


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def _run(files: list[Path], tmp: Path, import_s: float, repeat: int) -> float:
    """Print one line per file; the slowest read + analyse (best of `repeat`), s."""
    from characterization.analysis.dsc import analyse_dsc
    from characterization.parsers.thermal import read_thermal_file

    files += [
        synthetic_ta(tmp / "synthetic_cathode_9k.txt", 0.5),
        synthetic_ta(tmp / "synthetic_cathode_90k.txt", 0.05),
    ]
    print(f"pyngb import (once per worker process): {import_s:.2f} s")
    print(f"{'file':40} {'points':>8} {'read best/med s':>16} {'analyse best/med s':>19} "
          f"{'total':>7}  peaks")  # fmt: skip
    worst = 0.0
    for path in files:
        read_times, (table, meta) = timed(lambda p=path: read_thermal_file(p), repeat)
        mass = meta["sample_mass_mg"]
        run_times, result = timed(lambda t=table, m=mass: analyse_dsc(t, sample_mass_mg=m), repeat)
        total = min(read_times) + min(run_times)
        worst = max(worst, total)
        peaks = ", ".join(
            f"{p.kind} {p.peak_temperature_c:.1f} °C {p.enthalpy_j_per_g:.0f} J/g"
            for p in result.peaks
        )
        print(
            f"{path.name[:40]:40} {len(table):>8,} "
            f"{min(read_times):>7.3f}/{statistics.median(read_times):<8.3f} "
            f"{min(run_times):>9.3f}/{statistics.median(run_times):<9.3f} {total:>7.3f}  {peaks}"
        )
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from tests.testdata import testdata_path

    start = time.perf_counter()
    import pyngb  # noqa: F401 - the one-off import cost, shown apart

    import_s = time.perf_counter() - start
    folder = testdata_path("thermal")
    files = [
        folder / "ta_universal_analysis_pkynetics.txt",
        folder / "netzsch_sta_pyngb_probe_g.ngb-ds3",
    ]
    files = [f for f in files if f.is_file()]
    if not files:
        print(f"(no shared thermal files in {folder}: only synthetic files are timed)")
    with tempfile.TemporaryDirectory(prefix="kiln-dsc-bench-") as tmp:
        worst = _run(files, Path(tmp), import_s, args.repeat)
    verdict = "meets" if worst < TARGET_S else "MISSES"
    print(f"slowest read + analyse: {worst:.3f} s ({verdict} the {TARGET_S:g} s target)")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
