"""Lineage query speed on PostgreSQL with 100,000 samples in chains 8 deep.

Usage: python benchmarks/lineage.py [--samples 100000] [--depth 8] [--repeat 200]
Uses BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kiln_bench; the database is
created and migrated if missing, and filled once). Prints the median time of the ancestor and
descendant walks (one recursive CTE each), of the whole sample-page lineage read, and its
query count.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kiln_bench")


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

    call_command("migrate", verbosity=0)


def fill(samples: int, depth: int) -> None:
    from django.db import transaction

    from lims.models import Sample, SampleEdge

    if Sample.objects.count() >= samples:
        return
    chains = samples // depth
    started = time.perf_counter()
    with transaction.atomic():
        objs = [Sample(code=f"BEN-{c:06d}-{d}", kind="other", name=f"chain {c} level {d}")
                for c in range(chains) for d in range(depth)]  # fmt: skip
        created = Sample.objects.bulk_create(objs, batch_size=5000)
        edges = [SampleEdge(parent=created[c * depth + d], child=created[c * depth + d + 1],
                            role="derived_from")
                 for c in range(chains) for d in range(depth - 1)]  # fmt: skip
        SampleEdge.objects.bulk_create(edges, batch_size=5000)
    seconds = time.perf_counter() - started
    print(f"filled {len(created)} samples, {len(edges)} edges in {seconds:.1f} s")


def median_ms(fn, args_list) -> float:
    times = []
    for args in args_list:
        t0 = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=200)
    opts = parser.parse_args()
    ensure_database(URL)
    setup_django()
    fill(opts.samples, opts.depth)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lims.lineage import ancestor_depths, descendant_depths
    from lims.models import Sample
    from lims.sample_queries import sample_lineage

    chains = opts.samples // opts.depth
    picks = random.Random(7).sample(range(chains), min(opts.repeat, chains))
    leaves = [Sample.objects.get(code=f"BEN-{c:06d}-{opts.depth - 1}") for c in picks]
    roots = [Sample.objects.get(code=f"BEN-{c:06d}-0") for c in picks]
    up = median_ms(ancestor_depths, [(s.pk,) for s in leaves])
    down = median_ms(descendant_depths, [(s.pk,) for s in roots])
    page = median_ms(sample_lineage, [(s,) for s in roots])
    with CaptureQueriesContext(connection) as ctx:
        sample_lineage(roots[0])
    assert len(ancestor_depths(leaves[0].pk)) == opts.depth - 1
    print(
        f"PostgreSQL {connection.pg_version}, {Sample.objects.count()} samples, depth {opts.depth}"
    )
    print(f"ancestors of a leaf (7 levels up):   median {up:.2f} ms over {len(leaves)} samples")
    print(f"descendants of a root (7 levels down): median {down:.2f} ms over {len(roots)} samples")
    print(f"whole lineage read for a sample page: median {page:.2f} ms, {len(ctx)} SQL queries")


if __name__ == "__main__":
    main()
