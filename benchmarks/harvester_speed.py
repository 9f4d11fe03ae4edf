"""The harvester sending 1,000 small files in one pass (issue 11, speed: under a minute).

Usage: python benchmarks/harvester_speed.py [--files 1000] [--unplaced 100] [--keep]

In its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/kiln_bench_harvest: dropped, created and migrated on each
run, dropped again at the end unless --keep) and MEDIA_ROOT (var/bench/harvest-media/), it starts
gunicorn (3 sync workers, production settings, loopback), makes a chemist (the cycler PC's
account) with an upload-only token and 40 coin cells, and writes --files small Neware BTSDA CSV
exports (2-8 KB each, all different) under a temporary cycler folder `NewareData/unit<u>-ch<c>/`:
all but --unplaced carry a cell's code in their name (placed on it), the others do not (listed
as unplaced).

Then it runs harvester/kiln_harvest.py as the PC would, in its own process, with `--once
--stable-seconds 0` (a file is sent the first time it is seen), and times:
1. the first pass: every file hashed, asked for (GET) and sent (POST);
2. a second pass with the state file: nothing sent again;
3. a pass with the state file lost: every file hashed and asked for, nothing sent again.
After each it checks that Kiln has exactly --files raw files, harvested files and versions.

Celery: no worker runs. The web processes send each new file's inspection and its measurement's
analysis jobs to Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/10) on the queue
`bench-harvest`, which the script deletes at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from api_upload import (
    BENCH_DIR,
    BTSDA_HEADER,
    REDIS,
    REPO,
    Gunicorn,
    btsda_rows,
    delete_queue,
    drop_database,
    fresh_database,
    server_env,
    setup_django,
)

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_bench_harvest")
QUEUE = "bench-harvest"
SOURCE = "neware-bench"
CELLS = 40
SCRIPT = REPO / "harvester" / "kiln_harvest.py"
PASS_LINE = re.compile(r"pass: Pass\((.*)\)")


def fixtures(cells: int) -> tuple[list[str], str]:
    """The PC's account (a chemist) and its upload-only token; `cells` coin cells' codes."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from characterization.jobs.seed import analysis_definitions_seed
    from characterization.services import DiscRow, cell_build_batch, electrode_build
    from lims.services import sample_register
    from lims.token_models import TokenScope
    from lims.token_services import api_token_create

    analysis_definitions_seed()
    user = get_user_model().objects.create_user("neware-pc")
    user.groups.add(Group.objects.get(name="chemist"))
    powder = sample_register(kind="cathode", name="bench NMC", formula="LiNiO2", owner=user)
    sheet = electrode_build(active_material=powder, made_by=user, active_mass_g=0.4,
                            solid_content_percent=40, casting_thickness_um=200,
                            foil_disc_mass_mg=4.0)  # fmt: skip
    built = cell_build_batch(
        electrode=sheet, discs=[DiscRow(12.0 + i * 0.01) for i in range(cells)], built_by=user
    )
    _, key = api_token_create(user=user, name=SOURCE, scope=TokenScope.UPLOAD, expires_at=None)
    return [cell.sample.code for cell in built], key


def write_files(folder: Path, count: int, unplaced: int, codes: list[str]) -> int:
    """`count` small BTSDA exports under folder/unit<u>-ch<c>/; the total bytes."""
    rng = random.Random(11)
    rows = btsda_rows()
    total = 0
    for i in range(count):
        channel = folder / f"unit{i % 8 + 1}-ch{i // 8 % 16 + 1}"
        channel.mkdir(parents=True, exist_ok=True)
        if i < count - unplaced:
            name = f"{codes[i % len(codes)]}_run{i:04d}_0.1C.csv"
        else:
            name = f"untitled_test_{i:04d}.csv"
        body = BTSDA_HEADER + "".join(next(rows) for _ in range(rng.randint(8, 36)))
        data = body.encode()
        (channel / name).write_bytes(data)
        total += len(data)
    return total


