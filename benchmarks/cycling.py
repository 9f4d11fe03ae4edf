"""Long-cycling speed: Kiln against the bare fastnda read, navani and cellpy.

Usage (from the repo root):
    .venv/bin/python benchmarks/cycling.py [--file PATH.ndax] [--cycles 500] [--rows 1000000]
        [--rounds 5] [--repeat 1] [--skip navani,cellpy2] [--json OUT.json]

Without --file it builds (once, cached under var/bench/) a Neware .ndax of 500 cycles and about
a million rows from the nw4 fixture (benchmarks/long_ndax.py says how, and checks it reads back
through fastnda and NewareNDA on every run, cached or not). The nw4 fixture is read from the
shared testdata folder (KILN_TESTDATA, default ../shared/testdata, its cyclers/); without it the
script prints one line and exits 2. Each contender runs in a fresh subprocess that imports its
library, warms up on the nw4 fixture (18,700 rows), then times its work on the long file
(imports and warm-up excluded) and reports the process's peak RSS (getrusage ru_maxrss:
interpreter and libraries included, the same way for every contender). The contenders run in
--rounds interleaved rounds of fresh processes (--repeat timed runs in each), so a busy spell on
the machine hits all of them; the table gives the best and the median time, the largest RSS.

- kiln: read_cycler_file (fastnda + normalised table) + cycle_summary + voltage_fade +
  dqdv_analysis, on Kiln's own .venv;
- job: a worker's whole path for the uploaded file, its four default jobs run one after the
  other (parse, Parquet cache, analyses, results stored: benchmarks/cycling_job.py), on
  Kiln's .venv and its own PostgreSQL database; only the jobs are timed;
- fastnda: the bare fastnda.read of the same file (the floor), on Kiln's .venv;
- navani: echem_file_loader + cycle_summary; cellpy: cellpy.get(instrument="neware_nda",
  cycle_mode="cathode") whose summary is built on load. Their numpy/pandas pins clash with
  Kiln's, so each is pip-installed (pinned) into its own venv under var/bench-venvs/ on first
  run: cellpy 1 on the same Python as Kiln, cellpy 2 (needs Python >= 3.13) where one is found.

Then it prints the ratios: of the best runs (issue 5's targets: >= 3x faster than navani and
cellpy, within 2x of the bare read) and, for issue 12, the median over the rounds of same-round
pairs (Kiln <= 1.3x the bare read, the job's path <= 1.5x, >= 4x faster than navani and
cellpy); Kiln's peak memory growth over its warm-up against the normalised table's size (goal
<= 3x); and compares per-cycle capacities on a few cycles: navani and cellpy keep one step's
(or one half cycle's) maximum, so they under-count charges split into CC + CV steps
(REFERENCE.md); the difference is reported, not failed on."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENVS = REPO / "var" / "bench-venvs"
ACTIVE_MASS_MG = 10.0  # any positive mass: it only scales the specific columns
CHECK_CYCLES = (1, 2, 3, 100, 250, 500)

# name -> (pip requirement, minimum Python); None: runs on Kiln's own .venv
CONTENDERS: dict[str, tuple[str, tuple[int, int]] | None] = {
    "fastnda": None,
    "kiln": None,
    "job": None,
    "navani": ("navani==0.1.22", (3, 10)),
    "cellpy": ("cellpy==1.0.3", (3, 11)),
    "cellpy2": ("cellpy==2.1.5.post10", (3, 13)),
}


# --- workers: run inside the contender's own interpreter, stdlib-only at import ----------


def _status_mib(field: str) -> float | None:
    """VmRSS (now) or VmHWM (peak since the last reset) from /proc/self/status; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Restart VmHWM from the current RSS (Linux >= 4.0: "5" into clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _work_kiln(path: str) -> dict:
    sys.path.insert(0, str(REPO))
    from characterization.analysis.cycling import cycle_summary
    from characterization.analysis.dqdv import dqdv_analysis
    from characterization.analysis.fade import voltage_fade
    from characterization.parsers import read_cycler_file

    phases, start = {}, time.perf_counter()
    table = read_cycler_file(path).table
    phases["parse"], start = time.perf_counter() - start, time.perf_counter()
    summary = cycle_summary(table, active_mass_mg=ACTIVE_MASS_MG)
    voltage_fade(summary)
    phases["summary"], start = time.perf_counter() - start, time.perf_counter()
    curves = dqdv_analysis(table, active_mass_mg=ACTIVE_MASS_MG).curves
    phases["dqdv"] = time.perf_counter() - start
    caps = summary.set_index("cycle")[["charge_capacity_mah", "discharge_capacity_mah"]]
    extra = {"dqdv_half_cycles": int(curves.groupby(["cycle", "direction"]).ngroups),
             "table_mib": float(table.memory_usage(deep=True).sum()) / 2**20}  # fmt: skip
    return {"phases": phases, "rows": len(table), "caps": caps, **extra}


def _work_job(path: str) -> dict:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from cycling_job import work_job

    return work_job(path)


def _work_fastnda(path: str) -> dict:
    import fastnda

    start = time.perf_counter()
    df = fastnda.read(path)
    cycles = df["cycle_count"].n_unique()
    return {"phases": {"read": time.perf_counter() - start}, "rows": len(df), "cycles": cycles}


def _work_navani(path: str) -> dict:
    import navani.echem as ec

    start = time.perf_counter()
    df = ec.echem_file_loader(path)
    phases, start = {"load": time.perf_counter() - start}, time.perf_counter()
    summary = ec.cycle_summary(df)
    phases["summary"] = time.perf_counter() - start
    caps = summary[["Charge Capacity", "Discharge Capacity"]]  # mAh, max per half cycle
    return {"phases": phases, "rows": len(df), "caps": caps}


def _work_cellpy(path: str) -> dict:
    import cellpy

    start = time.perf_counter()
    cell = cellpy.get(path, instrument="neware_nda", cycle_mode="cathode", mass=ACTIVE_MASS_MG)
    summary = cell.data.summary
    phases = {"load+summary": time.perf_counter() - start}
    for label in ("cycle_num", "cycle_index"):  # cellpy 2 has a column, cellpy 1 the index
        if label in summary.columns:
            summary = summary.set_index(label)
            break
    # "charge_capacity" holds the file's mAh in cellpy 1 and 2 (cellpy 1's *_absolute columns
    # are 1000x, as it takes the raw unit for Ah); one step's value per cycle.
    caps = summary[["charge_capacity", "discharge_capacity"]]
    return {"phases": phases, "rows": len(cell.data.raw), "caps": caps}


WORKERS = {
    "kiln": _work_kiln,
    "job": _work_job,
    "fastnda": _work_fastnda,
    "navani": _work_navani,
    "cellpy": _work_cellpy,
    "cellpy2": _work_cellpy,
}
LIBRARY = {"kiln": "fastnda", "job": "fastnda", "fastnda": "fastnda", "navani": "navani"}


def run_worker(name: str, path: str, repeat: int, warmup: str) -> None:
    """Import, warm up on the nw4 fixture (`warmup`), time `repeat` runs; print one JSON line."""
    import warnings
    from importlib.metadata import version

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    work = WORKERS[name]
    work(warmup)
    warmup_s, rss_warm = time.perf_counter() - start, _rss_mib()
    # the work's own peak: the process's peak is restarted from what it holds now, after the
    # imports and the warm-up (allocators keep their arenas, so ru_maxrss alone hides it)
    before = _status_mib("VmRSS") if _reset_peak() else None
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = work(path)
        took = time.perf_counter() - start
        runs.append((result.pop("timed_s", took), result))  # the job: its runs alone
    best = min(runs, key=lambda run: run[0])
    caps = best[1].pop("caps", None)
    if caps is not None:
        caps.index = caps.index.astype(float).astype(int)
        caps = caps[~caps.index.duplicated()].fillna(0.0)
        best[1]["caps"] = {str(c): [float(x) for x in row] for c, row in caps.iterrows()}
        best[1]["cycles"] = int(len(caps))
    out = {
        "name": name,
        "version": ("fastnda " if name in ("kiln", "job") else "")
        + version(LIBRARY.get(name, "cellpy")),
        "python": ".".join(map(str, sys.version_info[:3])),
        "times_s": [run[0] for run in runs],
        "best_s": best[0],
        "warmup_s": warmup_s,
        "rss_after_warmup_mib": rss_warm,
        "peak_rss_mib": _rss_mib(),
        # what the timed work added to the peak the warm-up (imports, small file) had reached
        "peak_growth_mib": (_status_mib("VmHWM") - before) if before is not None else None,
        **best[1],
    }
    print("BENCH-JSON " + json.dumps(out))


# --- orchestration (Kiln's .venv) ----------------------------------------------------------


def python_at_least(minimum: tuple[int, int]) -> str | None:
    """An interpreter >= minimum: Kiln's base Python, else python3.N on PATH or under pyenv."""
    base = getattr(sys, "_base_executable", sys.executable)
    candidates = [base] + [f"python3.{minor}" for minor in range(14, minimum[1] - 1, -1)]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob("3.*/bin/python3"))[::-1]
    for candidate in candidates:
        exe = shutil.which(candidate) or candidate
        try:
            got = subprocess.run(
                [exe, "-c", "import sys; print(*sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.split()
        except (OSError, subprocess.SubprocessError):
            continue  # e.g. a pyenv shim for a version not activated here
        if tuple(map(int, got)) >= minimum:
            return exe
    return None


def ensure_venv(name: str, requirement: str, minimum: tuple[int, int]) -> Path:
    """var/bench-venvs/<name> with `requirement` installed (once); its python."""
    venv = VENVS / name
    python, marker = venv / "bin" / "python", venv / ".kiln-bench-requirement"
    if python.exists() and marker.exists() and marker.read_text() == requirement:
        return python
    base = python_at_least(minimum)
    if base is None:
        raise RuntimeError(f"no Python >= {'.'.join(map(str, minimum))} found")
    shutil.rmtree(venv, ignore_errors=True)
    print(f"  installing {requirement} into {venv.relative_to(REPO)} ...", flush=True)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    log = VENVS / f"{name}.pip.log"
    with log.open("w") as out:
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", requirement], stdout=out, stderr=out
        )
    if done.returncode:
        raise RuntimeError(f"pip install {requirement} failed, see {log.relative_to(REPO)}")
    marker.write_text(requirement)
    return python


def run_contender(
    name: str, python: Path | str, path: Path, repeat: int, warmup: Path, env: dict | None = None
) -> dict:
    cmd = [str(python), str(Path(__file__).resolve()), "--worker", name, "--file", str(path)]
    cmd += ["--warmup", str(warmup), "--repeat", str(repeat)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=REPO, env=env)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-JSON "):
            return json.loads(line.removeprefix("BENCH-JSON "))
    tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    raise RuntimeError(f"exit {done.returncode}: {tail}")


def prepare(skip: list[str]) -> tuple[dict[str, str], dict[str, dict]]:
    """The interpreter of every contender not skipped (installing venvs); failures apart."""
    pythons, failed = {}, {}
    for name, env in CONTENDERS.items():
        if name in skip:
            continue
        try:
            pythons[name] = sys.executable if env is None else str(ensure_venv(name, *env))
        except (RuntimeError, subprocess.SubprocessError) as exc:
            failed[name] = {"error": str(exc)}
    return pythons, failed


def job_environment(pythons: dict, results: dict, var_dir: Path) -> dict[str, dict]:
    """The job contender's settings, after creating its database; without PostgreSQL it is
    reported as failed and the others run."""
    if "job" not in pythons:
        return {}
    from cycling_job import environment, prepare_database

    try:
        prepare_database(var_dir)
    except Exception as exc:  # noqa: BLE001 - no server, no rights: say so, run the rest
        results["job"] = {"error": f"no database for the job's path: {exc}"}
        del pythons["job"]
        return {}
    return {"job": environment(var_dir)}


def merge_runs(runs: list[dict]) -> dict:
    """One contender's processes: the fastest run's figures, every time, the largest peak RSS."""
    best = min(runs, key=lambda run: run["best_s"])
    times = [t for run in runs for t in run["times_s"]]
    return {
        **best,
        "times_s": times,
        "median_s": statistics.median(times),
        "peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
    }


def long_file(args: argparse.Namespace) -> tuple[Path, dict | None]:
    if args.file:
        return args.file, None
    sys.path.insert(0, str(REPO / "benchmarks"))
    from long_ndax import default_path, ensure_long_ndax

    cached = default_path(args.cycles, args.rows).exists()
    start = time.perf_counter()
    built = ensure_long_ndax(args.cycles, args.rows)  # read back through both readers, always
    took = time.perf_counter() - start
    print(
        f"file: {built.path.relative_to(REPO)} ({built.path.stat().st_size / 2**20:.1f} MiB, "
        f"{built.rows:,} rows, {built.cycles} cycles, a row every {built.interval_ms} ms; "
        f"{'cached' if cached else 'built'}, read back and checked in {took:.1f} s)"
    )
    for reader, check in built.verification.items():
        print(
            f"  read back by {reader}: {check['rows']:,} rows, {check['cycles']} cycles, "
            f"per-cycle capacity within {check['max_rel_diff_vs_generator']:.1e} (relative) "
            "of the generator's"
        )
    return built.path, built.expected


def print_table(results: dict[str, dict]) -> None:
    print(
        f"\n{'contender':<10}{'version':<15}{'py':<8}{'rows':>10}{'cycles':>7}"
        f"{'best s':>9}{'median':>9}{'peak RSS':>10}  phases of the best run (s)"
    )
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<10}failed: {r['error']}")
            continue
        phases = ", ".join(f"{k} {v:.2f}" for k, v in r["phases"].items())
        print(
            f"{name:<10}{r['version']:<15}{r['python']:<8}{r['rows']:>10,}{r['cycles']:>7}"
            f"{r['best_s']:>9.2f}{r['median_s']:>9.2f}{r['peak_rss_mib']:>7.0f} MiB  {phases}"
        )


