"""Kiln's busiest pages at a lab's real scale (issue 12): 104,000 samples, 2,000 cycled cells
with four analysis results each, gunicorn on PostgreSQL, 20 people at once.

Usage: python benchmarks/pages.py [--samples 104000] [--measured 2000] [--clients 20]
                                  [--seconds 20] [--workers 3] [--port 8766] [--keep]
                                  [--only /samples/ ...]
BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kiln_bench_pages) is dropped,
created, migrated and filled on each run, the same way every time (benchmarks/api_samples.py's
families: a reagent lot -> a powder, every 10th made by a completed batch calcined at
650-850 °C -> 2 electrode sheets -> 4 coin cells each -> a measurement each), then the first
--measured cycling measurements get a raw file and four succeeded analysis jobs with results.

Each page is loaded as a signed-in lab manager (a session cookie) by wrk, 20 connections for
--seconds after a 2 s warm-up, and the script prints per page p50/p95/p99 latency, requests per
second, the SQL queries of one request (counted in-process) and the CPU milliseconds a request
cost the gunicorn workers plus PostgreSQL ("srv cpu"). The goal: p95 < 200 ms on every page.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_bench_pages")
os.environ["SECRET_KEY"] = "bench-" + "x" * 50  # gunicorn's (base.start_gunicorn): sessions
import api_samples as base  # noqa: E402  (the data set, gunicorn and wrk helpers)

KINDS = ("cycling_summary", "first_cycle", "voltage_fade", "dqdv")


def measured_cells(user_id: int, count: int) -> str:
    """`count` cycling measurements (the first cells' measurement samples) with a raw file and
    four succeeded jobs + results each; returns a measured cell's code."""
    from django.utils import timezone

    from characterization.jobs.models import AnalysisDefinition, AnalysisJob, AnalysisResult
    from characterization.models import Measurement, MeasurementFile, RawFile
    from lims.models import Sample, SampleEdge

    edges = SampleEdge.objects.filter(role="measured_on", child__kind="measurement")
    pairs = list(edges.order_by("child_id").values_list("child_id", "parent_id")[:count])
    now = timezone.now()
    measurements = Measurement.objects.bulk_create(
        Measurement(sample_id=m, subject_id=cell, measurement_type="cycling", operator_id=user_id)
        for m, cell in pairs
    )
    files = RawFile.objects.bulk_create(
        RawFile(sha256=hashlib.sha256(f"bench {m.pk}".encode()).hexdigest(), size_bytes=1_000_000,
                original_name=f"cell_{m.pk}.ndax", detected_format="neware-ndax",
                read_state="read", uploaded_by_id=user_id)
        for m in measurements
    )  # fmt: skip
    MeasurementFile.objects.bulk_create(
        MeasurementFile(measurement=m, raw_file=f, added_by_id=user_id)
        for m, f in zip(measurements, files, strict=True)
    )
    definitions = {d.kind: d for d in AnalysisDefinition.objects.filter(kind__in=KINDS)}
    cycles = [{"cycle": n, "complete": True, "discharge_capacity_mah_g": 250.0 - 0.1 * n,
               "charge_capacity_mah_g": 252.0 - 0.1 * n, "coulombic_efficiency": 0.992}
              for n in range(1, 101)]  # fmt: skip
    summary = {"cycles": cycles}  # 100 cycles: what a cycling summary stores per cycle
    results, jobs = [], []
    for m, f in zip(measurements, files, strict=True):
        for kind in KINDS:
            key = hashlib.sha256(f"{kind} {f.sha256}".encode()).hexdigest()
            result = AnalysisResult(cache_key=key, kind=kind, kind_version=1, parser_version="1",
                                    summary=summary, input_checksums=[f.sha256])  # fmt: skip
            results.append(result)
            job = AnalysisJob(definition=definitions[kind], measurement=m, raw_file=f, kind=kind,
                              kind_version=1, cache_key=key, status="succeeded",
                              progress_percent=100, attempts=1, started_at=now, finished_at=now,
                              result=result, created_by_id=user_id)  # fmt: skip
            jobs.append(job)
    AnalysisResult.objects.bulk_create(results)
    for job in jobs:
        job.result_id = job.result.pk
    AnalysisJob.objects.bulk_create(jobs)
    return Sample.objects.get(pk=pairs[len(pairs) // 2][1]).code


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def queries_of(path: str, user) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=104_000)
    parser.add_argument("--measured", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--only", nargs="*", help="measure only pages whose label contains it")
    opts = parser.parse_args()
    base.recreate_database(base.URL)
    base.setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    data = base.fill(opts.samples)
    user = get_user_model().objects.get(username="bench")
    user.groups.set([Group.objects.get(name="lab-manager")])
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
    started = time.perf_counter()
    cell = measured_cells(user.pk, opts.measured)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"{opts.measured:,} measured cells with 4 results each in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    user.refresh_from_db()
    cookie = session_cookie(user)
    pages = {
        "/samples/": "/samples/",
        "/samples/?q= (search)": "/samples/?q=sheet%204321-",
        "sample page (a cell with results)": f"/samples/{cell}/",
        "/jobs/": "/jobs/",
        "admin samples, lineage filter": "/admin/lims/sample/?calcination_temperature_c=750",
        "API samples?kind=cell&ancestor=": f"/api/v1/samples/?kind=cell&ancestor={data['powder']}",
    }
    if opts.only:
        pages = {k: v for k, v in pages.items() if any(o in k for o in opts.only)}
    server = base.start_gunicorn(opts.port, opts.workers)
    try:
        print(
            f"{opts.clients} clients, {opts.seconds:g} s per page, gunicorn {opts.workers} "
            "sync workers on 127.0.0.1, wrk (2 threads), signed in as a lab manager"
        )
        print(f"{'page':36} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7} {'SQL':>4} "
              f"{'srv cpu':>7}")  # fmt: skip
        print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
        for label, path in pages.items():
            status, _ = base.get(opts.port, path, "", {"Cookie": cookie})
            assert status == 200, (path, status)
            header = f"Cookie: {cookie}"
            base.load_wrk(opts.port, path, "", opts.clients, 2.0, header)  # warm-up
            cpu = base.server_cpu_s(server)
            got = base.load_wrk(opts.port, path, "", opts.clients, opts.seconds, header)
            cpu = (base.server_cpu_s(server) - cpu) * 1000 / max(1, got["count"])
            print(f"{label:36} {got['p50']:7.1f} {got['p95']:7.1f} {got['p99']:7.1f} "
                  f"{got['rate']:7.1f} {queries_of(path, user):4} {cpu:7.1f}"
                  + (f"  ({got['failed']} failed)" if got["failed"] else ""))  # fmt: skip
        print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    finally:
        server.terminate()
        server.wait(10)
        from django.db import connections

        connections.close_all()
        if not opts.keep:
            base.drop_database(base.URL)


if __name__ == "__main__":
    main()
