"""Celery tasks of the characterization app: thin, take ids, call a service (the analysis
jobs' tasks are characterization.jobs.tasks)."""

from __future__ import annotations

from celery import shared_task

from characterization import storage_check as storage_check_service


@shared_task(
    name="characterization.storage_check",
    acks_late=False,  # hours on a large store: a redelivery would only start it over
    soft_time_limit=6 * 3600,
    time_limit=6 * 3600 + 300,
)
def storage_check() -> dict:
    """Weekly (beat): the file store against the database; stale orphans and leftovers are
    removed, the rest reported on the dashboard."""
    report = storage_check_service.storage_check_run(repair=True).as_dict()
    return {key: value for key, value in report.items() if key != "findings"}