def print_ratios(results: dict[str, dict]) -> None:
    ok = {name: r for name, r in results.items() if "error" not in r}
    kiln = ok.get("kiln")
    if not kiln:
        return
    print("\nratios (best wall time; Kiln does parse + summary + fade + dQ/dV, the others less):")
    like = kiln["best_s"] - kiln["phases"]["dqdv"]
    for name in ("navani", "cellpy", "cellpy2"):
        if name in ok:
            r = ok[name]
            verdict = "meets" if r["best_s"] / kiln["best_s"] >= 3 else "MISSES"
            print(
                f"  Kiln vs {name:<8} {r['best_s'] / kiln['best_s']:5.1f}x faster "
                f"({verdict} >= 3x; without dQ/dV {r['best_s'] / like:.1f}x), "
                f"peak RSS Kiln/{name} {kiln['peak_rss_mib'] / r['peak_rss_mib']:.2f}"
            )
    if "fastnda" in ok:
        floor = ok["fastnda"]
        ratio = kiln["best_s"] / floor["best_s"]
        verdict = "meets" if ratio <= 2 else "MISSES"
        print(
            f"  Kiln vs bare fastnda.read: {ratio:.1f}x the floor ({verdict} <= 2x; "
            f"parse alone {kiln['phases']['parse'] / floor['best_s']:.1f}x, parse + summary "
            f"{like / floor['best_s']:.1f}x), peak RSS Kiln/fastnda "
            f"{kiln['peak_rss_mib'] / floor['peak_rss_mib']:.2f}"
        )


