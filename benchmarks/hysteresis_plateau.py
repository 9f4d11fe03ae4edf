"""Speed of voltage_hysteresis and first_charge_plateau on the shared cycler files.

Usage (from the repo root):
    .venv/bin/python benchmarks/hysteresis_plateau.py [--repeat 5] [--long]

Each cycling file in the shared testdata folder (KILN_TESTDATA, default ../shared/testdata,
its cyclers/) is read once with read_cycler_file (not timed); then each analysis runs
--repeat times on the normalised table and the best and the first wall time are printed
(imports excluded). --long adds the 500-cycle, ~1 million-row Neware file that
benchmarks/long_ndax.py builds and caches under var/bench/ (about 6 s the first time). Target:
each analysis under 2 s on a typical file. Without the testdata folder: one line, exit 2.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.testdata import missing_message, testdata_path  # noqa: E402

ACTIVE_MASS_MG = 10.0  # any positive mass: it scales the specific capacities only
FILES = (
    "biologic_yadg_gcpl_4p6V.mpr",
    "biologic_navani_gcpl_5cycles.mpr",
    "neware_fastnda_nw4-120-1-6-53.ndax",
    "neware_navani_test.ndax",
    "neware_btsda_export_uio.csv",
    "arbin_navani_example.res",
    "maccor_beep_PreDiag_000229_truncated.034",
)


def timed(work, repeat: int) -> tuple[float, float, object]:
    """(best s, first s, last result) of `repeat` calls."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), times[0], result


def bench(path: Path, repeat: int) -> None:
    from characterization.analysis.hysteresis import voltage_hysteresis
    from characterization.analysis.plateau import first_charge_plateau
    from characterization.parsers import read_cycler_file

    try:
        table = read_cycler_file(path).table
    except ValueError as exc:  # e.g. Arbin .res without mdbtools
        print(f"{path.name:<44} not read: {exc}")
        return
    h_best, h_first, h = timed(lambda: voltage_hysteresis(table), repeat)
    p_best, p_first, p = timed(
        lambda: first_charge_plateau(table, active_mass_mg=ACTIVE_MASS_MG), repeat
    )
    done = sum(row.hysteresis_v is not None for row in h.cycles)
    flat = p.flat_plateau_mah_g
    plateau = "none" if p.capacity_above_threshold_mah_g is None else f"flat {flat:.1f} mAh/g"
    print(
        f"{path.name:<44}{len(table):>10,}{len(h.cycles):>7}{done:>6}"
        f"{h_best:>9.3f}{h_first:>8.3f}{p_best:>9.3f}{p_first:>8.3f}  {h.energy_source:<11}"
        f"{plateau}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--long", action="store_true", help="add the 1M-row Neware file")
    args = parser.parse_args(argv)
    message = missing_message(["cyclers"])
    if message:
        print(message)
        return 2
    warnings.simplefilter("ignore")
    paths = [testdata_path("cyclers") / name for name in FILES]
    if args.long:
        sys.path.insert(0, str(REPO / "benchmarks"))
        from long_ndax import ensure_long_ndax

        paths.append(ensure_long_ndax().path)
    print(
        f"{'file':<44}{'rows':>10}{'cycles':>7}{'done':>6}{'hyst s':>9}{'first':>8}"
        f"{'plat s':>9}{'first':>8}  energy     plateau"
    )
    for path in paths:
        bench(path, args.repeat)
    print("(best of --repeat runs and the first run, wall seconds; target < 2 s per analysis)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
