"""A 100 MB upload through the API: how much the web process's memory grows (issue 11, speed).

Usage: python benchmarks/api_upload.py [--mb 100] [--random] [--keep]

In its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/kiln_bench_upload: dropped, created and migrated on each
run, dropped again at the end unless --keep) and its own MEDIA_ROOT (var/bench/upload-media/),
it starts gunicorn (1 sync worker, production settings, loopback), makes a chemist, a cycling
measurement and an upload-only API token, and sends POST /api/v1/measurements/<code>/files.

The file is a Neware BTSDA record-layer CSV export of --mb MiB (text, recognised as a cycler
file, so it is inspected and analysed like a real one), or --random bytes (recognised as
nothing). It is streamed from disk (a multipart body generated as it is sent, with its
Content-Length), so the client's memory does not matter; the client is this process anyway,
not the worker that is measured.

The worker's RSS (/proc/<pid>/status VmRSS; the peak from VmHWM, reset through clear_refs just
before the upload, and from sampling every 5 ms) is read before the upload, at its peak and
after. A small upload first warms the worker (imports, connections): its cold growth is printed
too. The stored file's SHA-256 is checked against the source's.

Celery: no worker runs. The web process sends the file's inspection and its analysis jobs to
Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/10) on the queue `bench-upload`, which
the script deletes at the end; the jobs stay queued in the (dropped) database.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BENCH_DIR = REPO / "var" / "bench"
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_bench_upload")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
QUEUE = "bench-upload"
MIB = 1024 * 1024
CHUNK = MIB

BTSDA_HEADER = (
    "DataPoint,Cycle Index,Step Index,Step Type,Time,Cumulative Time,Current(A),Voltage(V),"
    "Capacity(Ah),Spec. Cap.(mAh/g),Chg. Cap.(Ah),Chg. Spec. Cap.(mAh/g),DChg. Cap.(Ah),"
    "DChg. Spec. Cap.(mAh/g),Energy(Wh),Spec. Energy(mWh/g),Chg. Energy(Wh),"
    "Chg. Spec. Energy(mWh/g),DChg. Energy(Wh),DChg. Spec. Energy(mWh/g),Date,Power(W),"
    "dQ/dV(mAh/V),dQm/dV(mAh/V.g),Contact resistance(mO),Module start-stop switch\n"
)


# --- the database, Django and gunicorn (harvester_speed.py uses these too) ---------------------


def fresh_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(url: str, media: Path, queue: str) -> dict[str, str]:
    """The environment of Kiln's processes here: production settings (DEBUG off)."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": REDIS,
        "KILN_CELERY_QUEUE": queue,
        "MEDIA_ROOT": str(media),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",  # loopback, no TLS proxy in front
        "KILN_ENV_FILE": "",
        "PYTHONUNBUFFERED": "1",
    }


def setup_django(url: str, media: Path, queue: str) -> None:
    os.environ.update(server_env(url, media, queue), DJANGO_SETTINGS_MODULE="lims.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def delete_queue(queue: str) -> int:
    """Drop what the web processes sent to the bench queue (no worker ran); how many."""
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        waiting = client.llen(queue)
        client.delete(queue)
        return waiting
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn lims.wsgi on a free loopback port, in its own process group."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.env, self.workers, self.log_path = env, workers, log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        cmd = [sys.executable, "-m", "gunicorn", "lims.wsgi", "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(self.workers), "--worker-class", "sync",
               "--timeout", "300"]  # fmt: skip
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                answered = requests.get(f"{self.url}/healthz", timeout=10).status_code < 500
                if answered and len(self.worker_pids()) == self.workers:
                    return self
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"gunicorn not answering after 60 s:\n{self.log()}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def worker_pids(self) -> list[int]:
        pid = self.proc.pid
        with contextlib.suppress(OSError):
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
            return [int(p) for p in text.split()]
        return []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


