"""EIS speed: read + analyse_impedance (intercept, circuit fit, warnings, figures) per file.

Usage (from the repo root):
    .venv/bin/python benchmarks/impedance_analysis.py [--rounds 5]

Target (issue 10): under 2 s per typical file, fit included. Files: the shared impedance
files (KILN_TESTDATA, default ../shared/testdata; skipped with a line when missing) and
synthetic spectra made here: a Randles cell with 1 % noise at 10 points per decade (71
points), a two-arc cell at 30 points per decade (211 points, fitted with a two-arc circuit),
and the same two-arc data fitted with the default one-arc circuit (a poor fit: both weightings
are tried). Each file is read and analysed once cold (first call: impedance.py, scipy and
matplotlib imports included, shown apart), then --rounds times warm; the table gives the
best and median warm time, the number of points, the weighting used and whether the fit is
reliable.
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

from tests.testdata import testdata_path  # noqa: E402 (stdlib-only helper)

TARGET_S = 2.0
SHARED = (
    ("cyclers", "eis_impedancepy_biologic.mpt", "eis"),
    ("cyclers", "biologic_yadg_peis.mpr", "eis"),
    ("impedance", "autolab_z60w_impedancepy.txt", "text"),
    ("impedance", "chinstruments_impedancepy.txt", "text"),
    ("impedance", "relaxis_hybriddrt_lpscl.txt", "text"),
)


def _synthetic(points_per_decade: int, two_arcs: bool, seed: int) -> pd.DataFrame:
    freq = np.logspace(5, -2, 7 * points_per_decade + 1)
    w = 2 * np.pi * freq
    z = 10 + 1 / (1 / 50 + 1e-5 * (1j * w) ** 0.9) + 5 * (1 - 1j) / np.sqrt(w)
    if two_arcs:
        z += 1 / (1 / 30 + 2e-3 * (1j * w) ** 0.8)
    rng = np.random.default_rng(seed)
    z *= 1 + 0.01 * (rng.standard_normal(freq.size) + 1j * rng.standard_normal(freq.size)) / 2**0.5
    return pd.DataFrame(
        {"time_s": np.nan, "freq_hz": freq, "z_real_ohm": z.real, "z_imag_ohm": z.imag, "cycle": 1}
    )


def _cases() -> list[tuple[str, object, str]]:
    """(name, a path or a table, circuit)."""
    from characterization.analysis.impedance import DEFAULT_CIRCUIT

    cases: list[tuple[str, object, str]] = []
    for kind, name, _ in SHARED:
        path = testdata_path(kind) / name
        if path.is_file():
            cases.append((name, path, DEFAULT_CIRCUIT))
        else:
            print(f"skipped {name}: not found under {testdata_path(kind)}")
    two_arcs = _synthetic(30, True, 2)
    cases += [
        ("synthetic Randles, 71 points", _synthetic(10, False, 1), DEFAULT_CIRCUIT),
        ("synthetic two arcs, 211 points", two_arcs, "R0-p(R1,CPE1)-p(R2,CPE2)-W1"),
        ("same, one-arc circuit (poor fit)", two_arcs, DEFAULT_CIRCUIT),
    ]
    return cases


def _run(source: object, circuit: str):
    from characterization.analysis.impedance import analyse_impedance
    from characterization.parsers.impedance_text import read_impedance_text
    from characterization.parsers.reader import read_eis_file

    if isinstance(source, Path):
        kind = next(k for _, n, k in SHARED if n == source.name)
        table = read_eis_file(source).table if kind == "eis" else read_impedance_text(source)[0]
    else:
        table = source
    return analyse_impedance(table, circuit)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    cases = _cases()
    first_name, first_source, first_circuit = cases[0]
    _run(first_source, first_circuit)
    print(f"cold first call ({first_name}, imports included): {time.perf_counter() - start:.2f} s")
    print(f"\n{'file':36} {'points':>6} {'best s':>7} {'median':>7}  weighting  reliable")
    worst = 0.0
    for name, source, circuit in cases:
        times, result = [], None
        for _ in range(args.rounds):
            begin = time.perf_counter()
            result = _run(source, circuit)
            times.append(time.perf_counter() - begin)
        worst = max(worst, max(times))
        print(
            f"{name:36} {result.n_points:>6} {min(times):7.3f} {statistics.median(times):7.3f}"
            f"  {result.weighting:9}  {result.reliable}"
        )
    verdict = "meets" if worst < TARGET_S else "MISSES"
    print(f"\nslowest warm run {worst:.3f} s: {verdict} the {TARGET_S:g} s target per file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
