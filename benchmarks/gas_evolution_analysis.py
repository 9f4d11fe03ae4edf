"""Gas evolution speed: read a mass spectrometer file and analyse it (target: < 2 s per file).

Usage (from the repo root):
    .venv/bin/python benchmarks/gas_evolution_analysis.py [--rounds 5] [--hours 20]

Times, best and median of --rounds runs (imports and warm-up excluded):
- the two shared real files (KILN_TESTDATA/mass_spec/, skipped with a line when missing):
  the Zilien EC-MS file analysed for O2 with its own potentiostat series, and the QUADERA
  TGA-MS export analysed for O2 and CO2 (no cycling table);
- a typical DEMS run written here (var/bench/dems_typical.asc, rebuilt each run): a QUADERA
  export of 5 channels (H2, H2O, CO, O2, CO2 in A) at one MID cycle per second over --hours
  hours (a 0.1C formation cycle is about 20 h: 72,000 lines, 360,000 points), with a
  triangle of O2 and CO2 release during the charge, analysed with a cycling table of one
  row per 10 s (voltage and current), the default background (10 min before cycling starts).
Each line prints read, analysis and total seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from characterization.analysis.gas_evolution import analyse_gas_evolution  # noqa: E402
from characterization.parsers.mass_spec import (  # noqa: E402
    read_mass_spec_file,
    read_zilien_potentiostat,
)
from tests.testdata import missing_message, testdata_path  # noqa: E402

BENCH = REPO / "var" / "bench"
CHANNELS = (("Hydrogen", 2e-9), ("Water", 3e-9), ("CO", 2e-10), ("Oxygen", 1e-10), ("CO2", 5e-11))
REST_S = 1800.0


def write_typical(path: Path, hours: float) -> pd.DataFrame:
    """Write the synthetic QUADERA export; return its cycling table."""
    n = int(hours * 3600)
    rng = np.random.default_rng(3)
    t = np.arange(n, dtype=float)
    charge_end = REST_S + (n - REST_S) / 2
    release = np.interp(t, [REST_S, charge_end - 3600, charge_end, n], [0, 0, 1, 0])
    columns, names = [], []
    start = pd.Timestamp("2024-03-01 09:00:00")
    for k, (name, level) in enumerate(CHANNELS):
        times = t + 0.2 * k
        signal = level * (1 + 0.01 * rng.standard_normal(n))
        if name in ("Oxygen", "CO2"):
            signal += level * 3 * release
        stamps = (start + pd.to_timedelta(np.floor(times), unit="s")).strftime("%d/%m/%Y %H:%M:%S")
        columns += [stamps, [f"{x:.3f}" for x in times], [f"{x:.6e}" for x in signal]]
        names += ["", "", name]
    header = [
        "Sourcefile\tdems_typical.qmp",
        "Exporttime\t02/03/2024 09:00:00",
        "",
        "Start Time\t01/03/2024 09:00:00",
        "End Time\t02/03/2024 05:00:00",
        "",
        "\t".join(names) + "\t",
        "\t".join(["Time", "Time Relative [s]", "Ion Current [A]"] * len(CHANNELS)) + "\t",
    ]
    rows = ["\t".join(cells) for cells in zip(*columns, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(header + rows) + "\r\n", encoding="ascii")
    ct = np.arange(0.0, n, 10.0)
    voltage = np.where(ct < REST_S, 3.0, np.interp(ct, [REST_S, charge_end, n], [3.0, 4.8, 2.0]))
    current = np.where(ct < REST_S, 0.0, np.where(ct < charge_end, 0.05, -0.05))
    return pd.DataFrame({"time_s": ct, "voltage_v": voltage, "current_ma": current})


def timed(label: str, read, analyse, rounds: int) -> None:
    read()  # warm-up
    reads, analyses = [], []
    for _ in range(rounds):
        begin = time.perf_counter()
        table = read()
        middle = time.perf_counter()
        result = analyse(table)
        reads.append(middle - begin)
        analyses.append(time.perf_counter() - middle)
    totals = [a + b for a, b in zip(reads, analyses, strict=True)]
    gases = ", ".join(
        f"{g} {v['micromol']:.4g} µmol" for g, v in result.as_summary()["gases"].items()
    )
    print(
        f"{label:<34} rows {len(table):>9,}  read {min(reads):6.3f} s  analyse "
        f"{min(analyses):6.3f} s  total best {min(totals):6.3f} s, median "
        f"{statistics.median(totals):6.3f} s  ({gases})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hours", type=float, default=20.0)
    args = parser.parse_args()

    typical = BENCH / "dems_typical.asc"
    cycling = write_typical(typical, args.hours)
    print(f"typical file: {typical} ({typical.stat().st_size / 1e6:.1f} MB, {args.hours:g} h)")
    n = int(args.hours * 3600)
    base = n - (REST_S + (n - REST_S) / 2 - 3600)  # the release triangle's base, s
    expected = {
        gas: k * 0.5 * base * 3 * level * 1e6
        for gas, k, level in (("O2", 0.8, 1e-10), ("CO2", 1.1, 5e-11))
    }
    print(
        "expected (triangle area x factor, noise aside): "
        + ", ".join(f"{g} {v:.4g} µmol" for g, v in expected.items())
    )
    timed(
        "typical DEMS (QUADERA, 5 ch, 1 Hz)",
        lambda: read_mass_spec_file(typical)[0],
        lambda table: analyse_gas_evolution(
            table,
            calibration={"O2": 0.8, "CO2": 1.1},
            active_mass_mg=8.0,
            cycling_table=cycling,
            gases={"O2": 32, "CO2": 44},
        ),
        args.rounds,
    )
    message = missing_message(["mass_spec"])
    if message:
        print(f"real files skipped: {message}")
        return 0
    folder = testdata_path("mass_spec")
    zilien = folder / "zilien_v1_ixdat_full_set.tsv"
    pot = read_zilien_potentiostat(zilien)
    timed(
        "zilien_v1_ixdat_full_set.tsv",
        lambda: read_mass_spec_file(zilien)[0],
        lambda table: analyse_gas_evolution(
            table, calibration={"O2": 1.0}, active_mass_mg=8.0, cycling_table=pot, gases={"O2": 32}
        ),
        args.rounds,
    )
    quadera = folder / "pfeiffer_quadera_datalab_tgams.asc"
    timed(
        "pfeiffer_quadera_datalab_tgams.asc",
        lambda: read_mass_spec_file(quadera)[0],
        lambda table: analyse_gas_evolution(
            table, calibration={"O2": 1e3, "CO2": 1e3}, active_mass_mg=8.0
        ),
        args.rounds,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