# --- memory of a process -------------------------------------------------------------------------


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """The largest VmRSS of `pid` seen while running (every `every_s`)."""

    def __init__(self, pid: int, every_s: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s = pid, every_s
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            with contextlib.suppress(OSError, KeyError):
                self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            time.sleep(self.every_s)


# --- the file and the request --------------------------------------------------------------------


def btsda_rows(start: int = 1) -> Iterator[str]:
    """Rows of a Neware BTSDA record-layer export: formation-like cycles of 10-s records (CC
    charge to 4.3 V, rest, CC discharge to 2.5 V, rest), capacities accumulating per step."""
    point, cycle, step, seconds = start, 1, 1, 0
    t0 = 1_652_890_000
    while True:
        for kind, current_a, span in (("CC_Chg", 0.0005, 1700), ("Rest", 0.0, 30),
                                      ("CC_DChg", -0.0005, 1650), ("Rest", 0.0, 30)):  # fmt: skip
            for i in range(span):
                frac = i / span
                if kind == "CC_Chg":
                    volts = 3.4 + 0.9 * frac**0.6
                elif kind == "CC_DChg":
                    volts = 4.2 - 1.7 * frac**1.6
                else:
                    volts = 3.9
                cap = abs(current_a) * i * 10 / 3600
                chg = cap if current_a > 0 else 0.0
                dchg = cap if current_a < 0 else 0.0
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + seconds))
                h, rem = divmod(i * 10, 3600)
                hh, rem2 = divmod(seconds, 3600)
                yield (
                    f"{point},{cycle},{step},{kind},{h:02d}:{rem // 60:02d}:{rem % 60:02d},"
                    f"{hh:02d}:{rem2 // 60:02d}:{rem2 % 60:02d},{current_a:.8f},{volts:.4f},"
                    f"{cap:.8f},{cap * 1e3 / 0.012:.2f},{chg:.8f},{chg * 1e3 / 0.012:.2f},"
                    f"{dchg:.8f},{dchg * 1e3 / 0.012:.2f},{cap * volts:.8f},"
                    f"{cap * volts * 1e3 / 0.012:.2f},{chg * volts:.8f},"
                    f"{chg * volts * 1e3 / 0.012:.2f},{dchg * volts:.8f},"
                    f"{dchg * volts * 1e3 / 0.012:.2f},{when},{current_a * volts:.8f},"
                    f"0.0000,0.0000,0,Close\n"
                )
                point += 1
                seconds += 10
            step += 1
        cycle += 1


