"""On PostgreSQL a statement a connection runs again is prepared once and then only executed
(lims.envconfig.database_config): the second and later runs are not planned again."""

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
