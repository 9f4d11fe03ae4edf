"""The sample list API at scale (issue 11): 100,000 samples, gunicorn on PostgreSQL, 20 clients.

Usage: python benchmarks/api_samples.py [--samples 100000] [--clients 20] [--seconds 20]
                                        [--workers 3] [--port 8765] [--keep]
BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kiln_bench_api) is dropped,
created, migrated and filled on each run (dropped again at the end unless --keep). The data, the
same on every run: families of a reagent lot -> a cathode powder (every 5th a precursor; every
10th made by a completed batch of one of five recipes, calcined at 650-850 °C) -> 2 electrode
sheets (0.4 g of the powder each) -> 4 coin cells each -> one measurement per cell; one cell in
97 is void. 20 samples a family, one minute apart, written with COPY.

gunicorn (sync workers, DEBUG off) serves the API on 127.0.0.1; the load generator is wrk when
it is installed (Debian's `wrk`: 2 threads, --clients connections, a Lua `done` hook printing
the percentiles), else Python threads with http.client (which cost the 2-core machine more CPU
than the server: their figures are pessimistic). Each client sends the next request as soon as
the last answered, for --seconds per URL after a 2 s warm-up, with a real API token. Per
URL it prints p50/p95/p99 latency, requests per second, and the SQL queries of one request
(counted in-process through Django's test client), and the CPU milliseconds one request cost
the gunicorn workers plus the PostgreSQL backends ("srv cpu", read from /proc) and the load
generator ("cli cpu"): on a machine shared with other work the latencies follow the load
average, the CPU per request does not. The target: p95 < 100 ms on each URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_bench_api")
FAMILY = 20  # samples per family: reagent, powder, 2 electrodes, 8 cells, 8 measurements
BASE_TIME = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
TEMPERATURES_C = (650, 700, 750, 800, 850)
PREFIX = {"reagent": "RGT", "precursor": "PRE", "cathode": "CAT", "electrode": "ELE",
          "cell": "CELL", "measurement": "MEAS"}  # fmt: skip


# --- the database --------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django() -> None:
    os.environ.update(DATABASE_URL=URL, DEBUG="1", DJANGO_SETTINGS_MODULE="lims.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client's host, for counting queries


class Rows:
    """Sample and edge rows in creation order (ids from 1, one minute apart)."""

    def __init__(self, owner_id: int) -> None:
        self.owner_id = owner_id
        self.samples: list[tuple] = []
        self.edges: list[tuple] = []
        self.counters: dict[str, int] = {}

    def sample(self, kind: str, name: str, formula: str = "", mass_g=None, void=False) -> int:
        pk = len(self.samples) + 1
        self.counters[kind] = number = self.counters.get(kind, 0) + 1
        at = BASE_TIME + dt.timedelta(minutes=pk)
        voided = (at, self.owner_id, "bench: entered twice") if void else (None, None, "")
        code = f"{PREFIX[kind]}-2024-{number:06d}"
        row = (pk, code, kind, name, formula, "active", "", self.owner_id, None, at, "", mass_g)
        self.samples.append((*row, *voided))
        return pk

    def edge(self, parent: int, child: int, role: str, amount=None, unit: str = "") -> None:
        at = self.samples[child - 1][9]
        self.edges.append((len(self.edges) + 1, parent, child, role, amount, unit, at))


def family(rows: Rows, f: int) -> int:
    """One family of FAMILY samples; returns the powder's id."""
    lot = rows.sample("reagent", f"Li2CO3 lot {f}", "Li2CO3", 500.0)
    kind = "precursor" if f % 5 == 4 else "cathode"
    powder = rows.sample(kind, f"NMC811 #{f}", "LiNi0.8Mn0.1Co0.1O2", 10.0)
    rows.edge(lot, powder, "reagent", 2.0, "g")
    for e in range(2):
        sheet = rows.sample("electrode", f"sheet {f}-{e}")
        rows.edge(powder, sheet, "active_material", 400.0, "mg")
        for c in range(4):
            cell = rows.sample("cell", f"cell {f}-{e}-{c}", void=(rows.counters.get("cell", 0)
                                                                   % 97 == 96))  # fmt: skip
            rows.edge(sheet, cell, "component")
            rows.edge(cell, rows.sample("measurement", f"cycling {f}-{e}-{c}"), "measured_on")
    return powder


