"""PostgreSQL through Django's own backend, with pgbouncer's rule for health checks
(`server_check_delay`): a persistent connection is tested with `SELECT 1` before a request
uses it only when it has been idle for HEALTH_CHECK_IDLE_S or longer.

Django's CONN_HEALTH_CHECKS tests every reused connection at the start of every request: a
round trip that was 13 % of an API request's time at 20 clients (benchmarks/api_samples.py,
py-spy). A connection used a moment ago is as good as the check would say; one idle for long
(a database restarted overnight, a firewall dropping idle sockets) is still tested and replaced.
Timestamps are read by psycopg's compiled loader (create_cursor), not by Django's pure-Python
subclass of it. Configured by lims.envconfig.database_config as ENGINE "lims.db"."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
from django.db.backends.postgresql import base
from psycopg.pq import Format

# psycopg's own timestamptz loader, compiled C with psycopg-binary: Django registers a pure-Python
# subclass (to set tzinfo) that parses every value again, ~0.4 ms of a 100-row API page.
C_TIMESTAMPTZ_LOADER = psycopg.adapters.get_loader(
    psycopg.postgres.types["timestamptz"].oid, Format.TEXT
)

HEALTH_CHECK_IDLE_S = 30.0  # pgbouncer's server_check_delay default


class DatabaseWrapper(base.DatabaseWrapper):
    _kiln_last_checked: float = float("-inf")  # monotonic time of the last check or skip

    def close_if_health_check_failed(self) -> None:
        now = time.monotonic()
        if (
            self.connection is not None
            and not self.health_check_done
            and now - self._kiln_last_checked < HEALTH_CHECK_IDLE_S
        ):
            self.health_check_done = True  # in use a moment ago: no round trip
        super().close_if_health_check_failed()
        self._kiln_last_checked = now

    def _configure_connection(self, connection) -> bool:
        """Django's session setup (time zone, role), then: a prepared statement is planned for
        its parameters on every run. PostgreSQL's default switches to one generic plan after
        five runs, and a generic plan does not know how selective a parameter is: the sample
        search (`LIKE $1` ordered by date, LIMIT 51) went from 3 to 150 ms of database time. What
        prepared statements save (parsing, analysis) is kept; planning with the values is not
        skipped. Returns whether Django must commit (it does for its own SETs)."""
        commit = super()._configure_connection(connection)
        if self.settings_dict["OPTIONS"].get("prepare_threshold") is None:
            return commit  # nothing is prepared: PostgreSQL plans every statement anyway
        with connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        return True

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        if self.timezone is dt.UTC:
            # The session's TimeZone is UTC (Django sets it): psycopg's loader then gives
            # tzinfo datetime.UTC, the value Django's own loader gives.
            cursor.adapters.register_loader("timestamptz", C_TIMESTAMPTZ_LOADER)
        return cursor
