"""Study comparison speed: 3 groups × 8 cells with every metric, on PostgreSQL.

Usage: python benchmarks/study_table.py [--cells 8] [--cycles 500] [--repeat 20]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kiln_study_bench; created
and migrated if missing). The study is built by the tests' StudyBuilder (pristine by code, LSO
by recipe, NSO by coating; per cell: formation, rate test, long cycling of --cycles cycles with
its cycling summary and voltage fade, EIS before/between/after, PITT, DEMS, DSC; per powder:
XRD, in situ XRD, Rietveld) inside a transaction that is rolled back at the end. Prints the
median time of the table read (queries + pure aggregation), of the whole page render through
Django's test client, the JSON API and the CSV export, and their query counts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_study_bench")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.update(DATABASE_URL=URL, DEBUG="1", DJANGO_SETTINGS_MODULE="lims.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client's host, in-memory mail


def timed(function, repeat: int) -> tuple[float, int]:
    """Median milliseconds over `repeat` runs, and the queries of one run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times), len(queries)


def run(cells: int, cycles: int, repeat: int) -> None:
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.test import Client, override_settings

    from characterization import study_queries
    from tests.characterization.test_study_page import StudyBuilder
    from tests.lims.factories import UserFactory

    with (
        transaction.atomic(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
    ):
        started = time.perf_counter()
        builder = StudyBuilder(long_cycles=cycles)
        builder.add_cells(cells)
        built_s = time.perf_counter() - started
        user = UserFactory(username="study-bench")
        user.groups.add(Group.objects.get(name="chemist"))
        client = Client()
        client.force_login(user)
        query = [("group", spec) for spec in builder.specs]

        def page():
            assert client.get("/study/", query).status_code == 200

        def api():
            assert client.get("/api/v1/study/", query).status_code == 200

        def export():
            assert client.get("/study/export.csv", query).status_code == 200

        def table():
            study_queries.table_data(study_queries.study_table(builder.specs))

        print(f"3 groups × {cells} cells, {cycles} long cycles; built in {built_s:.1f} s")
        for name, function in (("table read", table), ("page", page), ("API", api),
                               ("CSV export", export)):  # fmt: skip
            median_ms, queries = timed(function, repeat)
            print(f"{name:>11}: {median_ms:7.1f} ms median of {repeat}, {queries} queries")
        transaction.set_rollback(True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=8, help="cells per group")
    parser.add_argument("--cycles", type=int, default=500, help="long-cycling cycles per cell")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    ensure_database(URL)
    setup_django()
    run(args.cells, args.cycles, args.repeat)


if __name__ == "__main__":
    main()