def print_paired(runs: dict[str, list[dict]]) -> None:
    """Ratios within each round (the contenders of one round ran minutes apart at most, so a
    busy spell on the machine weighs on both sides): median over the rounds, and the range."""
    kiln = runs.get("kiln", [])
    if not kiln:
        return
    print(f"\nsame-round pairs (median of {len(kiln)} rounds, [lowest, highest]):")
    # label -> (slower side, faster side, goal, whether the goal is a ceiling, wording)
    pairs = {
        "bare fastnda.read / Kiln  (goal: Kiln <= 1.3x the floor)":
            ("kiln", "fastnda", 1.3, True, "Kiln is"),
        "bare fastnda.read / job's path (goal: <= 1.5x the floor)":
            ("job", "fastnda", 1.5, True, "the job is"),
        **{f"{n} / Kiln (goal: >= 4x)": (n, "kiln", 4.0, False, "Kiln faster")
           for n in ("navani", "cellpy", "cellpy2")},
    }  # fmt: skip
    for label, (slower, faster, goal, ceiling, text) in pairs.items():
        top, bottom = runs.get(slower, []), runs.get(faster, [])
        if not top or len(top) != len(bottom):
            continue
        ratios = [t["best_s"] / b["best_s"] for t, b in zip(top, bottom, strict=True)]
        median = statistics.median(ratios)
        verdict = "meets" if (median <= goal if ceiling else median >= goal) else "MISSES"
        print(f"  {label:<52} {text} {median:.2f}x "
              f"[{min(ratios):.2f}, {max(ratios):.2f}]  {verdict}")  # fmt: skip


