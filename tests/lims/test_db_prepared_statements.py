"""On PostgreSQL a statement a connection runs again is prepared once (lims.envconfig
.database_config): later runs are not parsed again, and each is planned for its own values
(lims.db)."""

from __future__ import annotations

import pytest
from django.db import connection

from lims.models import Sample

pytestmark = pytest.mark.services


def prepared_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


def test_a_query_run_again_is_prepared_and_still_answers_with_its_parameters(db):
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True
    Sample.objects.bulk_create(
        [Sample(code=f"PREP-{i}", kind="cathode", name=f"powder {i}") for i in range(3)]
    )
    before = prepared_count()
    found = [
        list(Sample.objects.filter(code=f"PREP-{i}").values_list("name", flat=True))
        for i in (0, 1, 2, 0)
    ]
    assert found == [["powder 0"], ["powder 1"], ["powder 2"], ["powder 0"]]
    assert prepared_count() > before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"lims_sample"."code" = $1%'],
        )
        assert cursor.fetchone()[0] == 1


def test_a_prepared_search_is_planned_for_its_pattern_every_time(db):
    """A generic plan (PostgreSQL's default after five runs) does not know how selective
    `LIKE $1` is; for the sample search it scanned the whole table (150 ms instead of 3)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"
    Sample.objects.bulk_create(
        [Sample(code=f"SRCH-{i}", kind="cathode", name=f"sheet {i:03d}") for i in range(20)]
    )
    for i in range(8):
        hits = Sample.objects.filter(name__icontains=f"sheet {i:03d}").order_by("-created_at")[:51]
        assert [s.code for s in hits] == [f"SRCH-{i}"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ['%UPPER("lims_sample"."name"::text) LIKE UPPER($1)%'],
        )
        (generic, custom), *others = cursor.fetchall()
    assert not others and generic == 0 and custom >= 5  # the default goes generic after 5
