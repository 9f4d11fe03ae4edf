"""Liveness of the database and the Celery broker, for /healthz and the dashboard."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection


def database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the message says why
        return {"ok": False, "vendor": connection.vendor, "error": _one_line(exc)}
    return {"ok": True, "vendor": connection.vendor}


def broker_state() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return {"ok": folder.is_dir(), "transport": "filesystem", "path": str(folder)}
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except Exception as exc:  # connection refused, timeout, auth: all mean "down"
        return {"ok": False, "transport": "redis", "error": _one_line(exc)}
    finally:
        client.close()
    return {"ok": True, "transport": "redis"}


def _one_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