def print_memory(results: dict[str, dict]) -> None:
    """Issue 12's "peak memory <= 3x the normalised table", read two ways: the process's whole
    peak RSS (interpreter, libraries and fastnda's own frame included) and what the timed work
    peaked at over what the process held before it (/proc: VmHWM after resetting it, minus
    VmRSS; allocators keep their arenas, so ru_maxrss alone hides the work's own peak)."""
    kiln = results.get("kiln", {})
    if "table_mib" not in kiln:
        return
    table, peak, growth = kiln["table_mib"], kiln["peak_rss_mib"], kiln["peak_growth_mib"]
    if growth is None:
        growth = float("nan")  # no /proc: only the whole peak is known
    print(f"\nmemory (goal: peak <= 3x the normalised table, {table:.1f} MiB here): Kiln's peak "
          f"RSS {peak:.0f} MiB = {peak / table:.1f}x ({'meets' if peak <= 3 * table else 'MISSES'}"
          f"); its work's own peak over what the process held before it {growth:.0f} MiB = "
          f"{growth / table:.1f}x ({'meets' if growth <= 3 * table else 'MISSES'})")  # fmt: skip
    floor = results.get("fastnda", {})
    if "peak_rss_mib" in floor:
        growth = floor["peak_growth_mib"] or float("nan")
        print(f"  the bare fastnda.read: peak RSS {floor['peak_rss_mib']:.0f} MiB, its work's own "
              f"peak {growth:.0f} MiB")  # fmt: skip


