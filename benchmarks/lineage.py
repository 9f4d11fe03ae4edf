"""The lineage as the pages and the API read it (issue 12 goal 4): a lineage that fans out and
merges, inside 100,000 other samples, on PostgreSQL.

Usage: python benchmarks/lineage.py [--samples 100000] [--repeat 30] [--keep]
BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kiln_bench_lineage) is dropped,
created and filled on each run: benchmarks/api_samples.py's 100,000 samples, then

    lot A (shared) ──┬─> 200 powders (each also from one of 10 lots B: a merge) ─┐
    lots B1..B10 ────┘    20 blends, each made from 2 of the 200 powders (merges) │
    powder P (one of the 200) -> 10 electrode sheets -> 300 coin cells -> 300 measurements

For the sample pages of lot A (830 descendants), powder P (its 300 cells) and one cell (up
through the merges), and for the API's lineage and `?ancestor=` list, it prints the median
and p90 wall time of one request (Django's test client, signed in, in-process: every query the
page makes, rendering included), the SQL queries, the samples the answer holds and its size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_bench_lineage")
import api_samples as base  # noqa: E402  (the 100,000 background samples)

POWDERS, BLENDS, SHEETS, CELLS_PER_SHEET = 200, 20, 10, 30


def fan_out(user) -> dict[str, str]:
    """The lineage above; returns the codes of lot A, powder P and one of P's cells."""
    from lims.models import Sample, SampleEdge

    def samples(kind: str, names: list[str]) -> list[Sample]:
        return Sample.objects.bulk_create(
            Sample(code=f"FAN-{kind[:3].upper()}-{i:04d}", kind=kind, name=name, owner=user)
            for i, name in enumerate(names)
        )

    def link(pairs, role: str, amount=None, unit: str = "") -> None:
        SampleEdge.objects.bulk_create(
            SampleEdge(parent=p, child=c, role=role, amount=amount, amount_unit=unit)
            for p, c in pairs
        )

    lot_a, *lots_b = samples("reagent", ["lot A (shared)", *(f"lot B{i}" for i in range(10))])
    powders = samples("cathode", [f"fan powder {i}" for i in range(POWDERS)])
    link([(lot_a, p) for p in powders], "reagent", 2.0, "g")
    link([(lots_b[i % 10], p) for i, p in enumerate(powders)], "reagent", 1.0, "g")
    blends = Sample.objects.bulk_create(
        Sample(code=f"FAN-BLEND-{i:03d}", kind="cathode", name=f"blend {i}", owner=user)
        for i in range(BLENDS)
    )
    link([(powders[2 * i], b) for i, b in enumerate(blends)], "derived_from", 0.5, "g")
    link([(powders[2 * i + 1], b) for i, b in enumerate(blends)], "derived_from", 0.5, "g")
    powder = powders[POWDERS // 2]
    sheets = Sample.objects.bulk_create(
        Sample(code=f"FAN-ELE-{i:03d}", kind="electrode", name=f"sheet {i}", owner=user)
        for i in range(SHEETS)
    )
    link([(powder, s) for s in sheets], "active_material", 20.0, "mg")
    cells = Sample.objects.bulk_create(
        Sample(code=f"FAN-CELL-{i:04d}", kind="cell", name=f"cell {i}", owner=user)
        for i in range(SHEETS * CELLS_PER_SHEET)
    )
    link([(sheets[i // CELLS_PER_SHEET], c) for i, c in enumerate(cells)], "component")
    measurements = Sample.objects.bulk_create(
        Sample(code=f"FAN-MEAS-{i:04d}", kind="measurement", name=f"cycling {i}", owner=user)
        for i in range(len(cells))
    )
    link(list(zip(cells, measurements, strict=True)), "measured_on")
    return {"lot": lot_a.code, "powder": powder.code, "cell": cells[0].code}


def setup_django() -> None:
    """As in production (DEBUG off: no query log, cached templates), migrated."""
    os.environ.update(DATABASE_URL=base.URL, DEBUG="0", DJANGO_SETTINGS_MODULE="lims.settings",
                      SECRET_KEY="bench-" + "x" * 50, ALLOWED_HOSTS="testserver",
                      SECURE_SSL_REDIRECT="0", LOG_LEVEL="WARNING")  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def measure(client, path: str, repeat: int) -> dict:
    from django.db import connection

    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    queries = []
    with connection.execute_wrapper(lambda run, sql, *args: queries.append(sql) or run(sql, *args)):
        client.get(path)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))],
            "queries": len(queries), "kib": len(response.content) / 1024}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    opts = parser.parse_args()
    base.recreate_database(base.URL)
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from lims.lineage import ancestor_depths, descendant_depths
    from lims.models import Sample

    try:
        base.fill(opts.samples)
        user = get_user_model().objects.get(username="bench")
        codes = fan_out(user)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        lot, powder = (Sample.objects.get(code=codes[k]) for k in ("lot", "powder"))
        cell = Sample.objects.get(code=codes["cell"])
        print(f"{Sample.objects.count():,} samples; lot A has {len(descendant_depths(lot.pk))} "
              f"descendants, powder P {len(descendant_depths(powder.pk))}, a cell "
              f"{len(ancestor_depths(cell.pk))} ancestors")  # fmt: skip
        client = Client()
        client.force_login(user)
        urls = {
            "sample page: lot A (fan-out)": f"/samples/{codes['lot']}/",
            "sample page: powder P (300 cells)": f"/samples/{codes['powder']}/",
            "sample page: a cell (merges above)": f"/samples/{codes['cell']}/",
            "API lineage of lot A": f"/api/v1/samples/{codes['lot']}/lineage",
            "API lineage of a cell": f"/api/v1/samples/{codes['cell']}/lineage",
            "API cells made from lot A": f"/api/v1/samples/?kind=cell&ancestor={codes['lot']}",
            "API cells made from powder P": (
                f"/api/v1/samples/?kind=cell&ancestor={codes['powder']}&limit=300"
            ),
        }
        print(f"one client in-process, {opts.repeat} requests each, after one warm-up")
        print(f"{'request':38} {'median ms':>9} {'p90 ms':>7} {'SQL':>4} {'KiB':>7}")
        for label, path in urls.items():
            got = measure(client, path, opts.repeat)
            print(f"{label:38} {got['median']:9.1f} {got['p90']:7.1f} {got['queries']:4} "
                  f"{got['kib']:7.1f}")  # fmt: skip
    finally:
        from django.db import connections

        connections.close_all()
        if not opts.keep:
            base.drop_database(base.URL)


if __name__ == "__main__":
    main()
