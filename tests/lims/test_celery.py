"""Celery: safe configuration, and a real round trip through Redis and a worker process."""

from __future__ import annotations

import time

import pytest

from lims.celery import app
from lims.models import WorkerHeartbeat


def test_celery_accepts_json_only_and_acknowledges_late():
    conf = app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json" and conf.result_serializer == "json"
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert conf.worker_prefetch_multiplier == 1


def test_tasks_are_enqueued_only_after_the_transaction_commits(client, chemist, monkeypatch):
    sent = []
    monkeypatch.setattr("lims.tasks.heartbeat.delay", lambda *a, **k: sent.append(a))
    client.force_login(chemist)
    response = client.post("/worker-ping")
    assert response.status_code == 200
    assert "waiting for a worker" in response.content.decode()
    # The test transaction never commits, so nothing may have been sent.
    assert sent == []


def wait_for(predicate, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


@pytest.mark.services
def test_a_real_worker_runs_the_task_and_writes_to_the_database(celery_worker, client, chemist):
    client.force_login(chemist)
    html = client.post("/worker-ping").content.decode()
    token = html.split("token=")[1].split('"')[0]
    beat = wait_for(lambda: WorkerHeartbeat.objects.filter(token=token).first())
    assert beat is not None, celery_worker.log()
    assert beat.worker == celery_worker.hostname
    poll = client.get(f"/worker-ping?token={token}").content.decode()
    assert "answered" in poll and celery_worker.hostname in poll


@pytest.mark.services
def test_a_redelivered_heartbeat_writes_one_row(celery_worker, db):
    from lims.tasks import heartbeat

    for _ in range(2):
        heartbeat.delay("same-token")
    assert wait_for(lambda: WorkerHeartbeat.objects.filter(token="same-token").exists())
    time.sleep(1)
    assert WorkerHeartbeat.objects.filter(token="same-token").count() == 1