def print_agreement(results: dict[str, dict], expected: dict | None) -> None:
    kiln = results.get("kiln", {}).get("caps")
    if not kiln:
        return
    print("\nper-cycle capacity, mAh (charge / discharge); others as % difference from Kiln:")
    others = [n for n in ("navani", "cellpy", "cellpy2") if results.get(n, {}).get("caps")]
    header = f"  {'cycle':>5}  {'Kiln':>19}" + (f"  {'generator':>10}" if expected else "")
    print(header + "".join(f"  {n:>17}" for n in others))
    for cycle in [str(c) for c in CHECK_CYCLES if str(c) in kiln]:
        charge, discharge = kiln[cycle]
        line = f"  {cycle:>5}  {charge:>9.5f} / {discharge:<7.5f}"
        if expected:
            worst = _worst_rel(kiln[cycle], expected[cycle])
            line += f"  {'= ' if worst < 1e-4 else '!='}{worst:8.1e}"
        for name in others:
            other = results[name]["caps"].get(cycle)
            diffs = _pct(other, kiln[cycle]) if other else None
            line += f"  {diffs[0]:+7.2f}% /{diffs[1]:+6.2f}%" if diffs else f"  {'(none)':>17}"
        print(line)
    if expected:
        worst = max(_worst_rel(kiln[c], expected[c]) for c in expected if c in kiln)
        print(f"  Kiln vs generator, all {len(expected)} cycles: within {worst:.1e} (relative)")
    for name in others:
        common = [c for c in kiln if c in results[name]["caps"] and kiln[c][0] and kiln[c][1]]
        pcts = [_pct(results[name]["caps"][c], kiln[c]) for c in common]
        low = [p[0] for p in pcts if abs(p[0]) > 0.5]
        low_text = f", by {min(low):+.1f}% to {max(low):+.1f}%" if low else ""
        print(
            f"  {name}: on the {len(common)} cycles both report, charge differs by > 0.5 % "
            f"on {len(low)}{low_text}; discharge within "
            f"{max(abs(p[1]) for p in pcts):.3f}%"
        )
    print(
        "  (navani and cellpy keep one step's or half cycle's maximum, so a charge split into "
        "CC + CV\n   steps comes out low; Kiln sums the steps, as NewareNDA/fastnda do)"
    )