def harvest(
    server_url: str, token: Path, watch: Path, state: Path, extra: list[str]
) -> tuple[float, str, int]:
    """One run of the harvester (--once): seconds, its pass line, its exit status."""
    cmd = [sys.executable, str(SCRIPT), "--server", server_url, "--token-file", str(token),
           "--source", SOURCE, "--watch", str(watch), "--channel-from-folder",
           "--stable-seconds", "0", "--once", "--state", str(state), *extra]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - started
    found = PASS_LINE.findall(done.stderr)
    if done.returncode != 0 or not found:
        print(done.stderr[-3000:])
    return seconds, found[0] if found else "?", done.returncode


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def counts() -> dict[str, int]:
    from characterization.models import HarvestedFile, HarvestVersion, RawFile

    return {
        "raw files": RawFile.objects.count(),
        "harvested": HarvestedFile.objects.count(),
        "versions": HarvestVersion.objects.count(),
        "placed": HarvestedFile.objects.filter(measurement__isnull=False).count(),
    }


def line(label: str, seconds: float, files: int, passed: str, status: int, found: dict) -> None:
    print(f"{label:<26} {seconds:6.2f} s  {files / seconds:7.1f} files/s  exit {status}  "
          f"Pass({passed})")  # fmt: skip
    print(f"{'':<26} Kiln: " + ", ".join(f"{k} {v:,}" for k, v in found.items()))


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--files", type=int, default=1000)
    args.add_argument("--unplaced", type=int, default=100, help="files without a cell's code")
    args.add_argument("--keep", action="store_true", help="keep the database and media")
    args.add_argument("--parallel", type=int, default=None,
                      help="the harvester's --parallel (default: its own default)")  # fmt: skip
    opts = args.parse_args()
    extra = [] if opts.parallel is None else ["--parallel", str(opts.parallel)]
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    media = BENCH_DIR / "harvest-media"
    shutil.rmtree(media, ignore_errors=True)
    fresh_database(URL)
    setup_django(URL, media, QUEUE)
    codes, key = fixtures(CELLS)
    from django.db import connections

    connections.close_all()
    work = Path(tempfile.mkdtemp(prefix="kiln-harvest-bench-"))
    ok = True
    try:
        watch = work / "NewareData"
        size = write_files(watch, opts.files, opts.unplaced, codes)
        print(f"files: {opts.files:,} BTSDA CSV exports, {size / 1024:,.0f} KiB in all "
              f"({opts.files - opts.unplaced:,} named for one of {CELLS} cells, "
              f"{opts.unplaced:,} unplaced), under {watch}")  # fmt: skip
        token = work / "token.txt"
        token.write_text(key + "\n")
        state = work / "pc" / "state.json"
        env = server_env(URL, media, QUEUE)
        with Gunicorn(env, 3, BENCH_DIR / "harvest-gunicorn.log") as web:
            print(f"gunicorn: 3 sync workers, {web.url}; harvester: one process, --once "
                  f"{' '.join(extra)}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
            for label, lose_state in (("first pass (all new)", False),
                                      ("second pass (state kept)", False),
                                      ("pass with state lost", True)):  # fmt: skip
                if lose_state:
                    state.unlink()
                web_cpu, client_cpu = cpu_s(web.worker_pids()), children_cpu_s()
                seconds, passed, status = harvest(web.url, token, watch, state, extra)
                web_cpu = cpu_s(web.worker_pids()) - web_cpu
                client_cpu = children_cpu_s() - client_cpu
                found = counts()
                connections.close_all()
                line(label, seconds, opts.files, passed, status, found)
                print(f"{'':<26} CPU: web workers {web_cpu:.1f} s "
                      f"({web_cpu / opts.files * 1000:.1f} ms/file), harvester {client_cpu:.1f} s; "
                      f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
                exact = all(found[k] == opts.files for k in ("raw files", "harvested", "versions"))
                placed = found["placed"] == opts.files - opts.unplaced
                ok = ok and status == 0 and exact and placed
                if label.startswith("first"):
                    verdict = "meets" if seconds < 60 else "MISSES"
                    print(f"{'':<26} target: {opts.files:,} files in < 60 s: {verdict}")
        print(f"check: exactly {opts.files:,} files after every pass, none sent twice: "
              f"{'yes' if ok else 'NO'}")  # fmt: skip
        print(f"celery: no worker; {delete_queue(QUEUE)} task message(s) on queue {QUEUE!r} in "
              f"{REDIS} deleted")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not opts.keep:
            drop_database(URL)
            shutil.rmtree(media, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