def make_file(path: Path, size_bytes: int, random_bytes: bool) -> None:
    """A file of at least `size_bytes` (a CSV ends at a whole row); cached under var/bench/."""
    if path.exists() and path.stat().st_size >= size_bytes:
        return
    tmp = path.with_suffix(".part")
    with tmp.open("wb") as out:
        if random_bytes:
            left = size_bytes
            while left > 0:
                out.write(os.urandom(min(CHUNK, left)))
                left -= CHUNK
        else:
            out.write(BTSDA_HEADER.encode())
            rows, written = btsda_rows(), len(BTSDA_HEADER)
            while written < size_bytes:
                block = "".join(next(rows) for _ in range(2000)).encode()
                out.write(block)
                written += len(block)
    tmp.replace(path)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class StreamedMultipart:
    """multipart/form-data read from disk as it is sent: `fields`, then the file under
    `file_field` (requests sends an iterable with a length with a Content-Length)."""

    def __init__(self, file_field: str, path: Path, fields: dict[str, str] | None = None) -> None:
        boundary = f"bench-{uuid.uuid4().hex}"
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in (fields or {}).items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        self.head, self.tail = head.encode(), f"\r\n--{boundary}--\r\n".encode()
        self.path, self.size = path, path.stat().st_size

    def __len__(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        with self.path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
        yield self.tail


# --- the benchmark -------------------------------------------------------------------------------


def fixtures() -> tuple[str, str]:
    """A chemist's cycling measurement (on a powder) and the chemist's upload-only token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from characterization.jobs.seed import analysis_definitions_seed
    from characterization.models import MeasurementType
    from characterization.services import measurement_record
    from lims.services import sample_register
    from lims.token_models import TokenScope
    from lims.token_services import api_token_create

    analysis_definitions_seed()
    user = get_user_model().objects.create_user("bench-chemist")
    user.groups.add(Group.objects.get(name="chemist"))
    powder = sample_register(kind="cathode", name="bench powder", formula="LiNiO2", owner=user)
    measurement = measurement_record(
        subject=powder, measurement_type=MeasurementType.CYCLING, operator=user,
        instrument="Neware CT-4008",
    ).measurement  # fmt: skip
    _, key = api_token_create(user=user, name="bench PC", scope=TokenScope.UPLOAD, expires_at=None)
    return measurement.sample.code, key


def upload(server: Gunicorn, code: str, key: str, path: Path, pid: int) -> dict:
    """Send `path` and measure the worker: RSS before, peak, after (kB), seconds, the answer."""
    body = StreamedMultipart("files", path)
    before = status_kb(pid, "VmRSS")
    hwm_reset = reset_peak(pid)
    sampler = RssSampler(pid)
    sampler.start()
    started = time.perf_counter()
    response = requests.post(
        f"{server.url}/api/v1/measurements/{code}/files",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": body.content_type},
        timeout=(10, 600),
    )
    seconds = time.perf_counter() - started
    time.sleep(0.2)  # on_commit sends done, the sampler has a last look
    sampler.stop.set()
    sampler.join()
    after = status_kb(pid, "VmRSS")
    hwm = status_kb(pid, "VmHWM")
    peak = max(sampler.peak_kb, hwm if hwm_reset else 0, after)
    if response.status_code != 201:
        raise SystemExit(f"upload refused: HTTP {response.status_code}: {response.text[:500]}")
    answer = response.json()["files"][0]
    return {"before": before, "peak": peak, "after": after, "seconds": seconds,
            "answer": answer, "hwm_reset": hwm_reset}  # fmt: skip


def report(label: str, path: Path, m: dict) -> None:
    mb = path.stat().st_size / MIB
    before, peak, after = (m[k] / 1024 for k in ("before", "peak", "after"))
    print(
        f"{label}: {path.name}, {mb:,.1f} MiB in {m['seconds']:.2f} s ({mb / m['seconds']:.0f} "
        f"MiB/s); worker RSS before {before:.1f} MiB, peak {peak:.1f} MiB, after {after:.1f} "
        f"MiB: growth at peak {peak - before:.1f} MiB, after {after - before:.1f} MiB"
    )


def check_stored(path: Path, answer: dict, source_sha: str, media: Path) -> None:
    from characterization.models import RawFile

    stored = media / "raw" / source_sha[:2] / source_sha
    stored_sha = file_sha256(stored) if stored.exists() else "(missing)"
    row = RawFile.objects.filter(sha256=source_sha).first()
    ok = answer["sha256"] == source_sha == stored_sha and row is not None
    ok = ok and row.size_bytes == path.stat().st_size == stored.stat().st_size
    size, fmt, state = (row.size_bytes, row.detected_format, row.read_state) if row else "---"
    print(
        f"  stored: sha256 {stored_sha[:16]}… {'equals' if ok else 'DIFFERS FROM'} the source's "
        f"{source_sha[:16]}…; row size {size} bytes, format {fmt!r}, state {state!r}"
    )
    if not ok:
        raise SystemExit("the stored file is not the source")


def leftovers(media: Path) -> list[str]:
    found = []
    for folder in (media / "tmp" / "uploads", media / "raw" / ".staging"):
        if folder.exists():
            found += [p.name for p in folder.iterdir()]
    return found


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--mb", type=int, default=100, help="file size in MiB (default 100)")
    args.add_argument("--random", action="store_true", help="random bytes instead of a CSV")
    args.add_argument("--keep", action="store_true", help="keep the database and media")
    opts = args.parse_args()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    kind = "random" if opts.random else "btsda"
    source = BENCH_DIR / f"upload_{kind}_{opts.mb}mib.{'bin' if opts.random else 'csv'}"
    started = time.perf_counter()
    make_file(source, opts.mb * MIB, opts.random)
    print(f"file: {source} ({source.stat().st_size:,} bytes; "
          f"{'random bytes' if opts.random else 'Neware BTSDA CSV export'}), "
          f"ready in {time.perf_counter() - started:.1f} s")  # fmt: skip
    source_sha = file_sha256(source)
    warm = BENCH_DIR / "upload_warmup.csv"
    make_file(warm, MIB, random_bytes=False)
    media = BENCH_DIR / "upload-media"
    shutil.rmtree(media, ignore_errors=True)
    fresh_database(URL)
    setup_django(URL, media, QUEUE)
    code, key = fixtures()
    from django.db import connections

    connections.close_all()
    try:
        with Gunicorn(server_env(URL, media, QUEUE), 1, BENCH_DIR / "upload-gunicorn.log") as web:
            (pid,) = web.worker_pids()
            print(f"gunicorn: 1 sync worker (pid {pid}), {web.url}; measurement {code}")
            first = upload(web, code, key, warm, pid)
            report("warm-up (cold worker)", warm, first)
            measured = upload(web, code, key, source, pid)
            report("upload", source, measured)
            print(f"  answer: {json.dumps(measured['answer'])}")
            if not measured["hwm_reset"]:
                print("  (VmHWM could not be reset: the peak is from sampling every 5 ms)")
        check_stored(source, measured["answer"], source_sha, media)
        left = leftovers(media)
        print(f"  spooled/staged files left: {len(left)} {left[:3] if left else ''}")
        growth_mb = (measured["peak"] - measured["before"]) / 1024
        verdict = "meets" if growth_mb < 20 else "MISSES"
        print(f"target: growth < 20 MB -> {growth_mb:.1f} MiB: {verdict}")
        print(f"celery: no worker; {delete_queue(QUEUE)} task message(s) on queue {QUEUE!r} in "
              f"{REDIS} deleted")  # fmt: skip
    finally:
        if not opts.keep:
            drop_database(URL)
            shutil.rmtree(media, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