def _pct(other: list[float], kiln: list[float]) -> list[float]:
    return [100 * (o - k) / k if k else float("nan") for o, k in zip(other, kiln, strict=True)]


def _worst_rel(got: list[float], want: list[float]) -> float:
    return max(abs(g - w) / w if w else abs(g) for g, w in zip(got, want, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, help="a Neware .ndax to use instead of building")
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per contender")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs in each process")
    parser.add_argument("--skip", default="", help="comma-separated contenders to leave out")
    parser.add_argument("--json", type=Path, help="also write all figures to this file")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--warmup", help=argparse.SUPPRESS)  # the orchestrator's source_file()
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker, str(args.file), args.repeat, args.warmup)
        return 0

    sys.path.insert(0, str(REPO / "benchmarks"))
    from long_ndax import source_file

    warmup = source_file()  # the nw4 fixture under KILN_TESTDATA; missing: one line, exit 2

    path, expected = long_file(args)
    path.read_bytes()  # warm the page cache, so no contender pays for the first disk read
    pythons, results = prepare(args.skip.split(","))
    with tempfile.TemporaryDirectory(prefix="kiln-bench-job-") as var_dir:
        envs = job_environment(pythons, results, Path(var_dir))
        runs: dict[str, list[dict]] = {name: [] for name in pythons}
        for round_no in range(1, args.rounds + 1):  # interleaved: a busy spell hits everyone
            print(f"round {round_no}/{args.rounds}: {', '.join(runs)}", flush=True)
            for name in list(runs):
                try:
                    runs[name].append(run_contender(
                        name, pythons[name], path, args.repeat, warmup, envs.get(name)
                    ))  # fmt: skip
                except (RuntimeError, subprocess.SubprocessError) as exc:
                    results[name] = {"error": str(exc)}
                    del runs[name]
        if "job" in envs:
            from cycling_job import drop_database

            drop_database()
    results |= {name: merge_runs(done) for name, done in runs.items()}
    results = {name: results[name] for name in CONTENDERS if name in results}
    load = os.getloadavg()[0]
    print(
        f"(load average {load:.1f} on {os.cpu_count()} cores at the end; other work on the "
        "machine slows every contender)"
    )
    print_table(results)
    print_ratios(results)
    print_paired(runs)
    print_memory(results)
    print_agreement(results, expected)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
