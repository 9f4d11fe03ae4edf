"""/healthz reports the database and the broker; pages survive a broker outage."""

from __future__ import annotations

import pytest
from django.db.utils import OperationalError
from django.test import override_settings

CLOSED_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_needs_no_login_and_says_both_services_are_up(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True


@override_settings(CELERY_BROKER_URL=CLOSED_REDIS)
def test_healthz_is_503_and_names_the_broker_when_redis_is_down(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"] == {
        "ok": False,
        "transport": "redis",
        "error": body["broker"]["error"],
    }
    assert "ConnectionError" in body["broker"]["error"]
    assert body["database"]["ok"] is True


class UnreachableConnection:
    vendor = "postgresql"

    def cursor(self):
        raise OperationalError("connection refused")


def test_healthz_is_503_when_the_database_is_down(client, db, monkeypatch):
    monkeypatch.setattr("lims.health.connection", UnreachableConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    assert "connection refused" in response.json()["database"]["error"]


@override_settings(CELERY_BROKER_URL=CLOSED_REDIS)
def test_dashboard_still_loads_with_redis_down_and_shows_the_broker_as_down(client, chemist):
    client.force_login(chemist)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Job broker" in html
    assert 'class="kiln-bad">down' in html


@pytest.mark.services
def test_healthz_reports_real_postgres_and_redis(client, db):
    body = client.get("/healthz").json()
    assert body["database"] == {"ok": True, "vendor": "postgresql"}
    assert body["broker"] == {"ok": True, "transport": "redis"}