SAMPLE_COLUMNS = (
    "id, code, kind, name, formula, status, location, owner_id, project_id, "
    "created_at, notes, initial_mass_g, voided_at, voided_by_id, void_reason"
)
EDGE_COLUMNS = "id, parent_id, child_id, role, amount, amount_unit, created_at"


def copy_rows(table: str, columns: str, rows: list[tuple]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [len(rows)])


def fill(samples: int) -> dict:
    """Samples, edges, recipes and batches; returns what the URLs need."""
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from lims.models import Sample, SampleEdge
    from lims.token_models import TokenScope
    from lims.token_services import api_token_create
    from tests.lims.factories import UserFactory

    started = time.perf_counter()
    user = UserFactory(username="bench")
    user.groups.add(Group.objects.get(name="chemist"))
    rows = Rows(user.pk)
    powders = [family(rows, f) for f in range(samples // FAMILY)]
    with transaction.atomic():
        copy_rows(Sample._meta.db_table, SAMPLE_COLUMNS, rows.samples)
        copy_rows(SampleEdge._meta.db_table, EDGE_COLUMNS, rows.edges)
        batches(user, powders[::10])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _, key = api_token_create(user=user, name="bench", scope=TokenScope.READ, expires_at=None)
    seconds = time.perf_counter() - started
    print(f"filled {len(rows.samples):,} samples, {len(rows.edges):,} edges in {seconds:.1f} s")
    middle = Sample.objects.get(pk=powders[len(powders) // 2])
    return {"key": key, "powder": middle.code}


def batches(user, products: list[int]) -> None:
    from synthesis.models import Batch, Recipe

    recipes = Recipe.objects.bulk_create(
        Recipe(family=f"bench-{t}", name=f"NMC811 at {t} °C", kind="solid_state",
               product_name="NMC811", product_formula="LiNi0.8Mn0.1Co0.1O2")
        for t in TEMPERATURES_C
    )  # fmt: skip
    Batch.objects.bulk_create(
        Batch(code=f"B-2024-{n:04d}", recipe=recipes[n % 5], operator=user, status="completed",
              target_mass_g=10.0, calcination_temperature_c=TEMPERATURES_C[n % 5],
              product_id=pk, yield_mass_g=8.0)
        for n, pk in enumerate(products)
    )  # fmt: skip


# --- the load -------------------------------------------------------------------------------


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=URL, DEBUG="0", SECRET_KEY="bench-" + "x" * 50,
               ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="0", LOG_LEVEL="WARNING",
               PYTHONWARNINGS="ignore::UserWarning")  # fmt: skip
    command = [sys.executable, "-m", "gunicorn", "lims.wsgi:application", "--workers",
               str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, cwd=REPO, env=env)
    for _ in range(100):
        try:
            get(port, "/healthz", "")
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer on /healthz in 20 s")


def get(port: int, path: str, key: str, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        token = {"Authorization": f"Token {key}"} if key else {}
        conn.request("GET", path, headers=headers or token)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def load(port: int, path: str, key: str, clients: int, seconds: float) -> tuple[list[float], int]:
    """Latencies (ms) of the requests that answered 200 within `seconds`, and the failures."""
    latencies: list[float] = []
    failures = [0]
    deadline = time.perf_counter() + seconds

    def client() -> None:
        while (started := time.perf_counter()) < deadline:
            status, _ = get(port, path, key)
            if status == 200:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                failures[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures[0]


WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("KILN %d %d %d %d %d %d\\n", latency:percentile(50),
    latency:percentile(95), latency:percentile(99), summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, summary.duration))
end
"""


def load_wrk(
    port: int, path: str, key: str, clients: int, seconds: float, header: str = ""
) -> dict:
    """p50/p95/p99 (ms), requests per second and failures of wrk's run on `path`, sending the
    API token `key` (or `header` instead, e.g. a session cookie: benchmarks/pages.py)."""
    script = Path(os.environ.get("TMPDIR", "/tmp")) / "kiln-bench-report.lua"
    script.write_text(WRK_REPORT)
    command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "10s",
               "-s", str(script), "-H", header or f"Authorization: Token {key}",
               f"http://127.0.0.1:{port}{path}"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("KILN "))
    p50, p95, p99, count, failed, duration_us = (int(v) for v in line.split()[1:])
    return {"p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000,
            "rate": count / (duration_us / 1e6), "count": count, "failed": failed}  # fmt: skip


def load_threads(port: int, path: str, key: str, clients: int, seconds: float) -> dict:
    latencies, failed = load(port, path, key, clients, seconds)
    return {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "rate": len(latencies) / seconds,
            "count": len(latencies), "failed": failed}  # fmt: skip


def client_cpu_s() -> float:
    """CPU seconds of this process and of its finished children (wrk)."""
    import resource

    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def server_cpu_s(server: subprocess.Popen) -> float:
    """CPU seconds used so far by the gunicorn workers and the PostgreSQL backends serving the
    bench database (from /proc: what a request costs the machine, whatever else runs on it)."""
    from django.db import connection

    name = URL.rsplit("/", 1)[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s"
            " AND backend_type = 'client backend'",
            [name],
        )
        pids = {row[0] for row in cursor.fetchall()} - {connection.connection.info.backend_pid}
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    pids |= {int(pid) for pid in children.read_text().split()}
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def queries_of(path: str, key: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    client.get(path)  # the token's last use is written once a minute: not part of a page
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def deep_path(port: int, key: str, pages: int) -> str:
    """The page reached by following `next` links `pages` times from the first page."""
    path = "/api/v1/samples/"
    for _ in range(pages):
        status, body = get(port, path, key)
        assert status == 200, body[:300]
        url = urlsplit(json.loads(body)["next"])
        path = f"{url.path}?{url.query}"
    return path


def run(opts, data: dict) -> None:
    key = data["key"]
    server = start_gunicorn(opts.port, opts.workers)
    try:
        urls = {
            "first page": "/api/v1/samples/",
            f"deep page ({opts.deep} next links in)": deep_path(opts.port, key, opts.deep),
            "?kind=cell": "/api/v1/samples/?kind=cell",
            "?kind=cell&ancestor=<powder>": f"/api/v1/samples/?kind=cell&ancestor={data['powder']}",
            "?kind=cell&calcination_temperature_c=750": (
                "/api/v1/samples/?kind=cell&calcination_temperature_c=750"
            ),
        }
        use_wrk = shutil.which("wrk") is not None and not opts.python_clients
        measure = load_wrk if use_wrk else load_threads
        generator = "wrk (2 threads)" if use_wrk else "Python http.client threads"
        print(f"{opts.clients} clients, {opts.seconds:g} s per URL, gunicorn {opts.workers} "
              f"sync workers on 127.0.0.1, {generator}")  # fmt: skip
        print(f"{'URL':46} {'rows':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7} "
              f"{'SQL':>4} {'srv cpu':>7} {'cli cpu':>7}")  # fmt: skip
        print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
        for label, path in urls.items():
            status, body = get(opts.port, path, key)
            assert status == 200, body[:300]
            rows = len(json.loads(body)["results"])
            measure(opts.port, path, key, opts.clients, 2.0)  # warm-up
            cpu, client_cpu = server_cpu_s(server), client_cpu_s()
            got = measure(opts.port, path, key, opts.clients, opts.seconds)
            done = max(1, got["count"])
            cpu = (server_cpu_s(server) - cpu) * 1000 / done
            client_cpu = (client_cpu_s() - client_cpu) * 1000 / done
            print(f"{label:46} {rows:5} {got['p50']:7.1f} {got['p95']:7.1f} {got['p99']:7.1f} "
                  f"{got['rate']:7.1f} {queries_of(path, key):4} {cpu:7.1f} {client_cpu:7.1f}"
                  + (f"  ({got['failed']} failed)" if got["failed"] else ""))  # fmt: skip
        print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--deep", type=int, default=50, help="next links to follow")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--python-clients", action="store_true", help="Python threads, not wrk")
    opts = parser.parse_args()
    recreate_database(URL)
    setup_django()
    data = fill(opts.samples)
    try:
        run(opts, data)
    finally:
        from django.db import connections

        connections.close_all()
        if not opts.keep:
            drop_database(URL)


if __name__ == "__main__":
    main()
