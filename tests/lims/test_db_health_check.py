"""lims.db: a persistent PostgreSQL connection is tested with SELECT 1 before a request uses it
only after idling HEALTH_CHECK_IDLE_S (pgbouncer's rule), and one that died while idle is
replaced before the request's first query."""

from __future__ import annotations

import time

import pytest
from django.db import connections

from lims.db import base as kiln_db

pytestmark = pytest.mark.services
connection = connections["default"]  # the wrapper itself (django.db.connection is a proxy)


@pytest.fixture
def checks(db, monkeypatch) -> list[int]:
    assert connection.vendor == "postgresql" and isinstance(connection, kiln_db.DatabaseWrapper)
    assert connection.health_check_enabled
    connection.ensure_connection()
    calls: list[int] = []
    real = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: calls.append(1) or real())
    return calls


def request_starts() -> None:
    """What Django does for each request on a reused connection: the check is due again."""
    connection.health_check_done = False


def test_a_connection_used_a_moment_ago_is_not_checked_again(checks):
    request_starts()
    connection._kiln_last_checked = time.monotonic()
    connection.close_if_health_check_failed()
    assert checks == [] and connection.health_check_done


def test_an_idle_connection_is_checked(checks):
    request_starts()
    connection._kiln_last_checked = time.monotonic() - kiln_db.HEALTH_CHECK_IDLE_S - 1
    connection.close_if_health_check_failed()
    assert checks == [1] and connection.health_check_done
    request_starts()
    connection.close_if_health_check_failed()  # just checked: not again
    assert checks == [1]


@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_while_idle_is_replaced_before_the_first_query(checks):
    dropped = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [dropped])
    finally:
        other.close()
    request_starts()
    connection._kiln_last_checked = time.monotonic() - kiln_db.HEALTH_CHECK_IDLE_S - 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        now = cursor.fetchone()[0]
    assert checks == [1] and now != dropped
