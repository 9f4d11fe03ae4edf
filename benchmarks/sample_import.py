"""Sample import speed: a file of N rows (30 % with a parent, 20 % coin cells built from an
electrode sheet), dry run then real run, with the calls the worker makes (lims.transfers:
read_table, then samples_import).

Usage: python benchmarks/sample_import.py [--rows 20000] [--rows 1000 --rows 100000] [--xlsx]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kiln_bench_import; the
database is dropped and created afresh on each run, then migrated); `--sqlite [PATH]` uses a
fresh SQLite file instead (default var/bench/sample_import.sqlite3). For each size it prints
the seconds and milliseconds per row of reading the file, the dry run and the real run, their
SQL statement counts, and checks that the dry run saved nothing and the real run every row.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_bench_import")


def fresh_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ.update(DATABASE_URL=url, DEBUG="1", DJANGO_SETTINGS_MODULE="lims.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fixtures():
    """A chemist, 100 powders (parents) and 20 electrode sheets (cells are built from them)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from characterization.services import electrode_build
    from lims.services import sample_register

    user = get_user_model().objects.create_user("bench-chemist")
    user.groups.add(Group.objects.get(name="chemist"))
    powders = [
        sample_register(kind="cathode", name=f"powder {i}", formula="Li1.2Mn0.6Ni0.2O2", owner=user)
        for i in range(100)
    ]
    sheets = [
        electrode_build(active_material=powders[i], made_by=user, active_mass_g=0.4,
                        solid_content_percent=40, casting_thickness_um=200, foil_disc_mass_mg=4.0)
        for i in range(20)
    ]  # fmt: skip
    return user, [p.code for p in powders], [e.sample.code for e in sheets]


def table(rows: int, powders: list[str], sheets: list[str], seed: int = 7) -> list[list[str]]:
    """Rows in the import columns: 20 % cells on a sheet, 30 % with a parent, the rest plain."""
    from lims.sample_import import columns

    rng = random.Random(seed)
    header = columns()
    out = []
    for i in range(rows):
        row = dict.fromkeys(header, "")
        row.update(kind=rng.choice(["cathode", "precursor", "other"]), name=f"imported {i}",
                   location=f"Box {i % 40}", notes="bench")  # fmt: skip
        draw = rng.random()
        if draw < 0.2:
            row.update(kind="cell", electrode=rng.choice(sheets),
                       disc_mass_mg=f"{rng.uniform(10, 16):.2f}")  # fmt: skip
        elif draw < 0.5:
            row["parents"] = f"{rng.choice(powders)}:derived_from"
        out.append([row[c] for c in header])
    return out


def timed(fn):
    from django.db import connection

    count = [0]

    def counting(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counting):
        started = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - started
    return value, seconds, count[0]


def run(size: int, user, powders, sheets, fmt: str) -> None:
    from lims import sample_import, tabular
    from lims.models import Sample

    rows = table(size, powders, sheets)
    if fmt == "xlsx":
        data = tabular.write_xlsx(sample_import.columns(), rows, title="samples")
    else:
        data = tabular.write_csv(sample_import.columns(), rows)
    before = Sample.objects.count()
    parsed, read_s, _ = timed(lambda: tabular.read_table(data))
    figures = [("read", read_s, 0)]
    for dry_run in (True, False):
        report, seconds, queries = timed(
            lambda dry=dry_run: sample_import.samples_import(
                rows=parsed, mode="skip", dry_run=dry, user=user
            )
        )
        assert report.ok, report.errors[:5]
        saved = Sample.objects.count() - before
        assert saved == (0 if dry_run else size), f"saved {saved} of {size} (dry run {dry_run})"
        figures.append(("dry run" if dry_run else "real run", seconds, queries))
    cells = sum(1 for r in rows if r[1] == "cell")
    print(f"\n{size:,} rows ({fmt}, {cells:,} coin cells, {len(data) / 1e6:.1f} MB)")
    for name, seconds, queries in figures:
        per_row = f"{seconds / size * 1e3:6.3f} ms/row"
        sql = f"{queries:7,} SQL ({queries / size:.2f}/row)" if name != "read" else ""
        print(f"  {name:9} {seconds:7.2f} s  {per_row}  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, action="append", help="rows per file (repeatable)")
    parser.add_argument("--xlsx", action="store_true", help="an Excel file instead of CSV")
    parser.add_argument("--sqlite", nargs="?", const=str(REPO / "var/bench/sample_import.sqlite3"),
                        help="a fresh SQLite file (this path)")  # fmt: skip
    opts = parser.parse_args()
    if opts.sqlite:
        path = Path(opts.sqlite)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        fresh_database(URL)
        url = URL
    setup_django(url)
    from django.db import connection

    user, powders, sheets = fixtures()
    vendor = connection.vendor + (
        f" {connection.pg_version}" if connection.vendor == "postgresql" else ""
    )
    print(f"database: {vendor}; {os.cpu_count()} cores")
    for size in opts.rows or [20_000]:
        run(size, user, powders, sheets, "xlsx" if opts.xlsx else "csv")


if __name__ == "__main__":
    main()
