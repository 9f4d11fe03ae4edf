"""Build a long-cycling Neware .ndax (BTS 8, ndc version 14) from the nw4 fixture.

There is no Neware writer on PyPI, so this one writes the three ndc members that fastnda and
NewareNDA read, in the layout both libraries decode (learned from their readers):

- every ndc member is a run of 4096-byte records; record 0 is a file header (copied from the
  fixture), each data record starts with u16 record type, u16 row count and a little-endian
  bitmask of the used row slots at byte 4, rows start at byte 132, unused slots are zero and
  the last 4 bytes hold the CRC-32 of bytes 0..4091 (as the instrument writes it);
- data.ndc (filetype 1): voltage V and current A as float32, 495 rows a record, row index implicit;
- data_runInfo.ndc (filetype 18): step time ms, charge/discharge capacity Ah and energy Wh
  (restarting every step), dt ms, unix time s + ms, step number and row index; 72 rows a record.
  Like the real file it is sparse: written at each step's first two rows and every 4th row
  after, and both readers integrate dt x current (x voltage) for the rows between;
- data_step.ndc (filetype 7): per step the cycle (0-based), protocol step index and step type code,
  with the step's start time (ms) and start row index in its trailing bytes; 107 rows a record.

The signal: each output cycle copies a cycle of the fixture (CC_Chg + CV_Chg + CC_DChg, 160
cycles, strong fade), chosen so the fade is spread over the requested number of cycles, and
each step is re-sampled linearly in time at a finer interval so the file holds about the
requested number of rows. Capacities and energies are the integral of the re-sampled current
(the readers' own rule), so every row agrees whether a reader takes it from runInfo or
interpolates it. The XML members, data_log.ndc and data_es.ndc are copied unchanged from the
fixture (they describe the original 2-day test; neither reader uses them for the data).

    python benchmarks/long_ndax.py [--cycles 500] [--rows 1000000] [--out PATH] [--no-verify]

The fixture is read from KILN_TESTDATA's cyclers/ folder (default <repo>/../shared/testdata).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURE = "neware_fastnda_nw4-120-1-6-53.ndax"  # in the shared cyclers/ folder: source_file()
CACHE = REPO / "var" / "bench"
BUILD_VERSION = 1  # bump when the generator changes, so cached files are rebuilt

RECORD = 4096
DATA_START = 132
RUNINFO_EVERY = 4  # runInfo row every 4th data row, as in the fixture (4769 of 18700 rows)
START_UNIX_MS = 1744022901950  # the fixture's first record

MAIN_DTYPE = np.dtype([("voltage_v", "<f4"), ("current_a", "<f4")])
RUNINFO_DTYPE = np.dtype(
    [
        ("step_time_ms", "<u4"),
        ("_pad1", "u1"),
        ("charge_ah", "<f4"),
        ("discharge_ah", "<f4"),
        ("charge_wh", "<f4"),
        ("discharge_wh", "<f4"),
        ("range", "<f4"),  # 0.01 in the fixture; neither reader uses it
        ("range_flag", "<u4"),
        ("dt_ms", "<i4"),
        ("unix_s", "<u4"),
        ("step", "<u4"),
        ("index", "<u4"),
        ("unix_ms", "<i2"),
        ("_pad3", "V8"),
    ]
)
STEP_DTYPE = np.dtype(
    [
        ("cycle", "<u4"),
        ("step_index", "<u4"),
        ("_pad1", "V16"),
        ("step_type", "u1"),
        ("start_ms", "<u4"),
        ("_pad2", "<u4"),
        ("start_index", "<u4"),
    ]
)
RECORD_TYPES = {"data.ndc": 2, "data_runInfo.ndc": 0x13, "data_step.ndc": 8}
CHARGE_TYPES = frozenset({1, 3, 7})  # CC_Chg, CV_Chg, CCCV_Chg


@dataclass(frozen=True)
class BuiltFile:
    path: Path
    rows: int
    cycles: int
    interval_ms: int
    expected: dict  # cycle label (str) -> [charge mAh, discharge mAh]: the generator's own sums
    verification: dict


def source_file() -> Path:
    """The nw4 fixture in the shared testdata folder (KILN_TESTDATA, default
    <repo>/../shared/testdata: the tests' rule, tests/testdata.py). Missing: one line, exit 2."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.testdata import testdata_path, testdata_root

    path = testdata_path("cyclers") / FIXTURE
    if not path.is_file():
        print(
            f"{Path(sys.argv[0]).name}: needs the shared instrument files in {testdata_root()} "
            f"(cyclers/{FIXTURE}); set KILN_TESTDATA to the testdata folder",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return path


def default_path(cycles: int, rows: int) -> Path:
    return CACHE / f"long_cycling_{cycles}c_{rows}r_v{BUILD_VERSION}.ndax"


def ensure_long_ndax(
    cycles: int = 500, rows: int = 1_000_000, out: Path | None = None, *, verify: bool = True
) -> BuiltFile:
    """The cached file (its sidecar JSON holds what the generator wrote) if present, else build
    and cache it; then, unless `verify` is False, read it back through fastnda and NewareNDA on
    every call (a cached file is checked again, never taken on an earlier run's word)."""
    out = out or default_path(cycles, rows)
    sidecar = out.with_suffix(".json")
    if out.exists() and sidecar.exists():
        meta = json.loads(sidecar.read_text())
        built = BuiltFile(path=out, **{**meta, "verification": {}})
    else:
        built = build_long_ndax(out, cycles=cycles, rows=rows)
        meta = {k: v for k, v in built.__dict__.items() if k not in ("path", "verification")}
        sidecar.write_text(json.dumps({**meta, "verification": {}}, indent=1))
    return verify_long_ndax(built) if verify else built


# --- the signal ----------------------------------------------------------------------------


def _source_steps() -> list[dict]:
    """The fixture's steps, in order: cycle (fastnda 'chg'), step index, type code, and the
    step's rows (step time s, voltage V, current mA)."""
    import fastnda

    raw = fastnda.read(source_file(), cycle_mode="chg", raw_categories=True)
    cols = {c: raw[c].to_numpy() for c in ("step_count", "cycle_count", "step_index")}
    cols |= {c: raw[c].to_numpy() for c in ("step_type", "step_time_s", "voltage_V")}
    current = raw["current_mA"].to_numpy()
    starts = np.flatnonzero(np.r_[True, np.diff(cols["step_count"]) != 0])
    bounds = np.r_[starts, len(raw)]
    return [
        {
            "cycle": int(cols["cycle_count"][a]),
            "step_index": int(cols["step_index"][a]),
            "step_type": int(cols["step_type"][a]),
            "t_s": cols["step_time_s"][a:b].astype(float),
            "voltage_v": cols["voltage_V"][a:b].astype(float),
            "current_ma": current[a:b].astype(float),
        }
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _cycle_plan(source_cycles: int, cycles: int) -> np.ndarray:
    """Source cycle for each output cycle: the fixture's first (formation) cycle first, then
    cycles 2..last spread evenly, so the fade runs over the whole long file."""
    rest = np.arange(cycles - 1)
    spread = 2 + (rest * (source_cycles - 1)) // max(cycles - 1, 1)
    return np.r_[1, np.minimum(spread, source_cycles)][:cycles]


def _signal(cycles: int, rows: int) -> dict:
    """Row arrays of the long file (re-sampled steps of the planned source cycles)."""
    steps = _source_steps()
    by_cycle: dict[int, list[dict]] = {}
    for step in steps:
        by_cycle.setdefault(step["cycle"], []).append(step)
    plan = _cycle_plan(max(by_cycle), cycles)
    out_steps = [(c + 1, s) for c, src in enumerate(plan) for s in by_cycle[int(src)]]
    duration_s = sum(s["t_s"][-1] for _, s in out_steps)
    interval_ms = max(1, round(1000 * duration_s / max(rows - len(out_steps), 1)))
    grids = {}  # id(step) -> (voltage, current) on the new grid, each source step once
    for _, s in out_steps:
        if id(s) not in grids:
            grid = np.arange(0.0, s["t_s"][-1] + 1e-9, interval_ms / 1000)
            grids[id(s)] = (
                np.interp(grid, s["t_s"], s["voltage_v"]).astype(np.float32),
                np.interp(grid, s["t_s"], s["current_ma"] / 1000).astype(np.float32),
            )
    lengths = np.array([len(grids[id(s)][0]) for _, s in out_steps])
    return {
        "interval_ms": interval_ms,
        "voltage_v": np.concatenate([grids[id(s)][0] for _, s in out_steps]),
        "current_a": np.concatenate([grids[id(s)][1] for _, s in out_steps]),
        "lengths": lengths,
        "cycle": np.array([c for c, _ in out_steps]),
        "step_index": np.array([s["step_index"] for _, s in out_steps]),
        "step_type": np.array([s["step_type"] for _, s in out_steps]),
    }


def _in_step(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sum of values restarting at every step (values at step starts are 0)."""
    total = np.cumsum(values)
    return total - np.repeat(total[starts] - values[starts], lengths)


# --- the ndc records -----------------------------------------------------------------------


def ndc_records(header: bytes, record_type: int, rows: np.ndarray) -> bytes:
    """An ndc member: the header record, then the rows packed densely into 4096-byte records
    with row count, slot bitmask and the trailing CRC-32."""
    per_record = (RECORD - DATA_START - 1) // rows.dtype.itemsize
    n_records = max(1, -(-len(rows) // per_record))
    counts = np.full(n_records, per_record, dtype="<u2")
    counts[-1] = len(rows) - per_record * (n_records - 1)
    buf = np.zeros((n_records, RECORD), dtype=np.uint8)
    buf[:, 0:2] = np.array([record_type], dtype="<u2").view(np.uint8)
    buf[:, 2:4] = counts.view(np.uint8).reshape(-1, 2)
    used = np.arange(per_record)[None, :] < counts[:, None]
    mask = np.packbits(used, axis=1, bitorder="little")
    buf[:, 4 : 4 + mask.shape[1]] = mask
    padded = np.zeros(n_records * per_record, dtype=rows.dtype)
    padded[: len(rows)] = rows
    end = DATA_START + per_record * rows.dtype.itemsize
    buf[:, DATA_START:end] = padded.view(np.uint8).reshape(n_records, -1)
    for record in buf:
        crc = zlib.crc32(record[: RECORD - 4].tobytes())
        record[RECORD - 4 :] = np.array([crc], dtype="<u4").view(np.uint8)
    return header[:RECORD] + buf.tobytes()


def build_long_ndax(out: Path, *, cycles: int, rows: int) -> BuiltFile:
    """Write the long .ndax to `out` (see the module doc); returns its expected figures."""
    sig = _signal(cycles, rows)
    lengths, n = sig["lengths"], int(sig["lengths"].sum())
    interval_ms, interval_s = sig["interval_ms"], sig["interval_ms"] / 1000
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    j = np.arange(n) - np.repeat(starts, lengths)  # row number within its step
    volts, amps = sig["voltage_v"].astype(float), sig["current_a"].astype(float)
    # readers integrate dt x I (x V) from the previous runInfo row: the step's first row is 0
    inc_ah = np.where(j == 0, 0.0, interval_s * amps / 3600)
    inc_wh = inc_ah * volts
    step_ms = j * interval_ms
    step_total_ms = np.r_[0, np.cumsum((lengths - 1) * interval_ms)[:-1]]
    unix_ms = START_UNIX_MS + np.repeat(step_total_ms, lengths) + step_ms

    main = np.zeros(n, MAIN_DTYPE)
    main["voltage_v"], main["current_a"] = sig["voltage_v"], sig["current_a"]

    keep = (j <= 1) | (j % RUNINFO_EVERY == 1) | np.r_[j[1:] == 0, True]
    info = np.zeros(int(keep.sum()), RUNINFO_DTYPE)
    info["step_time_ms"] = step_ms[keep]
    info["charge_ah"] = _in_step(inc_ah.clip(min=0), starts, lengths)[keep]
    info["discharge_ah"] = _in_step((-inc_ah).clip(min=0), starts, lengths)[keep]
    info["charge_wh"] = _in_step(inc_wh.clip(min=0), starts, lengths)[keep]
    info["discharge_wh"] = _in_step((-inc_wh).clip(min=0), starts, lengths)[keep]
    info["range"], info["range_flag"] = 0.01, 1
    info["dt_ms"] = np.where(j == 0, 0, interval_ms)[keep]
    info["unix_s"], info["unix_ms"] = np.divmod(unix_ms[keep], 1000)
    info["step"] = np.repeat(np.arange(1, len(lengths) + 1), lengths)[keep]
    info["index"] = np.flatnonzero(keep) + 1

    step = np.zeros(len(lengths), STEP_DTYPE)
    step["cycle"] = sig["cycle"] - 1
    step["step_index"], step["step_type"] = sig["step_index"], sig["step_type"]
    step["start_ms"], step["start_index"] = step_total_ms, starts + 1

    _write_zip(out, {"data.ndc": main, "data_runInfo.ndc": info, "data_step.ndc": step})
    return BuiltFile(
        path=out,
        rows=n,
        cycles=int(sig["cycle"].max()),
        interval_ms=interval_ms,
        expected=_expected_capacities(sig, inc_ah, lengths),
        verification={},
    )


def _expected_capacities(sig: dict, inc_ah: np.ndarray, lengths: np.ndarray) -> dict:
    """Per cycle: charge = sum over its charge steps of each step's final capacity, in mAh."""
    step_ah = np.add.reduceat(np.abs(inc_ah), np.r_[0, np.cumsum(lengths)[:-1]])
    is_charge = np.isin(sig["step_type"], list(CHARGE_TYPES))
    out: dict[str, list[float]] = {}
    for cycle, ah, charge in zip(sig["cycle"], step_ah, is_charge, strict=True):
        pair = out.setdefault(str(int(cycle)), [0.0, 0.0])
        pair[0 if charge else 1] += float(ah) * 1000
    return out


def _write_zip(out: Path, members: dict[str, np.ndarray]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    source = source_file()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            name = info.filename
            if name in members:
                data = ndc_records(src.read(name), RECORD_TYPES[name], members[name])
            else:
                data = src.read(name)
            dst.writestr(
                zipfile.ZipInfo(name, date_time=info.date_time), data, zipfile.ZIP_DEFLATED
            )
    tmp.replace(out)


# --- verification --------------------------------------------------------------------------


def verify_long_ndax(built: BuiltFile) -> BuiltFile:
    """Read the file back with fastnda and NewareNDA: row and cycle counts, and per-cycle
    capacities (sum of step maxima, the Neware rule) against the generator's own sums."""
    checks = {"fastnda": _fastnda_cycles(built.path), "NewareNDA": _newarenda_cycles(built.path)}
    expected = np.array([built.expected[str(c)] for c in range(1, built.cycles + 1)])
    report = {}
    for name, (n_rows, caps, seconds) in checks.items():
        worst = float(np.max(np.abs(caps - expected) / np.maximum(expected, 1e-12)))
        report[name] = {
            "rows": n_rows,
            "cycles": len(caps),
            "max_rel_diff_vs_generator": worst,
            "read_s": round(seconds, 2),
        }
        ok = n_rows == built.rows and len(caps) == built.cycles and worst < 1e-3
        if not ok:
            raise RuntimeError(f"{built.path.name} does not read back through {name}: {report}")
    return BuiltFile(**{**built.__dict__, "verification": report})


def _fastnda_cycles(path: Path) -> tuple[int, np.ndarray, float]:
    import fastnda
    import polars as pl

    start = time.perf_counter()
    df = fastnda.read(path, cycle_mode="chg")
    seconds = time.perf_counter() - start
    # fastnda signs capacity: + while charging, - while discharging; restarts every step
    per_step = df.group_by("cycle_count", "step_count").agg(
        pl.col("capacity_mAh").max().clip(lower_bound=0).alias("c"),
        (-pl.col("capacity_mAh").min()).clip(lower_bound=0).alias("d"),
    )
    sums = per_step.group_by("cycle_count").agg(pl.col("c", "d").sum()).sort("cycle_count")
    return len(df), sums.select("c", "d").to_numpy().astype(float), seconds


def _newarenda_cycles(path: Path) -> tuple[int, np.ndarray, float]:
    import NewareNDA

    start = time.perf_counter()
    df = NewareNDA.read(str(path), cycle_mode="chg", log_level="ERROR")
    seconds = time.perf_counter() - start
    per_step = df.groupby(["Cycle", "Step"])[
        ["Charge_Capacity(mAh)", "Discharge_Capacity(mAh)"]
    ].max()
    sums = per_step.groupby(level="Cycle").sum().sort_index()
    return len(df), sums.to_numpy().astype(float), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-verify", action="store_true")
    args = parser.parse_args(argv)
    source_file()  # before deleting anything: exits 2 without the shared files
    out = args.out or default_path(args.cycles, args.rows)
    for stale in (out, out.with_suffix(".json")):
        stale.unlink(missing_ok=True)
    start = time.perf_counter()
    built = ensure_long_ndax(args.cycles, args.rows, out, verify=not args.no_verify)
    print(
        f"built {built.path} in {time.perf_counter() - start:.1f} s: {built.rows} rows, "
        f"{built.cycles} cycles, one row every {built.interval_ms} ms"
    )
    print(json.dumps(built.verification, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
