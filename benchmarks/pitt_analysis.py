"""PITT speed: reading a potential-step file and analysing it (target: < 2 s per typical file).

Usage (from the repo root):
    .venv/bin/python benchmarks/pitt_analysis.py [--steps 280] [--records 720] [--interval 5]
        [--repeat 3]

Times, best of --repeat runs, for:
- the shared real files (KILN_TESTDATA, default ../shared/testdata; skipped when absent):
  cyclers/biologic_yadg_ca_potential_step.mpt and .mpr (one 12 h step, 721 records) and
  potential_steps/biologic_ixdat_ca_3steps.mpt (3 steps, 204 records);
- a synthetic "typical" PITT written here as an Autolab NOVA text export: --steps potential
  steps of 10 mV (half up, half down) with a record every --interval s (5 s), --records per
  step (720: a 1 h hold), each current from the series solution with D = 1e-12 cm² s⁻¹ and
  L = 0.5 µm (1/k = 1013 s: the default step lasts 3.6/k) plus 0.1 % noise. The default,
  280 steps x 720 records = 201,600 records, is a 2.0-4.8 V PITT at 10 mV per step;
  `--records 3600 --interval 1` is the same PITT recorded every second (1,008,000 records).
Every file is analysed with L = 0.5 µm.
Each line gives the read time, the analysis time and their sum, and the median and the range
of D found (the synthetic file must give 1e-12 in every step: the window rule at work).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from characterization.analysis.pitt import analyse_pitt  # noqa: E402
from characterization.parsers.potential_steps import read_potential_step_file  # noqa: E402
from tests.testdata import testdata_path  # noqa: E402

LENGTH_UM = 0.5
D_CM2_S = 1e-12


def synthetic_export(path: Path, steps: int, records: int, interval_s: float) -> Path:
    """An Autolab-style export (tab, CRLF): Time (s), WE(1).Current (A), WE(1).Potential (V)."""
    k = math.pi**2 * D_CM2_S / (4 * (LENGTH_UM * 1e-4) ** 2)
    t = np.arange(records) * interval_s
    odd = (2 * np.arange(200) + 1)[:, None] ** 2
    shape = 2e-6 * np.exp(-odd * k * (t + interval_s / 2)[None, :]).sum(0)
    rng = np.random.default_rng(0)
    half = steps // 2
    blocks = []
    for s in range(steps):
        up = s < half
        potential = 2.0 + 0.01 * (s + 1) if up else 2.0 + 0.01 * (2 * half - s - 1)
        current = (1 if up else -1) * shape * (1 + 1e-3 * rng.standard_normal(records))
        time_s = s * records * interval_s + t
        measured = potential + 2e-4 * rng.standard_normal(records)
        blocks.append(np.column_stack([time_s, current, measured]))
    data = np.vstack(blocks)
    with path.open("w", newline="") as fh:
        fh.write("Time (s)\tWE(1).Current (A)\tWE(1).Potential (V)\r\n")
        np.savetxt(fh, data, fmt=["%.3f", "%.6E", "%.6f"], delimiter="\t", newline="\r\n")
    return path


def measure(path: Path, repeat: int) -> tuple[float, float, int, list[float]]:
    read_s = analyse_s = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        table, _ = read_potential_step_file(path)
        middle = time.perf_counter()
        result = analyse_pitt(table, LENGTH_UM)
        end = time.perf_counter()
        read_s, analyse_s = min(read_s, middle - start), min(analyse_s, end - middle)
    return read_s, analyse_s, len(table), [s.d_cm2_per_s for s in result.steps]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=280)
    parser.add_argument("--records", type=int, default=720)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = [
        testdata_path("cyclers") / "biologic_yadg_ca_potential_step.mpt",
        testdata_path("cyclers") / "biologic_yadg_ca_potential_step.mpr",
        testdata_path("potential_steps") / "biologic_ixdat_ca_3steps.mpt",
    ]
    with tempfile.TemporaryDirectory() as folder:
        synthetic = Path(folder) / f"synthetic_pitt_{args.steps}x{args.records}.txt"
        files.append(synthetic_export(synthetic, args.steps, args.records, args.interval))
        print(f"{'file':48} {'records':>8} {'read s':>8} {'analyse s':>10} {'total s':>8}  D")
        for path in files:
            if not path.exists():
                print(f"{path.name:48} (missing: set KILN_TESTDATA)")
                continue
            read_s, analyse_s, rows, d = measure(path, args.repeat)
            found = f"{np.median(d):.4g} ({min(d):.4g}-{max(d):.4g}) cm2/s" if d else "none"
            print(
                f"{path.name:48} {rows:8d} {read_s:8.3f} {analyse_s:10.3f} "
                f"{read_s + analyse_s:8.3f}  {found}"
            )


if __name__ == "__main__":
    main()
