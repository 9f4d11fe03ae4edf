"""PostgreSQL through Django's own backend, with pgbouncer's rule for health checks
(`server_check_delay`): a persistent connection is tested with `SELECT 1` before a request
uses it only when it has been idle for HEALTH_CHECK_IDLE_S or longer.

Django's CONN_HEALTH_CHECKS tests every reused connection at the start of every request: a
round trip that was 13 % of an API request's time at 20 clients (benchmarks/api_samples.py,
py-spy). A connection used a moment ago is as good as the check would say; one idle for long
(a database restarted overnight, a firewall dropping idle sockets) is still tested and replaced.
Configured by lims.envconfig.database_config as ENGINE "lims.db"."""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

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
